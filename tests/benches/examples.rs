//! The example plugins on the reference host, and the cost of decoding an event inside
//! a plugin: `cargo bench -p otai-plugin-e2e --bench examples`.
//!
//! Prints figures; asserts only that what it measures works (every module builds,
//! loads and delivers with outcome `ok` and the HTTP requests it should make).
//!
//! 1. Builds the examples from source with the workspace's CLI (`cargo otai-plugin
//!    build --release`) and `examples/c-hello` with clang when clang and wasm-ld are
//!    installed, and the `minimal` template of `cargo otai-plugin new`, then measures
//!    per example: module size, load (compile) time on a fresh
//!    host, cached load time, per-delivery time (fresh instance, the 2 KB
//!    `ticket.created` event, a `MockHttp` answering), deliveries per second on 1 and 2
//!    threads sharing one host.
//! 2. Builds `benches/decode-plugin` (wasm32, plugin profile, and again at opt-level 3;
//!    each also through `wasm-opt` when it is installed) and calls its `decode_n` export
//!    through wasmtime on the host's own engine, then runs the same decode natively:
//!    per-decode times and the ratio.
//! 3. Levers: slack-notifications linked with the workspace's 64 KiB stack and with
//!    Rust's default 1 MiB, each on a host with and without `pagemap_scan`, measured in
//!    alternating rounds so that other load on the machine hits all four alike.
//! 4. Flavours: slack-notifications built as a core module and as a component
//!    (`--component`, docs/ABI.md section 14): size, compile time, and fresh-instance
//!    delivery in alternating rounds.
//! 5. Baseline: one handler written by hand on raw wasmtime with the reference host's
//!    settings and with the SDK on the reference host (`benches/baseline`), and a no-op
//!    module on both: per-delivery time, size and load time as ratios from one run.
//!
//! The CLI is built in this bench's target directory and profile (cargo has released
//! its lock by the time a bench runs); modules are built into `bench-modules/` there.
//! `OTAI_BENCH_RUNS` changes the number of timed deliveries (default 10000);
//! `OTAI_BENCH_ONLY=examples`, `=levers`, `=decode`, `=flavours` or `=baseline` runs one
//! part. Figures and how
//! to read them: `docs/PERFORMANCE.md`.

/// Part 2, beside the probe it drives.
#[path = "decode-plugin/measure.rs"]
mod decode;

/// Part 5, beside the two plugins it compares.
#[path = "baseline/measure.rs"]
mod baseline;
/// The examples' configs, mocks and event, shared with `tests/examples.rs`.
mod workload;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otai_plugin_host::abi::event::EventPayload;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{DeliveryReport, Event, Host, Outcome};
use serde_json::{Value, json};
use workload::{description, event_2k, setup};

const WARMUP: usize = 1_000;
const DEFAULT_RUNS: usize = 10_000;
/// Fresh hosts compiling each module: the median is reported.
const LOADS: usize = 5;

fn main() {
    let runs = std::env::var("OTAI_BENCH_RUNS")
        .ok()
        .map(|r| r.parse().expect("OTAI_BENCH_RUNS is a number"))
        .unwrap_or(DEFAULT_RUNS);
    let only = std::env::var("OTAI_BENCH_ONLY").unwrap_or_default();
    let out = bench_dir();
    println!("modules are built into {}", out.display());

    if only.is_empty() || only == "examples" {
        let examples = build_examples(&out);
        let event = event_2k();
        println!(
            "\nexample plugins on the default host (pooling, keep-resident 2 MiB, pagemap_scan), \
             2 KB `ticket.created` (priority Critical, category Software), new ticket id per \
             delivery, {runs} deliveries after {WARMUP} warm-up"
        );
        print_header();
        for example in &examples {
            print_row(&bench_example(example, &event, runs));
        }
        println!(
            "(load: median of {LOADS} compiles on fresh hosts; cached: a second `load` of the \
             same bytes; 1t/2t: one thread / two threads sharing the host; 2h: two threads, a \
             host each; inst/call: median \
             µs the report attributes to instantiation and to the `on_event` call)"
        );
    }

    if only.is_empty() || only == "levers" {
        bench_levers(&out);
    }

    if only.is_empty() || only == "decode" {
        decode::bench(&out);
    }

    if only.is_empty() || only == "flavours" {
        bench_flavours(&out);
    }

    if only.is_empty() || only == "baseline" {
        baseline::bench(&out);
    }
}

