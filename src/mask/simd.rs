//! The masking kernels: XOR a repeating 4-byte key over bytes, read from `src` and written to
//! `dst` (the same pointer for in-place unmasking). The crate's one `unsafe` island for
//! masking: raw pointers, so that one kernel serves in-place unmasking and copying into
//! uninitialised spare capacity, and vector intrinsics.
//!
//! | kernel | where | chosen |
//! |---|---|---|
//! | [`Kernel::Avx2`] | x86_64 | at run time under `std` (detected once, then cached), or at compile time with `-C target-feature=+avx2` |
//! | [`Kernel::Sse2`] | x86_64 | for short pieces, and when AVX2 is absent or cannot be detected (`no_std`): SSE2 is part of every x86_64 target |
//! | [`Kernel::Neon`] | aarch64 | at compile time (NEON is part of the aarch64 targets' baseline) |
//! | [`Kernel::Portable`] | everywhere else | four `u64` words per step |
//!
//! AVX-512 is left out: its intrinsics and `target_feature` names are stable only from
//! Rust 1.89, and the crate supports 1.80. On the memory-bound sizes where a wider vector
//! could matter, AVX2 already moves 128 bytes per loop step.
#![allow(unsafe_code)]

use core::mem::MaybeUninit;

/// A masking kernel. Every variant exists on every target so that tests can name them; only
/// the ones [`Kernel::is_available`] says so are ever run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// Four `u64` words per step; no `unsafe` beyond unaligned loads and stores.
    Portable,
    /// 128-bit SSE2, four vectors per step (x86_64, always there).
    Sse2,
    /// 256-bit AVX2, four vectors per step (x86_64).
    Avx2,
    /// 128-bit NEON, four vectors per step (aarch64).
    Neon,
}

impl Kernel {
    /// Every kernel this CPU can run, the portable one first.
    #[cfg(test)]
    pub(crate) fn available() -> impl Iterator<Item = Kernel> {
        [Kernel::Portable, Kernel::Sse2, Kernel::Avx2, Kernel::Neon]
            .into_iter()
            .filter(|k| k.is_available())
    }

    /// Whether this CPU can run the kernel.
    pub(crate) fn is_available(self) -> bool {
        match self {
            Kernel::Portable => true,
            Kernel::Sse2 => cfg!(target_arch = "x86_64"),
            Kernel::Avx2 => avx2_available(),
            Kernel::Neon => cfg!(all(target_arch = "aarch64", target_feature = "neon")),
        }
    }

    /// The fastest kernel this CPU can run on long pieces.
    #[inline]
    pub(crate) fn best() -> Kernel {
        if avx2_available() {
            Kernel::Avx2
        } else {
            Kernel::baseline()
        }
    }

    /// The fastest kernel every CPU of the target has: known at compile time, inlined, no
    /// detection; the choice for short pieces.
    #[inline(always)]
    pub(crate) const fn baseline() -> Kernel {
        if cfg!(target_arch = "x86_64") {
            Kernel::Sse2
        } else if cfg!(all(target_arch = "aarch64", target_feature = "neon")) {
            Kernel::Neon
        } else {
            Kernel::Portable
        }
    }
}

/// Whether AVX2 can be used: known at compile time when the target enables it; otherwise
/// detected once under `std` (the answer is cached in a static) and never assumed without it.
#[inline]
fn avx2_available() -> bool {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    {
        true
    }
    #[cfg(all(target_arch = "x86_64", not(target_feature = "avx2"), feature = "std"))]
    {
        use core::sync::atomic::{AtomicU8, Ordering::Relaxed};
        // 0: not detected yet, 1: absent, 2: present.
        static AVX2: AtomicU8 = AtomicU8::new(0);
        match AVX2.load(Relaxed) {
            0 => {
                let found = std::is_x86_feature_detected!("avx2");
                AVX2.store(if found { 2 } else { 1 }, Relaxed);
                found
            }
            v => v == 2,
        }
    }
    #[cfg(not(all(target_arch = "x86_64", any(target_feature = "avx2", feature = "std"))))]
    {
        false
    }
}

