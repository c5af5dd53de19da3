//! How the desk's commands grow with the plugins installed (issue 41):
//! `cargo bench --workspace --bench installed`.
//!
//! Prints a table; asserts nothing. At each size N (10, 100, 1,000; `OTAI_BENCH_SIZES=10,100`
//! for others) it installs N tiny WAT plugins with distinct ids (so N distinct modules to
//! compile) into a fresh data directory, then times, each on a desk opened anew (so with
//! the host's in-memory compile cache empty; `open`, `list` and `page` are the median of
//! five):
//!
//! - `open`: [`Desk::open_with`];
//! - `list`: [`Desk::list`];
//! - `page`: what a plugin's page reads ([`Desk::plugin`], [`Desk::config_form`],
//!   [`Desk::deliveries`]);
//! - `install`: one more plugin, and the same removed again;
//! - `deliver all` (first): `ticket.created`, to which every plugin but one subscribes,
//!   the first delivery after opening, with the desk's disk cache of compiled modules
//!   warm (installing wrote it); `cache emptied`: the same on a desk opened anew after
//!   `compiled/` was deleted, so every module is compiled; `again`: the same event, every
//!   module loaded;
//! - `deliver one`: `ticket.closed`, to which one plugin among the N subscribes (the
//!   median of 200).
//!
//! - memory (Linux): the growth of the process's resident set (RSS) and address space
//!   (VmSize) per plugin, from a desk just opened to every plugin loaded by the first
//!   delivery to all, and what remains of it once they are unloaded as idle (a desk with
//!   `unload_idle_after` zero, after a delivery none subscribes to).
//!
//! `OTAI_BENCH_PLUGIN=path/to/plugin.wasm` also measures copies of that module (a built
//! example), each with its manifest's id changed, at the sizes in
//! `OTAI_BENCH_PLUGIN_SIZES` (default 10,100): open, list, page, install, and the first
//! delivery to all (each copy given a `webhook_url`; the requests go nowhere, so the
//! deliveries fail: what is timed is loading and one run) with the disk cache warm and
//! emptied.

use std::path::Path;
use std::time::{Duration, Instant};

use otai_plugin_desk::{COMPILED_DIR, Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::{Module, with_custom};
use serde_json::{Value, json};

fn options() -> DeskOptions {
    DeskOptions {
        http: std::sync::Arc::new(MockHttp::new()),
        key: Some("ab".repeat(32)),
        ..DeskOptions::default()
    }
}

/// A plugin that does nothing, with id `com.example.p{i}`, subscribed to `events`.
fn tiny(i: usize, events: &[&str]) -> Vec<u8> {
    Module::new()
        .body(r#"(func (export "on_event") (param i32 i32))"#)
        .manifest(
            &json!({
                "id": format!("com.example.p{i:04}"), "name": format!("Plugin {i}"),
                "version": "1.0.0", "description": "Does nothing.", "events": events
            })
            .to_string(),
        )
        .wasm()
}

/// `wasm` with its `ohd_manifest` section's `id` replaced by `id` (the section is
/// dropped where it was and appended again).
fn with_id(wasm: &[u8], id: &str) -> Vec<u8> {
    fn leb(bytes: &[u8], at: &mut usize) -> usize {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let byte = bytes[*at];
            *at += 1;
            value |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return value;
            }
            shift += 7;
        }
    }
    let mut out = wasm[..8].to_vec();
    let mut manifest = None;
    let mut at = 8;
    while at < wasm.len() {
        let start = at;
        let section_id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at);
        let end = at + size;
        if section_id == 0 {
            let mut name_at = at;
            let len = leb(wasm, &mut name_at);
            if &wasm[name_at..name_at + len] == b"ohd_manifest" {
                manifest = Some(&wasm[name_at + len..end]);
                at = end;
                continue;
            }
        }
        out.extend_from_slice(&wasm[start..end]);
        at = end;
    }
    let mut manifest: Value =
        serde_json::from_slice(manifest.expect("the module has a manifest")).expect("JSON");
    manifest["id"] = Value::String(id.to_owned());
    with_custom(out, "ohd_manifest", manifest.to_string().as_bytes())
}

/// How many times the figures that are cheap to take again are taken (their median is
/// shown): the machines we measure on are shared.
const REPEAT: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Times `f` on a desk opened anew on `dir`.
fn fresh<T>(dir: &Path, f: impl FnOnce(&Desk) -> T) -> Duration {
    let desk = Desk::open_with(dir, options()).expect("the desk opens");
    let start = Instant::now();
    f(&desk);
    start.elapsed()
}

/// Open, list, page and install one more, on the desk in `dir` holding `modules`.
fn common(dir: &Path, first_id: &str, extra: &[u8], extra_id: &str) -> [Duration; 4] {
    let open = median(
        (0..REPEAT)
            .map(|_| {
                let start = Instant::now();
                let desk = Desk::open_with(dir, options()).expect("the desk opens");
                let open = start.elapsed();
                drop(desk);
                open
            })
            .collect(),
    );
    let list = median(
        (0..REPEAT)
            .map(|_| fresh(dir, |d| assert!(!d.list().expect("lists").is_empty())))
            .collect(),
    );
    let page = median(
        (0..REPEAT)
            .map(|_| {
                fresh(dir, |d| {
                    d.plugin(first_id).expect("a plugin");
                    d.config_form(first_id).expect("its form");
                    d.deliveries(first_id, 50).expect("its deliveries");
                })
            })
            .collect(),
    );
    let desk = Desk::open_with(dir, options()).expect("the desk opens");
    let start = Instant::now();
    desk.install(extra).expect("installs");
    let install = start.elapsed();
    desk.remove(extra_id).expect("removes");
    [open, list, page, install]
}

