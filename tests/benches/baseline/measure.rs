//! Part 5 of `benches/examples.rs`: our host and SDK against the best a plugin author
//! gets from raw wasmtime, doing the same work in one run.
//!
//! - **raw**: `raw-plugin` (hand-written, `serde_json`, no SDK) on a minimal wasmtime
//!   host with the reference host's settings: pooling with 128 slots, 2 MiB of each
//!   memory kept resident, `pagemap_scan`, epoch interruption with a ticker thread, the
//!   workspace's 64 KiB wasm stack. Per event: a new `Store`, instantiate from an
//!   `InstancePre`, look up the three exports, `ohd_alloc`, write, `on_event`; its
//!   `ohd_log` checks the line is UTF-8 and counts it. This is issue 16's "B2e".
//! - **ours**: `sdk-plugin` (the same handler with `#[plugin]` and a typed
//!   `Event<'_, Config>`) installed on the default `Host`, `deliver_to` per event: the
//!   payload written per plugin, limits, the report with the secret redacted. "D1".
//! - **no-op**: one WAT module that does nothing, on both hosts: what each adds to a
//!   delivery by itself.
//!
//! Both hosts get the same 64 events in turn (so our host serializes each event once,
//! as in the peer harness issue 16 measured with); one more variant gives our host a
//! new event every delivery. Every delivery is checked: outcome ok and the expected log
//! lines. The variants alternate in rounds so that other load on the machine hits them
//! alike; the ratios come from one run.
//!
//! Then the same four deliveries with one thread and with two threads sharing each host,
//! one thread's turn and two threads' turn alternating in rounds: how far two threads
//! get over one on raw wasmtime is what wasmtime itself allows; the difference from our
//! host's figure is what our host's shared state costs. One more line gives each thread
//! its own raw host (its own engine, pool and type registry): what the state an engine
//! shares between threads costs.

use std::path::Path;
use std::sync::{Barrier, mpsc};
use std::time::{Duration, Instant};

use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{DeliveryReport, Event, Host, Outcome};
use serde_json::{Value, json};
use wasmtime::{
    Caller, Config, Enabled, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, Store,
};

use super::{
    LOADS, Variant, alternate, build_wasm, event_2k, events, fresh_load_time, median,
    payload_bytes, us, workspace,
};

const ROUNDS: usize = 10;
const PER_ROUND: usize = 2_000;
/// The threads' part: fewer, longer turns, so that starting the threads (wasmtime's
/// per-thread signal stack, glibc's arena) is a small part of each.
const THREAD_ROUNDS: usize = 5;
const PER_THREAD_ROUND: usize = 20_000;
/// The raw host's epoch: a tick every 10 ms, a deadline of 100 ticks.
const TICK: Duration = Duration::from_millis(10);
const DEADLINE_TICKS: u64 = 100;
/// `ohd_log`'s level for errors (docs/ABI.md).
const LEVEL_ERROR: u32 = 3;

