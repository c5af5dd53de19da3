//! Names and wasm signatures: the `ohd` imports, the plugin's exports, custom sections.
//!
//! The table of the `ohd` imports is one macro, `for_each_host_function!` (hidden from
//! the API: its row syntax is ours to change), and [`PLUGIN_EXPORTS`] the table of the
//! exports. Three kinds of consumer follow it:
//!
//! - expanded at compile time, each with a `macro_rules!` of its own: [`HOST_FUNCTIONS`]
//!   and its constants here, the host's functions (`host/src/functions/`, a file per
//!   row: a row without its file, its function of the row's name and signature, or
//!   its component twin when it has a `wit`, does not compile) and its `HostCall`
//!   (`host/src/report.rs`, a variant and its record per `call`), the SDK's raw
//!   imports and their safe functions, picked by the parameters' names
//!   (`sdk/src/sys/mod.rs`: a row of a calling convention it does not know is a
//!   `compile_error!` naming the row), and the SDK's file of each function with the
//!   part of every flavour (`sdk/src/host_functions/`: a row without its file, or a file
//!   without its stand-in or component part, does not compile, naming the function);
//! - written by a generator whose output is committed, `abi/tests/generated.rs`
//!   (`OTAI_BLESS=1 cargo test --workspace --test generated`): `docs/abi-signatures.json`,
//!   which the Node host of the conformance kit checks modules by, the table of imports
//!   in docs/ABI.md section 3, the `host` interface of `wit/ohd-plugin.wit` (each row's
//!   `wit` column), the component flavour's table (`abi/src/component/host_functions.rs`,
//!   from that interface as wit-parser resolves it), the WIT's copies in the crates,
//!   and the table of transcript entries of `conformance/README.md` (a unit test of the
//!   host, from each function's file);
//! - held by tests: the Node host's imports up to its version, the conformance cases
//!   and docs/ABI.md's prose.
//!
//! `ARCHITECTURE.md` at the repository root lists the files a new host function still
//! changes by hand ("Adding a host function").

use std::fmt;

/// The only import module a plugin may import from.
pub const IMPORT_MODULE: &str = "ohd";

/// The custom section that holds the plugin manifest (one UTF-8 JSON object).
pub const MANIFEST_SECTION: &str = "ohd_manifest";

/// The custom section that records the ABI version and the SDK that built a module.
/// See [`crate::marker`].
pub const ABI_MARKER_SECTION: &str = "ohd_abi";

/// The plugin's linear memory export.
pub const EXPORT_MEMORY: &str = "memory";
/// The event handler export: `(payload_ptr: i32, payload_len: i32) -> ()`.
pub const EXPORT_ON_EVENT: &str = "on_event";
/// The optional UI panel export: `(ticket_id_ptr: i32, ticket_id_len: i32) -> (url_ptr: i32, url_len: i32)`.
pub const EXPORT_RENDER_PANEL: &str = "render_panel";
/// The preferred allocator export: `(size: i32) -> ptr: i32`.
pub const EXPORT_OHD_ALLOC: &str = "ohd_alloc";
/// The preferred deallocator export: `(ptr: i32, size: i32) -> ()`.
pub const EXPORT_OHD_FREE: &str = "ohd_free";
/// The libc-style allocator export used when `ohd_alloc` is absent: `(size: i32) -> ptr: i32`.
pub const EXPORT_MALLOC: &str = "malloc";
/// The libc-style deallocator export used with `malloc`: `(ptr: i32) -> ()`.
pub const EXPORT_LIBC_FREE: &str = "free";
/// What the Rust SDK exports in place of `render_panel`, because stable Rust cannot
/// declare a multi-value result: `(ticket_id_ptr: i32, ticket_id_len: i32) -> i32`,
/// returning the address of 8 bytes holding `url_ptr` and `url_len` (little-endian
/// u32). `cargo otai-plugin build` wraps it in a true `render_panel` export and removes
/// it; hosts do not accept it, since it is not part of the ABI.
pub const SDK_RENDER_PANEL_INDIRECT: &str = "__ohd_render_panel_indirect";
/// The reactor initialiser some toolchains export; the host calls it once per instance,
/// before anything else.
pub const EXPORT_INITIALIZE: &str = "_initialize";

