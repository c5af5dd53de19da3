//! The raw `ohd` host imports, and nothing else touches them: the ground floor of the
//! SDK, which depends on no other module of it.
//!
//! Each import gets one safe function here that takes and returns plain Rust values, so
//! that the rest of the SDK never sees a raw pointer the host handed over. On targets
//! other than `wasm32` the same functions are the in-process stand-in of [`native`],
//! which [`crate::testing`] scripts and reads, and which is what lets plugin logic run in
//! a native `cargo test`.
//!
//! With the feature `component` on wasm32, the functions are those of [`component`]: the
//! same host functions as a component imports them, through bindings `wit-bindgen`
//! generates. There the HTTP request and the ticket operations take the contract's types
//! instead of their JSON, since the component flavour passes records, not JSON.

#[cfg(all(target_arch = "wasm32", not(feature = "component")))]
mod imp {
    // Signatures as in `otai_plugin_abi::wasm` (every parameter is an `i32` on the wire;
    // `usize` and pointers are 32 bits on wasm32). `ohd_alloc`/`ohd_free` are not
    // imported: the SDK exports the allocator the host forwards those to.
    #[link(wasm_import_module = "ohd")]
    unsafe extern "C" {
        fn ohd_log(ptr: *const u8, len: usize, level: u32);
        fn ohd_http_request(
            req_ptr: *const u8,
            req_len: usize,
            resp_ptr_out: *mut u32,
            resp_len_out: *mut u32,
        ) -> u32;
        fn ohd_add_reply(ptr: *const u8, len: usize) -> u32;
        fn ohd_set_custom_field(ptr: *const u8, len: usize) -> u32;
    }

    pub(crate) fn log(level: u32, message: &[u8]) {
        // SAFETY: the host only reads `len` bytes at `ptr`, which `message` covers.
        unsafe { ohd_log(message.as_ptr(), message.len(), level) }
    }

    pub(crate) fn http_request(request: &[u8]) -> (u32, Vec<u8>) {
        let mut ptr: u32 = 0;
        let mut len: u32 = 0;
        // SAFETY: the request slice is readable for its length and both out-pointers
        // are valid, writable, 4-byte locations for the duration of the call.
        let status =
            unsafe { ohd_http_request(request.as_ptr(), request.len(), &mut ptr, &mut len) };
        let body = if ptr == 0 || len == 0 {
            Vec::new()
        } else {
            // SAFETY: by the ABI the host allocated this buffer with our exported
            // `ohd_alloc(len)`, i.e. with the layout `crate::allocator::layout(len)`,
            // which is the layout of a `Vec<u8>` of capacity `len`; we now own it, and
            // dropping the `Vec` frees it exactly as `ohd_free(ptr, len)` would.
            unsafe { Vec::from_raw_parts(ptr as usize as *mut u8, len as usize, len as usize) }
        };
        (status, body)
    }

    pub(crate) fn add_reply(payload: &[u8]) -> u32 {
        // SAFETY: the host only reads `len` bytes at `ptr`.
        unsafe { ohd_add_reply(payload.as_ptr(), payload.len()) }
    }

    pub(crate) fn set_custom_field(payload: &[u8]) -> u32 {
        // SAFETY: the host only reads `len` bytes at `ptr`.
        unsafe { ohd_set_custom_field(payload.as_ptr(), payload.len()) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod native;
#[cfg(not(target_arch = "wasm32"))]
use native as imp;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
pub(crate) mod component;
#[cfg(all(target_arch = "wasm32", feature = "component"))]
use component as imp;

pub(crate) use imp::{add_reply, http_request, log, set_custom_field};