/// A memory, a bump allocator and an `on_event` that does nothing.
fn noop() -> otai_plugin_test_support::Module {
    otai_plugin_test_support::Module::new()
        .pages(1)
        .heap(1024)
        .body(r#"(func (export "on_event") (param i32 i32))"#)
}

fn config() -> Value {
    json!({
        "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
        "channel": "#support"
    })
}

/// Builds one package of the baseline workspace.
fn build(out: &Path, package: &str) -> Vec<u8> {
    let dir = workspace().join("tests/benches/baseline");
    build_wasm(&dir, &out.join("baseline"), package, &[])
}

/// What the raw host's `ohd_log` saw in one delivery.
#[derive(Default)]
struct Lines {
    count: usize,
    bytes: usize,
    /// Lines at level error: the raw plugin's way of saying it failed.
    errors: usize,
}

/// The smallest host that runs an ABI v1 module on a fresh instance per event, with
/// the reference host's wasmtime settings.
struct RawHost {
    engine: Engine,
    pre: InstancePre<Lines>,
    stop: Option<mpsc::Sender<()>>,
}

impl RawHost {
    fn new(wasm: &[u8]) -> RawHost {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(128)
            .total_memories(128)
            .total_tables(128)
            .linear_memory_keep_resident(2 << 20)
            .table_keep_resident(64 << 10)
            .pagemap_scan(Enabled::Auto);
        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).expect("the raw host's engine");
        let module = Module::new(&engine, wasm).expect("the module compiles");
        let mut linker: Linker<Lines> = Linker::new(&engine);
        linker
            .func_wrap(
                "ohd",
                "ohd_log",
                |mut caller: Caller<'_, Lines>, ptr: u32, len: u32, level: u32| {
                    let Some(memory) = caller
                        .get_export("memory")
                        .and_then(wasmtime::Extern::into_memory)
                    else {
                        wasmtime::bail!("the plugin exports no memory");
                    };
                    let (start, len) = (ptr as usize, len as usize);
                    let line = memory
                        .data(&caller)
                        .get(start..start + len)
                        .map(std::str::from_utf8);
                    match line {
                        Some(Ok(line)) => {
                            let bytes = line.len();
                            let lines = caller.data_mut();
                            lines.count += 1;
                            lines.bytes += bytes;
                            lines.errors += usize::from(level == LEVEL_ERROR);
                            Ok(())
                        }
                        _ => wasmtime::bail!("ohd_log: not UTF-8 in linear memory"),
                    }
                },
            )
            .expect("defines ohd_log");
        let pre = linker
            .instantiate_pre(&module)
            .expect("the module's imports are defined");
        let (stop, stopped) = mpsc::channel::<()>();
        let ticking = engine.clone();
        std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                ticking.increment_epoch();
            }
        });
        RawHost {
            engine,
            pre,
            stop: Some(stop),
        }
    }

    /// Median time to compile `wasm` on this host's engine.
    fn load_time(&self, wasm: &[u8]) -> Duration {
        median(
            (0..LOADS)
                .map(|_| {
                    let t = Instant::now();
                    let module = Module::new(&self.engine, wasm);
                    let elapsed = t.elapsed();
                    module.expect("the module compiles");
                    elapsed
                })
                .collect(),
        )
    }

    /// One event on a fresh instance: what it logged.
    fn deliver(&self, payload: &[u8]) -> wasmtime::Result<Lines> {
        let mut store = Store::new(&self.engine, Lines::default());
        store.set_epoch_deadline(DEADLINE_TICKS);
        let instance = self.pre.instantiate(&mut store)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| wasmtime::format_err!("no memory"))?;
        let alloc = instance.get_typed_func::<u32, u32>(&mut store, "ohd_alloc")?;
        let on_event = instance.get_typed_func::<(u32, u32), ()>(&mut store, "on_event")?;
        let len = u32::try_from(payload.len())?;
        let ptr = alloc.call(&mut store, len)?;
        memory.write(&mut store, ptr as usize, payload)?;
        on_event.call(&mut store, (ptr, len))?;
        Ok(store.into_data())
    }
}

impl Drop for RawHost {
    fn drop(&mut self) {
        // The ticker ends when the sender is gone.
        self.stop.take();
    }
}

/// [`noop`] with a manifest, for our host.
fn noop_plugin() -> Vec<u8> {
    let manifest = json!({
        "id": "com.example.noop", "name": "No-op", "version": "1.0.0",
        "description": "Does nothing.", "events": ["ticket.created"]
    });
    noop().manifest(&manifest.to_string()).wasm()
}

struct Ours {
    host: Host,
    id: String,
}

fn default_host() -> Host {
    Host::builder()
        .http(MockHttp::new())
        .build()
        .expect("the default host builds")
}

fn ours(wasm: &[u8], config: Value) -> Ours {
    let host = default_host();
    let plugin = host.load(wasm).expect("the plugin loads");
    host.install(&plugin, config).expect("the config is valid");
    let id = plugin.id().to_owned();
    Ours { host, id }
}

/// Checks a report of our host: outcome ok, `logs` lines.
fn check(report: &DeliveryReport, logs: usize) {
    assert!(
        report.outcome == Outcome::Ok && report.logs.len() == logs,
        "{report:?}"
    );
}