/// A WebAssembly value type, as far as the ABI needs to name one.
///
/// Only `i32` appears in ABI v1; the others exist so that a tool can say what it found
/// when a module declares a function with the wrong signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `v128`
    V128,
    /// Any reference type (`funcref`, `externref`, …).
    Ref,
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::Ref => "ref",
        })
    }
}

/// A function signature. Displays as `(i32, i32) -> i32`, `(i32) -> ()` or
/// `(i32, i32) -> (i32, i32)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Parameter types, in order.
    pub params: &'static [ValType],
    /// Result types, in order.
    pub results: &'static [ValType],
}

impl FuncType {
    /// Whether a signature given as slices is this one.
    pub fn matches(&self, params: &[ValType], results: &[ValType]) -> bool {
        self.params == params && self.results == results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_signature(f, self.params, self.results)
    }
}

/// Writes a signature in the notation of [`FuncType`]'s `Display`, for signatures
/// found in a module (which are not `'static`).
pub fn write_signature(
    f: &mut impl fmt::Write,
    params: &[ValType],
    results: &[ValType],
) -> fmt::Result {
    let list = |f: &mut dyn fmt::Write, tys: &[ValType]| -> fmt::Result {
        f.write_char('(')?;
        for (i, t) in tys.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t}")?;
        }
        f.write_char(')')
    };
    list(f, params)?;
    f.write_str(" -> ")?;
    if results.len() == 1 {
        write!(f, "{}", results[0])
    } else {
        list(f, results)
    }
}

/// Formats a signature found in a module, e.g. `(i32) -> ()`.
pub fn signature_to_string(params: &[ValType], results: &[ValType]) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_signature(&mut s, params, results);
    s
}

use ValType::I32;

/// A function that the host provides in the `ohd` import module: one row of the table
/// [`HOST_FUNCTIONS`], from which the rest is derived (see the module's documentation).
///
/// Only this crate writes rows (`#[non_exhaustive]`), so that a column the table gains
/// later is no break for code that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostFunction {
    /// The import's field name, e.g. `ohd_log`.
    pub name: &'static str,
    /// Its wasm signature.
    pub ty: FuncType,
    /// The names docs/ABI.md gives its parameters, one per entry of `ty.params`, e.g.
    /// `["ptr", "len", "level"]`.
    pub param_names: &'static [&'static str],
    /// The name docs/ABI.md gives its result (`status`, `ptr`); `None` when it returns
    /// nothing.
    pub result_name: Option<&'static str>,
    /// What its result means, as the table of docs/ABI.md section 3 says it (Markdown).
    pub returns: &'static str,
    /// The ABI version that added it, `"1.0"`: a host of an older version does not
    /// provide it, so a plugin importing it is refused there at load.
    pub since: &'static str,
    /// Its twin in the component flavour, as the WIT's `host` interface declares it
    /// (`log: func(level: log-level, message: string)`); `None` for the allocator
    /// imports, which have none.
    pub wit: Option<&'static str>,
}

impl HostFunction {
    /// The function as docs/ABI.md writes it in prose and headings:
    /// `ohd_log(ptr, len, level)`, `ohd_add_reply(ptr, len) -> status`.
    pub fn call_form(&self) -> String {
        let params = self.param_names.join(", ");
        match self.result_name {
            Some(result) => format!("{}({params}) -> {result}", self.name),
            None => format!("{}({params})", self.name),
        }
    }

