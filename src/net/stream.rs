//! The socket under a [`Conn`](super::Conn) in whatever state it is: plaintext, TLS as a
//! client, TLS as a server, or gone. Swapped in place at a STARTTLS upgrade.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::{client, server};

use super::prefixed::Prefixed;
use super::transcript::Phase;

/// The transport a connection currently has.
#[derive(Debug, Default)]
pub(crate) enum Stream {
    /// TCP, no TLS (yet).
    Plain(Prefixed<TcpStream>),
    /// TLS with mailtls as the client (server role: mailtls tests a server).
    TlsClient(Box<client::TlsStream<Prefixed<TcpStream>>>),
    /// TLS with mailtls as the server (client role: mailtls tests a client).
    TlsServer(Box<server::TlsStream<Prefixed<TcpStream>>>),
    /// Reset, or lost in a handshake that timed out.
    #[default]
    Gone,
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the connection is gone")
}

impl Stream {
    /// Plaintext or TLS, for the transcript.
    pub(crate) fn phase(&self) -> Phase {
        match self {
            Self::TlsClient(_) | Self::TlsServer(_) => Phase::Tls,
            Self::Plain(_) | Self::Gone => Phase::Plaintext,
        }
    }

    /// Whether application data travels inside TLS.
    pub(crate) fn is_tls(&self) -> bool {
        self.phase() == Phase::Tls
    }

    /// The TCP socket underneath, if there still is one.
    pub(crate) fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Self::Plain(s) => Some(s.get_ref()),
            Self::TlsClient(s) => Some(s.get_ref().0.get_ref()),
            Self::TlsServer(s) => Some(s.get_ref().0.get_ref()),
            Self::Gone => None,
        }
    }

    /// One read: plaintext octets, or decrypted application data.
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf).await,
            Self::TlsClient(s) => s.read(buf).await,
            Self::TlsServer(s) => s.read(buf).await,
            Self::Gone => Err(gone()),
        }
    }

    /// Writes all of `bytes` (one write call for anything that fits the socket buffer)
    /// and flushes them out of rustls and onto the wire.
    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Self::TlsClient(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Self::TlsServer(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Self::Gone => Err(gone()),
        }
    }

    /// TLS: sends close_notify, then FIN. Plaintext: FIN.
    pub(crate) async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.shutdown().await,
            Self::TlsClient(s) => s.shutdown().await,
            Self::TlsServer(s) => s.shutdown().await,
            Self::Gone => Err(gone()),
        }
    }

    /// TLS: sends close_notify and goes back to plaintext on the same TCP connection
    /// (`[close-notify keep-open]`, RFC 2595 §2.2 privacy mode). Anything rustls had
    /// received but not yet handed out is dropped with the TLS state.
    pub(crate) async fn end_tls_keep_tcp(&mut self) -> io::Result<()> {
        match std::mem::take(self) {
            Self::TlsClient(mut s) => {
                s.get_mut().1.send_close_notify();
                s.flush().await?;
                *self = Self::Plain(s.into_inner().0);
                Ok(())
            }
            Self::TlsServer(mut s) => {
                s.get_mut().1.send_close_notify();
                s.flush().await?;
                *self = Self::Plain(s.into_inner().0);
                Ok(())
            }
            other => {
                *self = other;
                Err(io::Error::new(io::ErrorKind::InvalidInput, "not TLS"))
            }
        }
    }

    /// FIN without close_notify (pending TLS records are flushed first).
    pub(crate) async fn shutdown_tcp(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.shutdown().await,
            Self::TlsClient(s) => {
                s.flush().await?;
                s.get_mut().0.shutdown().await
            }
            Self::TlsServer(s) => {
                s.flush().await?;
                s.get_mut().0.shutdown().await
            }
            Self::Gone => Err(gone()),
        }
    }
}
