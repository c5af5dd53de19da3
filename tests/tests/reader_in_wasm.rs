//! The SDK's JSON reader scans strings 16 bytes at a time with SIMD inside wasm and
//! eight at a time in a `u64` natively (`sdk/src/json/read.rs`, `skip_plain`): the
//! native unit tests do not run the wasm code. This test builds a probe module around
//! the reader (`tests/probes/json-reader`) and holds it to the native reader on strings
//! with each kind of byte that ends a plain run, at every offset across the 16-byte
//! blocks.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::Command;

use otai_plugin_sdk::json;
use otai_plugin_sdk::serde::de::IgnoredAny;
use wasmtime::{Engine, Instance, Memory, Module, Store, TypedFunc};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Builds the probe (the plugin profile: the code plugins run) and returns its bytes.
fn probe_wasm() -> Vec<u8> {
    let dir = workspace().join("tests/probes/json-reader");
    // A target directory of its own: the outer `cargo test` may still hold the lock of
    // the workspace's.
    let target = workspace().join("target/e2e-probes");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-unknown-unknown",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building the probe failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let wasm = target.join("wasm32-unknown-unknown/release/otai_json_reader_probe.wasm");
    std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()))
}

/// What a reader made of some bytes: a string's value, or the offset of the error.
type Verdict = Result<Vec<u8>, u64>;

struct Probe {
    store: Store<()>,
    memory: Memory,
    input: u32,
    output: u32,
    string: TypedFunc<(u32, u32, u32), i64>,
    skip: TypedFunc<(u32, u32), i64>,
}

const CAPACITY: u32 = 4096;

impl Probe {
    fn new(wasm: &[u8]) -> Self {
        let engine = Engine::default();
        let module = Module::new(&engine, wasm).expect("the probe compiles");
        assert!(
            module.imports().len() == 0,
            "the probe imports nothing: {:?}",
            module.imports().map(|i| i.name()).collect::<Vec<_>>()
        );
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
        let alloc = instance
            .get_typed_func::<u32, u32>(&mut store, "ohd_alloc")
            .expect("the SDK exports `ohd_alloc`");
        let input = alloc.call(&mut store, CAPACITY).expect("allocates");
        let output = alloc.call(&mut store, CAPACITY).expect("allocates");
        Probe {
            memory: instance
                .get_memory(&mut store, "memory")
                .expect("exports memory"),
            string: instance
                .get_typed_func(&mut store, "json_string")
                .expect("exports json_string"),
            skip: instance
                .get_typed_func(&mut store, "json_skip")
                .expect("exports json_skip"),
            store,
            input,
            output,
        }
    }

    fn write(&mut self, bytes: &[u8]) -> u32 {
        assert!(bytes.len() < CAPACITY as usize);
        self.memory
            .write(&mut self.store, self.input as usize, bytes)
            .expect("in bounds");
        bytes.len() as u32
    }

    fn string(&mut self, json: &[u8]) -> Verdict {
        let len = self.write(json);
        let n = self
            .string
            .call(&mut self.store, (self.input, len, self.output))
            .expect("the probe does not trap");
        let n = u64::try_from(n).map_err(|_| (-1 - n) as u64)?;
        let mut value = vec![0; n as usize];
        self.memory
            .read(&self.store, self.output as usize, &mut value)
            .expect("in bounds");
        Ok(value)
    }

    fn skip(&mut self, json: &[u8]) -> Result<(), u64> {
        let len = self.write(json);
        let n = self
            .skip
            .call(&mut self.store, (self.input, len))
            .expect("the probe does not trap");
        if n == 0 { Ok(()) } else { Err((-1 - n) as u64) }
    }
}

fn native_string(json: &[u8]) -> Verdict {
    json::from_slice::<Cow<'_, str>>(json)
        .map(|s| s.as_bytes().to_vec())
        .map_err(|e| e.offset() as u64)
}

fn native_skip(json: &[u8]) -> Result<(), u64> {
    json::from_slice::<IgnoredAny>(json)
        .map(drop)
        .map_err(|e| e.offset() as u64)
}

#[test]
fn strings_decode_inside_wasm_as_natively_at_every_offset() {
    let mut probe = Probe::new(&probe_wasm());

    // What can follow a run of plain bytes, and plain bytes a scan must not stop at.
    let inserts: [&[u8]; 13] = [
        b"\"",             // the end of the string: what follows is trailing text
        b"\\n",            // an escape
        b"\\\"",           // an escaped quote
        b"\\u00e9",        // a \u escape
        b"\\ud83d\\ude00", // a surrogate pair
        b"\\q",            // an invalid escape
        b"\\",             // a lone backslash: escapes what follows
        b"\x00",           // control characters
        b"\x1f",
        b" ",           // the first byte that is not one
        b"\x7f",        // DEL is not a control character in JSON
        "é".as_bytes(), // bytes with the high bit set
        b"!#[]{}:,",    // punctuation next to the special ones
    ];
    let mut checked = 0;
    for len in 0..=40 {
        for at in 0..=len {
            for insert in inserts {
                let mut json = b"\"".to_vec();
                json.extend((0..at).map(|i| b'a' + (i % 26) as u8));
                json.extend_from_slice(insert);
                json.extend((at..len).map(|i| b'A' + (i % 26) as u8));
                json.push(b'"');
                let shown = String::from_utf8_lossy(&json).into_owned();
                assert_eq!(
                    probe.string(&json),
                    native_string(&json),
                    "string {shown:?}"
                );
                // The same string, read over as an array item.
                let array = [b"[".as_slice(), &json, b", 1]"].concat();
                assert_eq!(probe.skip(&array), native_skip(&array), "skip {shown:?}");
                // The same string as a member's key and value, read over.
                let object = [b"{".as_slice(), &json, b": ", &json, b"}"].concat();
                assert_eq!(
                    probe.skip(&object),
                    native_skip(&object),
                    "object {shown:?}"
                );
                // Unterminated: the scan runs to the end of the text.
                let cut = &json[..json.len() - 1];
                assert_eq!(probe.string(cut), native_string(cut), "cut {shown:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 861 * inserts.len());

    // The verdicts themselves, not only their agreement: a string that spans blocks,
    // a control character found in the second block, the text ending inside one.
    let long = format!("\"{}\"", "x".repeat(35));
    assert_eq!(probe.string(long.as_bytes()), Ok(vec![b'x'; 35]));
    let control = [b"\"".as_slice(), &[b'x'; 20], b"\x01\""].concat();
    assert_eq!(probe.string(&control), Err(21));
    let open = format!("\"{}", "x".repeat(20));
    assert_eq!(probe.string(open.as_bytes()), Err(21));
    assert_eq!(
        probe.string("\"ab\\u00e9\\\"cd\"".as_bytes()),
        Ok("abé\"cd".as_bytes().to_vec())
    );
}
