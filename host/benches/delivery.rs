//! Delivery speed: `cargo bench -p otai-plugin-host --bench delivery`.
//!
//! Prints figures; asserts nothing. Optional: `OTAI_BENCH_PLUGIN=path/to/plugin.wasm`
//! (and `OTAI_BENCH_CONFIG='{"…"}'`) also measures that plugin (for example one built
//! with the SDK) on the 2 KB event, with every HTTP request answered 200 by a mock.
//! `OTAI_BENCH_ONLY=threads` measures one and two threads on every allocator variant and
//! nothing else; `OTAI_BENCH_ONLY=installed` measures only `Host::deliver` to one plugin
//! with 1 and with 1,000 installed (the others subscribed to another event);
//! `OTAI_BENCH_ONLY=fuel` measures only what counting fuel costs
//! (`HostBuilder::count_fuel`): the no-op plugin, the logging plugin, a loop of 100,000
//! turns and `OTAI_BENCH_PLUGIN`, each counted and not.

use std::time::{Duration, Instant};

use otai_plugin_host::abi::event::EventPayload;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host, HostBuilder, Outcome};
use otai_plugin_test_support::{LOG, Module};
use serde_json::{Value, json};

const WARMUP: usize = 2_000;
const RUNS: usize = 20_000;

const NOOP: &str = r#"(func (export "on_event") (param i32 i32))"#;

/// Logs the same 120-byte line ten times: what redaction has to read.
const LOGGING: &str = r#"
  (data (i32.const 16) "ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8: posted to #support (priority Critical, category Software), answered 200 in 12 ms")
  (func (export "on_event") (param i32 i32)
    (local $i i32)
    (loop $again
      (call $log (i32.const 16) (i32.const 120) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 10)))))"#;

fn noop_plugin() -> Vec<u8> {
    with_manifest(
        &[],
        NOOP,
        json!({
            "id": "com.example.noop", "name": "No-op", "version": "1.0.0",
            "description": "Does nothing.", "events": ["ticket.created"]
        }),
    )
}

/// The logging plugin, with three secret config fields.
fn logging_plugin() -> Vec<u8> {
    let secret = json!({"type": "string", "secret": true});
    with_manifest(
        &[LOG],
        LOGGING,
        json!({
            "id": "com.example.logging", "name": "Logging", "version": "1.0.0",
            "description": "Logs ten lines.", "events": ["ticket.created"],
            "config_schema": {"api_token": secret, "webhook_url": secret, "password": secret}
        }),
    )
}

/// `on_event` and what it imports, with one page of memory and a bump allocator whose
/// `ohd_free` does nothing (the least a plugin needs, so that the figures are the
/// host's), and `manifest` in its custom section.
fn with_manifest(imports: &[&str], on_event: &str, manifest: Value) -> Vec<u8> {
    Module::new()
        .imports(imports)
        .pages(1)
        .heap(1024)
        .body(on_event)
        .manifest(&manifest.to_string())
        .wasm()
}

/// The ~2 KB `ticket.created` event of the performance notes (1.5 KB description).
fn event_2k() -> Event {
    let description = "The laptop was stolen from the car park on Tuesday evening. ".repeat(25);
    Event::ticket_created().description(&description[..1500])
}

struct Stats {
    median: Duration,
    p99: Duration,
    per_sec: f64,
}

fn stats(mut samples: Vec<Duration>, wall: Duration) -> Stats {
    samples.sort();
    let n = samples.len();
    Stats {
        median: samples[n / 2],
        p99: samples[n * 99 / 100],
        per_sec: n as f64 / wall.as_secs_f64(),
    }
}

fn print(label: &str, s: &Stats) {
    println!(
        "{label:<58} median {:>7.2} µs   p99 {:>7.2} µs   {:>9.0} /s",
        s.median.as_secs_f64() * 1e6,
        s.p99.as_secs_f64() * 1e6,
        s.per_sec
    );
}

fn setup(builder: HostBuilder, wasm: &[u8], config: Value) -> (Host, String) {
    let host = builder
        .http(MockHttp::new().on("*", "*").respond(200, "ok"))
        .build()
        .expect("host");
    let plugin = host.load(wasm).expect("plugin loads");
    host.install(&plugin, config).expect("config is valid");
    let id = plugin.id().to_owned();
    (host, id)
}

