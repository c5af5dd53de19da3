//! What `cargo otai-plugin build` adds to a no-op `cargo build` of an already-built
//! plugin: `cargo bench -p cargo-otai-plugin --bench build_overhead`.
//!
//! Prints figures and asserts only that every measured command succeeds. It scaffolds a
//! plugin with this CLI's `new` (template `minimal`, or `OTAI_BENCH_TEMPLATE`) in a
//! temporary directory outside this workspace, so that the workspace's own
//! `.cargo/config.toml` (and its `otai-plugin` alias) does not apply, builds it once,
//! then times these commands in alternating rounds, so that other load on the machine
//! hits them alike:
//!
//! - `cargo build --release --target wasm32-unknown-unknown`: what the author would run
//!   without us;
//! - `cargo otai-build-floor`: an external cargo subcommand that only execs `$CARGO
//!   build` with the arguments ours passes (this bench's own executable, linked under
//!   that name). Any `cargo <name>` pays this: rustup's proxy and cargo loading its
//!   configuration before it execs `cargo-<name>`;
//! - `cargo otai-plugin build --release`, with this CLI first on `PATH`;
//! - `cargo-otai-plugin build --release`: the same run directly, as from a shell, so
//!   without `$CARGO` (the wasm32 target check then asks `rustup which rustc` beside
//!   the build, or `rustc --print sysroot` before it when rustc is not rustup's proxy);
//! - `cargo otai-plugin --version` and `cargo-otai-plugin --version`: the dispatch cost
//!   alone.
//!
//! The plugin's target directory persists in the bench's `CARGO_TARGET_TMPDIR`, so
//! only the first run compiles the SDK and its dependencies for wasm32.
//! `OTAI_BENCH_RUNS` sets the number of timed rounds (default 40).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEFAULT_RUNS: usize = 40;
const WARMUP: usize = 5;
const CLI: &str = env!("CARGO_BIN_EXE_cargo-otai-plugin");

/// The arguments `build` passes to cargo (see `src/cargo.rs`), for the floor.
const FLOOR_ARGS: &[&str] = &[
    "build",
    "--lib",
    "--target",
    "wasm32-unknown-unknown",
    "--message-format",
    "json-render-diagnostics",
    "--color",
    "never",
    "--release",
];
const FLOOR: &str = "otai-build-floor";

struct Measured {
    label: &'static str,
    args: Vec<&'static str>,
    times: Vec<Duration>,
}