/// XORs `key` (in memory order: byte `i` of the payload gets `key[i % 4]`) over `buf`.
#[inline(always)]
pub(crate) fn xor_in_place(kernel: Kernel, buf: &mut [u8], key: [u8; 4]) {
    let p = buf.as_mut_ptr();
    // SAFETY: `p` is valid for reads and writes of `buf.len()` bytes (it comes from a live
    // `&mut [u8]`), and every kernel reads each step's bytes before writing them, so source and
    // destination may be the same memory.
    unsafe { xor(kernel, p, p, buf.len(), key) }
}

/// Writes `src` XOR `key` into `dst`, which must be as long; `dst` may be uninitialised, and
/// is wholly initialised on return.
#[inline]
pub(crate) fn xor_into(kernel: Kernel, dst: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "xor_into: lengths differ");
    // SAFETY: `dst` is valid for writes and `src` for reads of `src.len()` bytes (live
    // references, checked equal above); a `&mut` and a `&` cannot overlap. Writing initialised
    // bytes through the `MaybeUninit<u8>` pointer is always allowed.
    unsafe {
        xor(
            kernel,
            dst.as_mut_ptr().cast::<u8>(),
            src.as_ptr(),
            src.len(),
            key,
        )
    }
}

/// Writes `src` XOR `key` into `dst`, which must be as long.
#[inline(always)]
pub(crate) fn xor_copy(kernel: Kernel, dst: &mut [u8], src: &[u8], key: [u8; 4]) {
    assert_eq!(dst.len(), src.len(), "xor_copy: lengths differ");
    // SAFETY: `dst` is valid for writes and `src` for reads of `src.len()` bytes (live
    // references, checked equal above); a `&mut` and a `&` cannot overlap.
    unsafe { xor(kernel, dst.as_mut_ptr(), src.as_ptr(), src.len(), key) }
}

/// Appends `src` XOR `key` to `out` in one pass: read once, written once, straight into
/// `out`'s spare capacity (no zeroing, no staging copy).
#[inline]
pub(crate) fn extend_xor(kernel: Kernel, out: &mut bytes::BytesMut, src: &[u8], key: [u8; 4]) {
    out.reserve(src.len());
    let len = out.len();
    xor_into(kernel, &mut out.spare_capacity_mut()[..src.len()], src, key);
    // SAFETY: `reserve` made room for `src.len()` more bytes, and `xor_into` initialised all
    // of them (the first `src.len()` bytes of the spare capacity, just after `len`).
    unsafe { out.set_len(len + src.len()) };
}

/// Dispatches to `kernel` (inlined, so that a kernel known at the call site costs no branch).
///
/// # Safety
/// `src` valid for reads and `dst` for writes of `len` bytes; they are either the same pointer
/// or do not overlap; `kernel.is_available()`.
#[inline(always)]
unsafe fn xor(kernel: Kernel, dst: *mut u8, src: *const u8, len: usize, key: [u8; 4]) {
    debug_assert!(kernel.is_available());
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => {
            // SAFETY: the caller's pointer contract, and AVX2 is available: the caller passes
            // only kernels `is_available()` accepts, and `Avx2` is accepted only where the CPU
            // has it (detected) or the target guarantees it.
            unsafe { avx2::xor(dst, src, len, key) }
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Sse2 => {
            // SAFETY: the caller's pointer contract; SSE2 is part of every x86_64 target.
            unsafe { sse2::xor(dst, src, len, key) }
        }
        #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
        Kernel::Neon => {
            // SAFETY: the caller's pointer contract; NEON is enabled for this target.
            unsafe { neon::xor(dst, src, len, key) }
        }
        // SAFETY: the caller's pointer contract. (Kernels compiled out for this target are
        // never available, so they never reach here; the portable one is correct anyway.)
        _ => unsafe { portable(dst, src, len, key) },
    }
}

