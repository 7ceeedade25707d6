//! STARTTLS in place: the same TCP connection continues as TLS, with mailtls as the
//! client (it tests a server) or as the server (it tests a client). Plaintext the peer
//! sent after its last line and before the handshake is never fed into TLS or dropped:
//! it is handed back, because RFC 2595 §3.1 and RFC 3207 §4.2 make it a finding. If
//! plaintext arrives during the handshake instead (where a TLS record belongs), the
//! handshake fails and the octets rustls choked on are recorded and handed back too.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CommonState, ProtocolVersion};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::conn::{Conn, ConnOptions, tls_text};
use super::error::NetError;
use super::prefixed::Prefixed;
use super::stream::Stream;
use super::transcript::{Direction, Event, Phase};

/// The first octet of a TLS handshake record.
pub const HANDSHAKE_RECORD: u8 = 0x16;

/// What a completed handshake negotiated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSummary {
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: String,
    /// The cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    /// Plaintext octets the peer sent after its last consumed line and before the
    /// handshake (after `OK Begin TLS`, before the ClientHello): a finding when non-empty.
    /// They are in the transcript; they were not fed into TLS.
    pub unconsumed_plaintext: Vec<u8>,
    /// Index into [`Conn::transcript`]`.entries` of the read that carried the first
    /// unconsumed octet (the first offending octets of an injection).
    pub unconsumed_entry: Option<usize>,
    /// The certificates the peer presented (the server's chain in the server role; a
    /// client certificate, if any, in the client role).
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// The server name the client sent (SNI); known in the client role only.
    pub sni: Option<String>,
}

impl TlsSummary {
    fn of(state: &CommonState, unconsumed: Unconsumed, sni: Option<String>) -> Self {
        let version = match state.protocol_version() {
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
            Some(other) => format!("{other:?}"),
            None => "unknown".to_owned(),
        };
        let cipher_suite = state.negotiated_cipher_suite().map_or_else(
            || "unknown".to_owned(),
            |s| {
                let suite = s.suite();
                suite
                    .as_str()
                    .map_or_else(|| format!("{suite:?}"), str::to_owned)
            },
        );
        Self {
            version,
            cipher_suite,
            unconsumed_plaintext: unconsumed.bytes,
            unconsumed_entry: unconsumed.entry,
            peer_certificates: state
                .peer_certificates()
                .map(<[_]>::to_vec)
                .unwrap_or_default(),
            sni,
        }
    }
}

/// Plaintext from the peer that was pending when a handshake began.
#[derive(Default)]
struct Unconsumed {
    bytes: Vec<u8>,
    entry: Option<usize>,
}

/// Whether `octet` can start a TLS record (change_cipher_spec, alert, handshake,
/// application_data).
fn starts_a_record(octet: u8) -> bool {
    (0x14..=0x17).contains(&octet)
}

/// Splits what the server side has buffered at its upgrade into plaintext the client
/// sent before its ClientHello and the start of the handshake (which TLS must still
/// read): the handshake starts at the first 0x16 that begins the buffer or a line.
fn split_at_handshake(buffered: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let start = (0..buffered.len())
        .find(|&i| buffered[i] == HANDSHAKE_RECORD && (i == 0 || buffered[i - 1] == b'\n'));
    match start {
        Some(i) => (buffered[..i].to_vec(), buffered[i..].to_vec()),
        None => (buffered.to_vec(), Vec::new()),
    }
}

impl Conn {
    /// Connects and starts TLS at once (implicit TLS, RFC 8314: ports 993, 995).
    pub async fn connect_tls(
        addr: SocketAddr,
        opts: ConnOptions,
        config: Arc<rustls::ClientConfig>,
        server_name: ServerName<'static>,
    ) -> Result<(Self, TlsSummary), NetError> {
        let mut conn = Self::connect(addr, opts).await?;
        let summary = conn.upgrade_client(config, server_name).await?;
        Ok((conn, summary))
    }

    /// STARTTLS as the client: the handshake runs over this TCP connection within
    /// `read_timeout`. Buffered plaintext is returned in
    /// [`TlsSummary::unconsumed_plaintext`] (or in [`NetError::Handshake`]).
    pub async fn upgrade_client(
        &mut self,
        config: Arc<rustls::ClientConfig>,
        server_name: ServerName<'static>,
    ) -> Result<TlsSummary, NetError> {
        let mut plain = self.take_plain()?;
        let unconsumed = Unconsumed {
            entry: self.input.first_entry(),
            bytes: self.input.take_all(),
        };
        self.record(Event::TlsStarted);
        plain.start_capture();
        let connect = TlsConnector::from(config)
            .connect(server_name, plain)
            .into_fallible();
        match timeout(self.opts.read_timeout, connect).await {
            Ok(Ok(mut tls)) => {
                tls.get_mut().0.stop_capture();
                let summary = TlsSummary::of(tls.get_ref().1, unconsumed, None);
                self.established(&summary);
                self.stream = Stream::TlsClient(Box::new(tls));
                Ok(summary)
            }
            Ok(Err((e, plain))) => Err(self.failed(&e, plain, unconsumed)),
            Err(_) => Err(self.timed_out(unconsumed)),
        }
    }

