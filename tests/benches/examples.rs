//! The example plugins on the reference host, and the cost of decoding an event inside
//! a plugin: `cargo bench -p otai-plugin-e2e --bench examples`.
//!
//! Prints figures; asserts only that what it measures works (every module builds,
//! loads and delivers with outcome `ok` and the HTTP requests it should make).
//!
//! 1. Builds the examples from source with the workspace's CLI (`cargo otai-plugin
//!    build --release`) and `examples/c-hello` with clang when clang and wasm-ld are
//!    installed, then measures per example: module size, load (compile) time on a fresh
//!    host, cached load time, per-delivery time (fresh instance, the 2 KB
//!    `ticket.created` event, a `MockHttp` answering), deliveries per second on 1 and 2
//!    threads sharing one host.
//! 2. Builds `benches/decode-plugin` (wasm32, plugin profile, and again at opt-level 3)
//!    and calls its `decode_n` export through wasmtime on the host's own engine, then
//!    runs the same decode natively: per-decode times and the ratio.
//!
//! Modules are built into `bench-*` directories next to this bench's own target
//! directory. `OTAI_BENCH_RUNS` changes the number of timed deliveries (default 10000).

#[path = "decode-plugin/src/config.rs"]
mod decode_config;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use decode_config::Config as DecodeConfig;
use otai_plugin_host::abi::event::EventPayload;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{DeliveryReport, Event, Host, Outcome};
use serde_json::{Value, json};
use wasmtime::{Linker, Module, Store};

const WARMUP: usize = 1_000;
const DEFAULT_RUNS: usize = 10_000;
/// Fresh hosts compiling each module: the median is reported.
const LOADS: usize = 5;
/// Decodes per call of `decode_n`, and timed calls.
const DECODES_PER_BATCH: u32 = 1_000;
const DECODE_BATCHES: usize = 20;

fn main() {
    let runs = std::env::var("OTAI_BENCH_RUNS")
        .ok()
        .map(|r| r.parse().expect("OTAI_BENCH_RUNS is a number"))
        .unwrap_or(DEFAULT_RUNS);
    let out = bench_dir();
    println!("modules are built into {}", out.display());

    let examples = build_examples(&out);
    let event = event_2k();
    println!(
        "\nexample plugins on the default host (pooling, keep-resident 2 MiB, pagemap_scan), \
         2 KB `ticket.created` (priority Critical, category Software), new ticket id per \
         delivery, {runs} deliveries after {WARMUP} warm-up"
    );
    let mut rows = Vec::new();
    for example in &examples {
        rows.push(bench_example(example, &event, runs));
    }
    print_table(&rows);

    println!(
        "\ndecoding the 2 KB event into `Event<Config>`, {} decodes per figure",
        DECODES_PER_BATCH as usize * DECODE_BATCHES
    );
    bench_decode(&out);
}

