//! How long `cargo otai-plugin dev` takes to run a saved change, against cargo's own
//! incremental build of the same change: `cargo bench -p cargo-otai-plugin --bench dev_swap`.
//!
//! Prints figures and asserts only that every step succeeds. Issue 13's target: the
//! rebuild-and-swap after a one-line change ≤ cargo's own incremental build + 300 ms.
//!
//! It scaffolds two copies of the `minimal` plugin with this CLI's `new`, outside this
//! workspace, each with its own target directory. `dev` serves one; each round changes
//! one line of the other and times `cargo build` as `dev` runs it (the floor), then
//! changes the same line of the served copy and times from the write to `dev`'s
//! `Swapped` line: noticing the change, the build, the module's post-processing, its
//! compilation by the host and the upgrade in the desk. `OTAI_BENCH_RUNS` sets the
//! number of rounds (default 10).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CLI: &str = env!("CARGO_BIN_EXE_cargo-otai-plugin");
const DEFAULT_RUNS: usize = 10;

/// Kills `dev` when the bench ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let runs = std::env::var("OTAI_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse::<usize>().ok())
        .filter(|&r| r > 0)
        .unwrap_or(DEFAULT_RUNS);
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let targets = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dev-swap");
    let served = scaffold(scratch.path(), "served");
    let floor = scaffold(scratch.path(), "floor");
    let floor_target = targets.join("floor");
    let build_floor = || {
        let start = Instant::now();
        let status = Command::new("cargo")
            .args([
                "build",
                "--lib",
                "--target",
                "wasm32-unknown-unknown",
                "--message-format",
                "json-diagnostic-rendered-ansi",
                "--quiet",
            ])
            .current_dir(&floor)
            .env("CARGO_TARGET_DIR", &floor_target)
            .stdout(Stdio::null())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build of the floor copy failed");
        start.elapsed()
    };
    println!("building both copies once ...");
    build_floor();

    let mut child = Command::new(CLI)
        .args(["otai-plugin", "dev", "--color", "never", "--data-dir"])
        .arg(scratch.path().join("desk"))
        .current_dir(&served)
        .env("CARGO_TARGET_DIR", targets.join("served"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`dev` starts");
    let (tx, lines) = mpsc::channel::<String>();
    for stream in [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().expect("stderr")),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            BufReader::new(stream)
                .lines()
                .map_while(Result::ok)
                .for_each(|l| drop(tx.send(l)))
        });
    }
    let _server = Server(child);
    let wait_for = |needle: &str| loop {
        match lines.recv_timeout(Duration::from_secs(600)) {
            Ok(line) if line.contains("the build failed") => panic!("`dev`: {line}"),
            Ok(line) if line.contains(needle) => return (Instant::now(), line),
            Ok(_) => {}
            Err(e) => panic!("`dev` never printed {needle:?}: {e}"),
        }
    };
    wait_for("listening on http://127.0.0.1:");

    let mut swaps = Vec::new();
    let mut builds = Vec::new();
    let mut compiles = Vec::new();
    for round in 0..=runs {
        edit(&floor, round);
        let build = build_floor();
        let start = Instant::now();
        edit(&served, round);
        let (end, line) = wait_for("Swapped");
        // `Swapped … (module compiled in 0.38s)`
        let compile = line
            .rsplit_once("compiled in ")
            .and_then(|(_, s)| s.trim_end_matches("s)").parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no compile time in {line:?}"));
        // The first round settles both (the watcher, the caches); it is not counted.
        if round > 0 {
            builds.push(build);
            swaps.push(end.duration_since(start));
            compiles.push(compile * 1e3);
        }
    }

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let over: Vec<f64> = swaps
        .iter()
        .zip(&builds)
        .map(|(s, b)| ms(*s) - ms(*b))
        .collect();
    builds.sort();
    swaps.sort();
    let mut over_sorted = over.clone();
    over_sorted.sort_by(f64::total_cmp);
    println!("\na one-line change of the `minimal` plugin, {runs} rounds (median, max)\n");
    println!(
        "cargo build (incremental, as `dev` runs it): {:>7.0} ms {:>7.0} ms",
        ms(builds[builds.len() / 2]),
        ms(builds[builds.len() - 1])
    );
    println!(
        "dev: save to `Swapped`:                      {:>7.0} ms {:>7.0} ms",
        ms(swaps[swaps.len() / 2]),
        ms(swaps[swaps.len() - 1])
    );
    compiles.sort_by(f64::total_cmp);
    println!(
        "  of which the host compiling the module:  {:>7.0} ms {:>7.0} ms",
        compiles[compiles.len() / 2],
        compiles[compiles.len() - 1]
    );
    println!(
        "dev over cargo, within a round:              {:>7.0} ms {:>7.0} ms (target ≤ 300 ms)",
        over_sorted[over_sorted.len() / 2],
        over_sorted[over_sorted.len() - 1]
    );
}

/// A new `minimal` plugin in `dir/name`.
fn scaffold(dir: &Path, name: &str) -> PathBuf {
    let root = dir.join(name);
    let status = Command::new(CLI)
        .args(["otai-plugin", "new", "--quiet", "--template", "minimal"])
        .arg(&root)
        .arg("--sdk-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .status()
        .expect("`new` runs");
    assert!(status.success(), "`cargo otai-plugin new` failed");
    root
}

/// Changes one line of the plugin's source: the text of its log line.
fn edit(root: &Path, round: usize) {
    let lib = root.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).expect("src/lib.rs");
    let start = source
        .find("\"new ticket {}")
        .expect("the template logs a line about the new ticket");
    let end = start + 1 + source[start + 1..].find('"').expect("the literal ends") + 1;
    let changed = format!(
        "{}\"new ticket {{}}: {{}} (priority {{}}), round {round}\"{}",
        &source[..start],
        &source[end..]
    );
    std::fs::write(&lib, changed).expect("write src/lib.rs");
}
