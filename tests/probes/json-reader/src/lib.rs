//! Runs the SDK's JSON reader on bytes the test writes into memory (allocated with the
//! SDK's exported `ohd_alloc`), and reports what it made of them.

use std::borrow::Cow;

use otai_plugin_sdk::json;
use otai_plugin_sdk::serde::de::IgnoredAny;

/// Decodes the `len` bytes at `input` as one JSON string and writes its value to `out`
/// (at least `len` bytes: a decoded string is never longer than its JSON). Returns the
/// value's length, or `-1 - offset` of the error.
///
/// # Safety
/// `input..input + len` must be readable and `out..out + len` writable, not overlapping.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn json_string(input: *const u8, len: usize, out: *mut u8) -> i64 {
    // SAFETY: guaranteed by the caller, see above.
    let bytes = unsafe { core::slice::from_raw_parts(input, len) };
    match json::from_slice::<Cow<'_, str>>(bytes) {
        Ok(value) => {
            let n = value.len().min(len);
            // SAFETY: `out` has `len` writable bytes that `value` does not overlap.
            unsafe { core::ptr::copy_nonoverlapping(value.as_ptr(), out, n) };
            n as i64
        }
        Err(e) => -1 - e.offset() as i64,
    }
}

/// Reads over the `len` bytes at `input` as one JSON value without building it (the
/// path of unknown members and ignored config). Returns 0, or `-1 - offset` of the error.
///
/// # Safety
/// `input..input + len` must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn json_skip(input: *const u8, len: usize) -> i64 {
    // SAFETY: guaranteed by the caller, see above.
    let bytes = unsafe { core::slice::from_raw_parts(input, len) };
    match json::from_slice::<IgnoredAny>(bytes) {
        Ok(_) => 0,
        Err(e) => -1 - e.offset() as i64,
    }
}