/// The directory modules are built into: `<this bench's target dir>/bench-modules`.
fn bench_dir() -> PathBuf {
    // target/<profile>/deps/examples-<hash> -> target
    let exe = std::env::current_exe().expect("the bench's own path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the bench runs from target/<profile>/deps");
    target.join("bench-modules")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs `cmd`, failing loudly with its output when it fails. Returns stdout.
fn run(mut cmd: Command, what: &str) -> String {
    let output = cmd
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {cmd:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Builds the CLI in this bench's profile (cargo has released its lock once the bench
/// runs, and the host is already built there) and returns its path.
fn cli() -> PathBuf {
    let mut cmd = cargo();
    cmd.current_dir(workspace()).args([
        "build",
        "--profile",
        "bench",
        "-q",
        "-p",
        "cargo-otai-plugin",
        "--bin",
        "cargo-otai-plugin",
        "--message-format",
        "json-render-diagnostics",
    ]);
    let stdout = run(cmd, "building the `cargo-otai-plugin` CLI");
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported the `cargo-otai-plugin` executable")
}

struct Example {
    name: &'static str,
    wasm: Vec<u8>,
    config: Value,
    mock: MockHttp,
    /// Requests one delivery of the event makes.
    requests: usize,
}

/// Builds every example module; panics naming the one that did not build.
fn build_examples(out: &Path) -> Vec<Example> {
    let cli = cli();
    let target = out.join("examples");
    let crates = [
        ("minimal", "ohd-example-minimal", "ohd_example_minimal"),
        (
            "slack-notifications",
            "slack-notifications",
            "slack_notifications",
        ),
        ("pagerduty", "pagerduty", "pagerduty"),
        ("jira-linker", "jira-linker", "jira_linker"),
    ];
    let mut cmd = Command::new(&cli);
    cmd.current_dir(workspace())
        .env("CARGO_TARGET_DIR", &target)
        .env("NO_COLOR", "1")
        .args(["otai-plugin", "build", "--release"]);
    for (_, package, _) in crates {
        cmd.args(["-p", package]);
    }
    run(cmd, "`cargo otai-plugin build --release` of the examples");
    let read = |file: &Path| {
        std::fs::read(file).unwrap_or_else(|e| panic!("the built module {}: {e}", file.display()))
    };
    let release = target.join("wasm32-unknown-unknown/release");
    let mut examples: Vec<Example> = crates
        .iter()
        .map(|(name, _, file)| {
            let wasm = read(&release.join(format!("{file}.wasm")));
            let (config, mock, requests) = setup(name);
            Example {
                name,
                wasm,
                config,
                mock,
                requests,
            }
        })
        .collect();

    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if have("clang") && have("wasm-ld") {
        let dir = out.join("c-hello");
        let mut cmd = Command::new("sh");
        cmd.arg(workspace().join("examples/c-hello/build.sh"))
            .arg(&dir);
        run(cmd, "examples/c-hello/build.sh");
        examples.push(Example {
            name: "c-hello",
            wasm: read(&dir.join("c-hello.wasm")),
            config: json!({}),
            mock: MockHttp::new(),
            requests: 0,
        });
    } else {
        println!("c-hello: SKIPPED, clang and wasm-ld are needed to build it");
    }
    examples
}

/// The config each example needs and a mock answering its requests as the real
/// service does (the answers of the examples' own fixtures).
fn setup(name: &str) -> (Value, MockHttp, usize) {
    match name {
        "slack-notifications" => (
            json!({
                "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
                "channel": "#support",
                "mention_on_critical": true
            }),
            MockHttp::new()
                .on("POST", "https://hooks.slack.com/services/T000/B000/XXXX")
                .respond(200, "ok"),
            1,
        ),
        "pagerduty" => (
            json!({ "routing_key": "R0UT1NGKEY0000000000000000000001" }),
            MockHttp::new()
                .on("POST", "https://events.pagerduty.com/v2/enqueue")
                .respond(
                    202,
                    r#"{"status":"success","message":"Event processed","dedup_key":"ohd-T-1"}"#,
                ),
            1,
        ),
        "jira-linker" => (
            json!({
                "email": "agent@example.com",
                "api_token": "s3cr3t-t0ken",
                "project_key": "OPS"
            }),
            MockHttp::new()
                .on("POST", "https://example.atlassian.net/rest/api/2/issue")
                .respond(
                    201,
                    r#"{"id":"10042","key":"OPS-42","self":"https://example.atlassian.net/rest/api/2/issue/10042"}"#,
                ),
            1,
        ),
        _ => (json!({}), MockHttp::new(), 0),
    }
}

/// The ~2 KB `ticket.created` of the reference docs, with a 1.5 KB description; Critical
/// and in a category the JIRA example links, so every example does its full work.
fn event_2k() -> Event {
    Event::ticket_created()
        .description(&description())
        .priority("Critical")
        .category("Software")
}

/// A 1,500-byte ticket description.
fn description() -> String {
    let mut text = "The laptop was stolen from the car park on Tuesday evening. ".repeat(25);
    text.truncate(1500);
    text
}

/// One event per delivery, each for a new ticket: the examples that record what they
/// did on the ticket (PagerDuty's dedup key, JIRA's issue key) then do the same work
/// every time instead of skipping an already linked ticket.
fn events(event: &Event, prefix: &str, count: usize) -> Vec<Event> {
    (0..count)
        .map(|i| event.clone().with_ticket_id(&format!("{prefix}-{i}")))
        .collect()
}

struct Row {
    name: &'static str,
    size: usize,
    load: Duration,
    cached_load: Duration,
    one: Latency,
    two: Latency,
    instantiate_us: u64,
    call_us: u64,
}

struct Latency {
    median: Duration,
    p99: Duration,
    per_sec: f64,
}

fn latency(mut samples: Vec<Duration>, wall: Duration) -> Latency {
    samples.sort();
    let n = samples.len();
    Latency {
        median: samples[n / 2],
        p99: samples[n * 99 / 100],
        per_sec: n as f64 / wall.as_secs_f64(),
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn host(example: &Example) -> Host {
    Host::builder()
        .http(example.mock.clone())
        .build()
        .expect("the default host builds")
}

/// Checks that a delivery did the example's work; panics with the report if not.
fn check(example: &Example, report: &DeliveryReport) {
    let ok = report.outcome == Outcome::Ok
        && report.http.len() == example.requests
        && report.http.iter().all(|h| (200..300).contains(&h.status));
    assert!(
        ok,
        "{}: the delivery did not do its work: {}",
        example.name,
        serde_json::to_string_pretty(report).unwrap_or_default()
    );
}

fn bench_example(example: &Example, event: &Event, runs: usize) -> Row {
    // Compile time: each load on a host that has never seen the module.
    let load = median(
        (0..LOADS)
            .map(|_| {
                let host = host(example);
                let t = Instant::now();
                let plugin = host.load(&example.wasm);
                let elapsed = t.elapsed();
                plugin.unwrap_or_else(|e| panic!("{}: does not load: {e}", example.name));
                elapsed
            })
            .collect(),
    );

    let host = host(example);
    let plugin = host.load(&example.wasm).expect("loaded above");
    let cached_load = median(
        (0..100)
            .map(|_| {
                let t = Instant::now();
                let again = host.load(&example.wasm);
                let elapsed = t.elapsed();
                assert!(again.is_ok());
                elapsed
            })
            .collect(),
    );
    host.install(&plugin, example.config.clone())
        .unwrap_or_else(|e| panic!("{}: config refused: {e}", example.name));
    let id = plugin.id().to_owned();

    for (i, e) in events(event, "W", WARMUP).iter().enumerate() {
        let report = host.deliver_to(&id, e).expect("installed and subscribed");
        if i == 0 {
            check(example, &report);
        }
    }
    // The mock records every request: clear the record between phases.
    let clear = || example.mock.replace_rules(&setup(example.name).1);
    clear();

    let batch = events(event, "A", runs);
    let mut samples = Vec::with_capacity(runs);
    let mut instantiate = Vec::with_capacity(runs);
    let mut call = Vec::with_capacity(runs);
    let wall = Instant::now();
    for e in &batch {
        let t = Instant::now();
        let report = host.deliver_to(&id, e).expect("installed and subscribed");
        samples.push(t.elapsed());
        instantiate.push(report.timings.instantiate_us);
        call.push(report.timings.call_us);
        debug_assert_eq!(report.outcome, Outcome::Ok);
    }
    let one = latency(samples, wall.elapsed());
    check(
        example,
        &host.deliver_to(&id, &batch[0]).expect("installed"),
    );
    drop(batch);
    clear();

    // Two threads share the host, each with half of the deliveries.
    let halves = [events(event, "B", runs / 2), events(event, "C", runs / 2)];
    let wall = Instant::now();
    let samples: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| {
                let (host, id) = (&host, &id);
                s.spawn(move || {
                    half.iter()
                        .map(|e| {
                            let t = Instant::now();
                            let report = host.deliver_to(id, e).expect("installed");
                            let elapsed = t.elapsed();
                            assert_eq!(report.outcome, Outcome::Ok);
                            elapsed
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a delivering thread panicked"))
            .collect()
    });
    let two = latency(samples, wall.elapsed());
    clear();

    instantiate.sort_unstable();
    call.sort_unstable();
    Row {
        name: example.name,
        size: example.wasm.len(),
        load,
        cached_load,
        one,
        two,
        instantiate_us: instantiate[instantiate.len() / 2],
        call_us: call[call.len() / 2],
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<20} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>6} {:>6} {:>8} | {:>9} {:>9} {:>8}",
        "plugin",
        "bytes",
        "load ms",
        "cached µs",
        "1t med µs",
        "1t p99 µs",
        "inst",
        "call",
        "1t /s",
        "2t med µs",
        "2t p99 µs",
        "2t /s"
    );
    for r in rows {
        println!(
            "{:<20} {:>9} {:>9.1} {:>9.2} | {:>9.1} {:>9.1} {:>6} {:>6} {:>8.0} | {:>9.1} {:>9.1} {:>8.0}",
            r.name,
            r.size,
            r.load.as_secs_f64() * 1e3,
            us(r.cached_load),
            us(r.one.median),
            us(r.one.p99),
            r.instantiate_us,
            r.call_us,
            r.one.per_sec,
            us(r.two.median),
            us(r.two.p99),
            r.two.per_sec,
        );
    }
    println!(
        "(load: median of {LOADS} compiles on fresh hosts; cached: a second `load` of the same \
         bytes; 1t/2t: one thread / two threads sharing the host; inst/call: median µs the \
         report attributes to instantiation and to the `on_event` call)"
    );
}

/// The payload bytes as the host sends them to the probe's config: fields in ABI
/// order, compact.
fn decode_payload() -> Vec<u8> {
    let config = json!({
        "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
        "channel": "#support",
        "mention_on_critical": false
    });
    let value = Event::ticket_created()
        .description(&description())
        .to_payload(&config);
    let ordered: EventPayload<Value> =
        serde_json::from_value(value).expect("the host's event is a valid payload");
    serde_json::to_vec(&ordered).expect("serializes")
}

/// The same loop as the probe's `decode_n`, compiled natively with this bench.
fn decode_native(payload: &[u8], n: u32) -> u32 {
    let mut ok = 0;
    for _ in 0..n {
        if let Ok(event) =
            otai_plugin_sdk::Event::<DecodeConfig>::from_json(std::hint::black_box(payload))
        {
            std::hint::black_box(&event);
            ok += 1;
        }
    }
    ok
}

/// Per-decode time: the median of `DECODE_BATCHES` timed batches, after one warm-up.
fn per_decode(mut batch: impl FnMut() -> u32) -> Duration {
    assert_eq!(batch(), DECODES_PER_BATCH, "every decode succeeds");
    median(
        (0..DECODE_BATCHES)
            .map(|_| {
                let t = Instant::now();
                let ok = batch();
                let elapsed = t.elapsed();
                assert_eq!(ok, DECODES_PER_BATCH);
                elapsed / DECODES_PER_BATCH
            })
            .collect(),
    )
}

/// Builds the probe with the plugin profile, `opt-level` overridden when given.
fn build_probe(out: &Path, opt_level: Option<&str>) -> Vec<u8> {
    let dir = workspace().join("tests/benches/decode-plugin");
    let target = out.join(format!("decode-{}", opt_level.unwrap_or("plugin-profile")));
    let mut cmd = cargo();
    cmd.current_dir(&dir)
        .args([
            "build",
            "-q",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target);
    if let Some(level) = opt_level {
        cmd.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", level);
    }
    run(cmd, "building the decode probe");
    let file = target.join("wasm32-unknown-unknown/release/otai_decode_probe.wasm");
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Decodes through wasmtime on the default host's engine (its exact configuration:
/// pooling, epoch interruption), one instance, no per-call instantiation.
fn decode_in_wasm(wasm: &[u8], payload: &[u8]) -> Duration {
    let host = Host::builder()
        .http(MockHttp::new())
        .build()
        .expect("host");
    let engine = host.engine();
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
    per_decode(|| {
        decode
            .call(&mut store, (ptr, len, DECODES_PER_BATCH))
            .expect("decode_n returns")
    })
}

fn bench_decode(out: &Path) {
    let payload = decode_payload();
    let native = per_decode(|| decode_native(&payload, DECODES_PER_BATCH));
    println!(
        "{:<52} {:>8.3} µs per decode",
        format!("native (bench profile, opt-level 3), {} bytes", payload.len()),
        us(native)
    );
    for (label, level) in [
        ("wasm, plugin profile (opt-level \"s\", LTO)", None),
        ("wasm, opt-level 3, LTO", Some("3")),
    ] {
        let wasm = build_probe(out, level);
        let time = decode_in_wasm(&wasm, &payload);
        println!(
            "{:<52} {:>8.3} µs per decode   {:>5.2}x native   ({} bytes module)",
            label,
            us(time),
            time.as_secs_f64() / native.as_secs_f64(),
            wasm.len()
        );
    }
}