/// The first delivery of `event` on a desk opened anew, with its disk cache of compiled
/// modules as it is (`warm`) and then deleted; checks that `n` plugins were reached.
fn first_delivery(dir: &Path, event: &str, n: usize) -> (Duration, Duration) {
    let mut times = [true, false].map(|warm| {
        if !warm {
            std::fs::remove_dir_all(dir.join(COMPILED_DIR)).expect("the cache deletes");
        }
        let desk = Desk::open_with(dir, options()).expect("the desk opens");
        let start = Instant::now();
        let reports = desk.deliver(event, "T-1").expect("delivers");
        let took = start.elapsed();
        assert_eq!(reports.len(), n);
        if warm {
            let stats = desk.host().disk_cache_stats().expect("a disk cache");
            assert_eq!(stats.hits as usize, n, "{stats:?}");
        }
        took
    });
    times.reverse();
    let [cold, warm] = times;
    (warm, cold)
}

/// The process's resident set and address space, in KiB (Linux; zeros elsewhere).
fn memory() -> (i64, i64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> i64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmSize:"))
}

/// Memory per plugin (KiB): RSS and VmSize grown by loading all `n` (the first
/// `event`), and the RSS growth left once they are unloaded as idle.
fn memory_per_plugin(dir: &Path, event: &str, n: usize) -> String {
    let desk = Desk::open_with(
        dir,
        DeskOptions {
            unload_idle_after: Some(Duration::ZERO),
            ..options()
        },
    )
    .expect("the desk opens");
    let (rss0, vm0) = memory();
    assert_eq!(desk.deliver(event, "T-1").expect("delivers").len(), n);
    let (rss1, vm1) = memory();
    desk.deliver("ticket.assigned", "T-1").expect("delivers");
    assert!(desk.host().installed().is_empty());
    let (rss2, _) = memory();
    let per = |kib: i64| format!("{:.1}", kib as f64 / n as f64);
    format!(
        "{} / {} / {}",
        per(rss1 - rss0),
        per(vm1 - vm0),
        per(rss2 - rss0)
    )
}

fn sizes(var: &str, default: &str) -> Vec<usize> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|n| n.trim().parse().expect("a size"))
        .collect()
}

fn main() {
    println!(
        "| installed | open | list | page | install one more | deliver to all, first | cache emptied | again | deliver to one of N | KiB per plugin: RSS loaded / VmSize loaded / RSS unloaded |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes("OTAI_BENCH_SIZES", "10,100,1000") {
        let dir = tempfile::tempdir().expect("a temp dir");
        {
            let desk = Desk::open_with(dir.path(), options()).expect("the desk opens");
            for i in 1..n {
                desk.install(&tiny(i, &["ticket.created"]))
                    .expect("installs");
            }
            // The one plugin `ticket.closed` reaches.
            desk.install(&tiny(0, &["ticket.created", "ticket.closed"]))
                .expect("installs");
        }
        let [open, list, page, install] = common(
            dir.path(),
            "com.example.p0000",
            &tiny(n, &["ticket.created"]),
            &format!("com.example.p{n:04}"),
        );
        let (first, cold) = first_delivery(dir.path(), "ticket.created", n);
        let desk = Desk::open_with(dir.path(), options()).expect("the desk opens");
        desk.deliver("ticket.created", "T-1").expect("delivers");
        let start = Instant::now();
        desk.deliver("ticket.created", "T-1").expect("delivers");
        let again = start.elapsed();
        drop(desk);
        let mem = memory_per_plugin(dir.path(), "ticket.created", n);
        let desk = Desk::open_with(dir.path(), options()).expect("the desk opens");
        let mut one = Vec::new();
        for _ in 0..200 {
            let start = Instant::now();
            let reports = desk.deliver("ticket.closed", "T-1").expect("delivers");
            one.push(start.elapsed());
            assert_eq!(reports.len(), 1);
        }
        println!(
            "| {n} | {} | {} | {} | {} | {} | {} | {} | {} | {mem} |",
            ms(open),
            ms(list),
            ms(page),
            ms(install),
            ms(first),
            ms(cold),
            ms(again),
            ms(median(one))
        );
    }

    let Ok(path) = std::env::var("OTAI_BENCH_PLUGIN") else {
        return;
    };
    let wasm = std::fs::read(&path).expect("OTAI_BENCH_PLUGIN reads");
    println!();
    println!("copies of {path}:");
    println!(
        "| installed | open | list | page | install one more | deliver to all, first | cache emptied | KiB per plugin: RSS loaded / VmSize loaded / RSS unloaded |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes("OTAI_BENCH_PLUGIN_SIZES", "10,100") {
        let dir = tempfile::tempdir().expect("a temp dir");
        {
            let desk = Desk::open_with(dir.path(), options()).expect("the desk opens");
            for i in 0..n {
                let id = format!("com.example.copy{i:04}");
                desk.install(&with_id(&wasm, &id)).expect("installs");
                // The Slack example's required value; other modules may have none.
                let _ = desk.configure_text(
                    &id,
                    [("webhook_url", "https://hooks.slack.com/services/T0/B0/x")],
                );
            }
        }
        let extra_id = format!("com.example.copy{n:04}");
        let [open, list, page, install] = common(
            dir.path(),
            "com.example.copy0000",
            &with_id(&wasm, &extra_id),
            &extra_id,
        );
        let (first, cold) = first_delivery(dir.path(), "ticket.created", n);
        let mem = memory_per_plugin(dir.path(), "ticket.created", n);
        println!(
            "| {n} | {} | {} | {} | {} | {} | {} | {mem} |",
            ms(open),
            ms(list),
            ms(page),
            ms(install),
            ms(first),
            ms(cold)
        );
    }
}
