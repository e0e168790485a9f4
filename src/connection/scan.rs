//! Copying received bytes into the input buffer. A server unmasks client frames as it
//! copies them (one pass over memory instead of a copy and then an in-place XOR): it follows
//! the frame headers in the incoming bytes, XORs each payload on its way in, and zeroes the
//! masking key in the stored header so the decoder knows there is nothing left to unmask.
//!
//! The scan only speeds things up; it decides nothing. Whenever it cannot tell where it
//! stands (a header it cannot parse, an unmasked frame, bytes not yet decoded), it copies
//! the rest as it is, and the decoder, which applies every rule, unmasks in place. The one
//! thing it must never do is copy raw bytes into a payload whose key it already zeroed:
//! `ScanEnd::Payload` remembers that case across calls.

use super::{Connection, Role, State};
use crate::frame::{FrameHeader, MAX_HEADER_LEN};
use crate::mask::extend_masked;

/// What the scan knows about the end of the buffered input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum ScanEnd {
    /// Nothing: the next bytes are copied as they are unless the decoder's state tells more.
    #[default]
    Unknown,
    /// A frame ends there; the next byte starts a header.
    Boundary,
    /// Inside a payload whose key the scan zeroed: the rest must be unmasked on the way in.
    Payload {
        key: [u8; 4],
        offset: usize,
        left: u64,
    },
}

/// Where the scan stands while copying.
enum At {
    /// Inside a masked payload.
    Payload {
        key: [u8; 4],
        offset: usize,
        left: u64,
        /// The frame the decoder is on, with its real key (its unmasked count follows).
        decoding: bool,
    },
    /// At a frame boundary; the last `pending` buffered bytes begin a header.
    Header { pending: usize },
}

impl Connection {
    /// Appends `data` to the input, unmasking masked payloads on the way when the role and
    /// the state allow (see the module docs).
    pub(super) fn copy_in(&mut self, mut data: &[u8]) {
        let mut at = match self.scan_start() {
            Some(at) => at,
            None => {
                self.rx.scan_end = ScanEnd::Unknown;
                self.input.extend_from_slice(data);
                return;
            }
        };
        self.input.reserve(data.len());
        loop {
            match at {
                At::Payload {
                    key,
                    offset,
                    left,
                    decoding,
                } => {
                    let take = left.min(data.len() as u64) as usize;
                    extend_masked(&mut self.input, &data[..take], key, offset);
                    if decoding {
                        self.rx.unmasked += take;
                    }
                    data = &data[take..];
                    if data.is_empty() {
                        self.rx.scan_end = match left - take as u64 {
                            0 => ScanEnd::Boundary,
                            // The decoder's own frame keeps its key: it can tell by itself.
                            _ if decoding => ScanEnd::Unknown,
                            rest => ScanEnd::Payload {
                                key,
                                offset: offset + take,
                                left: rest,
                            },
                        };
                        return;
                    }
                    at = At::Header { pending: 0 };
                }
                At::Header { pending } => {
                    let start = self.input.len() - pending;
                    let mut head = [0u8; MAX_HEADER_LEN];
                    head[..pending].copy_from_slice(&self.input[start..]);
                    let more = (MAX_HEADER_LEN - pending).min(data.len());
                    head[pending..pending + more].copy_from_slice(&data[..more]);
                    let (header, n) = match FrameHeader::parse(&head[..pending + more]) {
                        // A header that ends inside the new bytes, of a masked frame.
                        Ok(Some((h, n))) if n > pending && h.mask.is_some() => (h, n),
                        // Incomplete, broken, unmasked, or already buffered whole: the
                        // decoder takes it from here.
                        _ => {
                            self.rx.scan_end = ScanEnd::Unknown;
                            self.input.extend_from_slice(data);
                            return;
                        }
                    };
                    let key = header.mask.unwrap_or_default();
                    head[n - 4..n].fill(0);
                    self.input.truncate(start);
                    self.input.extend_from_slice(&head[..n]);
                    data = &data[n - pending..];
                    at = At::Payload {
                        key,
                        offset: 0,
                        left: header.payload_len,
                        decoding: false,
                    };
                    if data.is_empty() {
                        self.rx.scan_end = match header.payload_len {
                            0 => ScanEnd::Boundary,
                            left => ScanEnd::Payload {
                                key,
                                offset: 0,
                                left,
                            },
                        };
                        return;
                    }
                }
            }
        }
    }

    /// Where the scan can start, if it can: only a server receives masked frames, and only
    /// once open; the buffered input must end at a known place.
    fn scan_start(&self) -> Option<At> {
        if self.role != Role::Server || !matches!(self.state, State::Open | State::Closing) {
            return None;
        }
        match self.rx.scan_end {
            ScanEnd::Payload { key, offset, left } => {
                return Some(At::Payload {
                    key,
                    offset,
                    left,
                    decoding: false,
                })
            }
            ScanEnd::Boundary => return Some(At::Header { pending: 0 }),
            ScanEnd::Unknown => {}
        }
        let buffered = self.input.len() - self.rpos;
        match self.rx.frame {
            // Inside the payload the decoder is on, everything buffered already unmasked.
            Some(FrameHeader {
                mask: Some(key),
                payload_len,
                ..
            }) if buffered == self.rx.unmasked => Some(At::Payload {
                key,
                offset: buffered,
                left: payload_len - buffered as u64,
                decoding: true,
            }),
            // Between frames, with at most the start of a header buffered.
            None if buffered < MAX_HEADER_LEN => Some(At::Header { pending: buffered }),
            _ => None,
        }
    }
}
