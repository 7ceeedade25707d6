//! A stream that replays some octets before reading from the socket: how bytes the
//! harness already read (a ClientHello that arrived in one segment with a pipelined
//! command) still reach the TLS acceptor at a STARTTLS upgrade. During a handshake it
//! can also keep a copy of the first raw octets read, so plaintext a peer sent where a
//! TLS record belonged is shown rather than lost inside a rustls error.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most raw octets kept by a capture.
const CAPTURE_LIMIT: usize = 4096;

/// `inner`, with `prefix[pos..]` read first. Writes go straight to `inner`.
#[derive(Debug)]
pub(crate) struct Prefixed<T> {
    prefix: Vec<u8>,
    pos: usize,
    inner: T,
    /// A copy of the first octets read from `inner` since `start_capture`.
    capture: Option<Vec<u8>>,
}

impl<T> Prefixed<T> {
    /// Wraps `inner` with nothing to replay.
    pub(crate) fn new(inner: T) -> Self {
        Self {
            prefix: Vec::new(),
            pos: 0,
            inner,
            capture: None,
        }
    }

    /// Starts keeping a copy of the octets read from `inner` (not the prefix), up to
    /// 4 KiB.
    pub(crate) fn start_capture(&mut self) {
        self.capture = Some(Vec::new());
    }

    /// Stops capturing; returns what was captured.
    pub(crate) fn stop_capture(&mut self) -> Vec<u8> {
        self.capture.take().unwrap_or_default()
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
            let before = buf.filled().len();
            let read = Pin::new(&mut this.inner).poll_read(cx, buf);
            if let (Some(capture), Poll::Ready(Ok(()))) = (&mut this.capture, &read) {
                let new = buf.filled().get(before..).unwrap_or_default();
                let room = CAPTURE_LIMIT.saturating_sub(capture.len());
                capture.extend_from_slice(&new[..new.len().min(room)]);
            }
            return read;
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

    #[tokio::test]
    async fn a_capture_copies_what_the_stream_gave_not_the_prefix() {
        let inner: &[u8] = b"* injected\r\n";
        let mut p = Prefixed::new(inner);
        p.set_prefix(b"\x16".to_vec());
        p.start_capture();
        let mut all = Vec::new();
        p.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"\x16* injected\r\n");
        assert_eq!(p.stop_capture(), b"* injected\r\n");
        assert!(p.stop_capture().is_empty());
    }
}