    /// Its type in the WebAssembly text format, as an import declares it:
    /// `(func (param i32 i32) (result i32))`.
    pub fn wat_type(&self) -> String {
        let list = |keyword: &str, tys: &[ValType]| -> String {
            if tys.is_empty() {
                return String::new();
            }
            let tys: Vec<String> = tys.iter().map(ValType::to_string).collect();
            format!(" ({keyword} {})", tys.join(" "))
        };
        format!(
            "(func{}{})",
            list("param", self.ty.params),
            list("result", self.ty.results)
        )
    }
}

/// The table of the `ohd` host functions, handed to a macro of the caller's: the one
/// source of [`HOST_FUNCTIONS`] and its constants here, of the host's linker and of the
/// SDK's raw imports, each of which expands the rows with a `macro_rules!` of its own (a
/// row without its implementation there is then a compile error naming the function).
///
/// `$callback!` is called once, with two groups of rows: `calls` (what a plugin calls
/// the host for) and `allocator` (the imports the host forwards to the plugin's own
/// allocator exports, which the SDK never imports). A row is
///
/// ```text
/// /// docs
/// CONSTANT: fn name(param, …) -> result;
///     returns "what the result means";
///     wit "name: func(…) -> …";   (its component twin; absent for the allocator rows)
///     since "1.0";                (the ABI version that added it)
///     call Variant { field: Type, … };   (its variant of the host's `HostCall`: what
///                                         a report records of each call)
/// ```
///
/// where every parameter, and the result when there is one, is an `i32` on the wire; the
/// names are docs/ABI.md's, and the SDK picks its calling convention by them
/// (`ptr, len`: bytes the host reads; `resp_ptr_out, resp_len_out`: a block the host
/// allocates and hands over). Not part of the API: its shape may change in any release.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_host_function {
    ($callback:ident) => {
        $callback! {
            calls {
                /// `ohd_log(ptr, len, level)`: one UTF-8 log line at a
                /// [`LogLevel`](crate::status::LogLevel).
                OHD_LOG: fn ohd_log(ptr, len, level);
                    returns "nothing";
                    wit "log: func(level: log-level, message: string)";
                    since "1.0";
                    call OhdLog {
                        /// Index of its line in `logs`; `None` when the line was dropped (the
                        /// delivery had logged 1 MiB already).
                        line: Option<usize>,
                    };
                /// `ohd_http_request(req_ptr, req_len, resp_ptr_out, resp_len_out) -> status`.
                OHD_HTTP_REQUEST: fn ohd_http_request(req_ptr, req_len, resp_ptr_out, resp_len_out) -> status;
                    returns "HTTP status, `0` or `403`, see [5](#5-status-codes-and-error-bodies)";
                    wit "http-request: func(request: request) -> result<response, request-error>";
                    since "1.0";
                    call OhdHttpRequest {
                        /// Index of its exchange in `http`, which holds the status.
                        exchange: usize,
                    };
                /// `ohd_add_reply(ptr, len) -> status`.
                OHD_ADD_REPLY: fn ohd_add_reply(ptr, len) -> status;
                    returns "call status `0`–`4`";
                    wit "add-reply: func(reply: reply) -> result<_, call-error>";
                    since "1.0";
                    call OhdAddReply {
                        /// The call status.
                        status: u32,
                        /// Index of the reply in `replies` when the status is `0`.
                        reply: Option<usize>,
                    };
                /// `ohd_set_custom_field(ptr, len) -> status`.
                OHD_SET_CUSTOM_FIELD: fn ohd_set_custom_field(ptr, len) -> status;
                    returns "call status `0`–`4`";
                    wit "set-custom-field: func(field: custom-field) -> result<_, call-error>";
                    since "1.0";
                    call OhdSetCustomField {
                        /// The call status.
                        status: u32,
                        /// Index of the field in `custom_fields` when the status is `0`.
                        field: Option<usize>,
                    };
            }
            allocator {
                /// `ohd_alloc(size) -> ptr`: forwards to the plugin's own exported allocator.
                /// Provided for code written against the reference table, which lists it as
                /// an import.
                OHD_ALLOC: fn ohd_alloc(size) -> ptr;
                    returns "pointer, `0` on failure";
                    since "1.0";
                    call OhdAlloc {
                        /// The size asked for.
                        size: u32,
                        /// What the plugin's allocator returned.
                        ptr: u32,
                    };
                /// `ohd_free(ptr, size)`: forwards to the plugin's own exported deallocator.
                OHD_FREE: fn ohd_free(ptr, size);
                    returns "nothing";
                    since "1.0";
                    call OhdFree {
                        /// The block.
                        ptr: u32,
                        /// The size given.
                        size: u32,
                    };
            }
        }
    };
}

