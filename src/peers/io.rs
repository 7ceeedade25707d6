//! The reference server's connection: a byte stream that upgrades to TLS in place, with
//! every read and write bounded by the idle timeout.
//!
//! This is also the one place that decides what happens to plaintext around the
//! STARTTLS/STLS boundary ([`Conn::start_tls`]): the conformant server discards what was
//! buffered after the command line and hands the very next octets to the TLS handshake
//! (RFC 2595 §3.1: "A TLS negotiation begins immediately after the CRLF at the end of the
//! tagged OK response from the server"; RFC 9051 §6.2.1 makes discarding a MUST). The
//! injection faults change exactly that decision and nothing else.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::fault::Fault;
use super::legacy;
use super::server::ServerOptions;
use crate::proto::line::Ending;

/// The first octet of a TLS record carrying a handshake message (the ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

/// How many octets one read takes from the peer.
pub(crate) const READ_CHUNK: usize = 4096;

/// A stream that yields `prefix` before the inner stream's bytes: how octets already read
/// in plaintext are handed to the TLS handshake when a fault wants them there.
#[derive(Debug)]
pub(crate) struct Rewind<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Rewind<S> {
    fn new(inner: S) -> Self {
        Self {
            prefix: Vec::new(),
            pos: 0,
            inner,
        }
    }

    fn rewind(&mut self, bytes: Vec<u8>) {
        let mut rest = self.prefix.split_off(self.pos.min(self.prefix.len()));
        let mut prefix = bytes;
        prefix.append(&mut rest);
        self.prefix = prefix;
        self.pos = 0;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let pending = this.prefix.get(this.pos..).unwrap_or_default();
        if !pending.is_empty() {
            let n = pending.len().min(buf.remaining());
            buf.put_slice(pending.get(..n).unwrap_or_default());
            this.pos += n;
            if this.pos >= this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

enum Transport<S> {
    Plain(Rewind<S>),
    Tls(Box<TlsStream<Rewind<S>>>),
    /// Only while moving between the other two, or after a failed handshake.
    Gone,
}

/// What [`Conn::start_tls`] ended with.
#[derive(Debug)]
pub(crate) enum Upgrade {
    /// TLS is active; `replay` are plaintext octets the session must now execute as if
    /// they had arrived inside TLS (empty unless an injection fault kept them).
    Tls {
        /// Octets to push into the session.
        replay: Vec<u8>,
    },
    /// The client sent plaintext instead of a ClientHello and
    /// [`Fault::PlaintextFallbackOnTlsFailure`] carries on in plaintext with it.
    Plaintext {
        /// Octets to push into the session.
        replay: Vec<u8>,
    },
}

/// A server connection: plaintext that upgrades to TLS in place.
pub(crate) struct Conn<S> {
    transport: Transport<S>,
    idle: Duration,
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("idle timeout while {what}"),
    )
}

impl<S> Conn<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    /// A plaintext connection over `stream`.
    pub(crate) fn new(stream: S, idle: Duration) -> Self {
        Self {
            transport: Transport::Plain(Rewind::new(stream)),
            idle,
        }
    }

    /// Whether TLS is active.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.transport, Transport::Tls(_))
    }

