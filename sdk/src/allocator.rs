//! The guest allocator the host uses to hand buffers to the plugin: the `ohd_alloc` and
//! `ohd_free` exports.
//!
//! Ownership, as in `docs/ABI.md`:
//! - the event payload and the `render_panel` ticket id are allocated by the host with
//!   `ohd_alloc(len)` and freed by the host with `ohd_free(ptr, len)` after the call;
//! - an `ohd_http_request` response body is allocated by the host with `ohd_alloc(len)`
//!   and owned by the plugin; the SDK frees it when the [`crate::http::Response`] is
//!   dropped;
//! - the `render_panel` URL is allocated by the plugin and freed by the host with
//!   `ohd_free(ptr, len)`.
//!
//! Every buffer uses [`layout`]`(size)`: `size` bytes aligned to 1, the layout of a
//! `Vec<u8>` or `Box<[u8]>` of that length, so buffers move between these functions and
//! Rust's owned byte containers without copying. `ohd_alloc(0)` returns 1, a non-null
//! address that is never dereferenced (what `NonNull::<u8>::dangling()` is), and
//! `ohd_free` of a zero size or a null pointer does nothing: the ABI reserves a 0 result
//! for allocation failure.
// Off wasm32 (and in the component flavour) nothing calls the exports; they stay
// compiled for their unit tests.
#![cfg_attr(
    any(not(target_arch = "wasm32"), feature = "component"),
    allow(dead_code)
)]

use std::alloc::Layout;

// Smaller than Rust's default wasm32 allocator (dlmalloc) and still reuses freed
// memory, so a plugin that allocates in a loop does not grow without bound. A plugin
// instance is single-threaded: `target_feature = "atomics"` (shared memory) is never on.
#[cfg(all(
    target_arch = "wasm32",
    target_os = "unknown",
    not(target_feature = "atomics"),
    feature = "allocator"
))]
#[global_allocator]
static ALLOCATOR: talc::cell::TalcSyncCell<heap::InitialMemoryFirst, talc::wasm::WasmBinning> =
    talc::cell::TalcSyncCell::new_wasm(heap::InitialMemoryFirst::new());

// On WASI the libc's own `malloc` may start its heap at `__heap_base` too: there talc
// only ever grows the memory.
#[cfg(all(
    target_arch = "wasm32",
    not(target_os = "unknown"),
    not(target_feature = "atomics"),
    feature = "allocator"
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(all(
    target_arch = "wasm32",
    target_os = "unknown",
    not(target_feature = "atomics"),
    feature = "allocator"
))]
mod heap {
    //! Where the allocator's memory comes from.
    //!
    //! Every delivery runs in a fresh instance, so whatever the heap needs is asked of
    //! the host again each time. A `memory.grow` costs the host two `mprotect` calls (the
    //! growth, and the reset of the pooled memory after the delivery), and each one makes
    //! the kernel flush the TLB of every core running the host: with two threads
    //! delivering, growth per delivery made two threads slower than one. So the heap
    //! starts with the part of the module's initial memory that the linker left free
    //! (from `__heap_base` to the end; the build gives plugins 1 MiB of initial memory,
    //! see `.cargo/config.toml`), and grows only when that is used up.

    use core::alloc::Layout;
    use core::arch::wasm32::{memory_grow, memory_size};
    use core::ptr::NonNull;

    use talc::base::Talc;
    use talc::base::binning::Binning;

    const PAGE: usize = 64 * 1024;

    unsafe extern "C" {
        /// Where the linker put the end of the stack and data: the heap may start here.
        static __heap_base: u8;
    }

    /// The free tail of the initial memory first, then pages from `memory.grow`, each
    /// growth extending the heap when it is contiguous with it.
    #[derive(Debug)]
    pub(super) struct InitialMemoryFirst {
        /// The end of the heap, once there is one.
        end: Option<NonNull<u8>>,
        /// Whether the initial memory's tail has been claimed (or found too small).
        started: bool,
    }

    impl InitialMemoryFirst {
        pub(super) const fn new() -> Self {
            Self {
                end: None,
                started: false,
            }
        }
    }

