//! Applying a masking key (RFC 6455 §5.3): the hot loop of every server.
//!
//! The key is XORed over the payload byte by byte, cycling every four bytes; `offset` lets a
//! payload that arrives in pieces be unmasked piece by piece. The work is done by the kernels
//! of `simd` from 128 bytes on: AVX2 on x86_64 when the CPU has it (detected once, under
//! `std`) and SSE2 otherwise, NEON on aarch64, and a portable loop of four `u64` words per
//! step elsewhere. Shorter pieces take a plain word loop inlined at the call site, which a
//! call behind the feature check would slow down (measured on 16-byte frames).

mod simd;

use crate::utf8::{InvalidUtf8, Utf8Validator};
use simd::Kernel;

/// Below this many bytes the plain word loop, inlined at the call site, beats a vector
/// kernel, which is an out-of-line call behind the cached CPU feature check.
const VECTOR_FROM: usize = 128;

/// The kernel for `len` bytes.
#[inline(always)]
fn kernel_for(len: usize) -> Kernel {
    if len >= VECTOR_FROM {
        Kernel::best()
    } else {
        Kernel::baseline()
    }
}

/// `key` repeated over a `u64`, in memory order.
#[inline(always)]
fn wide(key: [u8; 4]) -> u64 {
    u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ])
}

/// XORs `key` over `buf`, as if `buf` started at byte `offset` of the payload.
#[inline(always)]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    if buf.len() >= VECTOR_FROM {
        return apply_mask_long(buf, key);
    }
    // Short pieces (small frames, the bulk of messages): eight bytes at a time, inline.
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let word = u64::from_ne_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]) ^ wide(key);
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    // Chunks are a multiple of 8 (hence of 4) long, so the key phase is unchanged here.
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
}

#[inline(never)]
fn apply_mask_long(buf: &mut [u8], key: [u8; 4]) {
    simd::xor_in_place(Kernel::best(), buf, key);
}

/// Copies `src` into `dst` (which must be as long) while XORing `key`, in one pass.
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "copy_masked: lengths differ");
    if src.len() >= VECTOR_FROM {
        return copy_masked_long(dst, src, key);
    }
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (dc, sc) in (&mut d).zip(&mut s) {
        let word = u64::from_ne_bytes([sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7]])
            ^ wide(key);
        dc.copy_from_slice(&word.to_ne_bytes());
    }
    for (i, (db, sb)) in d.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *db = sb ^ key[i & 3];
    }
}

#[inline(never)]
fn copy_masked_long(dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    simd::xor_copy(Kernel::best(), dst, src, key);
}

/// Appends `src` masked with `key` (as if it started at byte `offset` of the payload) to
/// `out`: the copy the caller makes anyway, with the XOR fused in. The masked bytes are
/// written once, straight into `out`'s spare capacity.
#[inline(always)]
pub fn extend_masked(out: &mut bytes::BytesMut, src: &[u8], key: [u8; 4], offset: usize) {
    simd::extend_xor(kernel_for(src.len()), out, src, rotate_key(key, offset));
}

/// Bytes per step of the fused passes: small enough that a block XORed by the kernel is still
/// in the L1 cache when the UTF-8 validator reads it, large enough that the per-block cost of
/// the validator (its boundary handling) is noise. A multiple of 4, so every block starts at
/// the same key phase.
const FUSED_BLOCK: usize = 4096;

/// Unmasks `buf` in place (as if it started at byte `offset` of the payload) and validates it
/// as the next piece of a text with `utf8`, block by block, so each block is validated while
/// it is cache-hot instead of after the whole piece went through the cache. Stops at the
/// first invalid block: the bytes after it are left masked (the connection fails anyway).
pub(crate) fn unmask_and_validate(
    buf: &mut [u8],
    key: [u8; 4],
    offset: usize,
    utf8: &mut Utf8Validator,
) -> Result<(), InvalidUtf8> {
    let key = rotate_key(key, offset);
    for block in buf.chunks_mut(FUSED_BLOCK) {
        apply_mask(block, key, 0);
        utf8.feed(block)?;
    }
    Ok(())
}