fn one_thread(host: &Host, id: &str, event: &Event) -> Stats {
    for _ in 0..WARMUP {
        let _ = host.deliver_to(id, event);
    }
    let mut samples = Vec::with_capacity(RUNS);
    let wall = Instant::now();
    for _ in 0..RUNS {
        let t = Instant::now();
        let report = host.deliver_to(id, event).expect("delivers");
        samples.push(t.elapsed());
        // Checked in every build: a bench that measured a failing delivery would say
        // nothing about the delivery it names.
        assert_eq!(report.outcome, Outcome::Ok);
    }
    stats(samples, wall.elapsed())
}

fn two_threads(host: &Host, id: &str, event: &Event) -> Stats {
    let wall = Instant::now();
    let samples: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut samples = Vec::with_capacity(RUNS);
                    for _ in 0..RUNS {
                        let t = Instant::now();
                        let _ = host.deliver_to(id, event);
                        samples.push(t.elapsed());
                    }
                    samples
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("bench thread"))
            .collect()
    });
    stats(samples, wall.elapsed())
}

/// `Host::deliver` of `ticket.created` to the one plugin subscribed to it, with `others`
/// more installed, subscribed to `ticket.assigned`.
fn among_installed(others: usize) -> Stats {
    let host = Host::builder().http(MockHttp::new()).build().expect("host");
    for i in 0..=others {
        let event = if i == 0 {
            "ticket.created"
        } else {
            "ticket.assigned"
        };
        let wasm = with_manifest(
            &[],
            NOOP,
            json!({
                "id": format!("com.example.p{i:04}"), "name": "No-op", "version": "1.0.0",
                "description": "Does nothing.", "events": [event]
            }),
        );
        let plugin = host.load(&wasm).expect("plugin loads");
        host.install(&plugin, json!({})).expect("config is valid");
    }
    let event = Event::ticket_created();
    for _ in 0..WARMUP {
        host.deliver(&event);
    }
    let mut samples = Vec::with_capacity(RUNS);
    let wall = Instant::now();
    for _ in 0..RUNS {
        let t = Instant::now();
        let reports = host.deliver(&event);
        samples.push(t.elapsed());
        assert_eq!(reports.len(), 1);
    }
    stats(samples, wall.elapsed())
}

/// Counts to 100,000: wasm work and nothing else, where counting costs the most.
const SPIN: &str = r#"
  (func (export "on_event") (param i32 i32)
    (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 100000)))))"#;

/// Each plugin delivered to by a host that does not count fuel and by one that does:
/// the difference is what `count_fuel(true)` costs.
fn fuel_cost() {
    let spin = with_manifest(
        &[],
        SPIN,
        json!({
            "id": "com.example.spin", "name": "Spin", "version": "1.0.0",
            "description": "Counts.", "events": ["ticket.created"]
        }),
    );
    let mut plugins = vec![
        (
            "no-op plugin",
            noop_plugin(),
            json!({}),
            Event::ticket_created(),
        ),
        (
            "10 log lines, 2 KB event",
            logging_plugin(),
            json!({}),
            event_2k(),
        ),
        (
            "loop of 100,000 turns",
            spin,
            json!({}),
            Event::ticket_created(),
        ),
    ];
    if let Ok(path) = std::env::var("OTAI_BENCH_PLUGIN") {
        let wasm = std::fs::read(&path).expect("OTAI_BENCH_PLUGIN is readable");
        let config: Value = std::env::var("OTAI_BENCH_CONFIG")
            .ok()
            .map(|c| serde_json::from_str(&c).expect("OTAI_BENCH_CONFIG is JSON"))
            .unwrap_or_else(|| json!({}));
        plugins.push(("OTAI_BENCH_PLUGIN, 2 KB event", wasm, config, event_2k()));
    }
    for (label, wasm, config, event) in plugins {
        for count in [false, true] {
            let (host, id) = setup(Host::builder().count_fuel(count), &wasm, config.clone());
            let fuel = host.deliver_to(&id, &event).expect("delivers").fuel;
            let counted = fuel.map_or_else(|| "not counted".to_owned(), |f| format!("{f} fuel"));
            print(
                &format!("{label}, {counted}"),
                &one_thread(&host, &id, &event),
            );
        }
    }
}

