//! Decodes an event payload `n` times into the SDK's typed `Event<'_, Config>`, the decode
//! every typed plugin runs on each delivery. The payload is written by the caller into
//! a buffer from the SDK's exported `ohd_alloc`.

mod config;

use otai_plugin_sdk::Event;

/// Decodes the `len` bytes at `ptr` `n` times; returns how many decodes succeeded
/// (the caller checks it equals `n`).
///
/// # Safety
/// `ptr..ptr + len` must be a readable buffer (the bench allocates it with `ohd_alloc`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn decode_n(ptr: *const u8, len: usize, n: u32) -> u32 {
    // SAFETY: guaranteed by the caller, see above.
    let payload = unsafe { core::slice::from_raw_parts(ptr, len) };
    let mut ok = 0;
    for _ in 0..n {
        if let Ok(event) = Event::<config::Config>::from_json(core::hint::black_box(payload)) {
            core::hint::black_box(&event);
            ok += 1;
        }
    }
    ok
}
