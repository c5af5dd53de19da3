//! Part 2 of `benches/examples.rs`: the decode probe of this directory run through
//! wasmtime, against the same decode compiled natively.

#[path = "src/config.rs"]
mod config;

use std::path::Path;
use std::time::{Duration, Instant};

use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host};
use serde_json::json;
use wasmtime::{Linker, Module, Store};

use super::{build_wasm, description, median, payload_bytes, us, workspace};

/// Decodes per call of `decode_n`, and timed calls.
const DECODES_PER_BATCH: u32 = 1_000;
const DECODE_BATCHES: usize = 50;

/// One batch of `DECODES_PER_BATCH` decodes; returns how many succeeded.
type Batch<'a> = Box<dyn FnMut() -> u32 + 'a>;

/// The payload the host sends the probe's config.
fn decode_payload() -> Vec<u8> {
    let config = json!({
        "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
        "channel": "#support",
        "mention_on_critical": false
    });
    payload_bytes(
        &Event::ticket_created().description(&description()),
        &config,
    )
}

/// The same loop as the probe's `decode_n`, compiled natively with this bench.
fn decode_native(payload: &[u8], n: u32) -> u32 {
    let mut ok = 0;
    for _ in 0..n {
        if let Ok(event) =
            otai_plugin_sdk::Event::<config::Config>::from_json(std::hint::black_box(payload))
        {
            std::hint::black_box(&event);
            ok += 1;
        }
    }
    ok
}

/// Builds the probe with the plugin profile, `opt-level` overridden when given.
fn build_probe(out: &Path, opt_level: Option<&str>) -> Vec<u8> {
    let dir = workspace().join("tests/benches/decode-plugin");
    let target = out.join(format!("decode-{}", opt_level.unwrap_or("plugin-profile")));
    let env: Vec<(&str, &str)> = opt_level
        .map(|level| ("CARGO_PROFILE_RELEASE_OPT_LEVEL", level))
        .into_iter()
        .collect();
    build_wasm(&dir, &target, "otai-decode-probe", &env)
}

/// The probe instantiated once on `engine`, with the payload in its memory: each call
/// decodes it `DECODES_PER_BATCH` times, without instantiation.
fn wasm_decoder(engine: &wasmtime::Engine, wasm: &[u8], payload: &[u8]) -> impl FnMut() -> u32 {
    let module = Module::new(engine, wasm).expect("the probe compiles");
    let mut linker: Linker<()> = Linker::new(engine);
    linker
        .define_unknown_imports_as_traps(&module)
        .expect("imports");
    let mut store = Store::new(engine, ());
    // The host's engine interrupts on epochs; the probe runs far less than this.
    store.set_epoch_deadline(1 << 40);
    let instance = linker
        .instantiate(&mut store, &module)
        .expect("the probe instantiates");
    let alloc = instance
        .get_typed_func::<u32, u32>(&mut store, "ohd_alloc")
        .expect("the SDK exports `ohd_alloc`");
    let decode = instance
        .get_typed_func::<(u32, u32, u32), u32>(&mut store, "decode_n")
        .expect("the probe exports `decode_n`");
    let memory = instance
        .get_memory(&mut store, "memory")
        .expect("exports memory");
    let len = u32::try_from(payload.len()).expect("a small payload");
    let ptr = alloc.call(&mut store, len).expect("allocates");
    memory
        .write(&mut store, ptr as usize, payload)
        .expect("in bounds");
    move || {
        decode
            .call(&mut store, (ptr, len, DECODES_PER_BATCH))
            .expect("decode_n returns")
    }
}