fn main() {
    if std::env::var("OTAI_BENCH_ONLY").is_ok_and(|v| v == "fuel") {
        fuel_cost();
        return;
    }
    if std::env::var("OTAI_BENCH_ONLY").is_ok_and(|v| v == "installed") {
        for others in [0, 999] {
            print(
                &format!("deliver to 1 subscribed, {} installed", others + 1),
                &among_installed(others),
            );
        }
        return;
    }
    let wasm = noop_plugin();
    let small = Event::ticket_created();
    let big = event_2k();
    let big_len = big.to_payload(&json!({})).to_string().len();
    println!(
        "no-op plugin, fresh Store + instance per delivery, {RUNS} deliveries after {WARMUP} warm-up"
    );

    let variants: [(&str, HostBuilder); 4] = [
        (
            "pooling + keep_resident 2 MiB + pagemap_scan (default)",
            Host::builder(),
        ),
        (
            "pooling + keep_resident 2 MiB, no pagemap_scan",
            Host::builder().pagemap_scan(false),
        ),
        (
            "pooling, keep_resident 0, no pagemap_scan",
            Host::builder().memory_keep_resident(0).pagemap_scan(false),
        ),
        (
            "on-demand allocator (no pooling)",
            Host::builder().pooling(false),
        ),
    ];
    // `OTAI_BENCH_ONLY=threads`: one and two threads on each variant, nothing else.
    let threads_only = std::env::var("OTAI_BENCH_ONLY").is_ok_and(|v| v == "threads");
    for (label, builder) in variants {
        let (host, id) = setup(builder, &wasm, json!({}));
        print(
            &format!("{label}, 1 thread"),
            &one_thread(&host, &id, &small),
        );
        if threads_only {
            print(
                &format!("{label}, 2 threads (per-delivery latency, total rate)"),
                &two_threads(&host, &id, &small),
            );
        }
    }
    if threads_only {
        return;
    }
    let (host, id) = setup(Host::builder(), &wasm, json!({}));
    print(
        "default host, 2 threads (per-delivery latency, total rate)",
        &two_threads(&host, &id, &small),
    );
    print(
        &format!("default host, 1 thread, {big_len}-byte event"),
        &one_thread(&host, &id, &big),
    );

    // Redaction: the same ten log lines, with no secret configured and with three (none
    // of them in the lines, the usual case): the difference is what redaction costs.
    let logging = logging_plugin();
    for (label, config) in [
        ("no secrets", json!({})),
        (
            "3 secrets",
            json!({
                "api_token": "xoxb-17-5051-9ayUpfbpsiAkTq0tzOQmRu8N",
                "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
                "password": "correct horse/battery staple"
            }),
        ),
    ] {
        let (host, id) = setup(Host::builder(), &logging, config);
        print(
            &format!("10 log lines of 120 bytes, {label}, 2 KB event"),
            &one_thread(&host, &id, &big),
        );
    }

    fuel_cost();

    // The same 2 KB event decoded natively with the ABI types, for scale.
    let bytes = serde_json::to_vec(&big.to_payload(&json!({"channel": "#support"}))).expect("json");
    let mut samples = Vec::with_capacity(RUNS);
    let wall = Instant::now();
    for _ in 0..RUNS {
        let t = Instant::now();
        let p: EventPayload<Value> = serde_json::from_slice(&bytes).expect("decodes");
        std::hint::black_box(&p);
        samples.push(t.elapsed());
    }
    print(
        &format!(
            "native decode of the {}-byte payload (EventPayload)",
            bytes.len()
        ),
        &stats(samples, wall.elapsed()),
    );

    if let Ok(path) = std::env::var("OTAI_BENCH_PLUGIN") {
        let wasm = std::fs::read(&path).expect("OTAI_BENCH_PLUGIN is readable");
        let config: Value = std::env::var("OTAI_BENCH_CONFIG")
            .ok()
            .map(|c| serde_json::from_str(&c).expect("OTAI_BENCH_CONFIG is JSON"))
            .unwrap_or_else(|| json!({}));
        for (label, builder) in [
            ("default", Host::builder()),
            ("no pagemap_scan", Host::builder().pagemap_scan(false)),
        ] {
            let (host, id) = setup(builder, &wasm, config.clone());
            let first = host.deliver_to(&id, &big).expect("delivers");
            println!("{path}: first delivery outcome {:?}", first.outcome);
            print(
                &format!("OTAI_BENCH_PLUGIN, 2 KB event, 1 thread, {label}"),
                &one_thread(&host, &id, &big),
            );
        }
    }
}
