//! What signing and verifying a 64 KiB plugin cost:
//! `cargo bench --workspace --bench signing`.
//!
//! Prints figures (median and fastest of `OTAI_BENCH_RUNS` rounds, default 200) and
//! asserts only that each signed module verifies. Signing is the work of
//! `cargo otai-plugin sign` (cargo-otai-plugin/src/signing.rs) on bytes already read,
//! the key parsed once: the module's signatures read for this key, then wasmsign2's
//! `sign_multi` and the module written out. It is repeated here rather than called, so
//! that the bench does not link the CLI, and with it wasmtime, in the bench profile.
//! Verifying is what a host that requires a trusted signer adds to a load:
//! `verify_signatures` with one trusted key and its rule.

use std::time::{Duration, Instant};

use otai_plugin_abi::module::signature::{PublicKey, verify_signatures};
use otai_plugin_abi::module::{AcceptOptions, Acceptance, accept};

const DEFAULT_RUNS: usize = 200;
const SIZE: usize = 64 * 1024;

/// A plugin of `SIZE` bytes: the ABI's exports, a manifest, and a data segment filling
/// the rest with bytes that do not compress to nothing.
fn plugin() -> Vec<u8> {
    let manifest = r#"{"id":"com.example.bench","name":"Bench","version":"1.0.0","description":"Signed.","events":["ticket.created"]}"#;
    let module = |data_len: usize| {
        let data: String = (0..data_len)
            .map(|i| format!("\\{:02x}", (i * 7919 % 251) as u8))
            .collect();
        wat::parse_str(format!(
            r#"(module
                (memory (export "memory") 2)
                (func (export "ohd_alloc") (param i32) (result i32) i32.const 16)
                (func (export "ohd_free") (param i32 i32))
                (func (export "on_event") (param i32 i32))
                (data (i32.const 1024) "{data}")
                (@custom "ohd_manifest" "{}"))"#,
            manifest.replace('"', "\\\"")
        ))
        .expect("the bench's module assembles")
    };
    let overhead = module(0).len();
    let bytes = module(SIZE - overhead - 4);
    assert!(!accept(&bytes, &AcceptOptions::default()).has_errors());
    bytes
}

fn summary(mut times: Vec<Duration>) -> String {
    times.sort();
    format!(
        "median {:>8.1} µs, fastest {:>8.1} µs",
        times[times.len() / 2].as_secs_f64() * 1e6,
        times[0].as_secs_f64() * 1e6
    )
}

fn main() {
    let runs = std::env::var("OTAI_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RUNS);
    let module = plugin();
    let pair = wasmsign2::KeyPair::generate();
    let public = PublicKey::from_bytes(*pair.pk.pk);
    let trusted = [public];
    let key_id = public.fingerprint().0.to_vec();
    let sign = |module: &[u8]| {
        // As `signing::sign`: is it signed by this key already?
        assert!(!verify_signatures(module, &trusted).is_trusted());
        let parsed = wasmsign2::Module::deserialize(&mut std::io::Cursor::new(module))
            .expect("the module reads");
        let (signed, _) = pair
            .sk
            .sign_multi(parsed, Some(&key_id), false, false)
            .expect("signs");
        let mut bytes = Vec::with_capacity(module.len() + 256);
        signed.serialize(&mut bytes).expect("writes");
        bytes
    };

    let mut signing = Vec::with_capacity(runs);
    let mut verifying = Vec::with_capacity(runs);
    let mut signed = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        signed = sign(&module);
        signing.push(start.elapsed());

        let start = Instant::now();
        let verification = verify_signatures(&signed, &trusted);
        let mut verdict = Acceptance::default();
        verification.require(&mut verdict);
        verifying.push(start.elapsed());
        assert!(verification.is_trusted() && !verdict.has_errors());
    }
    println!(
        "module: {} bytes unsigned, {} signed; {runs} rounds",
        module.len(),
        signed.len()
    );
    println!("sign:   {}", summary(signing));
    println!("verify: {}", summary(verifying));
}
