//! Frame headers (RFC 6455 §5.2): opcodes, the three length forms, parsing and encoding.
//!
//! Parsing here checks only what a header alone can tell (reserved opcodes, the 64-bit
//! length's top bit, control-frame rules). Rules that depend on the connection (masking by
//! role, RSV bits claimed by extensions, fragmentation order, size limits) live in
//! `connection`.

use crate::error::ProtocolError;

/// Frame opcodes (RFC 6455 §5.2, §11.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation = 0x0,
    /// 0x1: starts a text message.
    Text = 0x1,
    /// 0x2: starts a binary message.
    Binary = 0x2,
    /// 0x8: close.
    Close = 0x8,
    /// 0x9: ping.
    Ping = 0x9,
    /// 0xA: pong.
    Pong = 0xA,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for the reserved ones (0x3-0x7, 0xB-0xF).
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// Control frames are close, ping and pong (opcodes with the high bit set).
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// The largest payload a control frame may carry (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// The longest header: 2 bytes, 8 bytes of extended length, 4 bytes of masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// RSV1, the bit permessage-deflate claims (RFC 7692 §6).
pub const RSV1: u8 = 0b100;
/// RSV2.
pub const RSV2: u8 = 0b010;
/// RSV3.
pub const RSV3: u8 = 0b001;

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: the last frame of a message.
    pub fin: bool,
    /// RSV1-3 as the low three bits (RSV1 = 0b100).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present on every client-to-server frame.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `buf`. Returns the header and its length in bytes,
    /// `Ok(None)` when more bytes are needed, or the protocol error the header shows.
    #[inline]
    pub fn parse(buf: &[u8]) -> Result<Option<(Self, usize)>, ProtocolError> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let b0 = buf[0];
        let b1 = buf[1];
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x7;
        let opcode = OpCode::from_u8(b0 & 0x0F).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0F))?;
        let masked = b1 & 0x80 != 0;
        let (payload_len, mut len) = match b1 & 0x7F {
            126 => {
                if buf.len() < 4 {
                    return Ok(None);
                }
                (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4)
            }
            127 => {
                if buf.len() < 10 {
                    return Ok(None);
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                let n = u64::from_be_bytes(b);
                if n >> 63 != 0 {
                    return Err(ProtocolError::InvalidLength);
                }
                (n, 10)
            }
            n => (n as u64, 2),
        };
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong);
            }
        }
        let mask = if masked {
            if buf.len() < len + 4 {
                return Ok(None);
            }
            let k = [buf[len], buf[len + 1], buf[len + 2], buf[len + 3]];
            len += 4;
            Some(k)
        } else {
            None
        };
        Ok(Some((
            Self {
                fin,
                rsv,
                opcode,
                mask,
                payload_len,
            },
            len,
        )))
    }

    /// The encoded header's length.
    pub const fn encoded_len(&self) -> usize {
        let ext = if self.payload_len < 126 {
            0
        } else if self.payload_len <= u16::MAX as u64 {
            2
        } else {
            8
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// The first byte on the wire: FIN, RSV1-3 and the opcode.
    #[inline]
    pub(crate) const fn first_byte(&self) -> u8 {
        ((self.fin as u8) << 7) | ((self.rsv & 7) << 4) | self.opcode as u8
    }

    /// Writes the header into `out`, which must hold [`encoded_len`](Self::encoded_len)
    /// bytes; returns the number written.
    #[inline]
    pub fn encode(&self, out: &mut [u8]) -> usize {
        out[0] = self.first_byte();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut n = if self.payload_len < 126 {
            out[1] = mask_bit | self.payload_len as u8;
            2
        } else if self.payload_len <= u16::MAX as u64 {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
            4
        } else {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            10
        };
        if let Some(k) = self.mask {
            out[n..n + 4].copy_from_slice(&k);
            n += 4;
        }
        n
    }
}

/// Appends a whole frame (header, then the payload masked with `mask` if given) to `out`,
/// writing the output once: masking is fused into the copy.
#[inline]
pub fn write_frame(
    out: &mut bytes::BytesMut,
    fin: bool,
    rsv: u8,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    let header = FrameHeader {
        fin,
        rsv,
        opcode,
        mask,
        payload_len: payload.len() as u64,
    };
    match mask {
        // The usual client frame: its 6-byte header is built in registers and stored at
        // once (bytes staged on the stack and copied out would be reloaded before the
        // stores land, which stalls), then the payload is masked into place.
        Some(key) if payload.len() < 126 => {
            let head = [
                header.first_byte(),
                0x80 | payload.len() as u8,
                key[0],
                key[1],
                key[2],
                key[3],
            ];
            out.reserve(head.len() + payload.len());
            out.extend_from_slice(&head);
            crate::mask::extend_masked(out, payload, key, 0);
        }
        Some(key) => {
            let mut head = [0u8; MAX_HEADER_LEN];
            let hlen = header.encode(&mut head);
            out.reserve(hlen + payload.len());
            out.extend_from_slice(&head[..hlen]);
            crate::mask::extend_masked(out, payload, key, 0);
        }
        None => {
            let mut head = [0u8; MAX_HEADER_LEN];
            let hlen = header.encode(&mut head);
            out.reserve(hlen + payload.len());
            out.extend_from_slice(&head[..hlen]);
            out.extend_from_slice(payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use bytes::BytesMut;
    use proptest::prelude::*;

    fn frame(fin: bool, op: OpCode, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        write_frame(&mut out, fin, 0, op, mask, payload);
        out.to_vec()
    }

    // RFC 6455 §5.7, byte for byte.
    #[test]
    fn rfc_examples_encode() {
        assert_eq!(
            frame(true, OpCode::Text, None, b"Hello"),
            [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        assert_eq!(
            frame(true, OpCode::Text, Some([0x37, 0xfa, 0x21, 0x3d]), b"Hello"),
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        assert_eq!(
            frame(false, OpCode::Text, None, b"Hel"),
            [0x01, 0x03, 0x48, 0x65, 0x6c]
        );
        assert_eq!(
            frame(true, OpCode::Continuation, None, b"lo"),
            [0x80, 0x02, 0x6c, 0x6f]
        );
        assert_eq!(
            frame(true, OpCode::Ping, None, b"Hello"),
            [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        assert_eq!(
            frame(true, OpCode::Pong, Some([0x37, 0xfa, 0x21, 0x3d]), b"Hello"),
            [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
        let big = frame(true, OpCode::Binary, None, &[0u8; 256]);
        assert_eq!(&big[..4], &[0x82, 0x7E, 0x01, 0x00]);
        let huge = frame(true, OpCode::Binary, None, &alloc::vec![0u8; 65536]);
        assert_eq!(&huge[..10], &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn rfc_examples_parse() {
        let (h, n) = FrameHeader::parse(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d])
            .unwrap()
            .unwrap();
        assert_eq!(n, 6);
        assert_eq!(
            h,
            FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Text,
                mask: Some([0x37, 0xfa, 0x21, 0x3d]),
                payload_len: 5
            }
        );
        let (h, n) = FrameHeader::parse(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
            .unwrap()
            .unwrap();
        assert_eq!((h.payload_len, n), (65536, 10));
        let (h, n) = FrameHeader::parse(&[0x01, 0x03]).unwrap().unwrap();
        assert_eq!((h.fin, h.opcode, n), (false, OpCode::Text, 2));
    }

    #[test]
    fn header_errors() {
        for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
        assert_eq!(
            FrameHeader::parse(&[0x09, 0]),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            FrameHeader::parse(&[0x89, 126, 0, 126]),
            Err(ProtocolError::ControlFrameTooLong)
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(ProtocolError::InvalidLength)
        );
        assert_eq!(FrameHeader::parse(&[0x82, 0xFE, 0]), Ok(None));
        assert_eq!(FrameHeader::parse(&[0x82, 0x85, 1, 2, 3]), Ok(None));
        let (h, _) = FrameHeader::parse(&[0xF2, 0]).unwrap().unwrap();
        assert_eq!(h.rsv, 7);
    }

    proptest! {
        #[test]
        fn encode_parse_round_trip(fin in any::<bool>(), rsv in 0u8..8, op in prop::sample::select(alloc::vec![0u8, 1, 2, 8, 9, 10]),
                                   mask in any::<Option<[u8; 4]>>(), len in prop_oneof![0u64..126, 126u64..=65535, 65536u64..(1u64 << 63)]) {
            let opcode = OpCode::from_u8(op).unwrap();
            let fin = fin || opcode.is_control();
            let len = if opcode.is_control() { len % 126 } else { len };
            let h = FrameHeader { fin, rsv, opcode, mask, payload_len: len };
            let mut buf = [0u8; MAX_HEADER_LEN];
            let n = h.encode(&mut buf);
            prop_assert_eq!(n, h.encoded_len());
            prop_assert_eq!(FrameHeader::parse(&buf[..n]), Ok(Some((h, n))));
            for short in 0..n {
                prop_assert_eq!(FrameHeader::parse(&buf[..short]), Ok(None));
            }
        }
    }
}