/// Four `u64` words per step, then one word, then bytes.
///
/// # Safety
/// As [`xor`].
#[inline(always)]
unsafe fn portable(dst: *mut u8, src: *const u8, len: usize, key: [u8; 4]) {
    let k4 = u32::from_ne_bytes(key);
    let k = u64::from(k4) | (u64::from(k4) << 32);
    let mut i = 0;
    while i + 32 <= len {
        // SAFETY: bytes i..i+32 are in bounds of both buffers; unaligned access is used
        // throughout, and all four words are read before any is written.
        unsafe {
            let s = src.add(i).cast::<u64>();
            let d = dst.add(i).cast::<u64>();
            let w0 = s.read_unaligned() ^ k;
            let w1 = s.add(1).read_unaligned() ^ k;
            let w2 = s.add(2).read_unaligned() ^ k;
            let w3 = s.add(3).read_unaligned() ^ k;
            d.write_unaligned(w0);
            d.add(1).write_unaligned(w1);
            d.add(2).write_unaligned(w2);
            d.add(3).write_unaligned(w3);
        }
        i += 32;
    }
    // SAFETY: `i <= len`, a multiple of 4 (so the key phase is unchanged); the rest of the
    // caller's contract carries over to the remaining `len - i` bytes.
    unsafe { tail(dst.add(i), src.add(i), len - i, key) }
}

/// The last bytes, fewer than a kernel's step: one word while eight bytes remain, then bytes.
///
/// # Safety
/// As [`xor`].
#[inline(always)]
unsafe fn tail(dst: *mut u8, src: *const u8, len: usize, key: [u8; 4]) {
    let k4 = u32::from_ne_bytes(key);
    let k = u64::from(k4) | (u64::from(k4) << 32);
    let mut i = 0;
    while i + 8 <= len {
        // SAFETY: bytes i..i+8 are in bounds; unaligned access.
        unsafe {
            let w = src.add(i).cast::<u64>().read_unaligned() ^ k;
            dst.add(i).cast::<u64>().write_unaligned(w);
        }
        i += 8;
    }
    if i + 4 <= len {
        // SAFETY: bytes i..i+4 are in bounds; unaligned access.
        unsafe {
            let w = src.add(i).cast::<u32>().read_unaligned() ^ k4;
            dst.add(i).cast::<u32>().write_unaligned(w);
        }
        i += 4;
    }
    while i < len {
        // SAFETY: byte i is in bounds.
        unsafe { *dst.add(i) = *src.add(i) ^ key[i & 3] };
        i += 1;
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_set1_epi32, _mm_storeu_si128, _mm_xor_si128,
    };

    /// 64 bytes (four 128-bit vectors) per step, then 16, then [`super::tail`]. SSE2 is part
    /// of the x86_64 baseline, so this needs no detection and inlines into its callers.
    ///
    /// # Safety
    /// As [`super::xor`].
    #[inline(always)]
    pub(super) unsafe fn xor(dst: *mut u8, src: *const u8, len: usize, key: [u8; 4]) {
        let s = src.cast::<__m128i>();
        let d = dst.cast::<__m128i>();
        // SAFETY: SSE2 is enabled on every x86_64 target. These intrinsics are `unsafe` only
        // before Rust 1.87; the block is needed for the crate's 1.80 floor.
        #[allow(unused_unsafe)]
        let k = unsafe { _mm_set1_epi32(i32::from_ne_bytes(key)) };
        let mut i = 0;
        while i + 64 <= len {
            // SAFETY: bytes i..i+64 are in bounds of both buffers (caller's contract);
            // `loadu`/`storeu` accept any alignment; all four vectors are loaded before any
            // store, so `dst == src` is fine.
            unsafe {
                let p = s.add(i / 16);
                let q = d.add(i / 16);
                let a = _mm_xor_si128(_mm_loadu_si128(p), k);
                let b = _mm_xor_si128(_mm_loadu_si128(p.add(1)), k);
                let c = _mm_xor_si128(_mm_loadu_si128(p.add(2)), k);
                let e = _mm_xor_si128(_mm_loadu_si128(p.add(3)), k);
                _mm_storeu_si128(q, a);
                _mm_storeu_si128(q.add(1), b);
                _mm_storeu_si128(q.add(2), c);
                _mm_storeu_si128(q.add(3), e);
            }
            i += 64;
        }
        while i + 16 <= len {
            // SAFETY: bytes i..i+16 are in bounds; unaligned load before store.
            unsafe {
                let v = _mm_xor_si128(_mm_loadu_si128(s.add(i / 16)), k);
                _mm_storeu_si128(d.add(i / 16), v);
            }
            i += 16;
        }
        // SAFETY: `i <= len` and a multiple of 4; the contract carries over to the rest.
        unsafe { super::tail(dst.add(i), src.add(i), len - i, key) }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use core::arch::x86_64::{
        __m256i, _mm256_loadu_si256, _mm256_set1_epi32, _mm256_storeu_si256, _mm256_xor_si256,
    };

    /// 128 bytes (four 256-bit vectors) per step, then 32, then [`super::tail`].
    ///
    /// # Safety
    /// As [`super::xor`], and the CPU supports AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn xor(dst: *mut u8, src: *const u8, len: usize, key: [u8; 4]) {
        let s = src.cast::<__m256i>();
        let d = dst.cast::<__m256i>();
        // SAFETY: AVX2 is enabled for this function (caller's contract). These intrinsics are
        // `unsafe` only before Rust 1.87; the block is needed for the crate's 1.80 floor.
        #[allow(unused_unsafe)]
        let k = unsafe { _mm256_set1_epi32(i32::from_ne_bytes(key)) };
        let mut i = 0;
        while i + 128 <= len {
            // SAFETY: bytes i..i+128 are in bounds of both buffers (caller's contract);
            // `loadu`/`storeu` accept any alignment; all four vectors are loaded before any
            // store, so `dst == src` is fine.
            unsafe {
                let p = s.add(i / 32);
                let q = d.add(i / 32);
                let a = _mm256_xor_si256(_mm256_loadu_si256(p), k);
                let b = _mm256_xor_si256(_mm256_loadu_si256(p.add(1)), k);
                let c = _mm256_xor_si256(_mm256_loadu_si256(p.add(2)), k);
                let e = _mm256_xor_si256(_mm256_loadu_si256(p.add(3)), k);
                _mm256_storeu_si256(q, a);
                _mm256_storeu_si256(q.add(1), b);
                _mm256_storeu_si256(q.add(2), c);
                _mm256_storeu_si256(q.add(3), e);
            }
            i += 128;
        }
        while i + 32 <= len {
            // SAFETY: bytes i..i+32 are in bounds; unaligned load before store.
            unsafe {
                let v = _mm256_xor_si256(_mm256_loadu_si256(s.add(i / 32)), k);
                _mm256_storeu_si256(d.add(i / 32), v);
            }
            i += 32;
        }
        // SAFETY: `i <= len` and a multiple of 4; the contract carries over to the rest.
        unsafe { super::tail(dst.add(i), src.add(i), len - i, key) }
    }
}

