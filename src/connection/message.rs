//! Reassembly of a data message from its frames (RFC 6455 §5.4): the kind of the message
//! in progress, its bytes and length so far, the validation of its text across fragment
//! boundaries, and whether it is compressed (RFC 7692). Inflated payloads land in the same
//! buffer.

use crate::error::ProtocolError;
use crate::event::MessageKind;
use crate::utf8::Utf8Validator;
use bytes::{Bytes, BytesMut};

#[derive(Default)]
pub(super) struct Message {
    /// The kind of the fragmented message in progress, if any.
    kind: Option<MessageKind>,
    /// Its length so far, as received (compressed bytes for a compressed message).
    len: u64,
    /// Its bytes so far (not used when fragments are streamed).
    buffer: BytesMut,
    /// The length of the last reassembled message: the next one likely needs as much.
    size_hint: usize,
    utf8: Utf8Validator,
    /// The message in progress is compressed.
    compressed: bool,
}

impl Message {
    /// The kind of the fragmented message in progress, if any.
    #[inline]
    pub(super) fn in_progress(&self) -> Option<MessageKind> {
        self.kind
    }

    /// Bytes of the message in progress received so far.
    #[inline]
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    #[inline]
    pub(super) fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// Validates more of the message's text, as its bytes arrive.
    #[inline]
    pub(super) fn feed_utf8(&mut self, text: &[u8]) -> Result<(), ProtocolError> {
        self.utf8.feed(text).map_err(|_| ProtocolError::InvalidUtf8)
    }

    /// Unmasks the next bytes of a text in place (as if `text` started at byte `offset` of
    /// the payload) and validates them, in one pass.
    #[inline]
    pub(super) fn unmask_and_feed_utf8(
        &mut self,
        text: &mut [u8],
        key: [u8; 4],
        offset: usize,
    ) -> Result<(), ProtocolError> {
        crate::mask::unmask_and_validate(text, key, offset, &mut self.utf8)
            .map_err(|_| ProtocolError::InvalidUtf8)
    }

    /// The text ends here: no code point may be left unfinished.
    #[inline]
    pub(super) fn end_utf8(&self) -> Result<(), ProtocolError> {
        if !self.utf8.is_complete() {
            return Err(ProtocolError::InvalidUtf8);
        }
        Ok(())
    }

    /// A fragment handed out as it lies in the input (streaming): only the kind is kept.
    #[inline]
    pub(super) fn stream_fragment(&mut self, kind: MessageKind, fin: bool) {
        self.kind = if fin { None } else { Some(kind) };
        if fin {
            self.utf8.reset();
        }
    }

    /// A whole message in one frame, validated where it lies: nothing to keep.
    #[inline]
    pub(super) fn single_frame(&mut self) {
        self.utf8.reset();
    }

    /// Appends an uncompressed fragment. `key`: the payload is still masked and its text not
    /// validated, so both happen on the way in (one pass). Returns whether the message is
    /// complete (then its bytes are in the buffer).
    pub(super) fn append(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        key: Option<[u8; 4]>,
        fin: bool,
        max_message_size: usize,
    ) -> Result<bool, ProtocolError> {
        if self.kind.is_none() {
            // Grow once, to the size of the last reassembled message, not by doublings.
            let hint = self.size_hint.min(max_message_size);
            self.buffer.reserve(hint.max(payload.len()));
        }
        self.kind = Some(kind);
        self.len += payload.len() as u64;
        match key {
            Some(key) => {
                if kind == MessageKind::Text {
                    crate::mask::extend_unmasked_validated(
                        &mut self.buffer,
                        payload,
                        key,
                        0,
                        &mut self.utf8,
                    )
                    .map_err(|_| ProtocolError::InvalidUtf8)?;
                    if fin {
                        self.end_utf8()?;
                    }
                } else {
                    crate::mask::extend_masked(&mut self.buffer, payload, key, 0);
                }
            }
            None => self.buffer.extend_from_slice(payload),
        }
        if fin {
            self.size_hint = self.buffer.len();
            self.kind = None;
            self.len = 0;
            self.utf8.reset();
        }
        Ok(fin)
    }

    /// Appends a compressed fragment of `raw_len` bytes: `inflate` writes what it inflates
    /// to onto the buffer (and, when told, ends the message's stream); text is validated
    /// as it comes out.
    pub(super) fn inflate(
        &mut self,
        kind: MessageKind,
        raw_len: usize,
        fin: bool,
        inflate: impl FnOnce(&mut BytesMut, bool) -> Result<(), ProtocolError>,
    ) -> Result<(), ProtocolError> {
        let start = self.buffer.len();
        // A message whose compressed payload is empty altogether is empty: appending the
        // tail to nothing would open a stored block that never ends (§7.2.3.6 sends 0x00).
        let empty = self.len == 0 && raw_len == 0;
        inflate(&mut self.buffer, fin && !empty)?;
        if kind == MessageKind::Text {
            self.feed_utf8_buffered(start)?;
            if fin {
                self.end_utf8()?;
            }
        }
        self.len += raw_len as u64;
        if fin {
            self.kind = None;
            self.len = 0;
            self.compressed = false;
            self.utf8.reset();
        } else {
            self.kind = Some(kind);
            self.compressed = true;
        }
        Ok(())
    }

    fn feed_utf8_buffered(&mut self, from: usize) -> Result<(), ProtocolError> {
        self.utf8
            .feed(&self.buffer[from..])
            .map_err(|_| ProtocolError::InvalidUtf8)
    }

    /// The bytes in the buffer (a whole message, or an inflated fragment).
    #[inline]
    pub(super) fn buffered(&self) -> &[u8] {
        &self.buffer
    }

    /// Takes the bytes in the buffer, without copying.
    #[inline]
    pub(super) fn take(&mut self) -> Bytes {
        self.buffer.split().freeze()
    }

    /// Drops the bytes in the buffer (they were lent), keeping its memory.
    #[inline]
    pub(super) fn clear(&mut self) {
        self.buffer.clear();
    }

    /// An idle connection holds no reassembly buffer.
    pub(super) fn release_idle(&mut self) {
        if self.kind.is_none() && self.buffer.is_empty() {
            self.buffer = BytesMut::new();
        }
    }
}
