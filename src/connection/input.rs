//! The received bytes and the decoder's place in them: the input buffer, how much of it is
//! decoded, and how far the payload of the frame in progress is unmasked and validated. The
//! decode loop (`recv`) moves these; the rest of the connection only resets them.

use crate::frame::FrameHeader;
use bytes::{Buf, Bytes, BytesMut};

/// How far ahead of the buffered bytes of a frame the input buffer grows: about one read.
const READ_AHEAD: usize = 64 << 10;
/// How much a frame's buffer grows at a time past that, relative to what of it arrived: few
/// enough reallocations that a large frame is copied about once more at most.
const GROWTH: usize = 4;

#[derive(Default)]
pub(super) struct Input {
    pub(super) buf: BytesMut,
    /// How much of `buf` is decoded and no longer needed.
    pub(super) rpos: usize,
    /// The frame whose payload is arriving.
    pub(super) frame: Option<FrameHeader>,
    /// Payload bytes of that frame already validated (for text) and accounted for.
    pub(super) processed: usize,
    /// Payload bytes of that frame already unmasked (`push` may unmask as it copies).
    pub(super) unmasked: usize,
    /// The size of the last read, to leave room for the next one past a frame's end.
    pub(super) last_read: usize,
}

impl Input {
    /// Appends bytes read from the transport, after dropping what was decoded.
    /// `decoding`: frames are being decoded, so a masked payload may be unmasked on the way.
    pub(super) fn push(&mut self, data: &[u8], decoding: bool) {
        if self.rpos > 0 {
            // A fully drained buffer is reused from its start.
            if self.rpos == self.buf.len() {
                self.buf.clear();
            } else {
                self.buf.advance(self.rpos);
            }
            self.rpos = 0;
        }
        self.last_read = data.len();
        let rest = if decoding {
            self.unmask_into(data)
        } else {
            data
        };
        self.buf.extend_from_slice(rest);
    }

    /// While a masked frame's payload is arriving, it is unmasked as it is copied in (one
    /// pass over memory instead of two). Returns the part of `data` left to append as is.
    fn unmask_into<'d>(&mut self, data: &'d [u8]) -> &'d [u8] {
        let Some(FrameHeader {
            mask: Some(key),
            payload_len,
            ..
        }) = self.frame
        else {
            return data;
        };
        let have = self.buf.len() - self.rpos;
        // Only when everything buffered of the frame is already unmasked.
        if have != self.unmasked {
            return data;
        }
        let take = (payload_len as usize - have).min(data.len());
        self.buf.reserve(data.len());
        crate::mask::extend_masked(&mut self.buf, &data[..take], key, have);
        self.unmasked += take;
        &data[take..]
    }

    /// A frame header of `n` bytes was decoded; its payload comes next.
    #[inline]
    pub(super) fn start_frame(&mut self, h: FrameHeader, n: usize) {
        self.rpos += n;
        self.frame = Some(h);
        self.processed = 0;
        self.unmasked = 0;
    }

    /// The frame's payload is all here.
    #[inline]
    pub(super) fn end_frame(&mut self) {
        self.frame = None;
        self.processed = 0;
        self.unmasked = 0;
    }

    /// The `len` payload bytes at the decode position.
    #[inline]
    pub(super) fn payload(&self, len: usize) -> &[u8] {
        &self.buf[self.rpos..self.rpos + len]
    }

    /// Splits `len` payload bytes off the decode position, without copying.
    #[inline]
    pub(super) fn split(&mut self, len: usize) -> Bytes {
        self.buf.advance(self.rpos);
        self.rpos = 0;
        self.buf.split_to(len).freeze()
    }

    /// Makes room for the frame in progress as its bytes arrive, never for what its header
    /// merely announces: at most about one read ahead of what is buffered, growing
    /// geometrically (so a large frame is reallocated a few times, not per read). Once the
    /// rest is within reach, room for it and for what the read that ends it brings beyond it
    /// (so that is not copied again). Decoded bytes go first, so they are neither kept nor
    /// copied.
    pub(super) fn reserve_rest(&mut self, missing: usize) {
        let room = self.buf.capacity() - self.buf.len();
        let whole = missing.saturating_add(self.last_read);
        // Grow only when the next read, as large as the last, would not fit.
        if room >= whole || room >= missing.min(self.last_read.max(1)) {
            return;
        }
        let have = self.buf.len() - self.rpos;
        let step = have.saturating_mul(GROWTH).max(READ_AHEAD);
        let wanted = if whole <= step { whole } else { step };
        self.buf.advance(self.rpos);
        self.rpos = 0;
        self.buf.reserve(wanted);
    }

    /// An idle connection holds no input buffer.
    pub(super) fn release_idle(&mut self) {
        if self.rpos == self.buf.len() {
            self.buf = BytesMut::new();
            self.rpos = 0;
        }
    }

    /// Drops every byte received (nothing after the closing handshake counts).
    pub(super) fn discard(&mut self) {
        self.buf.clear();
        self.rpos = 0;
    }
}
