//! The reference client's connection: a TCP stream that upgrades to TLS in place, every
//! read, write and handshake bounded by the session timeout, and every read counted
//! against a byte budget so a hostile server cannot keep the client busy forever.
//!
//! Framing and buffering belong to the protocol readers ([`crate::proto`]); this layer
//! only moves octets. It never reads ahead on its own: what the server sent after the
//! STARTTLS OK either sits in the protocol reader (where the session decides its fate)
//! or is still in the socket, where the TLS handshake will read it as TLS records.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::tls::ClientTls;
use super::{ClientError, Refusal};

/// How many octets one read takes.
const READ_CHUNK: usize = 16 * 1024;

/// The most a session reads from the server in all (64 MiB): beyond it the server is
/// flooding, and the session ends with a protocol error.
const MAX_SESSION_READ: usize = 64 * 1024 * 1024;

/// The first octet of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Closed,
}

/// One client connection.
pub(super) struct Wire {
    stream: Stream,
    timeout: Duration,
    /// How long a TLS handshake may take: `timeout`, unless
    /// [`NoHandshakeTimeout`](super::ClientFault::NoHandshakeTimeout) lifts it.
    handshake_timeout: Duration,
    /// [`ContinuesAfterCloseNotify`](super::ClientFault::ContinuesAfterCloseNotify): a
    /// close_notify turns the connection back into plaintext instead of ending it.
    plaintext_after_close_notify: bool,
    read_total: usize,
}

