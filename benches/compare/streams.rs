//! In-memory transports for the stream-based peers: [`Replay`] hands out a pre-built input in
//! socket-sized reads, [`Sink`] takes whatever is written. Both work blocking (`std::io`) and
//! async (tokio's traits, always ready), so every library sees the same bytes in the same reads.

use std::io::{self, IoSlice, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The write side: counts bytes, and keeps them when asked (for checking an encoder's output).
#[derive(Default)]
pub(crate) struct Sink {
    pub written: u64,
    pub kept: Option<Vec<u8>>,
}

impl Sink {
    /// A sink that keeps a copy of everything written.
    pub(crate) fn keeping() -> Self {
        Self {
            written: 0,
            kept: Some(Vec::new()),
        }
    }

    pub(crate) fn put(&mut self, buf: &[u8]) {
        self.written += buf.len() as u64;
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(buf);
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.put(buf);
        Ok(buf.len())
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut n = 0;
        for b in bufs {
            self.put(b);
            n += b.len();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The encoders' transports need a read side; it is at its end (nothing arrives).
impl Read for Sink {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Ok(0)
    }
}

impl AsyncRead for Sink {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Write::write(self.get_mut(), buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Write::write_vectored(self.get_mut(), bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A duplex stream whose read side replays `data` at most `chunk` bytes per read (as a
/// socket returns what one `recv` got) and whose write side is a [`Sink`].
pub(crate) struct Replay<'a> {
    data: &'a [u8],
    pos: usize,
    chunk: usize,
    pub sink: Sink,
}

impl<'a> Replay<'a> {
    pub(crate) fn new(data: &'a [u8], chunk: usize) -> Self {
        Self {
            data,
            pos: 0,
            chunk,
            sink: Sink::default(),
        }
    }

    /// The next read: at most `room` bytes and one chunk; empty at the end of the input.
    fn next_read(&mut self, room: usize) -> &'a [u8] {
        let n = room.min(self.chunk).min(self.data.len() - self.pos);
        let read = &self.data[self.pos..self.pos + n];
        self.pos += n;
        read
    }
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.next_read(buf.len());
        buf[..read.len()].copy_from_slice(read);
        Ok(read.len())
    }
}

impl Replay<'_> {
    /// A read into the spare capacity of `buf`, as tokio's `read_buf` makes one: the bytes
    /// are written once, into memory that was not zeroed first.
    pub(crate) fn read_buf(&mut self, buf: &mut bytes::BytesMut) -> usize {
        let read = self.next_read(buf.capacity() - buf.len());
        buf.extend_from_slice(read);
        read.len()
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.sink.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for Replay<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let read = this.next_read(buf.remaining());
        buf.put_slice(read);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Replay<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().sink).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().sink).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
