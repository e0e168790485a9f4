//! The received bytes and the decoder's place in them: the input buffer, how much of it is
//! decoded, and how far the payload of the frame in progress is unmasked and validated. The
//! decode loop (`recv`) moves these; the rest of the connection only resets them.
//!
//! Bytes arrive two ways: copied in by `push` (`Connection::receive`), or read by the
//! transport straight into the buffer's spare room (`offer`, then `commit`:
//! `Connection::receive_buffer` and `commit_received`). For the second, the room must be
//! initialised memory, and zeroing it for every read would cost a pass over memory as large
//! as the copy it saves. So the buffer is kept initialised up to `buf.len()`, beyond the
//! received bytes (`end`): room is zeroed once, when the buffer grows, and reused after.

use crate::frame::FrameHeader;
use bytes::{Buf, Bytes, BytesMut};

/// How far ahead of the buffered bytes of a frame the input buffer grows: about one read.
const READ_AHEAD: usize = 64 << 10;
/// How much a frame's buffer grows at a time past that, relative to what of it arrived: a
/// large frame is reallocated once or twice and about an eighth of it copied again (each
/// reallocation is fresh memory the kernel must fault in, which cost the 1 MiB rows of
/// `benches/compare` about 15% with a factor of 2), while the buffer stays within about
/// nine times what arrived, never the length a header announces.
const GROWTH: usize = 8;

#[derive(Default)]
pub(super) struct Input {
    /// `..end`: received bytes; `end..`: initialised room for the next read.
    buf: BytesMut,
    /// Where the received bytes end.
    end: usize,
    /// How much of the received bytes is decoded and no longer needed.
    pub(super) rpos: usize,
    /// The frame whose payload is arriving.
    pub(super) frame: Option<FrameHeader>,
    /// Payload bytes of that frame already validated (for text) and accounted for.
    pub(super) processed: usize,
    /// Payload bytes of that frame already unmasked (`push` may unmask as it copies).
    pub(super) unmasked: usize,
    /// The size of the last read, to leave room for the next one past a frame's end.
    last_read: usize,
    /// The room the last `offer` lent, while nothing has moved the bytes since.
    offered: usize,
    /// The largest frame handed out by `split` (its allocation went with it): the next large
    /// frame grows to that size at once instead of step by step. Bytes that really arrived
    /// set it, never a header's announcement.
    split_hint: usize,
}

impl Input {
    /// The received bytes not yet decoded.
    #[inline]
    pub(super) fn unread(&self) -> &[u8] {
        &self.buf[self.rpos..self.end]
    }

