//! Applying a masking key (RFC 6455 §5.3): the hot loop of every server.
//!
//! The key is XORed over the payload byte by byte, cycling every four bytes. We XOR eight
//! bytes at a time with the key repeated into a `u64`, which the compiler turns into vector
//! instructions; `offset` lets a payload that arrives in pieces be unmasked piece by piece.

/// XORs `key` over `buf`, as if `buf` started at byte `offset` of the payload.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    if buf.len() < 16 {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[i & 3];
        }
        return;
    }
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    // Chunks are a multiple of 8 (hence of 4) long, so the key phase is unchanged here.
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

/// Copies `src` into `dst` (which must be as long) while XORing `key`, in one pass.
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    debug_assert_eq!(dst.len(), src.len());
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (dc, sc) in (&mut d).zip(&mut s) {
        let word =
            u64::from_ne_bytes([sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7]]) ^ wide;
        dc.copy_from_slice(&word.to_ne_bytes());
    }
    for (i, (db, sb)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *db = sb ^ key[i & 3];
    }
}

/// Appends `src` masked with `key` (as if it started at byte `offset` of the payload) to
/// `out`: the copy the caller makes anyway, with the XOR fused in. Masks through a small
/// stack block, so memory is written once, without zeroing it first.
pub fn extend_masked(out: &mut bytes::BytesMut, src: &[u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    out.reserve(src.len());
    // The block is zeroed on every call: size it to the piece.
    match src.len() {
        0..=256 => extend_through::<256>(out, src, key),
        257..=1024 => extend_through::<1024>(out, src, key),
        _ => extend_through::<4096>(out, src, key),
    }
}

fn extend_through<const BLOCK: usize>(out: &mut bytes::BytesMut, src: &[u8], key: [u8; 4]) {
    let mut block = [0u8; BLOCK];
    // BLOCK is a multiple of 4, so every block starts at the same key phase.
    for chunk in src.chunks(BLOCK) {
        let dst = &mut block[..chunk.len()];
        copy_masked(dst, chunk, key);
        out.extend_from_slice(dst);
    }
}

#[inline]
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    // Byte i of the rotated key is byte (i + offset) % 4 of the original.
    let k = u32::from_le_bytes(key).rotate_right(8 * (offset as u32 & 3));
    k.to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(i + offset) % 4];
        }
    }

    #[test]
    fn rfc_example_hello() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut buf = *b"Hello";
        apply_mask(&mut buf, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(buf, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }

    #[test]
    fn matches_naive_for_all_lengths_and_offsets() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for len in 0..80 {
            for offset in 0..8 {
                let src: Vec<u8> = (0..len as u8).map(|x| x.wrapping_mul(31)).collect();
                let mut a = src.clone();
                let mut b = src.clone();
                apply_mask(&mut a, key, offset);
                naive(&mut b, key, offset);
                assert_eq!(a, b, "len {len} offset {offset}");
            }
            let src: Vec<u8> = (0..len as u8).collect();
            let mut dst = alloc::vec![0u8; len];
            copy_masked(&mut dst, &src, key);
            let mut expect = src.clone();
            naive(&mut expect, key, 0);
            assert_eq!(dst, expect);
        }
    }

    #[test]
    fn extend_masked_matches_naive_at_any_offset() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let src: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        for offset in 0..5 {
            let mut out = bytes::BytesMut::from(&b"head"[..]);
            extend_masked(&mut out, &src, key, offset);
            let mut expect = src.clone();
            naive(&mut expect, key, offset);
            assert_eq!(&out[..4], b"head");
            assert_eq!(&out[4..], &expect[..]);
        }
    }

    #[test]
    fn split_unmasking_equals_whole() {
        let key = [9, 8, 7, 6];
        let data: Vec<u8> = (0..200u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for cut in 0..data.len() {
            let mut parts = data.clone();
            let (a, b) = parts.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            assert_eq!(parts, whole);
        }
    }
}