/// A variant delivering `events` one after another on our host, checking each report.
fn ours_variant<'a>(ours: &'a Ours, events: &'a [Event], logs: usize) -> Variant<'a> {
    let mut next = events.iter().cycle();
    Box::new(move || {
        let event = next.next().expect("a cycle never ends");
        let t = Instant::now();
        let report = ours.host.deliver_to(&ours.id, event).expect("installed");
        let elapsed = t.elapsed();
        check(&report, logs);
        elapsed
    })
}

/// A variant delivering a new event each time (built before the clock starts), so that
/// the host serializes every payload: what an event costs the first plugin it reaches.
fn ours_new_events<'a>(ours: &'a Ours, event: &'a Event) -> Variant<'a> {
    let mut n = 0_u64;
    Box::new(move || {
        n += 1;
        let event = event.clone().with_ticket_id(&format!("N-{n}"));
        let t = Instant::now();
        let report = ours.host.deliver_to(&ours.id, &event).expect("installed");
        let elapsed = t.elapsed();
        check(&report, 1);
        elapsed
    })
}

/// A variant delivering `payloads` one after another on the raw host, checking each.
fn raw_variant<'a>(raw: &'a RawHost, payloads: &'a [Vec<u8>], logs: usize) -> Variant<'a> {
    let mut next = payloads.iter().cycle();
    Box::new(move || {
        let payload = next.next().expect("a cycle never ends");
        let t = Instant::now();
        let lines = raw.deliver(payload).expect("the raw delivery runs");
        let elapsed = t.elapsed();
        assert!(
            lines.errors == 0 && lines.count == logs && (logs == 0 || lines.bytes > 100),
            "{} lines, {} of them errors",
            lines.count,
            lines.errors
        );
        elapsed
    })
}

/// On thread `t` (0 or 1), one checked delivery of the `i`th of a variant's events.
type Shared<'a> = Box<dyn Fn(usize, usize) + Sync + 'a>;

fn ours_shared<'a>(ours: &'a Ours, events: &'a [Event], logs: usize) -> Shared<'a> {
    Box::new(move |_, i| {
        let event = &events[i % events.len()];
        check(
            &ours.host.deliver_to(&ours.id, event).expect("installed"),
            logs,
        );
    })
}

/// Deliveries on `raws[t]` on thread `t`: the same host on both threads, or one each.
fn raw_shared<'a>(raws: [&'a RawHost; 2], payloads: &'a [Vec<u8>], logs: usize) -> Shared<'a> {
    Box::new(move |t, i| {
        let lines = raws[t]
            .deliver(&payloads[i % payloads.len()])
            .expect("the raw delivery runs");
        assert!(lines.errors == 0 && lines.count == logs);
    })
}

