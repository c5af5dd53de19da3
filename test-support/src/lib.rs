//! Test plugins written in WAT, for the tests and benchmarks of the workspace's crates:
//! the host imports under the names test bodies call, a memory and an allocator, the
//! manifest section, and the escaping of bytes into a WAT string; the loopback server
//! their HTTP tests start ([`Loopback`]); and modules signed as `cargo otai-plugin sign`
//! signs them ([`sign`]).
//!
//! A test writes only what its plugin does (its `on_event`, its data); [`Module`] adds
//! the rest, so that every crate's tests speak the ABI through the same few lines.
//!
//! ```
//! use otai_plugin_test_support::{LOG, Module};
//!
//! let wasm = Module::new()
//!     .import(LOG)
//!     .body(r#"(func (export "on_event") (param $p i32) (param $n i32)
//!                (call $log (local.get $p) (local.get $n) (i32.const 1)))"#)
//!     .manifest(r#"{"id":"com.example.echo"}"#)
//!     .wasm();
//! assert_eq!(&wasm[..4], b"\0asm");
//! ```
#![deny(missing_docs)]

mod loopback;
mod registry;
mod signing;

pub use loopback::Loopback;
pub use registry::{REGISTRY_BINARY, REGISTRY_PASSWORD, REGISTRY_USER, Registry};
pub use signing::{public, sign, sign_without_key_id};

/// `ohd_log(ptr, len, level)`, imported as `$log`.
pub const LOG: &str = r#"(import "ohd" "ohd_log" (func $log (param i32 i32 i32)))"#;
/// `ohd_http_request(ptr, len, response_ptr_out, response_len_out) -> status`, imported
/// as `$http`.
pub const HTTP: &str =
    r#"(import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))"#;
/// `ohd_add_reply(ptr, len) -> status`, imported as `$reply`.
pub const REPLY: &str =
    r#"(import "ohd" "ohd_add_reply" (func $reply (param i32 i32) (result i32)))"#;
/// `ohd_set_custom_field(ptr, len) -> status`, imported as `$field`.
pub const FIELD: &str =
    r#"(import "ohd" "ohd_set_custom_field" (func $field (param i32 i32) (result i32)))"#;

/// The size of a page of linear memory, in bytes.
pub const PAGE: u32 = 65536;

/// The allocator a [`Module`] exports. Each hands out the next bytes above
/// [`Module::heap`] and frees nothing: a test plugin lives for a few calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocator {
    /// `ohd_alloc` (also `$alloc` inside the module) within the memory the module
    /// declares, which it never grows; `ohd_free` does nothing.
    Bump,
    /// As [`Allocator::Bump`], but `ohd_alloc` grows the memory when the bytes asked for
    /// do not fit, and returns 0 when the growth is refused (the allocation failure a
    /// host must survive).
    Growing,
    /// The libc pair another toolchain (C, TinyGo) exports: `malloc` (`$alloc`) and a
    /// one-argument `free` that does nothing.
    Libc,
}

impl Allocator {
    fn wat(self, heap: u32) -> String {
        let (alloc, free) = match self {
            Allocator::Bump | Allocator::Growing => {
                ("ohd_alloc", r#"(func (export "ohd_free") (param i32 i32))"#)
            }
            Allocator::Libc => ("malloc", r#"(func (export "free") (param i32))"#),
        };
        let grow = if self == Allocator::Growing {
            format!(
                "(if (i32.gt_u (i32.add (global.get $next) (local.get $n)) (i32.mul (memory.size) (i32.const {PAGE})))
      (then
        (if (i32.eq (memory.grow (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1))) (i32.const -1))
          (then (return (i32.const 0))))))"
            )
        } else {
            String::new()
        };
        format!(
            r#"(global $next (mut i32) (i32.const {heap}))
  (func $alloc (export "{alloc}") (param $n i32) (result i32)
    (local $p i32)
    {grow}
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $n)))
    (local.get $p))
  {free}"#
        )
    }
}

/// A core module for a test: the imports given, an exported memory, an allocator, the
/// body (the exports a test is about: `on_event`, `render_panel`, data…) and, when
/// given, the `ohd_manifest` custom section.
///
/// Defaults: no imports, 2 pages of memory, a [`Allocator::Bump`] allocator from 64 KiB
/// (the first page is the body's, for its data and scratch space), no manifest.
#[derive(Clone, Debug)]
pub struct Module {
    imports: String,
    pages: u32,
    heap: u32,
    allocator: Allocator,
    body: String,
    manifest: Option<Vec<u8>>,
}

impl Default for Module {
    fn default() -> Self {
        Self::new()
    }
}

impl Module {
    /// A module with the defaults above.
    pub fn new() -> Self {
        Self {
            imports: String::new(),
            pages: 2,
            heap: PAGE,
            allocator: Allocator::Bump,
            body: String::new(),
            manifest: None,
        }
    }

