//! Incremental UTF-8 validation (`wsmachine::utf8::Utf8Validator`), differential against
//! `std::str::from_utf8` over arbitrary splits.
//!
//! Input: `[number of cuts n][n cut points][text bytes]`.
//!
//! Invariants:
//! 1. **Fail fast and only then**: feeding the pieces in order, `feed` fails exactly at the
//!    first piece after which the bytes so far can no longer begin valid UTF-8 (std reports
//!    an invalid sequence, `error_len()` is `Some`), and never before.
//! 2. **Completeness**: after every piece is accepted, `is_complete()` is true exactly when
//!    the bytes so far are valid UTF-8 as a whole.
//! 3. **Whole-text agreement**: `utf8::validate` and `Utf8Bytes::try_from_bytes` agree with
//!    std on the whole text, and `Utf8Bytes::as_str` gives back the same text.
//! 4. **Reset**: after `reset`, a validator judges the next text as a fresh one does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsmachine::utf8::{validate, Utf8Validator};
use wsmachine::{Bytes, Utf8Bytes};

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 16).min(rest.len());
    let (points, text) = rest.split_at(n);
    let points: Vec<u16> = points.iter().map(|&p| u16::from(p)).collect();
    let bounds = wsfuzz::input::cuts(text.len(), &points);

    let std_ok = std::str::from_utf8(text).is_ok();
    let mut v = Utf8Validator::new();
    let mut failed = false;
    for w in bounds.windows(2) {
        let prefix = &text[..w[1]];
        let hopeless = matches!(std::str::from_utf8(prefix), Err(e) if e.error_len().is_some());
        let r = v.feed(&text[w[0]..w[1]]);
        assert_eq!(r.is_err(), hopeless, "piece {:?} of {:?}", w, text);
        if r.is_err() {
            failed = true;
            break;
        }
        assert_eq!(
            v.is_complete(),
            std::str::from_utf8(prefix).is_ok(),
            "complete after {:?}",
            w
        );
    }
    if !failed {
        assert_eq!(v.is_complete(), std_ok);
    }

    assert_eq!(validate(text).is_ok(), std_ok);
    match Utf8Bytes::try_from_bytes(Bytes::copy_from_slice(text)) {
        Ok(u) => {
            assert!(std_ok);
            assert_eq!(u.as_str().as_bytes(), text);
        }
        Err(_) => assert!(!std_ok),
    }

    // A reset validator judges the text like a fresh one.
    v.reset();
    let mut fresh = Utf8Validator::new();
    assert_eq!(v.feed(text).is_ok(), fresh.feed(text).is_ok());
    assert_eq!(v.is_complete(), fresh.is_complete());
});
