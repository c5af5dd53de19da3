//! The host functions, one file per row of the ABI's table (`calls`), named like the
//! import: everything the SDK does for that one function, in every flavour.
//!
//! A function's file holds
//! - `native`: the stand-in's part, what the function answers off wasm32 (in
//!   `cargo test`), with the stand-in's shared state and recorder of
//!   [`crate::sys::native`];
//! - `component`: the component flavour's part (feature `component`, on wasm32), the
//!   call of its WIT twin through the bindings of [`crate::sys::component`];
//! - its public safe wrapper, when no public module of the SDK wraps it: every public
//!   item of the file is re-exported at the crate root (by `public_items!` in
//!   `lib.rs`), so put nothing there that is not meant for it. The wrappers of the
//!   older functions are the low level of a public module, which keeps their public
//!   face: `ohd_log` of [`crate::log`] (its function and macros), `ohd_http_request`
//!   of [`crate::http`] (the request builder, the answer's decoding and errors), the
//!   ticket operations of [`crate::ticket`] (the payload and its status), each calling
//!   the function here, whose file says in which form each flavour carries it.
//!
//! The core flavour's part is not written by hand: `sys` expands it from the table by
//! the function's calling convention.
//!
//! What is declared here is expanded from the table, `for_each_host_function!`: the
//! module of each function (a row without its file does not compile: "file not found
//! for module `ohd_…`") and, under the function's name, the part of the flavour this
//! build is (a file without it does not compile: "unresolved import `ohd_….native`").

/// The rows' modules, and under each row's name the function of this build's flavour.
macro_rules! host_functions {
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
        $(pub(crate) mod $name;)*

        #[cfg(all(target_arch = "wasm32", not(feature = "component")))]
        pub(crate) use crate::sys::imports::{$($name),*};
        #[cfg(not(target_arch = "wasm32"))]
        pub(crate) use self::{$($name::native as $name),*};
        #[cfg(all(target_arch = "wasm32", feature = "component"))]
        pub(crate) use self::{$($name::component as $name),*};

        /// Re-exports the public items of every function's file at the crate root.
        macro_rules! public_items {
            () => {
                $(
                    // A file whose function a public module wraps has no public item.
                    #[allow(unused_imports, unreachable_pub)]
                    pub use crate::host_functions::$name::*;
                )*
            };
        }
        pub(crate) use public_items;
    };
}
otai_plugin_abi::for_each_host_function!(host_functions);