impl Wire {
    /// Connects to `host:port` within `timeout`.
    pub(super) async fn connect(
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let connect = TcpStream::connect((host, port));
        let tcp = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| ClientError::Timeout {
                during: "connecting",
                after: timeout,
            })?
            .map_err(|source| ClientError::Connect {
                target: format!("{host}:{port}"),
                source,
            })?;
        // Each write is one command; the injection tests rely on the peer seeing it whole.
        let _ = tcp.set_nodelay(true);
        Ok(Self {
            stream: Stream::Plain(tcp),
            timeout,
            handshake_timeout: timeout,
            plaintext_after_close_notify: false,
            read_total: 0,
        })
    }

    /// The fault [`NoHandshakeTimeout`](super::ClientFault::NoHandshakeTimeout): a
    /// handshake may take `limit` (the whole session's bound) instead of the timeout.
    pub(super) fn lift_handshake_timeout(&mut self, limit: Duration) {
        self.handshake_timeout = limit;
    }

    /// The fault
    /// [`ContinuesAfterCloseNotify`](super::ClientFault::ContinuesAfterCloseNotify): a
    /// close_notify from the server drops TLS and the reads go on in plaintext.
    pub(super) fn read_on_after_close_notify(&mut self) {
        self.plaintext_after_close_notify = true;
    }

    /// Whether TLS is active.
    pub(super) fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Writes and flushes `data`.
    pub(super) async fn send(&mut self, data: &[u8]) -> Result<(), ClientError> {
        let during = "writing a command";
        let write = async {
            match &mut self.stream {
                Stream::Plain(tcp) => {
                    tcp.write_all(data).await?;
                    tcp.flush().await
                }
                Stream::Tls(tls) => {
                    tls.write_all(data).await?;
                    tls.flush().await
                }
                Stream::Closed => Err(io::ErrorKind::NotConnected.into()),
            }
        };
        tokio::time::timeout(self.timeout, write)
            .await
            .map_err(|_| ClientError::Timeout {
                during,
                after: self.timeout,
            })?
            .map_err(|source| ClientError::Io { during, source })
    }

    /// One read of at least one octet. The end of the stream (a FIN, a close_notify, a
    /// FIN without close_notify inside TLS) is [`ClientError::Closed`].
    pub(super) async fn receive(&mut self, during: &'static str) -> Result<Vec<u8>, ClientError> {
        let mut buf = vec![0; READ_CHUNK];
        let read = async {
            match &mut self.stream {
                Stream::Plain(tcp) => tcp.read(&mut buf).await,
                Stream::Tls(tls) => tls.read(&mut buf).await,
                Stream::Closed => Ok(0),
            }
        };
        let n = match tokio::time::timeout(self.timeout, read).await {
            Err(_) => {
                return Err(ClientError::Timeout {
                    during,
                    after: self.timeout,
                });
            }
            Ok(Ok(0)) if self.plaintext_after_close_notify && self.is_tls() => {
                // The fault: TLS is over, the TCP connection is not; read on in plaintext.
                if let Stream::Tls(tls) = std::mem::replace(&mut self.stream, Stream::Closed) {
                    let (tcp, _) = tls.into_inner();
                    self.stream = Stream::Plain(tcp);
                }
                return Box::pin(self.receive(during)).await;
            }
            Ok(Ok(0)) => return Err(ClientError::Closed { during }),
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(ClientError::Closed { during });
            }
            Ok(Err(source)) => return Err(ClientError::Io { during, source }),
            Ok(Ok(n)) => n,
        };
        self.read_total = self.read_total.saturating_add(n);
        if self.read_total > MAX_SESSION_READ {
            return Err(ClientError::Protocol(format!(
                "the server sent more than {MAX_SESSION_READ} octets"
            )));
        }
        buf.truncate(n);
        Ok(buf)
    }

    /// [`ClientFault::ActsOnInjectedPlaintext`](super::ClientFault::ActsOnInjectedPlaintext)
    /// only: whatever plaintext arrives within `window` before the handshake (nothing that
    /// starts like a TLS record), so that an injection split from the OK is kept too.
    pub(super) async fn plaintext_within(&mut self, window: Duration) -> Vec<u8> {
        let mut kept = Vec::new();
        let Stream::Plain(tcp) = &mut self.stream else {
            return kept;
        };
        let mut buf = vec![0; READ_CHUNK];
        let deadline = tokio::time::Instant::now() + window;
        loop {
            // Peek first: a TLS record must stay in the socket for the handshake.
            match tokio::time::timeout_at(deadline, tcp.peek(&mut buf)).await {
                Ok(Ok(n)) if n > 0 && buf.first() != Some(&TLS_HANDSHAKE) => {}
                _ => return kept,
            }
            match tcp.read(&mut buf).await {
                Ok(n) if n > 0 && kept.len() < READ_CHUNK * 4 => {
                    kept.extend_from_slice(buf.get(..n).unwrap_or_default());
                }
                _ => return kept,
            }
        }
    }

    /// The TLS handshake, as a client, within the timeout. Any failure ends the
    /// connection and is a [`Refusal`]: the certificate was refused, or TLS could not
    /// be negotiated (an alert, plaintext instead of a ServerHello, a close). With
    /// `keep_plaintext` (the fault
    /// [`PlaintextAfterHandshakeFailure`](super::ClientFault::PlaintextAfterHandshakeFailure))
    /// a failure leaves the cleartext connection open instead.
    pub(super) async fn start_tls(
        &mut self,
        tls: &ClientTls,
        keep_plaintext: bool,
    ) -> Result<(), ClientError> {
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            return Err(ClientError::Protocol("TLS is already active".to_owned()));
        };
        let (tcp, spare) = if keep_plaintext {
            let (tcp, spare) = duplicate(tcp).map_err(|source| ClientError::Io {
                during: "duplicating the socket",
                source,
            })?;
            (tcp, Some(spare))
        } else {
            (tcp, None)
        };
        let result = self.handshake(tls, tcp).await;
        if result.is_err() {
            if let Some(spare) = spare {
                // Dropping the failed TLS stream closed one descriptor; this one keeps
                // the socket open, without a FIN.
                if let Ok(tcp) = TcpStream::from_std(spare) {
                    self.stream = Stream::Plain(tcp);
                }
            }
        }
        result
    }

    async fn handshake(&mut self, tls: &ClientTls, tcp: TcpStream) -> Result<(), ClientError> {
        let connector = TlsConnector::from(Arc::clone(&tls.config));
        let handshake = connector.connect(tls.server_name.clone(), tcp);
        match tokio::time::timeout(self.handshake_timeout, handshake).await {
            Ok(Ok(stream)) => {
                self.stream = Stream::Tls(Box::new(stream));
                Ok(())
            }
            Ok(Err(e)) => Err(ClientError::Refused(match tls.rejection() {
                Some(reason) => Refusal::Certificate { reason },
                None => Refusal::HandshakeFailed {
                    reason: e.to_string(),
                },
            })),
            Err(_) => Err(ClientError::Refused(Refusal::HandshakeFailed {
                reason: format!("no handshake within {:?}", self.handshake_timeout),
            })),
        }
    }

    /// [`OffersOldTls`](super::ClientFault::OffersOldTls) and
    /// [`Sslv2Hello`](super::ClientFault::Sslv2Hello): writes a canned old hello, then
    /// waits on whatever answers (an old ServerHello is not refused) until the server
    /// gives up, for at most four timeouts. The handshake never completes.
    pub(super) async fn legacy_handshake(&mut self, hello: &[u8]) -> Result<(), ClientError> {
        let Stream::Plain(tcp) = &mut self.stream else {
            return Err(ClientError::Protocol("TLS is already active".to_owned()));
        };
        let during = "writing an old ClientHello";
        tcp.write_all(hello)
            .await
            .map_err(|source| ClientError::Io { during, source })?;
        let mut buf = vec![0; READ_CHUNK];
        let waiting = async { while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {} };
        let _ = tokio::time::timeout(self.timeout.saturating_mul(4), waiting).await;
        Err(ClientError::Refused(Refusal::HandshakeFailed {
            reason: "the old handshake did not complete".to_owned(),
        }))
    }

    /// Whether the connection is open in cleartext.
    pub(super) fn is_plaintext(&self) -> bool {
        matches!(self.stream, Stream::Plain(_))
    }

    /// Closes the connection: inside TLS with a close_notify first when `close_notify`,
    /// then the TCP FIN. Errors are ignored (the server may be gone already). Returns
    /// whether a close_notify was sent.
    pub(super) async fn close(&mut self, close_notify: bool) -> bool {
        let stream = std::mem::replace(&mut self.stream, Stream::Closed);
        let sent = close_notify && matches!(stream, Stream::Tls(_));
        let shutdown = async move {
            match stream {
                Stream::Plain(mut tcp) => tcp.shutdown().await,
                Stream::Tls(mut tls) if close_notify => tls.shutdown().await,
                Stream::Tls(tls) => {
                    let (mut tcp, _) = tls.into_inner();
                    tcp.shutdown().await
                }
                Stream::Closed => Ok(()),
            }
        };
        let _ = tokio::time::timeout(self.timeout, shutdown).await;
        sent
    }
}

/// Two handles on one socket: the stream, and a spare descriptor that survives the
/// stream being dropped.
fn duplicate(tcp: TcpStream) -> io::Result<(TcpStream, std::net::TcpStream)> {
    let std = tcp.into_std()?;
    let spare = std.try_clone()?;
    Ok((TcpStream::from_std(std)?, spare))
}