    /// STARTTLS as the server (client role): the handshake runs over this TCP connection
    /// within `read_timeout`. Plaintext the client sent before its ClientHello is
    /// returned in [`TlsSummary::unconsumed_plaintext`]; a ClientHello already buffered
    /// (it came in one segment with a pipelined command) still reaches rustls.
    pub async fn upgrade_server(
        &mut self,
        config: Arc<rustls::ServerConfig>,
    ) -> Result<TlsSummary, NetError> {
        let mut plain = self.take_plain()?;
        let entry = self.input.first_entry();
        let (bytes, handshake) = split_at_handshake(&self.input.take_all());
        let unconsumed = Unconsumed {
            entry: entry.filter(|_| !bytes.is_empty()),
            bytes,
        };
        plain.set_prefix(handshake);
        self.record(Event::TlsStarted);
        plain.start_capture();
        let accept = TlsAcceptor::from(config).accept(plain).into_fallible();
        match timeout(self.opts.read_timeout, accept).await {
            Ok(Ok(mut tls)) => {
                tls.get_mut().0.stop_capture();
                let sni = tls.get_ref().1.server_name().map(str::to_owned);
                let summary = TlsSummary::of(tls.get_ref().1, unconsumed, sni);
                self.established(&summary);
                self.stream = Stream::TlsServer(Box::new(tls));
                Ok(summary)
            }
            Ok(Err((e, plain))) => Err(self.failed(&e, plain, unconsumed)),
            Err(_) => Err(self.timed_out(unconsumed)),
        }
    }

    /// Takes the plaintext stream out for the handshake.
    fn take_plain(&mut self) -> Result<Prefixed<TcpStream>, NetError> {
        match std::mem::take(&mut self.stream) {
            Stream::Plain(plain) => Ok(plain),
            Stream::Gone => Err(NetError::Closed),
            tls => {
                self.stream = tls;
                Err(NetError::AlreadyTls)
            }
        }
    }

    fn established(&mut self, summary: &TlsSummary) {
        self.record(Event::TlsEstablished {
            version: summary.version.clone(),
            cipher_suite: summary.cipher_suite.clone(),
        });
    }

    /// The handshake failed and the socket came back: keep it (plaintext again), and if
    /// what rustls read first cannot start a TLS record, it was plaintext: record it and
    /// hand it back with the rest.
    fn failed(
        &mut self,
        e: &std::io::Error,
        mut plain: Prefixed<TcpStream>,
        mut unconsumed: Unconsumed,
    ) -> NetError {
        let raw = plain.stop_capture();
        self.stream = Stream::Plain(plain);
        if raw.first().is_some_and(|&octet| !starts_a_record(octet)) {
            let entry = self.record(Event::Data {
                direction: Direction::Received,
                phase: Phase::Plaintext,
                bytes: raw.clone(),
            });
            unconsumed.entry.get_or_insert(entry);
            unconsumed.bytes.extend_from_slice(&raw);
        }
        self.handshake_error(tls_text(e).unwrap_or_else(|| e.to_string()), unconsumed)
    }

    fn handshake_error(&mut self, reason: String, unconsumed: Unconsumed) -> NetError {
        self.record(Event::TlsFailed {
            reason: reason.clone(),
        });
        NetError::Handshake {
            reason,
            unconsumed_plaintext: unconsumed.bytes,
        }
    }

    /// The handshake future (and the socket in it) is gone: the socket was closed.
    fn timed_out(&mut self, unconsumed: Unconsumed) -> NetError {
        let reason = format!("no complete handshake within {:?}", self.opts.read_timeout);
        let err = self.handshake_error(reason, unconsumed);
        self.record(Event::Closed {
            direction: Direction::Sent,
            how: "FIN".to_owned(),
        });
        self.write_closed = true;
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_hello_after_a_line_is_split_off() {
        let (plain, tls) = split_at_handshake(b"A2 LOGIN a b\r\n\x16\x03\x01");
        assert_eq!(plain, b"A2 LOGIN a b\r\n");
        assert_eq!(tls, b"\x16\x03\x01");
        let (plain, tls) = split_at_handshake(b"\x16\x03\x01\n\x16");
        assert!(plain.is_empty());
        assert_eq!(tls, b"\x16\x03\x01\n\x16");
        let (plain, tls) = split_at_handshake(b"x\x16y");
        assert_eq!(plain, b"x\x16y");
        assert!(tls.is_empty());
    }
}