/// `deliveries` in a row on each of `threads` threads, started together: the time from
/// both ready to the last one done.
fn wall(variant: &Shared<'_>, threads: usize, deliveries: usize) -> Duration {
    let ready = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let ready = &ready;
                s.spawn(move || {
                    ready.wait();
                    let start = Instant::now();
                    (0..deliveries).for_each(|i| variant(t, i));
                    (start, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a delivering thread panicked"))
            .collect()
    });
    let start = spans.iter().map(|s| s.0).min().expect("a thread");
    let end = spans.iter().map(|s| s.1).max().expect("a thread");
    end - start
}

/// Deliveries per second of each variant on one thread and on two threads: the same
/// number of deliveries (`per_round`, split in two), the turns alternating in `rounds`
/// rounds after a warm-up round.
fn rates(rounds: usize, per_round: usize, variants: &[Shared<'_>]) -> Vec<(f64, f64)> {
    let mut walls = vec![(Duration::ZERO, Duration::ZERO); variants.len()];
    for round in 0..=rounds {
        for (variant, walls) in variants.iter().zip(&mut walls) {
            let one = wall(variant, 1, per_round);
            let two = wall(variant, 2, per_round / 2);
            if round > 0 {
                walls.0 += one;
                walls.1 += two;
            }
        }
    }
    let total = (rounds * per_round) as f64;
    walls
        .iter()
        .map(|(one, two)| (total / one.as_secs_f64(), total / two.as_secs_f64()))
        .collect()
}

pub(super) fn bench(out: &Path) {
    let raw_wasm = build(out, "otai-baseline-raw");
    let sdk_wasm = build(out, "otai-baseline-sdk");
    let noop_raw = noop().wasm();
    let noop_ours = noop_plugin();

    let raw = RawHost::new(&raw_wasm);
    let raw_noop = RawHost::new(&noop_raw);
    let raw_load = raw.load_time(&raw_wasm);
    let sdk_load = fresh_load_time(&sdk_wasm, "the baseline's SDK plugin", default_host);
    let ours_sdk = ours(&sdk_wasm, config());
    let ours_noop = ours(&noop_ours, json!({}));

    // As the peer harness that issue 16 measured with: 64 events in turn, so that our
    // host serializes each once (one more line below gives a new event every time).
    let count = 64;
    let event = event_2k();
    let ours_events = events(&event, "D", count);
    let config = config();
    let raw_payloads: Vec<Vec<u8>> = events(&event, "R", count)
        .iter()
        .map(|e| payload_bytes(e, &config))
        .collect();

    println!(
        "\nbaseline: the same handler (decode the 2 KB `ticket.created`, format one line, log \
         it) written by hand on raw wasmtime with the reference host's settings, and with \
         the SDK on the reference host; a fresh instance per event, {} deliveries per line \
         in {ROUNDS} alternating rounds, 1 thread",
        ROUNDS * PER_ROUND
    );
    let labels = [
        "no-op module, raw wasmtime",
        "no-op module, our host",
        "raw plugin, raw wasmtime (issue 16's B2e)",
        "SDK plugin, our host (issue 16's D1)",
        "SDK plugin, our host, a new event each time",
    ];
    let mut variants = [
        raw_variant(&raw_noop, &raw_payloads, 0),
        ours_variant(&ours_noop, &ours_events, 0),
        raw_variant(&raw, &raw_payloads, 1),
        ours_variant(&ours_sdk, &ours_events, 1),
        ours_new_events(&ours_sdk, &event),
    ];
    let samples = alternate(ROUNDS, PER_ROUND, &mut variants, || {});
    let medians: Vec<Duration> = samples.iter().cloned().map(median).collect();
    for ((label, mut samples), median) in labels.iter().zip(samples).zip(&medians) {
        samples.sort();
        println!(
            "{label:<46} median {:>6.2} µs   p99 {:>6.2} µs",
            us(*median),
            us(samples[samples.len() * 99 / 100])
        );
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "our host ÷ raw wasmtime: no-op {:.2}x; SDK plugin ÷ raw plugin {:.2}x (target ≤ 1.0x)",
        ratio(medians[1], medians[0]),
        ratio(medians[3], medians[2])
    );
    println!(
        "sizes: raw plugin {} bytes, SDK plugin {} bytes ({:.2}x; target ≤ 1.0x); load \
         (compile): raw {:.1} ms, SDK {:.1} ms ({:.2}x; target ≤ 1.0x)",
        raw_wasm.len(),
        sdk_wasm.len(),
        sdk_wasm.len() as f64 / raw_wasm.len() as f64,
        raw_load.as_secs_f64() * 1e3,
        sdk_load.as_secs_f64() * 1e3,
        ratio(sdk_load, raw_load)
    );

    println!(
        "\nbaseline, threads: the same four deliveries, {} per line on one thread and \
         the same number split between two threads sharing the host, the turns alternating \
         in {THREAD_ROUNDS} rounds",
        THREAD_ROUNDS * PER_THREAD_ROUND
    );
    let raw_noop_too = RawHost::new(&noop_raw);
    let shared = [
        raw_shared([&raw_noop; 2], &raw_payloads, 0),
        ours_shared(&ours_noop, &ours_events, 0),
        raw_shared([&raw; 2], &raw_payloads, 1),
        ours_shared(&ours_sdk, &ours_events, 1),
        raw_shared([&raw_noop, &raw_noop_too], &raw_payloads, 0),
    ];
    let labels = labels[..4]
        .iter()
        .copied()
        .chain(["no-op module, raw wasmtime, an engine per thread"]);
    for (label, (one, two)) in labels.zip(rates(THREAD_ROUNDS, PER_THREAD_ROUND, &shared)) {
        println!(
            "{label:<50} 1 thread {one:>8.0}/s   2 threads {two:>8.0}/s   {:.2}x",
            two / one
        );
    }
}
