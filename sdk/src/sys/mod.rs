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
    /// The imports, one per row of the ABI's table (`calls`; `ohd_alloc` and `ohd_free`
    /// are not imported: the SDK exports the allocator the host forwards those to).
    /// Every parameter and result is an `i32` on the wire; pointers and `usize` are 32
    /// bits on wasm32.
    mod raw {
        macro_rules! imports {
            (@result) => {
                ()
            };
            (@result $result:ident) => {
                u32
            };
            (calls {
                $(
                    $(#[$doc:meta])*
                    $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                        returns $returns:literal;
                        $(wit $wit:literal;)?
                        since $since:literal;
                        call $call:ident;
                )*
            } $($rest:tt)*) => {
                #[link(wasm_import_module = "ohd")]
                unsafe extern "C" {
                    $(pub(super) fn $name($($param: u32),*) -> imports!(@result $($result)?);)*
                }
            };
        }
        otai_plugin_abi::for_each_host_function!(imports);
    }

    /// One safe function per import, named like it, by its calling convention, which
    /// the parameters' names in docs/ABI.md give: `ptr, len` are bytes the host reads;
    /// `resp_ptr_out, resp_len_out` receive a block the host allocated with our
    /// exported `ohd_alloc` and hands over.
    macro_rules! safe_functions {
        (@row $name:ident(ptr, len, $extra:ident)) => {
            pub(crate) fn $name(bytes: &[u8], $extra: u32) {
                // SAFETY: the host only reads `len` bytes at `ptr`, which `bytes` covers.
                unsafe { raw::$name(bytes.as_ptr() as u32, bytes.len() as u32, $extra) }
            }
        };
        (@row $name:ident(ptr, len) -> status) => {
            pub(crate) fn $name(bytes: &[u8]) -> u32 {
                // SAFETY: the host only reads `len` bytes at `ptr`, which `bytes` covers.
                unsafe { raw::$name(bytes.as_ptr() as u32, bytes.len() as u32) }
            }
        };
        (@row $name:ident(req_ptr, req_len, resp_ptr_out, resp_len_out) -> status) => {
            pub(crate) fn $name(request: &[u8]) -> (u32, Vec<u8>) {
                let mut ptr: u32 = 0;
                let mut len: u32 = 0;
                // SAFETY: the request slice is readable for its length and both
                // out-pointers are valid, writable, 4-byte locations for the duration of
                // the call.
                let status = unsafe {
                    raw::$name(
                        request.as_ptr() as u32,
                        request.len() as u32,
                        (&raw mut ptr) as u32,
                        (&raw mut len) as u32,
                    )
                };
                (status, take_block(ptr, len))
            }
        };
        (@row $name:ident($($param:ident),*) $(-> $result:ident)?) => {
            compile_error!(concat!(
                "otai-plugin-sdk: no calling convention for `",
                stringify!($name($($param),*) $(-> $result)?),
                "`: add one to `safe_functions!` in sdk/src/sys/mod.rs"
            ));
        };
        (calls {
            $(
                $(#[$doc:meta])*
                $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                    returns $returns:literal;
                    $(wit $wit:literal;)?
                    since $since:literal;
                    call $call:ident;
            )*
        } $($rest:tt)*) => {
            $(safe_functions!(@row $name($($param),*) $(-> $result)?);)*
        };
    }
    otai_plugin_abi::for_each_host_function!(safe_functions);

    /// The block the host wrote to `resp_ptr_out` / `resp_len_out`, now ours.
    fn take_block(ptr: u32, len: u32) -> Vec<u8> {
        if ptr == 0 || len == 0 {
            return Vec::new();
        }
        // SAFETY: by the ABI the host allocated this buffer with our exported
        // `ohd_alloc(len)`, i.e. with the layout `crate::allocator::layout(len)`, which
        // is the layout of a `Vec<u8>` of capacity `len`; we now own it, and dropping the
        // `Vec` frees it exactly as `ohd_free(ptr, len)` would.
        unsafe { Vec::from_raw_parts(ptr as usize as *mut u8, len as usize, len as usize) }
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

// Every flavour has a function of each import's name: one missing from the stand-in or
// the component flavour is an unresolved import here, naming it.
macro_rules! flavour_functions {
    (calls {
        $(
            $(#[$doc:meta])*
            $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                returns $returns:literal;
                $(wit $wit:literal;)?
                since $since:literal;
                call $call:ident;
        )*
    } $($rest:tt)*) => {
        pub(crate) use imp::{$($name),*};
    };
}
otai_plugin_abi::for_each_host_function!(flavour_functions);