/// Expands the table into a [`HostFunction`] constant per row, and [`HOST_FUNCTIONS`].
macro_rules! host_function_constants {
    (@i32 $any:ident) => {
        I32
    };
    (@name) => {
        None
    };
    (@name $result:ident) => {
        Some(stringify!($result))
    };
    (@wit) => {
        None
    };
    (@wit $wit:literal) => {
        Some($wit)
    };
    ($($group:ident {
        $(
            $(#[$doc:meta])*
            $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                returns $returns:literal;
                $(wit $wit:literal;)?
                since $since:literal;
                call $call:ident $record:tt;
        )*
    })*) => {
        $($(
            $(#[$doc])*
            pub const $constant: HostFunction = HostFunction {
                name: stringify!($name),
                ty: FuncType {
                    params: &[$(host_function_constants!(@i32 $param)),*],
                    results: &[$(host_function_constants!(@i32 $result))?],
                },
                param_names: &[$(stringify!($param)),*],
                result_name: host_function_constants!(@name $($result)?),
                returns: $returns,
                since: $since,
                wit: host_function_constants!(@wit $($wit)?),
            };
        )*)*

        /// Every function of the `ohd` import module. Every one is optional for a plugin.
        pub const HOST_FUNCTIONS: &[HostFunction] = &[$($($constant),*),*];
    };
}

for_each_host_function!(host_function_constants);

/// Looks up a host function of the `ohd` module by name.
pub fn host_function(name: &str) -> Option<&'static HostFunction> {
    HOST_FUNCTIONS.iter().find(|f| f.name == name)
}

/// A function export the ABI gives a meaning to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginExport {
    /// The export name.
    pub name: &'static str,
    /// Its wasm signature.
    pub ty: FuncType,
    /// Whether every plugin must export it.
    pub required: bool,
}

/// `on_event(ptr, len)`: required.
pub const ON_EVENT: PluginExport = PluginExport {
    name: EXPORT_ON_EVENT,
    ty: FuncType {
        params: &[I32, I32],
        results: &[],
    },
    required: true,
};

/// `render_panel(ticket_id_ptr, ticket_id_len) -> (url_ptr, url_len)`: a true
/// multi-value result; required when the manifest declares `ui_panel`.
pub const RENDER_PANEL: PluginExport = PluginExport {
    name: EXPORT_RENDER_PANEL,
    ty: FuncType {
        params: &[I32, I32],
        results: &[I32, I32],
    },
    required: false,
};

/// `ohd_alloc(size) -> ptr` export (preferred allocator).
pub const ALLOC_EXPORT: PluginExport = PluginExport {
    name: EXPORT_OHD_ALLOC,
    ty: FuncType {
        params: &[I32],
        results: &[I32],
    },
    required: false,
};

/// `ohd_free(ptr, size)` export (preferred deallocator).
pub const FREE_EXPORT: PluginExport = PluginExport {
    name: EXPORT_OHD_FREE,
    ty: FuncType {
        params: &[I32, I32],
        results: &[],
    },
    required: false,
};

/// `malloc(size) -> ptr` export (libc-style allocator, used when `ohd_alloc` is absent).
pub const MALLOC_EXPORT: PluginExport = PluginExport {
    name: EXPORT_MALLOC,
    ty: FuncType {
        params: &[I32],
        results: &[I32],
    },
    required: false,
};