    // SAFETY: `acquire` hands talc only memory nothing else uses: the tail of the initial
    // memory above `__heap_base` (the stack and data are below it, and no other
    // allocator runs in the module), and pages `memory.grow` has just added. It calls no
    // allocator.
    unsafe impl talc::source::Source for InitialMemoryFirst {
        fn acquire<B: Binning>(talc: &mut Talc<Self, B>, layout: Layout) -> Result<(), ()> {
            if !talc.source.started {
                talc.source.started = true;
                let base = (&raw const __heap_base).cast_mut();
                let end = memory_size::<0>() * PAGE;
                if let Some(size) = end.checked_sub(base as usize).filter(|s| *s > 0) {
                    // SAFETY: see the `unsafe impl`.
                    talc.source.end = unsafe { talc.claim(base, size) };
                    // talc asks again if this is not enough for `layout`.
                    return Ok(());
                }
            }
            // As talc's `WasmGrowAndExtend`: enough pages for this allocation.
            let pages = (layout.size() + layout.align() + 3 * talc::base::CHUNK_UNIT)
                .div_ceil(PAGE)
                .max(1);
            let previous = memory_grow::<0>(pages);
            if previous == usize::MAX {
                return Err(());
            }
            let grown = (previous * PAGE) as *mut u8;
            let bytes = pages * PAGE;
            if let Some(end) = talc.source.end.take()
                && end.as_ptr() == grown
            {
                // SAFETY: the new pages follow the heap's end.
                talc.source.end = Some(unsafe { talc.extend(end, grown.wrapping_add(bytes)) });
                return Ok(());
            }
            // SAFETY: the pages were just added.
            talc.source.end = unsafe { talc.claim(grown, bytes) };
            Ok(())
        }
    }
}

/// The alignment of every buffer exchanged with the host: byte buffers need no more,
/// and `ohd_free` rebuilds the layout from the size alone.
pub(crate) const ALIGN: usize = 1;

/// The layout of an exchanged buffer of `size` bytes, or `None` if `size` is too large
/// for any allocation.
pub(crate) fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size, ALIGN).ok()
}

/// Allocates `size` bytes for the host. Returns 0 when memory is exhausted, which the
/// host treats as a failed delivery.
// Not in the component flavour, where the canonical ABI allocates with `cabi_realloc`.
#[cfg_attr(
    all(target_arch = "wasm32", not(feature = "component")),
    unsafe(export_name = "ohd_alloc")
)]
pub(crate) extern "C" fn ohd_alloc(size: usize) -> *mut u8 {
    if size == 0 {
        return core::ptr::NonNull::<u8>::dangling().as_ptr();
    }
    match layout(size) {
        // SAFETY: the layout has a non-zero size.
        Some(layout) => unsafe { std::alloc::alloc(layout) },
        None => core::ptr::null_mut(),
    }
}

/// Frees a buffer obtained from [`ohd_alloc`] with the same `size`.
///
/// # Safety
/// `ptr` must come from `ohd_alloc(size)` (or be any pointer with `size == 0`, or null)
/// and must not be used afterwards. The host upholds this by the ABI.
#[cfg_attr(
    all(target_arch = "wasm32", not(feature = "component")),
    unsafe(export_name = "ohd_free")
)]
pub(crate) unsafe extern "C" fn ohd_free(ptr: *mut u8, size: usize) {
    if ptr.is_null() || size == 0 {
        return;
    }
    if let Some(layout) = layout(size) {
        // SAFETY: by the contract above, `ptr` was allocated with this very layout.
        unsafe { std::alloc::dealloc(ptr, layout) }
    }
}

/// Hands an owned string to the host as a buffer it will free with `ohd_free(ptr, len)`.
/// Returns `(ptr, len)`.
pub(crate) fn into_host_buffer(text: String) -> (*mut u8, usize) {
    // `into_boxed_slice` drops spare capacity, so the allocation is exactly
    // `layout(len)`, the layout `ohd_free(ptr, len)` rebuilds.
    let boxed: Box<[u8]> = text.into_bytes().into_boxed_slice();
    let len = boxed.len();
    (Box::into_raw(boxed).cast::<u8>(), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_size_is_non_null_and_free_is_a_no_op() {
        let p = ohd_alloc(0);
        assert!(!p.is_null());
        // SAFETY: a zero size is always accepted.
        unsafe { ohd_free(p, 0) };
        // SAFETY: null is always accepted.
        unsafe { ohd_free(core::ptr::null_mut(), 16) };
    }

    #[test]
    fn alloc_and_vec_share_a_layout() {
        let p = ohd_alloc(5);
        assert!(!p.is_null());
        // SAFETY: `p` has room for 5 bytes.
        unsafe { core::ptr::copy_nonoverlapping(b"hello".as_ptr(), p, 5) };
        // SAFETY: the buffer came from `ohd_alloc(5)`, the layout of a Vec<u8> of
        // capacity 5, which is exactly what the HTTP response path relies on.
        let v = unsafe { Vec::from_raw_parts(p, 5, 5) };
        assert_eq!(v, b"hello");
    }

    #[test]
    fn host_buffers_are_freed_by_ohd_free() {
        let mut s = String::with_capacity(64);
        s.push_str("https://panel.example/t/1");
        let (p, len) = into_host_buffer(s);
        assert_eq!(len, 25);
        // SAFETY: what the host does after reading the URL.
        unsafe { ohd_free(p, len) };
        let (p, len) = into_host_buffer(String::new());
        assert_eq!(len, 0);
        // SAFETY: zero size.
        unsafe { ohd_free(p, len) };
    }

    #[test]
    fn impossible_sizes_fail_with_null() {
        assert!(ohd_alloc(usize::MAX).is_null());
    }
}
