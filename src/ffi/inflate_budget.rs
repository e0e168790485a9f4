//! `wsm_inflate_budget`: a process-wide budget of inflated bytes, shared by the
//! connections whose permessage-deflate parameters got it (`wsm_deflate_set_inflate_budget`).

use super::args::{arg_mut, arg_out, arg_ref, free_handle, into_handle};
use super::boundary::{guard, guard_result};
use super::deflate::wsm_deflate;
use super::result::wsm_result;
use crate::InflateBudget;

/// A byte budget for inflating compressed messages, shared by every connection made with
/// parameters it was set on: they hold at most this many inflated bytes between them, and
/// a connection that finds it spent closes with 1013 (try again later; its `WSM_EVENT_ERROR`
/// has kind `WSM_ERROR_PROTOCOL` and code 1013). Create with `wsm_inflate_budget_new`, free
/// with `wsm_inflate_budget_free`; parameters and connections keep their own reference, so
/// it may be freed once set. Safe to use from several threads at once.
pub struct wsm_inflate_budget {
    pub(crate) inner: InflateBudget,
}

/// Sets `*out` to a new budget of `bytes` inflated bytes in flight at once. Give it at
/// least the message limit plus 16 KiB, or a message of the limit can never inflate.
///
/// # Safety
/// `out` is NULL or valid for writing a `*mut wsm_inflate_budget`.
#[no_mangle]
pub unsafe extern "C" fn wsm_inflate_budget_new(
    bytes: usize,
    out: *mut *mut wsm_inflate_budget,
) -> wsm_result {
    guard_result(|| {
        let out = arg_out(out)?;
        let handle = into_handle(wsm_inflate_budget {
            inner: InflateBudget::new(bytes),
        });
        // SAFETY: `out` is non-NULL and writable by the header's contract.
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Frees a budget made by `wsm_inflate_budget_new`; connections that use it keep it alive.
/// NULL does nothing.
///
/// # Safety
/// `budget` is NULL or a handle made by `wsm_inflate_budget_new`, not freed yet and not used
/// again after this call.
#[no_mangle]
pub unsafe extern "C" fn wsm_inflate_budget_free(budget: *mut wsm_inflate_budget) {
    guard(|| {
        // SAFETY: by the header's contract, made by `wsm_inflate_budget_new` and not used again.
        unsafe { free_handle(budget) }
    })
}

/// The bytes of the budget not taken at this moment; 0 for NULL.
///
/// # Safety
/// `budget` is NULL or a live handle made by `wsm_inflate_budget_new`.
#[no_mangle]
pub unsafe extern "C" fn wsm_inflate_budget_available(budget: *const wsm_inflate_budget) -> usize {
    guard(|| {
        // SAFETY: NULL or a live handle; the budget is shared state made for threads.
        unsafe { arg_ref(budget) }.map_or(0, |b| b.inner.available())
    })
}

/// Connections made with these parameters inflate within `budget` (shared, not copied).
///
/// # Safety
/// `deflate` is NULL or a live handle made by `wsm_deflate_new`, not used by another thread
/// during the call; `budget` is NULL or a live handle made by `wsm_inflate_budget_new`.
#[no_mangle]
pub unsafe extern "C" fn wsm_deflate_set_inflate_budget(
    deflate: *mut wsm_deflate,
    budget: *const wsm_inflate_budget,
) -> wsm_result {
    guard_result(|| {
        // SAFETY: NULL or a live handle, shared with other threads only through its counter.
        let budget = unsafe { arg_ref(budget) }?.inner.clone();
        // SAFETY: NULL or a live handle from `wsm_deflate_new`, used by this thread only.
        let d = unsafe { arg_mut(deflate) }?;
        d.inner = core::mem::take(&mut d.inner).inflate_budget(budget);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::deflate::{wsm_deflate_free, wsm_deflate_new};
    use core::ptr;

    #[test]
    fn a_budget_is_shared_with_the_parameters_and_outlives_its_handle() {
        let mut budget = ptr::null_mut();
        let mut deflate = ptr::null_mut();
        // SAFETY: out-pointers to locals; each handle is freed once and not used after.
        unsafe {
            assert_eq!(
                wsm_inflate_budget_new(1 << 20, &mut budget),
                wsm_result::WSM_OK
            );
            assert_eq!(wsm_inflate_budget_available(budget), 1 << 20);
            assert_eq!(wsm_deflate_new(&mut deflate), wsm_result::WSM_OK);
            assert_eq!(
                wsm_deflate_set_inflate_budget(deflate, budget),
                wsm_result::WSM_OK
            );
            let shared = (*budget).inner.clone();
            wsm_inflate_budget_free(budget);
            assert_eq!(shared.available(), 1 << 20);
            assert_eq!(
                wsm_deflate_set_inflate_budget(deflate, ptr::null()),
                wsm_result::WSM_ERR_NULL_PARAMETER
            );
            assert_eq!(wsm_inflate_budget_available(ptr::null()), 0);
            wsm_deflate_free(deflate);
        }
    }
}