/// `free(ptr)` export (libc-style deallocator, used with `malloc`).
pub const LIBC_FREE_EXPORT: PluginExport = PluginExport {
    name: EXPORT_LIBC_FREE,
    ty: FuncType {
        params: &[I32],
        results: &[],
    },
    required: false,
};

/// `_initialize()` export (reactor initialiser, optional).
pub const INITIALIZE_EXPORT: PluginExport = PluginExport {
    name: EXPORT_INITIALIZE,
    ty: FuncType {
        params: &[],
        results: &[],
    },
    required: false,
};

/// Every function export the ABI gives a meaning to. Other exports are ignored.
pub const PLUGIN_EXPORTS: &[PluginExport] = &[
    ON_EVENT,
    RENDER_PANEL,
    ALLOC_EXPORT,
    FREE_EXPORT,
    MALLOC_EXPORT,
    LIBC_FREE_EXPORT,
    INITIALIZE_EXPORT,
];

/// Looks up an ABI export by name.
pub fn plugin_export(name: &str) -> Option<&'static PluginExport> {
    PLUGIN_EXPORTS.iter().find(|e| e.name == name)
}

/// Which allocator pair a module exports, in the host's order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AllocatorKind {
    /// `ohd_alloc(size) -> ptr` and `ohd_free(ptr, size)`.
    Ohd,
    /// `malloc(size) -> ptr` and `free(ptr)` (C, TinyGo).
    Libc,
}

impl AllocatorKind {
    /// The allocation export of this pair.
    pub fn alloc(self) -> PluginExport {
        match self {
            AllocatorKind::Ohd => ALLOC_EXPORT,
            AllocatorKind::Libc => MALLOC_EXPORT,
        }
    }

    /// The deallocation export of this pair.
    pub fn free(self) -> PluginExport {
        match self {
            AllocatorKind::Ohd => FREE_EXPORT,
            AllocatorKind::Libc => LIBC_FREE_EXPORT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_display_like_the_docs() {
        assert_eq!(
            OHD_HTTP_REQUEST.ty.to_string(),
            "(i32, i32, i32, i32) -> i32"
        );
        assert_eq!(OHD_FREE.ty.to_string(), "(i32, i32) -> ()");
        assert_eq!(RENDER_PANEL.ty.to_string(), "(i32, i32) -> (i32, i32)");
        assert_eq!(INITIALIZE_EXPORT.ty.to_string(), "() -> ()");
    }

    #[test]
    fn every_host_function_names_each_parameter_and_its_one_result() {
        for (i, f) in HOST_FUNCTIONS.iter().enumerate() {
            assert_eq!(f.param_names.len(), f.ty.params.len(), "{}", f.name);
            assert_eq!(
                f.result_name.is_some(),
                f.ty.results.len() == 1,
                "{}: a core import returns nothing or one value, and it has a name",
                f.name
            );
            assert!(!f.returns.is_empty(), "{}", f.name);
            assert!(
                HOST_FUNCTIONS[..i].iter().all(|g| g.name != f.name),
                "{} is in the table twice",
                f.name
            );
        }
        assert_eq!(
            OHD_HTTP_REQUEST.call_form(),
            "ohd_http_request(req_ptr, req_len, resp_ptr_out, resp_len_out) -> status"
        );
        assert_eq!(OHD_LOG.call_form(), "ohd_log(ptr, len, level)");
        assert_eq!(OHD_LOG.wat_type(), "(func (param i32 i32 i32))");
        assert_eq!(OHD_ALLOC.wat_type(), "(func (param i32) (result i32))");
    }

    #[test]
    fn lookups_find_only_abi_names() {
        assert!(host_function("ohd_log").is_some());
        assert!(host_function("ohd_sleep").is_none());
        assert!(plugin_export("on_event").unwrap().required);
        assert!(plugin_export("main").is_none());
    }
}
