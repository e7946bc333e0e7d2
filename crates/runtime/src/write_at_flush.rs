//! Accepted connections write to the socket when HTTP/2 flushes, not frame by frame.
//!
//! Why this earns its place: h2 copies a DATA frame's payload into its write buffer only below a
//! threshold (256 bytes when the connection says it takes vectored writes, 1 KiB when it does
//! not); a larger payload is queued beside the buffer and must be written out before the next
//! frame can be encoded. So an answer of a few hundred bytes — a ListNeighbors page, search
//! hits, a routed or chat answer — went out in two system calls (headers and message, then the
//! trailers), and answers that were ready together could not share one. Wrapped here, the
//! connection says it does not take vectored writes (h2 then copies payloads up to 1 KiB) and a
//! [`BufWriter`] keeps what h2 writes until h2 flushes, so one flush is one `write`: headers,
//! message and trailers of every answer h2 had ready. Writes as large as the buffer go straight
//! to the socket. docs/benchmarks.md ("What changed") has the system calls per call before and
//! after.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};

/// The write buffer of one connection: h2's own is 16 KiB, so a full h2 buffer is one write.
const BUFFER_BYTES: usize = 16 * 1024;

/// A connection whose writes reach the socket at flush (see the module docs).
pub struct WriteAtFlush<T> {
    inner: BufWriter<T>,
}

impl<T: AsyncWrite> WriteAtFlush<T> {
    /// Wraps an accepted connection.
    pub(crate) fn new(io: T) -> Self {
        Self {
            inner: BufWriter::with_capacity(BUFFER_BYTES, io),
        }
    }

    /// The connection itself.
    pub(crate) fn get_ref(&self) -> &T {
        self.inner.get_ref()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for WriteAtFlush<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteAtFlush<T> {
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

    /// Not vectored, so that h2 copies payloads up to 1 KiB into its own buffer instead of
    /// stopping to write each one out (see the module docs).
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A connected pair over loopback: (the wrapped side, the peer).
    async fn pair() -> (WriteAtFlush<TcpStream>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap());
        let (peer, accepted) = tokio::join!(peer, listener.accept());
        let (accepted, _) = accepted.unwrap();
        accepted.set_nodelay(true).unwrap();
        (WriteAtFlush::new(accepted), peer.unwrap())
    }

    #[tokio::test]
    async fn frames_written_before_a_flush_reach_the_peer_together_at_the_flush() {
        let (mut conn, mut peer) = pair().await;
        assert!(!conn.is_write_vectored());
        for frame in [&b"headers "[..], b"message ", b"trailers"] {
            conn.write_all(frame).await.unwrap();
        }
        let mut got = [0u8; 64];
        let early = tokio::time::timeout(Duration::from_millis(100), peer.read(&mut got)).await;
        assert!(
            early.is_err(),
            "nothing may reach the socket before the flush"
        );

        conn.flush().await.unwrap();
        let mut read = 0;
        while read < 24 {
            read += peer.read(&mut got[read..]).await.unwrap();
        }
        assert_eq!(&got[..read], b"headers message trailers");
    }

    #[tokio::test]
    async fn a_write_as_large_as_the_buffer_goes_straight_out_and_reads_pass_through() {
        let (mut conn, mut peer) = pair().await;
        let large = vec![7u8; BUFFER_BYTES];
        conn.write_all(&large).await.unwrap();
        let mut got = vec![0u8; BUFFER_BYTES];
        tokio::time::timeout(Duration::from_secs(5), peer.read_exact(&mut got))
            .await
            .expect("a full buffer's worth needs no flush")
            .unwrap();
        assert_eq!(got, large);

        peer.write_all(b"request").await.unwrap();
        let mut request = [0u8; 7];
        conn.read_exact(&mut request).await.unwrap();
        assert_eq!(&request, b"request");
    }
}
