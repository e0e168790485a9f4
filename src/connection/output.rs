//! The bytes waiting for the transport, in the order they go out: frames the connection
//! wrote, and large payloads the application handed over whole (`send_binary_bytes`,
//! `send_text_bytes`), queued as they are instead of copied; and where the one automatic
//! pong still unwritten lies, so that a newer ping replaces it.

use alloc::vec::Vec;
use bytes::{Buf, Bytes, BytesMut};

/// The largest drained frame buffer kept for the next message.
const RETAINED: usize = 8 << 10;

#[derive(Default)]
pub(super) struct Output {
    /// Go out before `frames`, in order: frames written before a queued payload, and the
    /// payloads. Empty unless payloads were queued.
    queued: Vec<Bytes>,
    /// Where frames are written; goes out after `queued`.
    frames: BytesMut,
    /// The automatic pong still wholly unwritten: where in `frames`, and its length.
    pong: Option<(usize, u8)>,
}

impl Output {
    /// Where frames are written.
    #[inline]
    pub(super) fn frames(&mut self) -> &mut BytesMut {
        &mut self.frames
    }

    /// All the bytes waiting.
    #[inline]
    pub(super) fn len(&self) -> usize {
        // `queued` holds a few chunks at most (a header and a payload per queued message).
        self.queued.iter().map(Bytes::len).sum::<usize>() + self.frames.len()
    }

    /// The next bytes to write: all of them, unless payloads are queued.
    #[inline]
    pub(super) fn first_chunk(&self) -> &[u8] {
        self.queued.first().map_or(&self.frames[..], |b| &b[..])
    }

    /// Every chunk waiting, in order, for a vectored write.
    pub(super) fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        let frames = (!self.frames.is_empty()).then_some(&self.frames[..]);
        self.queued.iter().map(|b| &b[..]).chain(frames)
    }

    /// Queues `payload` after everything written so far, without copying it.
    pub(super) fn queue(&mut self, payload: Bytes) {
        if !self.frames.is_empty() {
            // The frames before it go first; a pong among them can no longer be replaced.
            self.pong = None;
            self.queued.push(self.frames.split().freeze());
        }
        self.queued.push(payload);
    }

    /// Marks the first `n` bytes as written.
    #[inline]
    pub(super) fn consume(&mut self, n: usize) {
        if self.queued.is_empty() && n >= self.frames.len() && self.frames.capacity() <= RETAINED {
            // Everything written, the usual case: the buffer is kept for the next message.
            self.pong = None;
            self.frames.clear();
            return;
        }
        self.consume_partly(n);
    }

    fn consume_partly(&mut self, mut n: usize) {
        while n > 0 && !self.queued.is_empty() {
            let first = &mut self.queued[0];
            let k = n.min(first.len());
            first.advance(k);
            n -= k;
            if first.is_empty() {
                self.queued.remove(0);
            }
        }
        if self.queued.is_empty() && self.queued.capacity() > 0 {
            self.queued = Vec::new();
        }
        let n = n.min(self.frames.len());
        if n == 0 {
            return;
        }
        // A pong partly written stays; one not reached moves up.
        self.pong = self
            .pong
            .and_then(|(at, len)| at.checked_sub(n).map(|at| (at, len)));
        if n == self.frames.len() {
            // Drained: keep a small buffer for the next message, free a large one.
            if self.frames.capacity() > RETAINED {
                self.frames = BytesMut::new();
            } else {
                self.frames.clear();
            }
        } else {
            self.frames.advance(n);
        }
    }

    /// Takes everything waiting at once: without copying unless payloads are queued.
    pub(super) fn take(&mut self) -> Bytes {
        self.pong = None;
        if self.queued.is_empty() {
            return core::mem::take(&mut self.frames).freeze();
        }
        let mut all = BytesMut::with_capacity(self.len());
        for chunk in self.chunks() {
            all.extend_from_slice(chunk);
        }
        *self = Self::default();
        all.freeze()
    }

    /// Before an automatic pong is written: the one still wholly unwritten is forgotten,
    /// and removed when `replace`. Returns where the new one starts.
    pub(super) fn start_pong(&mut self, replace: bool) -> usize {
        if let Some((at, len)) = self.pong.take().filter(|_| replace) {
            let len = usize::from(len);
            if at + len == self.frames.len() {
                self.frames.truncate(at);
            } else {
                // Frames were written after it: move them up (rare; they are few).
                let after = self.frames.split_off(at + len);
                self.frames.truncate(at);
                self.frames.extend_from_slice(&after);
            }
        }
        self.frames.len()
    }

    /// The automatic pong started at `at` is written.
    pub(super) fn pong_written(&mut self, at: usize) {
        // A pong frame is at most 2 + 4 + 125 bytes.
        let len = u8::try_from(self.frames.len() - at).unwrap_or(u8::MAX);
        self.pong = Some((at, len));
    }
}
