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
//! `OTAI_BENCH_PLUGIN=path/to/plugin.wasm` also measures copies of that module (the
//! issue's figures are for the release build of `slack-notifications`), each with its
//! manifest's id changed, at the sizes in `OTAI_BENCH_PLUGIN_SIZES` (default
//! 1,10,100,1000; the row at 1 is what "among N" is compared with). The first 100
//! copies keep the module's events and so get `ticket.created`; the others subscribe to
//! `ticket.resolved` only; copy 0 also subscribes to `ticket.closed`, which it ignores.
//! Each copy is given a `webhook_url`, whose requests go nowhere, so the deliveries to
//! it fail: what is timed is loading and one run. Figures as above, with `deliver to
//! 100` the first `ticket.created` (warm and emptied) and `deliver to one of N` the
//! `ticket.closed`. Installing the copies goes through [`Desk::install`] and
//! [`Desk::configure_text`] on one desk, as an administrator's would (its time is
//! printed): copies share their code, so wasmtime's incremental compilation cache, kept
//! in memory by that desk, compiles each function once, and so does the first delivery
//! with the cache emptied (as it would for 100 plugins built from one source).
//!
//! `OTAI_BENCH_SVG=docs/images/installed-plugins.svg` (a path from the workspace's root)
//! draws the last table's growth there; `OTAI_BENCH_KEEP=1` keeps the data directories
//! (their paths are printed, `OTAI_DESK_KEY` is `ab` 32 times) to time the CLI on them.
//! `OTAI_BENCH_SIZES=` (empty) skips the tiny plugins.

use std::path::{Path, PathBuf};
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

/// `wasm` with its `ohd_manifest` section changed by `change` (the section is dropped
/// where it was and appended again).
fn with_manifest(wasm: &[u8], change: impl FnOnce(&mut Value)) -> Vec<u8> {
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
    change(&mut manifest);
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
        .filter(|n| !n.trim().is_empty())
        .map(|n| n.trim().parse().expect("a size"))
        .collect()
}

/// A fresh data directory, deleted when dropped unless `OTAI_BENCH_KEEP` is set (then
/// its path is printed).
struct DataDir {
    path: PathBuf,
    _delete: Option<tempfile::TempDir>,
}