/// Native decode against the probe built with the plugin profile and at opt-level 3,
/// run through wasmtime on the default host's engine (its exact configuration:
/// pooling, epoch interruption), and the plugin profile's probe on wasmtime's default
/// engine, which has no epoch interruption. Batches of the four alternate, so that
/// other load on the machine hits them alike; each figure is the median batch / batch
/// size.
pub(super) fn bench(out: &Path) {
    println!(
        "\ndecoding the 2 KB event into `Event<'_, Config>`, {} decodes per figure",
        DECODES_PER_BATCH as usize * DECODE_BATCHES
    );
    let payload = decode_payload();
    let plugin_profile = build_probe(out, None);
    let opt3 = build_probe(out, Some("3"));
    let host = Host::builder().http(MockHttp::new()).build().expect("host");
    let no_epochs = wasmtime::Engine::default();
    // What `cargo otai-plugin build --release` writes when Binaryen is installed, the
    // size-first `-Oz`, and opt-level 3 made smaller by `wasm-opt`.
    let optimized = [
        (
            "plugin profile + wasm-opt -O3 (the CLI's)",
            &plugin_profile,
            "-O3",
        ),
        ("plugin profile + wasm-opt -Oz", &plugin_profile, "-Oz"),
        ("opt-level 3, LTO + wasm-opt -O3", &opt3, "-O3"),
    ]
    .map(|(label, wasm, level)| (label, wasm_opt(out, wasm, level)));
    let mut variants: Vec<(String, usize, Batch<'_>)> = vec![
        (
            format!(
                "native (bench profile, opt-level 3), {} bytes",
                payload.len()
            ),
            0,
            Box::new(|| decode_native(&payload, DECODES_PER_BATCH)),
        ),
        (
            "wasm, plugin profile (opt-level \"s\", LTO)".to_owned(),
            plugin_profile.len(),
            Box::new(wasm_decoder(host.engine(), &plugin_profile, &payload)),
        ),
        (
            // What the deadline costs: the host's engine checks the epoch at every
            // function entry and loop back-edge.
            "wasm, plugin profile, no epoch checks".to_owned(),
            plugin_profile.len(),
            Box::new(wasm_decoder(&no_epochs, &plugin_profile, &payload)),
        ),
        (
            "wasm, opt-level 3, LTO".to_owned(),
            opt3.len(),
            Box::new(wasm_decoder(host.engine(), &opt3, &payload)),
        ),
    ];
    for (label, wasm) in &optimized {
        match wasm {
            Some(wasm) => variants.push((
                format!("wasm, {label}"),
                wasm.len(),
                Box::new(wasm_decoder(host.engine(), wasm, &payload)),
            )),
            None => println!("wasm, {label}: SKIPPED, `wasm-opt` is not on PATH"),
        }
    }
    let mut samples = vec![Vec::with_capacity(DECODE_BATCHES); variants.len()];
    for round in 0..=DECODE_BATCHES {
        for (i, (_, _, batch)) in variants.iter_mut().enumerate() {
            let t = Instant::now();
            let ok = batch();
            let elapsed = t.elapsed();
            assert_eq!(ok, DECODES_PER_BATCH, "every decode succeeds");
            // Round 0 warms up.
            if round > 0 {
                samples[i].push(elapsed / DECODES_PER_BATCH);
            }
        }
    }
    let times: Vec<Duration> = samples.into_iter().map(median).collect();
    for ((label, size, _), time) in variants.iter().zip(&times) {
        let module = if *size > 0 {
            format!(
                "{:>5.2}x native   ({size} bytes module)",
                time.as_secs_f64() / times[0].as_secs_f64()
            )
        } else {
            String::new()
        };
        let line = format!("{label:<52} {:>8.3} µs per decode   {module}", us(*time));
        println!("{}", line.trim_end());
    }
}

/// `wasm-opt LEVEL` on `wasm`, or `None` when Binaryen is not installed. The features
/// are those rustc emits by default; the CLI enables every one docs/ABI.md accepts
/// (`FEATURE_FLAGS` in `cargo-otai-plugin/src/wasm_opt.rs`, which no crate may depend
/// on), and the output is the same bytes either way (docs/PERFORMANCE.md, stop 30).
fn wasm_opt(out: &Path, wasm: &[u8], level: &str) -> Option<Vec<u8>> {
    let input = out.join(format!("decode-probe-{}.wasm", wasm.len()));
    let output = out.join(format!("decode-probe-{}{level}.wasm", wasm.len()));
    std::fs::write(&input, wasm).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
    let status = std::process::Command::new("wasm-opt")
        .arg(level)
        .args([
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-nontrapping-float-to-int",
            "--enable-simd",
            "--enable-bulk-memory",
            "--enable-multivalue",
            "--enable-reference-types",
        ])
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .status()
        .ok()?;
    assert!(status.success(), "`wasm-opt {level}` failed on the probe");
    Some(std::fs::read(&output).unwrap_or_else(|e| panic!("{}: {e}", output.display())))
}