// Compiled only for aarch64 targets with NEON; not exercised by the x86_64 CI machine.
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod neon {
    use core::arch::aarch64::{vdupq_n_u32, veorq_u8, vld1q_u8, vreinterpretq_u8_u32, vst1q_u8};

    /// 64 bytes (four 128-bit vectors) per step, then 16, then [`super::tail`].
    ///
    /// # Safety
    /// As [`super::xor`]; NEON is enabled for the target.
    #[inline]
    pub(super) unsafe fn xor(dst: *mut u8, src: *const u8, len: usize, key: [u8; 4]) {
        // SAFETY: NEON is part of the target (cfg above); `vdupq_n_u32` reads no memory.
        #[allow(unused_unsafe)]
        let k = unsafe { vreinterpretq_u8_u32(vdupq_n_u32(u32::from_ne_bytes(key))) };
        let mut i = 0;
        while i + 64 <= len {
            // SAFETY: bytes i..i+64 are in bounds of both buffers; `vld1q_u8`/`vst1q_u8` need
            // no alignment; all four vectors are loaded before any store.
            unsafe {
                let a = veorq_u8(vld1q_u8(src.add(i)), k);
                let b = veorq_u8(vld1q_u8(src.add(i + 16)), k);
                let c = veorq_u8(vld1q_u8(src.add(i + 32)), k);
                let e = veorq_u8(vld1q_u8(src.add(i + 48)), k);
                vst1q_u8(dst.add(i), a);
                vst1q_u8(dst.add(i + 16), b);
                vst1q_u8(dst.add(i + 32), c);
                vst1q_u8(dst.add(i + 48), e);
            }
            i += 64;
        }
        while i + 16 <= len {
            // SAFETY: bytes i..i+16 are in bounds; load before store.
            unsafe { vst1q_u8(dst.add(i), veorq_u8(vld1q_u8(src.add(i)), k)) };
            i += 16;
        }
        // SAFETY: `i <= len` and a multiple of 4; the contract carries over to the rest.
        unsafe { super::tail(dst.add(i), src.add(i), len - i, key) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn reference(src: &[u8], key: [u8; 4]) -> Vec<u8> {
        src.iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect()
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Every kernel the CPU has, on `src` placed at byte `start` of a larger buffer (so that
    /// starts of every alignment are tried), in place, copying, and into uninitialised memory;
    /// the bytes around the target must stay untouched.
    fn check_all_kernels(src: &[u8], key: [u8; 4], start: usize) {
        let expect = reference(src, key);
        for kernel in Kernel::available() {
            let what =
                |how: &str| alloc::format!("{kernel:?} {how} len {} start {start}", src.len());
            let mut buf = alloc::vec![0xA5u8; start + src.len() + 7];
            buf[start..start + src.len()].copy_from_slice(src);
            xor_in_place(kernel, &mut buf[start..start + src.len()], key);
            assert_eq!(
                &buf[start..start + src.len()],
                &expect[..],
                "{}",
                what("in place")
            );
            assert!(
                buf[..start].iter().all(|&b| b == 0xA5),
                "{}",
                what("in place, before")
            );
            assert!(
                buf[start + src.len()..].iter().all(|&b| b == 0xA5),
                "{}",
                what("in place, after")
            );

            let mut dst = alloc::vec![0xA5u8; start + src.len() + 7];
            let mut from = alloc::vec![0u8; start + src.len()];
            from[start..].copy_from_slice(src);
            xor_copy(
                kernel,
                &mut dst[start..start + src.len()],
                &from[start..],
                key,
            );
            assert_eq!(
                &dst[start..start + src.len()],
                &expect[..],
                "{}",
                what("copy")
            );
            assert!(
                dst[start + src.len()..].iter().all(|&b| b == 0xA5),
                "{}",
                what("copy, after")
            );

            let mut out = bytes::BytesMut::with_capacity(start);
            out.extend_from_slice(&buf[..start]);
            extend_xor(kernel, &mut out, src, key);
            assert_eq!(&out[start..], &expect[..], "{}", what("extend"));
        }
    }

    #[test]
    fn this_cpu_has_the_expected_kernels() {
        let kernels: Vec<Kernel> = Kernel::available().collect();
        assert_eq!(kernels[0], Kernel::Portable);
        #[cfg(all(target_arch = "x86_64", feature = "std"))]
        assert_eq!(
            kernels.contains(&Kernel::Avx2),
            std::is_x86_feature_detected!("avx2")
        );
        assert_eq!(Kernel::best(), *kernels.last().unwrap());
        assert!(Kernel::baseline().is_available());
        #[cfg(target_arch = "x86_64")]
        assert!(kernels.contains(&Kernel::Sse2));
    }

    #[test]
    fn every_kernel_matches_the_reference_for_every_short_length() {
        let keys = [[0x12, 0x34, 0x56, 0x78], [0xff, 0x00, 0x80, 0x01]];
        for len in 0..=300 {
            let src = pattern(len, len as u8);
            for (i, &key) in keys.iter().enumerate() {
                for start in [0, 1, 2, 3, 5, 17, 31 + i] {
                    check_all_kernels(&src, key, start);
                }
            }
        }
    }

    #[test]
    fn every_kernel_matches_the_reference_for_large_lengths() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        for len in [4095, 4096, 4097, 65_536 + 3, (1 << 20) + 1] {
            let src = pattern(len, 7);
            for start in [0, 1, 3, 32] {
                check_all_kernels(&src, key, start);
            }
        }
    }

    proptest! {
        #[test]
        fn every_kernel_matches_the_reference(src in proptest::collection::vec(any::<u8>(), 0..2000),
                                              key in any::<[u8; 4]>(), start in 0usize..64) {
            check_all_kernels(&src, key, start);
        }
    }
}
