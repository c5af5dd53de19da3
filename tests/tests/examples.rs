//! Every example plugin, built from source with `cargo otai-plugin`, checked, and run
//! against the reference host with its fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use otai_plugin_host::{Host, Outcome};

/// The benches' workload: each example's config and mock, the 2 KB event.
#[path = "../benches/workload/mod.rs"]
mod workload;

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The CLI binary that `cargo test --workspace` built next to this test's binary.
fn cli() -> Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<this test> -> target/<profile>/cargo-otai-plugin
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    let bin = dir.join(format!("cargo-otai-plugin{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} does not exist: run the end-to-end tests with `cargo test --workspace`, which builds the CLI",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    // Plugins build into a target directory of their own: the outer `cargo test` may
    // still hold the lock of the workspace's.
    cmd.env("CARGO_TARGET_DIR", e2e_target());
    cmd
}

fn e2e_target() -> PathBuf {
    workspace().join("target").join("e2e")
}

fn text(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `cargo otai-plugin test` on an example: builds it (release), runs its fixtures and its
/// own tests; then checks the module it built.
///
/// `max_size` is a few percent above what the example builds to with Rust 1.95 and
/// Debian's Binaryen 108 (docs/PERFORMANCE.md, "Sizes"): a change that makes every
/// plugin larger fails here, and so does a release build that `wasm-opt` did not
/// optimize when it is installed (each example is 11–13% larger without it).
/// `without_wasm_opt` is the budget on a machine without `wasm-opt`.
fn example(name: &str, crate_name: &str, max_size: u64, without_wasm_opt: u64) {
    let max_size = if cfg!(no_wasm_opt) {
        without_wasm_opt
    } else {
        max_size
    };
    let manifest = workspace().join("examples").join(name).join("Cargo.toml");
    let output = cli()
        .args(["otai-plugin", "test", "--release", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("the CLI runs");
    let all = text(&output);
    assert!(
        output.status.success(),
        "`cargo otai-plugin test` failed for {name}:\n{all}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" passed, "))
        .unwrap_or_default();
    assert!(summary.contains(" 0 failed"), "{name}: {all}");
    let passed: u32 = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no `N passed, N failed` line:\n{all}"));
    assert!(
        passed >= 3,
        "{name}: expected fixtures for success, remote errors and more; ran {passed}:\n{all}"
    );

    let wasm = e2e_target()
        .join("wasm32-unknown-unknown/release")
        .join(format!("{crate_name}.wasm"));
    check_module(&wasm, max_size);
}

/// `cargo otai-plugin check --format json` finds no error, the module validates, carries
/// one manifest, and fits its size budget.
fn check_module(wasm: &Path, max_size: u64) {
    let bytes = std::fs::read(wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    let size = bytes.len() as u64;
    println!("{}: {size} bytes", wasm.display());
    assert!(
        size <= max_size,
        "{}: {size} bytes, over the budget of {max_size}",
        wasm.display()
    );

    wasmparser::Validator::new()
        .validate_all(&bytes)
        .expect("the module validates");
    let mut sections = Vec::new();
    let mut data = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        match payload.expect("the module parses") {
            wasmparser::Payload::CustomSection(c)
                if ["ohd_manifest", "ohd_abi"].contains(&c.name()) =>
            {
                sections.push((c.name(), c.data()));
            }
            wasmparser::Payload::DataSection(reader) => {
                data.extend(reader.into_iter().map(|d| d.expect("a data segment").data));
            }
            _ => {}
        }
    }
    let manifests = sections
        .iter()
        .filter(|(n, _)| *n == "ohd_manifest")
        .count();
    assert_eq!(
        manifests,
        1,
        "{}: one `ohd_manifest` section",
        wasm.display()
    );
    // Only in their sections: `build` drops the copy rustc 1.95 also puts in memory.
    for (name, content) in &sections {
        assert!(
            !data
                .iter()
                .any(|d| d.windows(content.len()).any(|w| w == *content)),
            "{}: the `{name}` section is in the data too",
            wasm.display()
        );
    }

    let output = cli()
        .args(["otai-plugin", "check", "--format", "json"])
        .arg(wasm)
        .output()
        .expect("the CLI runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "`check --format json` printed no JSON ({e}):\n{}",
            text(&output)
        )
    });
    assert_eq!(
        report["ok"],
        true,
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    assert!(output.status.success(), "{}", text(&output));
}

/// A template as `cargo otai-plugin new` writes it, in `target/e2e/template-<name>`: its
/// fixtures and tests pass in a release build, and the module fits `max_size`.
fn template_passes_within(template: &str, max_size: u64) {
    let dir = e2e_target().join(format!("template-{template}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("the last run's template can be removed");
    }
    let output = cli()
        .args(["otai-plugin", "new", "-q", "--template", template])
        .arg(&dir)
        .arg("--sdk-path")
        .arg(workspace())
        .output()
        .expect("the CLI runs");
    assert!(output.status.success(), "{}", text(&output));
    let output = cli()
        .current_dir(&dir)
        .args(["otai-plugin", "test", "--release"])
        .output()
        .expect("the CLI runs");
    assert!(output.status.success(), "{}", text(&output));
    let wasm = e2e_target()
        .join("wasm32-unknown-unknown/release")
        .join(format!("template_{template}.wasm"));
    check_module(&wasm, max_size);
}

/// The `minimal` template stays under the 20 KB (20,000 bytes) it is meant to fit in
/// (docs/PERFORMANCE.md). With Rust 1.95 and Binaryen 108 it is 19,127 or 19,510 bytes
/// depending on where the SDK is checked out (the path changes the symbol hashes, and
/// with them some of LLVM's inlining), about 22.5 KB without `wasm-opt`.
#[test]
fn minimal_template_passes_and_stays_under_20_kb() {
    template_passes_within("minimal", if cfg!(no_wasm_opt) { 25_000 } else { 20_000 });
}

/// The `triage` template, a typed plugin that reads its config (a map through
/// `config::KeyValues`), sets a custom field and adds a note: 56,095 bytes with Rust 1.95
/// and Binaryen 108, 64,703 without `wasm-opt`. `KeyValues`, with errors that give the
/// entry's position, costs about 5 KB over a hand-written `split(',')` (51,137 bytes);
/// the budget leaves a few percent for the checkout's path.
#[test]
fn triage_template_passes_and_stays_within_its_budget() {
    template_passes_within("triage", if cfg!(no_wasm_opt) { 67_500 } else { 58_500 });
}

#[test]
fn minimal_builds_checks_and_passes_its_fixtures() {
    example("minimal", "ohd_example_minimal", 10 * 1024, 14 * 1024);
}

/// The SDK's allocator starts with the free part of the module's initial memory (1 MiB,
/// `.cargo/config.toml`): a delivery that grew the memory would cost the host two
/// `mprotect` calls and a TLB flush on every core (docs/PERFORMANCE.md). On a host whose
/// memory limit is the initial memory itself, any growth is refused and the delivery
/// fails; so an example that does its whole work there (the benches' workload: the 2 KB
/// event, the service answering) did not grow.
fn works_within_its_initial_memory(name: &str, crate_name: &str) {
    let wasm = e2e_target()
        .join("wasm32-unknown-unknown/release")
        .join(format!("{crate_name}.wasm"));
    let bytes = std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    let (config, mock, requests) = workload::setup(name);
    let host = Host::builder()
        .memory_limit(1 << 20)
        .http(mock)
        .build()
        .expect("the host builds");
    let plugin = host.load(&bytes).expect("the example loads");
    host.install(&plugin, config).expect("the config is valid");
    let report = host
        .deliver_to(plugin.id(), &workload::event_2k())
        .expect("installed");
    let did_its_work = report.outcome == Outcome::Ok
        && report.http.len() == requests
        && report.http.iter().all(|h| (200..300).contains(&h.status));
    assert!(
        did_its_work,
        "{name} did not do its work within its initial 1 MiB of memory: {}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
}

#[test]
fn slack_notifications_builds_checks_and_passes_its_fixtures() {
    example(
        "slack-notifications",
        "slack_notifications",
        // Issue 16's target for a typed plugin that makes a request: 64 KiB.
        64 * 1024,
        74 * 1024,
    );
    works_within_its_initial_memory("slack-notifications", "slack_notifications");
}

#[test]
fn pagerduty_builds_checks_and_passes_its_fixtures() {
    example("pagerduty", "pagerduty", 82 * 1024, 93 * 1024);
    works_within_its_initial_memory("pagerduty", "pagerduty");
}

#[test]
fn jira_linker_builds_checks_and_passes_its_fixtures() {
    // The largest example: JIRA REST, base64 and a panel.
    example("jira-linker", "jira_linker", 94 * 1024, 108 * 1024);
    works_within_its_initial_memory("jira-linker", "jira_linker");
}

/// The C plugin, built with clang from `docs/ABI.md` alone, is accepted by `check` and
/// runs on the reference host. Without clang and wasm-ld (found by `build.rs`) it is
/// ignored, and says why.
#[test]
#[cfg_attr(
    no_wasm_clang,
    ignore = "needs clang and wasm-ld to build examples/c-hello (apt-get install clang lld)"
)]
fn c_hello_built_with_clang_runs_on_the_reference_host() {
    let out = e2e_target().join("c-hello");
    let build = Command::new("sh")
        .arg(workspace().join("examples/c-hello/build.sh"))
        .arg(&out)
        .output()
        .expect("sh runs");
    assert!(build.status.success(), "build.sh failed:\n{}", text(&build));
    let wasm = out.join("c-hello.wasm");
    check_module(&wasm, 16 * 1024);

    let output = cli()
        .args([
            "otai-plugin",
            "run",
            "--format",
            "json",
            "--event",
            "ticket.created",
        ])
        .arg(&wasm)
        .output()
        .expect("the CLI runs");
    assert!(output.status.success(), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "`run --format json` printed no JSON ({e}):\n{}",
            text(&output)
        )
    });
    assert_eq!(report["outcome"]["status"], "ok", "{report:#}");
    let replies = report["replies"].as_array().expect("replies");
    assert_eq!(replies.len(), 1, "{report:#}");
    assert_eq!(replies[0]["body"], "Hello from a C plugin!");
    assert_eq!(replies[0]["is_internal"], true);
    let ticket = replies[0]["ticket_id"].as_str().expect("ticket_id");
    let logs = report["logs"].as_array().expect("logs");
    assert!(
        logs.iter().any(|l| l["level"] == "info"
            && l["message"] == format!("c-hello: new ticket {ticket}").as_str()),
        "{report:#}"
    );
}

/// CI installs clang (`.ci/run`): there the C test must not be ignored.
#[test]
#[cfg(no_wasm_clang)]
fn ci_builds_the_c_example() {
    assert!(
        std::env::var_os("CI").is_none(),
        "clang and wasm-ld are required on CI: c_hello_built_with_clang_runs_on_the_reference_host was ignored"
    );
}
