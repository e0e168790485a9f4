//! The frame header parser (`wsmachine::frame::FrameHeader::parse`) and encoder.
//!
//! Invariants:
//! 1. **Differential**: the parser agrees with this crate's byte-by-byte reference reading
//!    (`wsfuzz::wire::parse`) on every field, and returns a protocol error exactly for a
//!    reserved opcode, a 64-bit length with its top bit set, or a control frame that is
//!    fragmented or longer than 125 bytes.
//! 2. **Prefix monotonicity**: every prefix of the input parses to "need more bytes" or to
//!    the same result as the whole; the prefix shorter than the header is always "need
//!    more", and the header length is 2, 4 or 10, plus 4 with a mask, never past the input.
//! 3. **Round trip**: encoding the parsed header and parsing it again gives the same
//!    header; the encoding equals the input bytes when the input used the minimal length.
//! 4. **write_frame**: writing a whole frame with the fuzzer's payload and mask key gives
//!    a header that parses back, followed by the payload masked with the key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::frame::{write_frame, FrameHeader, OpCode, MAX_HEADER_LEN};
use wsmachine::ProtocolError;

fuzz_target!(|data: &[u8]| {
    let parsed = FrameHeader::parse(data);
    check_reference(data, &parsed);
    for k in 0..=data.len().min(MAX_HEADER_LEN + 1) {
        let p = FrameHeader::parse(&data[..k]);
        assert!(
            p == Ok(None) || p == parsed,
            "prefix {k}: {p:?} vs {parsed:?}"
        );
        if let Ok(Some((_, n))) = parsed {
            assert_eq!(
                p.is_ok() && p.unwrap().is_none(),
                k < n,
                "prefix {k} of a {n}-byte header"
            );
        }
    }
    if let Ok(Some((h, n))) = parsed {
        assert!(matches!(n, 2 | 4 | 10 | 6 | 8 | 14) && n <= data.len());
        let mut buf = [0u8; MAX_HEADER_LEN];
        let m = h.encode(&mut buf);
        assert_eq!(m, h.encoded_len());
        assert_eq!(FrameHeader::parse(&buf[..m]), Ok(Some((h, m))));
        if let wsfuzz::wire::Parsed::Frame(f, _) =
            wsfuzz::wire::parse(&with_payload(data, n, h.payload_len))
        {
            if f.minimal_length {
                assert_eq!(&buf[..m], &data[..n], "re-encoding differs");
            }
        }
        // Write a frame with this header's flags around the rest of the input (a control
        // frame's payload cut to the 125 bytes its callers allow).
        let payload = &data[n..];
        let payload = if h.opcode.is_control() {
            &payload[..payload.len().min(125)]
        } else {
            payload
        };
        let mut out = bytes::BytesMut::new();
        write_frame(&mut out, h.fin, h.rsv, h.opcode, h.mask, payload);
        let (h2, n2) = FrameHeader::parse(&out).unwrap().expect("a whole header");
        assert_eq!(
            (h2.fin, h2.rsv, h2.opcode, h2.mask, h2.payload_len),
            (h.fin, h.rsv, h.opcode, h.mask, payload.len() as u64)
        );
        assert_eq!(out.len(), n2 + payload.len());
        let key = h.mask.unwrap_or([0; 4]);
        for (i, (&o, &p)) in out[n2..].iter().zip(payload).enumerate() {
            assert_eq!(o, p ^ key[i % 4]);
        }
    }
});

/// The header bytes followed by enough zero payload for the reference reader, which
/// wants the whole frame (capped: only the header matters here).
fn with_payload(data: &[u8], n: usize, len: u64) -> Vec<u8> {
    let mut v = data[..n].to_vec();
    if len <= 1 << 16 {
        v.resize(n + len as usize, 0);
    }
    v
}

/// Compares with the reference reading of the header fields.
fn check_reference(data: &[u8], parsed: &Result<Option<(FrameHeader, usize)>, ProtocolError>) {
    if data.len() < 2 {
        assert_eq!(parsed, &Ok(None));
        return;
    }
    let opcode = data[0] & 0x0f;
    let fin = data[0] & 0x80 != 0;
    let known = OpCode::from_u8(opcode);
    assert_eq!(known.is_some(), matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10));
    let Some(op) = known else {
        assert_eq!(parsed, &Err(ProtocolError::ReservedOpcode(opcode)));
        return;
    };
    let (len, at) = match data[1] & 0x7f {
        126 if data.len() < 4 => return assert_eq!(parsed, &Ok(None)),
        126 => (u64::from(u16::from_be_bytes([data[2], data[3]])), 4),
        127 if data.len() < 10 => return assert_eq!(parsed, &Ok(None)),
        127 => (u64::from_be_bytes(data[2..10].try_into().unwrap()), 10),
        n => (u64::from(n), 2),
    };
    if len >> 63 != 0 {
        return assert_eq!(parsed, &Err(ProtocolError::InvalidLength));
    }
    if op.is_control() && !fin {
        return assert_eq!(parsed, &Err(ProtocolError::FragmentedControlFrame));
    }
    if op.is_control() && len > 125 {
        return assert_eq!(parsed, &Err(ProtocolError::ControlFrameTooLong));
    }
    let masked = data[1] & 0x80 != 0;
    let n = at + if masked { 4 } else { 0 };
    if data.len() < n {
        return assert_eq!(parsed, &Ok(None));
    }
    let expected = FrameHeader {
        fin,
        rsv: (data[0] >> 4) & 7,
        opcode: op,
        mask: masked.then(|| [data[at], data[at + 1], data[at + 2], data[at + 3]]),
        payload_len: len,
    };
    assert_eq!(parsed, &Ok(Some((expected, n))));
}