/// Appends `src` unmasked (as if it started at byte `offset` of the payload) to `out` and
/// validates it as the next piece of a text with `utf8`, block by block as
/// [`unmask_and_validate`]. On error, `out` holds the blocks up to and including the invalid
/// one.
pub(crate) fn extend_unmasked_validated(
    out: &mut bytes::BytesMut,
    src: &[u8],
    key: [u8; 4],
    offset: usize,
    utf8: &mut Utf8Validator,
) -> Result<(), InvalidUtf8> {
    let key = rotate_key(key, offset);
    out.reserve(src.len());
    for block in src.chunks(FUSED_BLOCK) {
        let start = out.len();
        simd::extend_xor(kernel_for(block.len()), out, block, key);
        utf8.feed(&out[start..])?;
    }
    Ok(())
}

/// `key` as seen from byte `offset` of the payload.
#[inline]
pub(crate) fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
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
        for len in (0..=300).chain([4095, 4096, 65_537]) {
            for offset in 0..8 {
                let src: Vec<u8> = (0..len).map(|x| (x as u8).wrapping_mul(31)).collect();
                let mut a = src.clone();
                let mut b = src.clone();
                apply_mask(&mut a, key, offset);
                naive(&mut b, key, offset);
                assert_eq!(a, b, "len {len} offset {offset}");
            }
            let src: Vec<u8> = (0..len).map(|x| x as u8).collect();
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
        for (offset, len) in
            (0..5).flat_map(|o| [(o, 0), (o, 1), (o, 63), (o, 64), (o, 300), (o, 10_000)])
        {
            let src = &src[..len];
            let mut out = bytes::BytesMut::from(&b"head"[..]);
            extend_masked(&mut out, src, key, offset);
            let mut expect = src.to_vec();
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

    /// `text` masked with `key` from payload byte 0.
    fn masked(text: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut m = text.to_vec();
        naive(&mut m, key, 0);
        m
    }

    /// Multi-byte text longer than several fused blocks, so code points straddle blocks.
    fn long_text() -> Vec<u8> {
        "κόσμε 𝄞 Привет, сервер! € ascii ascii "
            .repeat(400)
            .into_bytes()
    }

    #[test]
    fn unmask_and_validate_matches_unmask_then_validate_at_any_split() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let text = long_text();
        let wire = masked(&text, key);
        for cut in [
            0,
            1,
            2,
            3,
            4095,
            4096,
            4097,
            5000,
            text.len() - 1,
            text.len(),
        ] {
            let mut buf = wire.clone();
            let mut v = Utf8Validator::new();
            let (a, b) = buf.split_at_mut(cut);
            unmask_and_validate(a, key, 0, &mut v).unwrap();
            unmask_and_validate(b, key, cut, &mut v).unwrap();
            assert!(v.is_complete(), "cut {cut}");
            assert_eq!(buf, text, "cut {cut}");

            let mut out = bytes::BytesMut::new();
            let mut v = Utf8Validator::new();
            extend_unmasked_validated(&mut out, &wire[..cut], key, 0, &mut v).unwrap();
            extend_unmasked_validated(&mut out, &wire[cut..], key, cut, &mut v).unwrap();
            assert!(v.is_complete(), "cut {cut}");
            assert_eq!(&out[..], &text[..], "cut {cut}");
        }
    }

    #[test]
    fn fused_passes_refuse_invalid_text_in_any_block() {
        let key = [1, 2, 3, 4];
        let text = long_text();
        for bad_at in [0, 100, 4095, 4096, 9000, text.len() - 1] {
            let mut bad = text.clone();
            bad[bad_at] = 0xFF; // never valid in UTF-8
            let wire = masked(&bad, key);
            let mut buf = wire.clone();
            let mut v = Utf8Validator::new();
            assert_eq!(
                unmask_and_validate(&mut buf, key, 0, &mut v),
                Err(InvalidUtf8),
                "at {bad_at}"
            );
            let mut out = bytes::BytesMut::new();
            let mut v = Utf8Validator::new();
            assert_eq!(
                extend_unmasked_validated(&mut out, &wire, key, 0, &mut v),
                Err(InvalidUtf8),
                "at {bad_at}"
            );
        }
    }
}