fn main() {
    // Run by cargo as `cargo-otai-build-floor otai-build-floor`: be the floor.
    if std::env::args().nth(1).as_deref() == Some(FLOOR) {
        let cargo = std::env::var_os("CARGO").expect("cargo sets $CARGO for subcommands");
        let err = std::os::unix::process::CommandExt::exec(
            Command::new(cargo).args(FLOOR_ARGS).stdout(Stdio::null()),
        );
        panic!("could not exec cargo: {err}");
    }
    let runs = std::env::var("OTAI_BENCH_RUNS")
        .ok()
        .map(|r| {
            r.parse::<usize>()
                .ok()
                .filter(|&r| r > 0)
                .unwrap_or_else(|| panic!("OTAI_BENCH_RUNS must be a positive number, not {r:?}"))
        })
        .unwrap_or(DEFAULT_RUNS);
    let template = std::env::var("OTAI_BENCH_TEMPLATE").unwrap_or_else(|_| "minimal".to_owned());
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let bin = scratch.path().join("bin");
    std::fs::create_dir(&bin).expect("create bin/");
    std::os::unix::fs::symlink(CLI, bin.join("cargo-otai-plugin")).expect("link the CLI");
    let this = std::env::current_exe().expect("the bench's own path");
    std::os::unix::fs::symlink(this, bin.join(format!("cargo-{FLOOR}"))).expect("link the floor");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("build-overhead");

    let plugin = scratch.path().join("overhead");
    run(
        Command::new(CLI)
            .args(["otai-plugin", "new", "--quiet", "--template", &template])
            .arg(&plugin)
            .arg("--sdk-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/..")),
        "cargo otai-plugin new",
    );
    let command = |args: &[&str]| {
        let mut command = Command::new(args[0]);
        command
            .args(&args[1..])
            .current_dir(&plugin)
            .env("PATH", &path)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("CARGO")
            .stdin(Stdio::null());
        command
    };
    println!(
        "building the `{template}` plugin once into {} ...",
        target_dir.display()
    );
    run(
        &mut command(&["cargo", "otai-plugin", "build", "--release", "--quiet"]),
        "the first build",
    );

    let mut measured = vec![
        Measured {
            label: "cargo build --release --target wasm32-unknown-unknown",
            args: vec![
                "cargo",
                "build",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
            ],
            times: Vec::new(),
        },
        Measured {
            label: "cargo otai-build-floor (exec $CARGO build)",
            args: vec!["cargo", FLOOR],
            times: Vec::new(),
        },
        Measured {
            label: "cargo otai-plugin build --release",
            args: vec!["cargo", "otai-plugin", "build", "--release"],
            times: Vec::new(),
        },
        Measured {
            label: "cargo-otai-plugin build --release (direct)",
            args: vec!["cargo-otai-plugin", "build", "--release"],
            times: Vec::new(),
        },
        Measured {
            label: "cargo otai-plugin --version",
            args: vec!["cargo", "otai-plugin", "--version"],
            times: Vec::new(),
        },
        Measured {
            label: "cargo-otai-plugin --version",
            args: vec!["cargo-otai-plugin", "--version"],
            times: Vec::new(),
        },
    ];
    for round in 0..WARMUP + runs {
        for m in &mut measured {
            let start = Instant::now();
            let output = command(&m.args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .unwrap_or_else(|err| panic!("`{}` did not start: {err}", m.label));
            let elapsed = start.elapsed();
            assert!(
                output.status.success(),
                "`{}` failed:\n{}",
                m.label,
                String::from_utf8_lossy(&output.stderr)
            );
            if round >= WARMUP {
                m.times.push(elapsed);
            }
        }
    }

    println!(
        "\nno-op builds of an already-built `{template}` plugin, {runs} alternating rounds \
         after {WARMUP} warm-up (wall time per command)\n"
    );
    println!(
        "{:<56} {:>10} {:>10} {:>10}",
        "command", "median", "mean", "p90"
    );
    // Rounds in the order they ran, for differences within a round: the machine's
    // speed drifts between rounds more than the differences being measured.
    let by_round: Vec<Vec<f64>> = measured
        .iter()
        .map(|m| m.times.iter().map(|t| t.as_secs_f64() * 1e3).collect())
        .collect();
    for m in &mut measured {
        m.times.sort();
        println!(
            "{:<56} {:>10} {:>10} {:>10}",
            m.label,
            ms(percentile(&m.times, 0.5)),
            ms(m.times.iter().sum::<Duration>() / m.times.len() as u32),
            ms(percentile(&m.times, 0.9)),
        );
    }
    let cargo = percentile(&measured[0].times, 0.5).as_secs_f64() * 1e3;
    // The median over rounds of `a - b` within each round.
    let over = |a: usize, b: usize| {
        let mut differences: Vec<f64> = by_round[a]
            .iter()
            .zip(&by_round[b])
            .map(|(a, b)| a - b)
            .collect();
        differences.sort_by(f64::total_cmp);
        let ms = differences[differences.len() / 2];
        format!("{ms:+.1} ms ({:+.1}%)", ms / cargo * 100.0)
    };
    println!(
        "\nmedian differences within a round, as a share of `cargo build`'s median:\n\
         `cargo otai-plugin build` over `cargo build`: {}\n\
         of which cargo's subcommand dispatch (the floor over `cargo build`): {}\n\
         and this tool's own work (over the floor): {}\n\
         `cargo-otai-plugin build` run directly, over `cargo build`: {}\n\
         cargo's dispatch of `cargo otai-plugin --version` alone: {}",
        over(2, 0),
        over(1, 0),
        over(2, 1),
        over(3, 0),
        over(4, 5),
    );
}

fn run(command: &mut Command, what: &str) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("{what} did not start: {err}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}
