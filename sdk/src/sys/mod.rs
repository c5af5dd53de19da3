//! What touches the host's imports, and nothing else does: the ground floor of the
//! SDK, which depends on no other module of it.
//!
//! - [`imports`] (the core flavour, on wasm32): the raw `ohd` imports, and one safe
//!   function per import taking and returning plain Rust values, so that the rest of the
//!   SDK never sees a raw pointer the host handed over; both expanded from the ABI's
//!   table, by calling convention.
//! - [`native`] (off wasm32): the stand-in's state, which [`crate::testing`] scripts and
//!   reads, and which is what lets plugin logic run in a native `cargo test`.
//! - [`component`] (feature `component` on wasm32): the bindings `wit-bindgen` generates
//!   for the same host functions as a component imports them.
//!
//! Each host function's own part of the stand-in and of the component flavour is in its
//! file of `crate::host_functions`, which also picks the flavour of the build.

#[cfg(all(target_arch = "wasm32", not(feature = "component")))]
pub(crate) mod imports {
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
                        call $call:ident $record:tt;
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
        // A read of what the host holds (nothing is sent): no row has it in ABI v1.0,
        // and it is the one shape of the contract's parameter names left.
        (@row $name:ident(resp_ptr_out, resp_len_out) -> status) => {
            pub(crate) fn $name() -> (u32, Vec<u8>) {
                let mut ptr: u32 = 0;
                let mut len: u32 = 0;
                // SAFETY: both out-pointers are valid, writable, 4-byte locations for the
                // duration of the call.
                let status = unsafe { raw::$name((&raw mut ptr) as u32, (&raw mut len) as u32) };
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
                    call $call:ident $record:tt;
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

#[cfg(all(target_arch = "wasm32", feature = "component"))]
pub(crate) mod component;