    /// The client certificate of the TLS session (leaf, DER), if it presented one; the
    /// handshake has verified it against the CA `opts.client_auth_tls` trusts.
    pub(crate) fn client_certificate(&self) -> Option<&[u8]> {
        match &self.transport {
            Transport::Tls(tls) => tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|cert| cert.as_ref()),
            _ => None,
        }
    }

    /// Reads at most `buf.len()` octets, within the idle timeout. `Ok(0)` is the end of
    /// the stream: a TCP FIN in plaintext, a close_notify inside TLS (a FIN without
    /// close_notify is an `UnexpectedEof` error there).
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = async {
            match &mut self.transport {
                Transport::Plain(stream) => stream.read(buf).await,
                Transport::Tls(stream) => stream.read(buf).await,
                Transport::Gone => Ok(0),
            }
        };
        tokio::time::timeout(self.idle, read)
            .await
            .map_err(|_| timed_out("reading"))?
    }

    /// Writes and flushes `data`, within the idle timeout.
    pub(crate) async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let write = async {
            match &mut self.transport {
                Transport::Plain(stream) => {
                    stream.write_all(data).await?;
                    stream.flush().await
                }
                Transport::Tls(stream) => {
                    stream.write_all(data).await?;
                    stream.flush().await
                }
                Transport::Gone => Err(io::ErrorKind::NotConnected.into()),
            }
        };
        tokio::time::timeout(self.idle, write)
            .await
            .map_err(|_| timed_out("writing"))?
    }

    /// The TLS handshake on an implicit-TLS port (or after STARTTLS), within the idle
    /// timeout, with the settings `opts` give. [`Fault::AcceptsOldProtocols`] and
    /// [`Fault::AcceptsWeakSuites`] answer a ClientHello rustls would refuse with a canned
    /// ServerHello instead, and end the connection there.
    pub(crate) async fn accept_tls(&mut self, opts: &ServerOptions) -> io::Result<()> {
        if opts.has(Fault::AcceptsOldProtocols) || opts.has(Fault::AcceptsWeakSuites) {
            self.answer_legacy_hello(opts).await?;
        }
        let Transport::Plain(stream) = std::mem::replace(&mut self.transport, Transport::Gone)
        else {
            return Err(io::Error::other("TLS is already active"));
        };
        let accept = TlsAcceptor::from(Arc::clone(opts.handshake_tls())).accept(stream);
        let tls = tokio::time::timeout(self.idle, accept)
            .await
            .map_err(|_| timed_out("in the TLS handshake"))??;
        self.transport = Transport::Tls(Box::new(tls));
        Ok(())
    }

    /// Reads the client's first record; answers it when a legacy fault accepts it (an
    /// error then ends the connection), otherwise hands it back to the handshake.
    async fn answer_legacy_hello(&mut self, opts: &ServerOptions) -> io::Result<()> {
        const MAX_RECORD: usize = 5 + (1 << 14) + 2048;
        let mut first = Vec::new();
        while legacy::first_record_len(&first).is_none_or(|len| first.len() < len) {
            if first.len() > MAX_RECORD {
                break;
            }
            let mut more = self.read_some().await?;
            first.append(&mut more);
        }
        if let Some(reply) = legacy::answer(opts, &first) {
            self.write_all(&reply).await?;
            return Err(io::Error::other("answered a legacy ClientHello"));
        }
        if let Transport::Plain(stream) = &mut self.transport {
            stream.rewind(first);
        }
        Ok(())
    }

    /// Upgrades to TLS right after the STARTTLS/STLS OK was written. `pending` are the
    /// octets the session had buffered beyond the command line, `ending` how that line
    /// ended, `indented` whether it started with blanks before its tag.
    ///
    /// Conformant: `pending` is discarded and the handshake starts with the next octet
    /// from the client. The faults that change this, and only they, are decided here:
    /// [`Fault::ExecutesPipelinedAfterStarttls`], [`Fault::BareLfInjection`] (after a
    /// bare LF only) and [`Fault::TagDifferentialInjection`] (after an indented line
    /// only) keep `pending`; [`Fault::ExecutesPlaintextAfterStarttlsOk`] keeps it
    /// and the plaintext lines that arrive before the ClientHello;
    /// [`Fault::PlaintextFallbackOnTlsFailure`] carries on in plaintext when no
    /// ClientHello comes.
    pub(crate) async fn start_tls(
        &mut self,
        opts: &ServerOptions,
        pending: Vec<u8>,
        ending: Ending,
        indented: bool,
    ) -> io::Result<Upgrade> {
        let keep = opts.has(Fault::ExecutesPipelinedAfterStarttls)
            || opts.has(Fault::ExecutesPlaintextAfterStarttlsOk)
            || (opts.has(Fault::BareLfInjection) && ending.is_bare_lf())
            || (opts.has(Fault::TagDifferentialInjection) && indented);
        let mut replay = if keep { pending } else { Vec::new() };
        let sniff = opts.has(Fault::ExecutesPlaintextAfterStarttlsOk)
            || opts.has(Fault::PlaintextFallbackOnTlsFailure);
        if sniff {
            let mut early = self.read_some().await?;
            if early.first().is_some_and(|&b| b != TLS_HANDSHAKE) {
                if opts.has(Fault::PlaintextFallbackOnTlsFailure) {
                    replay.append(&mut early);
                    return Ok(Upgrade::Plaintext { replay });
                }
                // Whole plaintext lines before the ClientHello are "commands".
                loop {
                    match early.first() {
                        Some(&TLS_HANDSHAKE) => break,
                        None => early = self.read_some().await?,
                        Some(_) => match early.iter().position(|&b| b == b'\n') {
                            Some(lf) => {
                                let rest = early.split_off(lf + 1);
                                replay.append(&mut early);
                                early = rest;
                            }
                            None if early.len() >= opts.limits.max_line => {
                                return Err(io::Error::new(
                                    io::ErrorKind::InvalidData,
                                    "plaintext line over the limit before the ClientHello",
                                ));
                            }
                            None => {
                                let mut more = self.read_some().await?;
                                early.append(&mut more);
                            }
                        },
                    }
                }
            }
            if let Transport::Plain(stream) = &mut self.transport {
                stream.rewind(early);
            }
        }
        self.accept_tls(opts).await?;
        Ok(Upgrade::Tls { replay })
    }

    /// One read of at least one octet (end of stream is an error here).
    async fn read_some(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; READ_CHUNK];
        let n = self.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.truncate(n);
        Ok(buf)
    }

    /// Leaves TLS after the client's close_notify and goes on in plaintext on the same
    /// stream ([`Fault::PlaintextAfterCloseNotify`]).
    pub(crate) fn drop_tls(&mut self) {
        if let Transport::Tls(tls) = std::mem::replace(&mut self.transport, Transport::Gone) {
            let (stream, _) = tls.into_inner();
            self.transport = Transport::Plain(stream);
        }
    }

    /// Closes the connection: inside TLS with a close_notify first when `close_notify`,
    /// then the TCP FIN. Errors are ignored: the peer may be gone already.
    pub(crate) async fn close(&mut self, close_notify: bool) {
        let transport = std::mem::replace(&mut self.transport, Transport::Gone);
        let idle = self.idle;
        let shutdown = async move {
            match transport {
                Transport::Plain(mut stream) => stream.shutdown().await,
                Transport::Tls(mut tls) if close_notify => tls.shutdown().await,
                Transport::Tls(tls) => {
                    let (mut stream, _) = tls.into_inner();
                    stream.shutdown().await
                }
                Transport::Gone => Ok(()),
            }
        };
        let _ = tokio::time::timeout(idle, shutdown).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rewind_yields_the_prefix_first() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut rewind = Rewind::new(server);
        rewind.rewind(b"abc".to_vec());
        client.write_all(b"def").await.unwrap();
        let mut buf = [0u8; 2];
        rewind.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ab");
        rewind.rewind(b"x".to_vec());
        let mut rest = [0u8; 5];
        rewind.read_exact(&mut rest).await.unwrap();
        assert_eq!(&rest, b"xcdef");
    }
}