    /// The same, to unmask in place.
    #[inline]
    pub(super) fn unread_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.rpos..self.end]
    }

    /// Everything received (the opening handshake looks at it from the start).
    #[inline]
    pub(super) fn received(&self) -> &[u8] {
        &self.buf[..self.end]
    }

    /// Takes the first `n` received bytes (the HTTP head of the opening handshake).
    pub(super) fn take_head(&mut self, n: usize) -> BytesMut {
        self.offered = 0;
        let n = n.min(self.end);
        self.end -= n;
        self.rpos = self.rpos.saturating_sub(n);
        self.buf.split_to(n)
    }

    /// Appends bytes read from the transport.
    /// `decoding`: frames are being decoded, so a masked payload may be unmasked on the way.
    pub(super) fn push(&mut self, data: &[u8], decoding: bool) {
        self.drop_decoded();
        if self.buf.capacity() - self.end < data.len() {
            // Room for two pushes of this size, so the next one fits after moving what is
            // left of a frame to the front, and at least doubling what is held, so bytes
            // pushed without polling in between are copied about once in all.
            self.make_room(data.len().saturating_mul(2).max(self.end - self.rpos));
        }
        self.last_read = data.len();
        let rest = if decoding {
            self.unmask_into(data)
        } else {
            data
        };
        self.append(rest);
    }

    /// Copies `data` after the received bytes: into the initialised room as far as it goes,
    /// the rest appended.
    fn append(&mut self, data: &[u8]) {
        let room = self.buf.len() - self.end;
        let (into_room, beyond) = data.split_at(data.len().min(room));
        self.buf[self.end..self.end + into_room.len()].copy_from_slice(into_room);
        self.end += into_room.len();
        if !beyond.is_empty() {
            self.buf.extend_from_slice(beyond);
            self.end = self.buf.len();
        }
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
        let have = self.end - self.rpos;
        // Only when everything buffered of the frame is already unmasked.
        if have != self.unmasked {
            return data;
        }
        let take = (payload_len as usize - have).min(data.len());
        let (src, rest) = data.split_at(take);
        let room = self.buf.len() - self.end;
        let (into_room, beyond) = src.split_at(take.min(room));
        let start = self.end;
        crate::mask::copy_masked(
            &mut self.buf[start..start + into_room.len()],
            into_room,
            crate::mask::rotate_key(key, have),
        );
        self.end += into_room.len();
        if !beyond.is_empty() {
            crate::mask::extend_masked(&mut self.buf, beyond, key, have + into_room.len());
            self.end = self.buf.len();
        }
        self.unmasked += take;
        rest
    }

    /// Lends at least `min` bytes (at least one) of initialised room after the received
    /// bytes, for the transport to read into: all the room there is, which grows with the
    /// frame in progress (see `growth_for`), so large frames arrive in large reads.
    pub(super) fn offer(&mut self, min: usize) -> &mut [u8] {
        self.drop_decoded();
        let need = min.max(1);
        if self.buf.len() - self.end < need {
            let held = self.end - self.rpos;
            if self.buf.capacity() - self.end >= need {
                // Zeroed once: the room stays initialised while the allocation is reused.
                self.buf.resize(self.buf.capacity(), 0);
            } else if self.rpos > 0 && self.buf.len() - held >= need {
                self.compact();
            } else {
                let wanted = self.room_wanted(need);
                // Only a frame in progress is sure to fill more than this read: otherwise the
                // room past it is zeroed when a later read needs it (most often the bytes
                // are all decoded first, and the buffer freed).
                let lent = if self.frame.is_some() { wanted } else { need };
                if self.reclaim(wanted) {
                    // Zeroed: the room's old bytes are not initialised as far as `BytesMut`
                    // knows.
                    self.buf.resize(self.end + lent, 0);
                } else {
                    self.grow_zeroed(wanted, lent);
                }
            }
        }
        self.offered = self.buf.len() - self.end;
        &mut self.buf[self.end..]
    }

    /// How much room to make when a read of `need` bytes does not fit: what the frame in
    /// progress needs (see `growth_for`), plus `need` again, so the next read fits after
    /// moving what is left of a frame to the front instead of growing at every read.
    fn room_wanted(&self, need: usize) -> usize {
        let held = self.end - self.rpos;
        let grow = match self.frame {
            Some(h) => self.growth_for((h.payload_len as usize).saturating_sub(held)),
            // No decoded header (nothing polled yet): the size is unknown, so room as large
            // as what is held, and bytes read without polling are copied about once in all,
            // not once per read.
            None => held,
        };
        need.max(grow).saturating_add(need)
    }

    /// Lends the room after the received bytes as an empty `BytesMut` with capacity for at
    /// least `min` bytes (at least one), grown as `offer` grows it, for a transport that
    /// reads into uninitialised memory (`BufMut`): nothing is zeroed.
    pub(super) fn lend_room(&mut self, min: usize) -> BytesMut {
        self.drop_decoded();
        let need = min.max(1);
        if self.buf.capacity() - self.end < need {
            self.make_room(self.room_wanted(need));
        }
        self.buf.truncate(self.end);
        self.buf.split_off(self.end)
    }

    /// The bytes of `room` (lent by `lend_room`, or any other buffer) are received: put
    /// back after the received bytes without copying when it is the room lent and nothing
    /// moved the buffer since, copied otherwise.
    pub(super) fn commit_room(&mut self, room: BytesMut) {
        self.offered = 0;
        self.buf.truncate(self.end);
        let n = room.len();
        if n == 0 && self.rpos == self.end {
            // Nothing arrived and nothing waits: a connection between reads holds no buffer.
            self.release_idle();
            return;
        }
        self.buf.unsplit(room);
        self.end += n;
        if n > 0 {
            self.last_read = n;
        }
    }

    /// The transport wrote `n` bytes at the start of the room `offer` lent. Returns false,
    /// taking nothing, when `n` is more than that room, or something moved the bytes since.
    pub(super) fn commit(&mut self, n: usize) -> bool {
        if n > self.offered {
            return false;
        }
        self.offered = 0;
        self.end += n;
        self.last_read = n;
        true
    }

    /// When every received byte is decoded, the room starts over at the beginning. (A
    /// decoded prefix before undecoded bytes stays until room is needed: moving the bytes
    /// after it at every read would copy a large frame over and over.)
    fn drop_decoded(&mut self) {
        self.offered = 0;
        if self.rpos == self.end {
            self.rpos = 0;
            self.end = 0;
        }
    }

    /// Moves the undecoded bytes to the front of the buffer, keeping its initialised room.
    fn compact(&mut self) {
        self.buf.copy_within(self.rpos..self.end, 0);
        self.end -= self.rpos;
        self.rpos = 0;
    }

    /// Makes room in the allocation for `wanted` bytes after the received ones: by moving
    /// the undecoded bytes to the front when that is enough, else in a new allocation of
    /// exactly that size (the callers size the growth; `reserve` would double it besides).
    /// The new room is not initialised (`push` writes it at once).
    fn make_room(&mut self, wanted: usize) {
        self.offered = 0;
        let held = self.end - self.rpos;
        if self.rpos > 0 && self.buf.capacity() - held >= wanted {
            self.compact();
            return;
        }
        if self.reclaim(wanted) {
            return;
        }
        let mut grown = BytesMut::with_capacity(held.saturating_add(wanted));
        grown.extend_from_slice(self.unread());
        self.buf = grown;
        self.rpos = 0;
        self.end = held;
    }

    /// Takes back the whole allocation for the undecoded bytes and `wanted` bytes of room
    /// after them, when the messages split off it (`split`) are all dropped: an owned
    /// message read in place then costs no allocation, as it costs none copied. The room
    /// is not initialised. False, changing nothing the caller relies on, when the
    /// allocation is still shared or too small.
    fn reclaim(&mut self, wanted: usize) -> bool {
        self.buf.truncate(self.end);
        self.buf.advance(self.rpos);
        self.end -= self.rpos;
        self.rpos = 0;
        self.buf.try_reclaim(wanted)
    }

    /// A new allocation with the undecoded bytes at its front and `wanted` bytes of room
    /// after them, the first `zeroed` of which are initialised (when that is all of it, the
    /// allocation is asked for zeroed: large ones then come so from the system, at no extra
    /// pass).
    fn grow_zeroed(&mut self, wanted: usize, zeroed: usize) {
        let held = self.end - self.rpos;
        let grown = if zeroed >= wanted {
            let mut grown = BytesMut::zeroed(held.saturating_add(wanted));
            grown[..held].copy_from_slice(self.unread());
            grown
        } else {
            let mut grown = BytesMut::with_capacity(held.saturating_add(wanted));
            grown.extend_from_slice(self.unread());
            grown.resize(held + zeroed, 0);
            grown
        };
        self.buf = grown;
        self.rpos = 0;
        self.end = held;
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
        self.offered = 0;
        self.split_hint = self.split_hint.max(len);
        self.buf.advance(self.rpos);
        self.end -= self.rpos + len;
        self.rpos = 0;
        self.buf.split_to(len).freeze()
    }

    /// How much room to have for the next read while `missing` bytes of a frame are still
    /// to come: at most about one read ahead of what is buffered, growing geometrically (so
    /// a large frame is reallocated a few times, not per read); once the rest is within
    /// reach, room for it and for what the read that ends it brings beyond it (so that is
    /// not copied again). Never room for what a header merely announces, beyond the size of
    /// a frame already received whole (`split_hint`).
    fn growth_for(&self, missing: usize) -> usize {
        if missing == 0 {
            return 0;
        }
        let whole = missing.saturating_add(self.last_read);
        let have = self.end - self.rpos;
        let step = have
            .saturating_mul(GROWTH)
            .max(READ_AHEAD)
            .max(self.split_hint.saturating_sub(have));
        whole.min(step)
    }

    /// Makes room for the frame in progress as its bytes arrive (see `growth_for`), when
    /// the next read, as large as the last, would not fit.
    pub(super) fn reserve_rest(&mut self, missing: usize) {
        let room = self.buf.capacity() - self.end;
        let whole = missing.saturating_add(self.last_read);
        if room >= whole || room >= missing.min(self.last_read.max(1)) {
            return;
        }
        let wanted = self.growth_for(missing);
        self.make_room(wanted);
    }

    /// An idle connection holds no input buffer.
    pub(super) fn release_idle(&mut self) {
        if self.rpos == self.end {
            self.buf = BytesMut::new();
            self.rpos = 0;
            self.end = 0;
            self.offered = 0;
        }
    }

    /// Drops every byte received (nothing after the closing handshake counts).
    pub(super) fn discard(&mut self) {
        self.rpos = 0;
        self.end = 0;
        self.offered = 0;
    }
}