    /// Adds an import ([`LOG`], [`HTTP`], [`REPLY`], [`FIELD`] or any other): imports
    /// come first in the module, before the allocator's functions, as WAT requires.
    pub fn import(mut self, import: &str) -> Self {
        self.imports.push_str("\n  ");
        self.imports.push_str(import);
        self
    }

    /// Adds each of `imports`, in order.
    pub fn imports(self, imports: &[&str]) -> Self {
        imports.iter().fold(self, |module, i| module.import(i))
    }

    /// The exported memory's initial size, in pages.
    pub fn pages(mut self, pages: u32) -> Self {
        self.pages = pages;
        self
    }

    /// Where the allocator starts handing out memory.
    pub fn heap(mut self, at: u32) -> Self {
        self.heap = at;
        self
    }

    /// Which allocator the module exports.
    pub fn allocator(mut self, allocator: Allocator) -> Self {
        self.allocator = allocator;
        self
    }

    /// Appends WAT to the body.
    pub fn body(mut self, wat: &str) -> Self {
        self.body.push_str("\n  ");
        self.body.push_str(wat);
        self
    }

    /// The manifest, as JSON text, for the `ohd_manifest` custom section.
    pub fn manifest(mut self, json: &str) -> Self {
        self.manifest = Some(json.as_bytes().to_vec());
        self
    }

    /// The module's text, without the manifest.
    pub fn text(&self) -> String {
        format!(
            "(module{imports}\n  (memory (export \"memory\") {pages})\n  {allocator}{body})",
            imports = self.imports,
            pages = self.pages,
            allocator = self.allocator.wat(self.heap),
            body = self.body,
        )
    }

    /// The module's binary, with the manifest section last.
    ///
    /// # Panics
    /// When the text does not assemble, with the error and the whole text.
    pub fn wasm(&self) -> Vec<u8> {
        let wasm = assemble(&self.text());
        match &self.manifest {
            Some(manifest) => with_custom(wasm, "ohd_manifest", manifest),
            None => wasm,
        }
    }
}

/// Assembles a module's text.
///
/// # Panics
/// When the text does not assemble, with the error and the whole text.
pub fn assemble(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap_or_else(|e| panic!("bad test WAT: {e}\n{text}"))
}

/// The contents of a WAT string literal that stands for `bytes`: printable ASCII as
/// is, `"`, `\` and every other byte as a `\hh` escape.
pub fn wat_string(bytes: impl AsRef<[u8]>) -> String {
    let mut s = String::new();
    for &b in bytes.as_ref() {
        if b.is_ascii_graphic() && b != b'"' && b != b'\\' || b == b' ' {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("\\{b:02x}"));
        }
    }
    s
}

/// `(data (i32.const offset) "…")` for `bytes`.
pub fn data(offset: u32, bytes: impl AsRef<[u8]>) -> String {
    format!("(data (i32.const {offset}) \"{}\")", wat_string(bytes))
}

/// Appends a custom section `name` holding `contents` to a module's binary.
pub fn with_custom(mut wasm: Vec<u8>, name: &str, contents: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    leb128(&mut payload, name.len());
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(contents);
    wasm.push(0);
    leb128(&mut wasm, payload.len());
    wasm.extend_from_slice(&payload);
    wasm
}

/// Unsigned LEB128, as the binary format writes sizes.
fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allocator_assembles_with_every_import() {
        for allocator in [Allocator::Bump, Allocator::Growing, Allocator::Libc] {
            let wasm = Module::new()
                .imports(&[LOG, HTTP, REPLY, FIELD])
                .allocator(allocator)
                .body(r#"(func (export "on_event") (param i32 i32))"#)
                .wasm();
            assert_eq!(&wasm[..4], b"\0asm", "{allocator:?}");
        }
    }

    #[test]
    fn a_wat_string_stands_for_every_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let wasm = assemble(&format!("(module (memory 1) {})", data(0, &bytes)));
        assert!(
            wasm.windows(bytes.len()).any(|w| w == bytes),
            "the data segment does not hold the 256 bytes"
        );
    }

    #[test]
    fn the_manifest_is_a_custom_section_at_the_end() {
        // 200 bytes: a section size that takes two LEB128 bytes.
        let manifest = format!("{{\"id\":\"{}\"}}", "x".repeat(191));
        let wasm = Module::new().manifest(&manifest).wasm();
        let name = b"\x0cohd_manifest";
        let tail = [&[0u8, 0xd5, 0x01][..], name, manifest.as_bytes()].concat();
        assert_eq!(manifest.len() + name.len(), 0xd5);
        assert!(wasm.ends_with(&tail));
    }
}
