//! Incremental UTF-8 validation for text messages (RFC 6455 §5.6, §8.1).
//!
//! Text arrives in frames, and frames arrive in pieces; a code point may be split anywhere.
//! [`Utf8Validator`] validates each piece with `simdutf8` as soon as it is unmasked, carrying
//! the incomplete tail of a code point (at most three bytes) to the next piece, so invalid
//! text is refused at the first byte that makes it invalid, not at the end of the message.
#![allow(unsafe_code)]

use bytes::Bytes;
use core::fmt;
use core::ops::Deref;

/// The text was not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

/// Validates a byte stream as UTF-8, piece by piece.
#[derive(Debug, Default, Clone)]
pub struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    pub const fn new() -> Self {
        Self {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Validates the next piece. Fails as soon as the bytes seen so far cannot begin any
    /// valid UTF-8 text; an incomplete code point at the end is kept for the next piece.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            let have = self.partial_len as usize;
            let need = sequence_width(self.partial[0]);
            let take = (need - have).min(bytes.len());
            self.partial[have..have + take].copy_from_slice(&bytes[..take]);
            let filled = have + take;
            bytes = &bytes[take..];
            match simdutf8::compat::from_utf8(&self.partial[..filled]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_none() && filled < need => {
                    self.partial_len = filled as u8;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
        }
        // Validate everything up to a code point cut by the end of the piece in one fast
        // pass; only the cut tail (at most 3 bytes) needs the slower, position-aware check.
        let cut = incomplete_tail_start(bytes);
        if simdutf8::basic::from_utf8(&bytes[..cut]).is_err() {
            return Err(InvalidUtf8);
        }
        let tail = &bytes[cut..];
        if tail.is_empty() {
            return Ok(());
        }
        match simdutf8::compat::from_utf8(tail) {
            Err(e) if e.error_len().is_none() && e.valid_up_to() == 0 => {
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            _ => Err(InvalidUtf8),
        }
    }

    /// Whether the text may end here (no code point left incomplete).
    pub fn is_complete(&self) -> bool {
        self.partial_len == 0
    }

    /// Forgets any state, for the next message.
    pub fn reset(&mut self) {
        self.partial_len = 0;
    }
}

/// Where a multi-byte sequence that the end of `bytes` cuts short begins (`bytes.len()` when
/// the end cuts none). Only the last three bytes are looked at.
fn incomplete_tail_start(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(3) {
        let b = bytes[len - back];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: the lead is further back
        }
        let width = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xFF => 4,
            _ => 1,
        };
        return if width > back { len - back } else { len };
    }
    len
}

/// Length of the sequence a (valid) lead byte starts.
fn sequence_width(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

/// Validates a whole text at once.
pub fn validate(bytes: &[u8]) -> Result<(), InvalidUtf8> {
    simdutf8::basic::from_utf8(bytes)
        .map(|_| ())
        .map_err(|_| InvalidUtf8)
}

/// Views bytes the decoder has validated (with [`Utf8Validator`], through the end of the
/// message) as text, without validating them again.
pub(crate) fn assume_validated(bytes: &[u8]) -> &str {
    debug_assert!(core::str::from_utf8(bytes).is_ok());
    // SAFETY: the only callers pass the payload of a complete text message, every byte of
    // which went through `Utf8Validator::feed` with `is_complete()` true at its end (see
    // `connection::recv` and `connection::message`; `connection::poll` hands it out); the
    // buffers are not modified between validation and this call.
    unsafe { core::str::from_utf8_unchecked(bytes) }
}

/// Bytes that are known to be valid UTF-8: a text message's payload, shared without copying.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps bytes after validating them.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, InvalidUtf8> {
        validate(&bytes)?;
        Ok(Self(bytes))
    }

    /// Wraps bytes the engine has already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor validates the bytes as UTF-8 (`try_from_bytes`, `From<&str>`,
        // `From<String>`) or is given bytes the engine validated with `Utf8Validator`/`validate`
        // (`from_validated`); `Bytes` is immutable, so they stay valid.
        unsafe { core::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Gives back the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }
}

impl From<alloc::string::String> for Utf8Bytes {
    fn from(s: alloc::string::String) -> Self {
        Self(Bytes::from(s))
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn feed_split(data: &[u8], cuts: &[usize]) -> Result<bool, InvalidUtf8> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &cut in cuts {
            let cut = cut.clamp(start, data.len());
            v.feed(&data[start..cut])?;
            start = cut;
        }
        v.feed(&data[start..])?;
        Ok(v.is_complete())
    }

    #[test]
    fn split_code_points_are_accepted() {
        let text = "Привет, сервер! κόσμε 𝄞 €".as_bytes();
        for cut in 0..=text.len() {
            assert_eq!(feed_split(text, &[cut]), Ok(true), "cut {cut}");
            for cut2 in cut..=text.len() {
                assert_eq!(feed_split(text, &[cut, cut2]), Ok(true));
            }
        }
    }

    #[test]
    fn fails_fast_on_first_impossible_byte() {
        let mut v = Utf8Validator::new();
        // Autobahn 6.4.1: a valid prefix, then 0xF4 0x90 which can never continue validly.
        v.feed("κόσμε".as_bytes()).unwrap();
        v.feed(&[0xF4]).unwrap();
        assert_eq!(v.feed(&[0x90]), Err(InvalidUtf8));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xED, 0xA0]), Err(InvalidUtf8)); // surrogate
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xC0]), Err(InvalidUtf8)); // overlong lead
        let mut v = Utf8Validator::new();
        v.feed(&[0xE2, 0x82]).unwrap();
        assert!(!v.is_complete());
    }

    proptest! {
        #[test]
        fn agrees_with_std_on_every_split(data in proptest::collection::vec(any::<u8>(), 0..64),
                                          cuts in proptest::collection::vec(0usize..64, 0..5)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let ours = matches!(feed_split(&data, &cuts), Ok(true));
            prop_assert_eq!(ours, core::str::from_utf8(&data).is_ok());
        }

        #[test]
        fn agrees_with_std_on_mostly_valid_text(s in "\\PC{0,24}", junk in any::<u8>(), at in 0usize..100,
                                                cuts in proptest::collection::vec(0usize..100, 0..4)) {
            let mut data = s.into_bytes();
            let at = at.min(data.len());
            data.insert(at, junk);
            let mut cuts = cuts;
            cuts.sort_unstable();
            let ours = matches!(feed_split(&data, &cuts), Ok(true));
            prop_assert_eq!(ours, core::str::from_utf8(&data).is_ok());
        }
    }
}