impl DataDir {
    fn new(what: &str) -> DataDir {
        let dir = tempfile::tempdir().expect("a temp dir");
        if std::env::var_os("OTAI_BENCH_KEEP").is_some() {
            eprintln!("{what}: {}", dir.path().display());
            return DataDir {
                path: dir.keep(),
                _delete: None,
            };
        }
        DataDir {
            path: dir.path().to_owned(),
            _delete: Some(dir),
        }
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// One line of the plot: its name, colour and a value (ms) per size.
struct Series {
    name: &'static str,
    colour: &'static str,
    points: Vec<(usize, f64)>,
}

/// An SVG of `series` against the number installed, both axes logarithmic (hand-written:
/// a plotting crate would be the bench's largest dependency), with the issue's targets
/// as dashed lines.
fn svg(title: &str, series: &[Series], targets: &[(&str, f64)]) -> String {
    use std::fmt::Write;
    let (w, h, left, right, top, bottom) = (760.0, 440.0, 70.0, 210.0, 40.0, 50.0);
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(targets.iter().map(|t| t.1))
        .filter(|v| *v > 0.0);
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (y0, y1) = (lo.log10().floor(), hi.log10().ceil());
    let sizes = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (x0, x1) = sizes.fold((f64::MAX, f64::MIN), |(lo, hi), n| {
        let n = (n as f64).log10();
        (lo.min(n), hi.max(n))
    });
    let x = |n: f64| left + (n.log10() - x0) / (x1 - x0).max(1e-9) * (w - left - right);
    let y = |v: f64| top + (y1 - v.max(1e-9).log10()) / (y1 - y0).max(1e-9) * (h - top - bottom);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="22" font-size="14">{title}</text>"#
    );
    for e in (y0 as i32)..=(y1 as i32) {
        let v = 10f64.powi(e);
        let label = if v >= 1.0 {
            format!("{v} ms")
        } else {
            format!("{v:.2} ms")
        };
        let _ = writeln!(
            out,
            r##"<line x1="{left}" x2="{x2}" y1="{at:.1}" y2="{at:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end">{label}</text>"##,
            x2 = w - right,
            at = y(v),
            tx = left - 6.0,
            ty = y(v) + 4.0
        );
    }
    for n in series.first().map(|s| s.points.clone()).unwrap_or_default() {
        let _ = writeln!(
            out,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{top}" y2="{1}" stroke="#ddd"/><text x="{0:.1}" y="{2}" text-anchor="middle">{3}</text>"##,
            x(n.0 as f64),
            h - bottom,
            h - bottom + 16.0,
            n.0
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">plugins installed</text>"#,
        (left + w - right) / 2.0,
        h - 12.0
    );
    let mut legend = top - 18.0;
    for (name, v) in targets {
        let _ = writeln!(
            out,
            r##"<line x1="{left}" x2="{x2}" y1="{at:.1}" y2="{at:.1}" stroke="#888" stroke-dasharray="4 4"/><text x="{tx}" y="{ty:.1}" fill="#666">{name}</text>"##,
            x2 = w - right,
            at = y(*v),
            tx = left + 4.0,
            ty = y(*v) - 4.0
        );
    }
    for s in series {
        let points: Vec<String> = s
            .points
            .iter()
            .map(|&(n, v)| format!("{:.1},{:.1}", x(n as f64), y(v)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            points.join(" "),
            s.colour
        );
        for p in &points {
            let (px, py) = p.split_once(',').unwrap_or_default();
            let _ = writeln!(
                out,
                r#"<circle cx="{px}" cy="{py}" r="3" fill="{}"/>"#,
                s.colour
            );
        }
        legend += 18.0;
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="12" height="4" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            w - right + 6.0,
            legend - 4.0,
            s.colour,
            w - right + 24.0,
            legend,
            s.name
        );
    }
    out.push_str("</svg>\n");
    out
}

fn main() {
    println!(
        "| installed | open | list | page | install one more | deliver to all, first | cache emptied | again | deliver to one of N | KiB per plugin: RSS loaded / VmSize loaded / RSS unloaded |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes("OTAI_BENCH_SIZES", "10,100,1000") {
        let dir = DataDir::new(&format!("{n} tiny plugins"));
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
    println!("copies of {path} (100 of them, or all if fewer, subscribed to `ticket.created`):");
    println!(
        "| installed | setup | open | list | page | install one more | deliver to 100, first | cache emptied | deliver to one of N | KiB per plugin: RSS loaded / VmSize loaded / RSS unloaded |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let names = [
        ("list", "#1f77b4"),
        ("page", "#17becf"),
        ("install one more", "#ff7f0e"),
        ("deliver to 100, cache warm", "#2ca02c"),
        ("deliver to 100, cache emptied", "#d62728"),
        ("deliver to one of N", "#9467bd"),
    ];
    let mut series: Vec<Series> = names
        .iter()
        .map(|&(name, colour)| Series {
            name,
            colour,
            points: Vec::new(),
        })
        .collect();
    let copy = |i: usize| {
        with_manifest(&wasm, |m| {
            m["id"] = Value::String(format!("com.example.copy{i:04}"));
            if i >= 100 {
                m["events"] = json!(["ticket.resolved"]);
            }
            if i == 0 {
                m["events"]
                    .as_array_mut()
                    .expect("the manifest's events")
                    .push(json!("ticket.closed"));
            }
        })
    };
    for n in sizes("OTAI_BENCH_PLUGIN_SIZES", "1,10,100,1000") {
        let dir = DataDir::new(&format!("{n} copies"));
        let start = Instant::now();
        {
            let desk = Desk::open_with(dir.path(), options()).expect("the desk opens");
            for i in 0..n {
                let info = desk.install(&copy(i)).expect("installs");
                // The Slack example's required value; other modules may have none.
                let _ = desk.configure_text(
                    &info.id,
                    [("webhook_url", "https://hooks.slack.com/services/T0/B0/x")],
                );
            }
        }
        let setup = start.elapsed();
        let extra_id = format!("com.example.copy{n:04}");
        let [open, list, page, install] =
            common(dir.path(), "com.example.copy0000", &copy(n), &extra_id);
        let reached = n.min(100);
        let (first, cold) = first_delivery(dir.path(), "ticket.created", reached);
        let mem = memory_per_plugin(dir.path(), "ticket.created", reached);
        let desk = Desk::open_with(dir.path(), options()).expect("the desk opens");
        desk.deliver("ticket.closed", "T-1").expect("delivers");
        let one = median(
            (0..200)
                .map(|_| {
                    let start = Instant::now();
                    let reports = desk.deliver("ticket.closed", "T-1").expect("delivers");
                    assert_eq!(reports.len(), 1);
                    start.elapsed()
                })
                .collect(),
        );
        println!(
            "| {n} | {:.1} s | {} | {} | {} | {} | {} | {} | {} | {mem} |",
            setup.as_secs_f64(),
            ms(open),
            ms(list),
            ms(page),
            ms(install),
            ms(first),
            ms(cold),
            ms(one)
        );
        for (s, d) in series
            .iter_mut()
            .zip([list, page, install, first, cold, one])
        {
            s.points.push((n, d.as_secs_f64() * 1e3));
        }
    }
    if let Ok(to) = std::env::var("OTAI_BENCH_SVG") {
        let to = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(to);
        let name = Path::new(&path)
            .file_name()
            .map_or_else(|| path.clone(), |f| f.to_string_lossy().into_owned());
        let text = svg(
            &format!("The desk with N copies of {name} installed (ms, log scales)"),
            &series,
            &[
                ("50 ms: list, page", 50.0),
                ("200 ms: install", 200.0),
                ("1 s: deliver to 100", 1000.0),
            ],
        );
        std::fs::write(&to, text).expect("the SVG writes");
        eprintln!("wrote {}", to.display());
    }
}
