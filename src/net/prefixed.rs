//! A stream that replays some octets before reading from the socket: how bytes the
//! harness already read (a ClientHello that arrived in one segment with a pipelined
//! command) still reach the TLS acceptor at a STARTTLS upgrade.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `inner`, with `prefix[pos..]` read first. Writes go straight to `inner`.
#[derive(Debug)]
pub(crate) struct Prefixed<T> {
    prefix: Vec<u8>,
    pos: usize,
    inner: T,
}

impl<T> Prefixed<T> {
    /// Wraps `inner` with nothing to replay.
    pub(crate) fn new(inner: T) -> Self {
        Self {
            prefix: Vec::new(),
            pos: 0,
            inner,
        }
    }

    /// Replaces what is replayed before `inner` is read again.
    pub(crate) fn set_prefix(&mut self, prefix: Vec<u8>) {
        self.prefix = prefix;
        self.pos = 0;
    }

    /// Octets not replayed yet.
    pub(crate) fn pending(&self) -> &[u8] {
        self.prefix.get(self.pos..).unwrap_or_default()
    }

    /// The wrapped stream.
    pub(crate) fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Prefixed<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let pending = this.pending();
        if pending.is_empty() {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let n = pending.len().min(buf.remaining());
        buf.put_slice(&pending[..n]);
        this.pos += n;
        if this.pos >= this.prefix.len() {
            this.prefix = Vec::new();
            this.pos = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Prefixed<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn the_prefix_is_read_before_the_stream() {
        let inner: &[u8] = b" world";
        let mut p = Prefixed::new(inner);
        p.set_prefix(b"hello".to_vec());
        let mut small = [0u8; 3];
        assert_eq!(p.read(&mut small).await.unwrap(), 3);
        assert_eq!(&small, b"hel");
        let mut rest = Vec::new();
        p.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"lo world");
        assert!(p.pending().is_empty());
    }
}