/// One timed delivery (checked by the variant itself).
type Variant<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// Runs the variants in `rounds` rounds after a warm-up round, each `per_round` times
/// in a row, so that other load on the machine hits every variant alike; `between`
/// runs after each variant's turn. Returns each variant's times.
fn alternate(
    rounds: usize,
    per_round: usize,
    variants: &mut [Variant<'_>],
    mut between: impl FnMut(),
) -> Vec<Vec<Duration>> {
    let mut samples = vec![Vec::with_capacity(rounds * per_round); variants.len()];
    for round in 0..=rounds {
        for (variant, samples) in variants.iter_mut().zip(&mut samples) {
            for _ in 0..per_round {
                let elapsed = variant();
                if round > 0 {
                    samples.push(elapsed);
                }
            }
            between();
        }
    }
    samples
}

/// This bench's target directory.
fn target_dir() -> PathBuf {
    // target/<profile>/deps/examples-<hash> -> target
    let exe = std::env::current_exe().expect("the bench's own path");
    exe.ancestors()
        .nth(3)
        .expect("the bench runs from target/<profile>/deps")
        .to_path_buf()
}

/// The directory modules are built into.
fn bench_dir() -> PathBuf {
    target_dir().join("bench-modules")
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

/// Builds the CLI in this bench's target directory and profile (the host is already
/// built there) and returns its path.
fn cli() -> PathBuf {
    let mut cmd = cargo();
    cmd.current_dir(workspace())
        .args(["build", "--target-dir"])
        .arg(target_dir());
    cmd.args([
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

/// Example name, package, module file stem.
const CRATES: [(&str, &str, &str); 4] = [
    ("minimal", "ohd-example-minimal", "ohd_example_minimal"),
    (
        "slack-notifications",
        "slack-notifications",
        "slack_notifications",
    ),
    ("pagerduty", "pagerduty", "pagerduty"),
    ("jira-linker", "jira-linker", "jira_linker"),
];

/// `cargo otai-plugin build --release` into `target`: the four Rust examples, or with
/// `rustflags` (replacing the workspace's wasm32 flags) slack-notifications alone.
fn build_with_cli(cli: &Path, target: &Path, rustflags: &[&str]) {
    let mut cmd = Command::new(cli);
    cmd.current_dir(workspace())
        .env("CARGO_TARGET_DIR", target)
        .env("NO_COLOR", "1")
        .args(["otai-plugin", "build", "--release"]);
    if rustflags.is_empty() {
        for (_, package, _) in CRATES {
            cmd.args(["-p", package]);
        }
    } else {
        cmd.env("RUSTFLAGS", rustflags.join(" "))
            .args(["-p", "slack-notifications"]);
    }
    run(cmd, "`cargo otai-plugin build --release` of the examples");
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
    build_with_cli(&cli, &out.join("examples"), &[]);
    let target = out.join("examples");
    let read = |file: &Path| {
        std::fs::read(file).unwrap_or_else(|e| panic!("the built module {}: {e}", file.display()))
    };
    let release = target.join("wasm32-unknown-unknown/release");
    let mut examples: Vec<Example> = CRATES
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

    examples.push(Example {
        name: "minimal template",
        wasm: build_template(&cli, out),
        config: json!({}),
        mock: MockHttp::new(),
        requests: 0,
    });

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

/// The `minimal` template as `cargo otai-plugin new` writes it (a new copy every run,
/// so that it is today's template), built by `cargo otai-plugin build --release`.
fn build_template(cli: &Path, out: &Path) -> Vec<u8> {
    let dir = out.join("template-minimal");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .unwrap_or_else(|e| panic!("removing the last run's {}: {e}", dir.display()));
    }
    let mut new = Command::new(cli);
    new.args(["otai-plugin", "new", "-q", "--template", "minimal"])
        .arg(&dir)
        .arg("--sdk-path")
        .arg(workspace());
    run(new, "`cargo otai-plugin new --template minimal`");
    // Its target directory outlives the copy: later runs do not compile the SDK again.
    let target = out.join("template-target");
    let mut build = Command::new(cli);
    build
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .env("NO_COLOR", "1")
        .args(["otai-plugin", "build", "--release"]);
    run(
        build,
        "`cargo otai-plugin build --release` of the `minimal` template",
    );
    let file = target.join("wasm32-unknown-unknown/release/template_minimal.wasm");
    std::fs::read(&file).unwrap_or_else(|e| panic!("the built template {}: {e}", file.display()))
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
    two_hosts: Latency,
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

/// Median time of [`LOADS`] loads (compiles) of `wasm`, each on a new host from `host`,
/// which has never seen it. `what` names the module if it does not load.
fn fresh_load_time(wasm: &[u8], what: &str, host: impl Fn() -> Host) -> Duration {
    median(
        (0..LOADS)
            .map(|_| {
                let host = host();
                let t = Instant::now();
                let plugin = host.load(wasm);
                let elapsed = t.elapsed();
                plugin.unwrap_or_else(|e| panic!("{what}: does not load: {e}"));
                elapsed
            })
            .collect(),
    )
}

/// Builds `package` of the workspace in `dir` (one of this bench's own, built only for
/// wasm32) with its release profile into `target`, and returns the module. Run from
/// inside the repository, so that its `.cargo/config.toml` (the 64 KiB stack) applies;
/// one package per build, so that no other package's features reach it. `env` adds
/// cargo settings (a profile override).
fn build_wasm(dir: &Path, target: &Path, package: &str, env: &[(&str, &str)]) -> Vec<u8> {
    let mut cmd = cargo();
    cmd.current_dir(dir)
        .args([
            "build",
            "-q",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            package,
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target)
        .envs(env.iter().copied());
    run(cmd, &format!("building {package}"));
    let file = target.join(format!(
        "wasm32-unknown-unknown/release/{}.wasm",
        package.replace('-', "_")
    ));
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The payload bytes the host writes for `event` to a plugin with `config`: fields in
/// the ABI's order, compact.
fn payload_bytes(event: &Event, config: &Value) -> Vec<u8> {
    let ordered: EventPayload<Value> = serde_json::from_value(event.to_payload(config))
        .expect("the host's event is a valid payload");
    serde_json::to_vec(&ordered).expect("serializes")
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
    let load = fresh_load_time(&example.wasm, example.name, || host(example));

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
    // Each event is dropped after its delivery, as a help desk does: kept, the payloads
    // each one caches would grow the malloc arenas all along, and with two threads the
    // arenas' `mprotect` calls would stall the other thread's memory resets.
    for e in batch {
        let t = Instant::now();
        let report = host.deliver_to(&id, &e).expect("installed and subscribed");
        samples.push(t.elapsed());
        instantiate.push(report.timings.instantiate_us);
        call.push(report.timings.call_us);
        debug_assert_eq!(report.outcome, Outcome::Ok);
    }
    let one = latency(samples, wall.elapsed());
    let fresh = event.clone().with_ticket_id("CHECK-1");
    check(example, &host.deliver_to(&id, &fresh).expect("installed"));
    clear();

    let two = two_threads([&host, &host], &id, event, runs);
    clear();

    // The same on two hosts, one per thread: each has its own wasmtime engine (and its
    // own compiled copy of the plugin), so the threads share no engine state.
    let second = self::host(example);
    second
        .install(
            &second.load(&example.wasm).expect("loaded above"),
            example.config.clone(),
        )
        .expect("the same config");
    for e in events(event, "V", WARMUP) {
        second
            .deliver_to(&id, &e)
            .expect("installed and subscribed");
    }
    let two_hosts = two_threads([&host, &second], &id, event, runs);
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
        two_hosts,
        instantiate_us: instantiate[instantiate.len() / 2],
        call_us: call[call.len() / 2],
    }
}

/// Half of `runs` deliveries on each of two threads, the first delivering to
/// `hosts[0]`, the second to `hosts[1]` (the same host twice, or one each). Each thread
/// makes its own events, so that they are allocated and freed in that thread's malloc
/// arena (freeing into another thread's arena takes that arena's lock); the clock runs
/// from when both are ready (`Barrier`) to when the last one is done.
fn two_threads(hosts: [&Host; 2], id: &str, event: &Event, runs: usize) -> Latency {
    let ready = std::sync::Barrier::new(2);
    let runs_of_threads: Vec<(Vec<Duration>, Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = [("B", hosts[0]), ("C", hosts[1])]
            .into_iter()
            .map(|(prefix, host)| {
                let ready = &ready;
                s.spawn(move || {
                    let half = events(event, prefix, runs / 2);
                    ready.wait();
                    let start = Instant::now();
                    let samples = half
                        .into_iter()
                        .map(|e| {
                            let t = Instant::now();
                            let report = host.deliver_to(id, &e).expect("installed");
                            let elapsed = t.elapsed();
                            assert_eq!(report.outcome, Outcome::Ok);
                            elapsed
                        })
                        .collect::<Vec<_>>();
                    (samples, start, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a delivering thread panicked"))
            .collect()
    });
    let start = runs_of_threads
        .iter()
        .map(|r| r.1)
        .min()
        .expect("two threads");
    let end = runs_of_threads
        .iter()
        .map(|r| r.2)
        .max()
        .expect("two threads");
    let samples = runs_of_threads.into_iter().flat_map(|r| r.0).collect();
    latency(samples, end - start)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn print_header() {
    println!(
        "{:<20} {:>9} {:>9} {:>9} | {:>9} {:>9} {:>6} {:>6} {:>8} | {:>9} {:>9} {:>8} {:>8}",
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
        "2t /s",
        "2h /s"
    );
}

fn print_row(r: &Row) {
    println!(
        "{:<20} {:>9} {:>9.1} {:>9.2} | {:>9.1} {:>9.1} {:>6} {:>6} {:>8.0} | {:>9.1} {:>9.1} {:>8.0} {:>8.0}",
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
        r.two_hosts.per_sec,
    );
}

/// Initial linear memory of a module, in KiB: the stack plus static data.
fn initial_memory_kib(wasm: &[u8]) -> u64 {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .find_map(|p| match p {
            Ok(wasmparser::Payload::MemorySection(mems)) => {
                mems.into_iter().next().and_then(Result::ok)
            }
            _ => None,
        })
        .map_or(0, |m| m.initial * 64)
}

/// The two levers that decide what a fresh instance costs in kernel memory work: the
/// plugin's stack size and the host's `pagemap_scan`.
fn bench_levers(out: &Path) {
    let cli = cli();
    build_with_cli(&cli, &out.join("examples"), &[]);
    build_with_cli(
        &cli,
        &out.join("stack-1m"),
        &["-C", "link-arg=-zstack-size=1048576"],
    );
    let (config, mock, _) = setup("slack-notifications");
    let event = event_2k();
    let mut variants = Vec::new();
    for (stack, dir) in [("64 KiB", "examples"), ("1 MiB", "stack-1m")] {
        let file = out
            .join(dir)
            .join("wasm32-unknown-unknown/release/slack_notifications.wasm");
        let wasm = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for pagemap in [true, false] {
            let host = Host::builder()
                .pagemap_scan(pagemap)
                .http(mock.clone())
                .build()
                .expect("host");
            let plugin = host.load(&wasm).expect("slack-notifications loads");
            host.install(&plugin, config.clone()).expect("config");
            let label = format!(
                "stack {stack} (initial memory {} KiB), pagemap_scan {}",
                initial_memory_kib(&wasm),
                if pagemap { "on" } else { "off" }
            );
            variants.push((label, host, plugin.id().to_owned()));
        }
    }
    const ROUNDS: usize = 10;
    const PER_ROUND: usize = 1_000;
    println!(
        "\nlevers: slack-notifications, 2 KB event, {} deliveries per line in {ROUNDS} \
         alternating rounds, 1 thread",
        ROUNDS * PER_ROUND
    );
    let mut timed: Vec<Variant<'_>> = variants
        .iter()
        .map(|(_, host, id)| -> Variant<'_> {
            Box::new(|| {
                let t = Instant::now();
                let report = host.deliver_to(id, &event).expect("installed");
                let elapsed = t.elapsed();
                assert_eq!(report.outcome, Outcome::Ok);
                elapsed
            })
        })
        .collect();
    let samples = alternate(ROUNDS, PER_ROUND, &mut timed, || {
        mock.replace_rules(&setup("slack-notifications").1);
    });
    drop(timed);
    for ((label, _, _), mut samples) in variants.iter().zip(samples) {
        samples.sort();
        println!(
            "{label:<62} median {:>6.1} µs   p99 {:>6.1} µs",
            us(samples[samples.len() / 2]),
            us(samples[samples.len() * 99 / 100])
        );
    }
}

/// Both flavours of slack-notifications, side by side: module size, compile time (median
/// of fresh hosts), and one delivery on a fresh instance (the default host, 2 KB event)
/// in alternating rounds so that other load on the machine hits both alike.
fn bench_flavours(out: &Path) {
    let cli = cli();
    let target = out.join("examples");
    let file = target.join("wasm32-unknown-unknown/release/slack_notifications.wasm");
    let read = || std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    // Both build in place into the same file: each is read right after its build.
    build_with_cli(&cli, &target, &[]);
    let core = read();
    let mut cmd = Command::new(&cli);
    cmd.current_dir(workspace())
        .env("CARGO_TARGET_DIR", &target)
        .env("NO_COLOR", "1")
        .args([
            "otai-plugin",
            "build",
            "--release",
            "--component",
            "-p",
            "slack-notifications",
        ]);
    run(
        cmd,
        "`cargo otai-plugin build --release --component` of slack-notifications",
    );
    let component = read();
    assert!(
        wasmparser::Parser::is_component(&component),
        "`--component` built no component"
    );

    let (config, mock, _) = setup("slack-notifications");
    let event = event_2k();
    let mut variants = Vec::new();
    for (flavour, wasm) in [("core module", &core), ("component", &component)] {
        let load = fresh_load_time(wasm, flavour, || {
            Host::builder().http(mock.clone()).build().expect("host")
        });
        let host = Host::builder().http(mock.clone()).build().expect("host");
        let plugin = host.load(wasm).expect("loaded above");
        host.install(&plugin, config.clone()).expect("config");
        variants.push((flavour, wasm.len(), load, host, plugin.id().to_owned()));
    }
    const ROUNDS: usize = 10;
    const PER_ROUND: usize = 1_000;
    println!(
        "\nflavours: slack-notifications, release, 2 KB event, {} deliveries per line in \
         {ROUNDS} alternating rounds on the default host, 1 thread",
        ROUNDS * PER_ROUND
    );
    let mut reports: Vec<Option<DeliveryReport>> = vec![None; variants.len()];
    let mut timed: Vec<Variant<'_>> = variants
        .iter()
        .zip(&mut reports)
        .map(|((_, _, _, host, id), first)| -> Variant<'_> {
            Box::new(|| {
                let t = Instant::now();
                let report = host.deliver_to(id, &event).expect("installed");
                let elapsed = t.elapsed();
                assert_eq!(report.outcome, Outcome::Ok);
                first.get_or_insert(report);
                elapsed
            })
        })
        .collect();
    let samples = alternate(ROUNDS, PER_ROUND, &mut timed, || {
        mock.replace_rules(&setup("slack-notifications").1);
    });
    drop(timed);
    // The flavours did the same work.
    let same = |r: &Option<DeliveryReport>| r.as_ref().map(DeliveryReport::to_snapshot);
    assert_eq!(
        same(&reports[0]),
        same(&reports[1]),
        "the flavours report differently"
    );
    let mut medians = Vec::new();
    for ((flavour, size, load, _, _), mut samples) in variants.iter().zip(samples) {
        samples.sort();
        let median = samples[samples.len() / 2];
        medians.push((*size, median));
        println!(
            "{flavour:<12} {size:>8} bytes   load {:>6.1} ms   delivery median {:>6.1} µs   p99 {:>6.1} µs",
            load.as_secs_f64() * 1e3,
            us(median),
            us(samples[samples.len() * 99 / 100])
        );
    }
    if let [(core_size, core_time), (size, time)] = medians[..] {
        println!(
            "component / core: size {:.2}x, delivery {:.2}x (target: within 1.5x each)",
            size as f64 / core_size as f64,
            time.as_secs_f64() / core_time.as_secs_f64()
        );
    }
}
