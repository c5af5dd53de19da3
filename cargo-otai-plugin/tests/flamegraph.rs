//! `run --flamegraph FILE.svg` and `test --flamegraph DIR`: an SVG flame graph that is
//! well-formed XML naming the plugin's own functions and its host calls, the Firefox
//! Profiler JSON beside it, status lines naming both; nothing written without the flag.

mod support;

use std::path::{Path, PathBuf};

use otai_plugin_test_support::{LOG, Module};
use serde_json::Value;
use support::{Project, cli, offline, stderr_of};

/// A plugin whose `on_event` calls `$summarize_ticket`, which logs the payload.
fn named_plugin() -> Vec<u8> {
    Module::new()
        .imports(&[LOG])
        .body(
            r#"(func $summarize_ticket (param i32 i32)
                 (call $log (local.get 0) (local.get 1) (i32.const 1)))
               (func $on_event (export "on_event") (param i32 i32)
                 (call $summarize_ticket (local.get 0) (local.get 1)))"#,
        )
        .manifest(
            r#"{"id":"com.example.named","name":"Named","version":"1.0.0","description":"Names its functions.","events":["ticket.created"]}"#,
        )
        .wasm()
}

/// The text of every `<title>` of the SVG, which must parse as XML: a frame's name and
/// its share.
fn frame_titles(svg: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(svg).unwrap();
    // inferno writes the SVG 1.1 doctype.
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(&text, options)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", svg.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect()
}

fn firefox_strings(json: &Path) -> Vec<String> {
    let profile: Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    profile["threads"][0]["stringArray"]
        .as_array()
        .expect("a processed profile's thread has a `stringArray`")
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn run_writes_a_flame_graph_and_the_profile_beside_it() {
    let project = Project::empty();
    let wasm = project.write("named.wasm", named_plugin());
    let svg = project.root.join("profiles/delivery.svg");
    let output = cli()
        .args(["run", "--event", "ticket.created", "--flamegraph"])
        .arg(&svg)
        .arg(&wasm)
        .output()
        .unwrap();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");

    let titles = frame_titles(&svg);
    let has = |name: &str| titles.iter().any(|t| t.starts_with(&format!("{name} (")));
    for name in ["on_event", "summarize_ticket", "ohd_log"] {
        assert!(has(name), "no frame `{name}` in {titles:#?}");
    }
    // The host calls' time, summed in the subtitle.
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("host calls: ohd_log 1×"), "{text}");
    let json = project.root.join("profiles/delivery.json");
    assert!(
        firefox_strings(&json)
            .iter()
            .any(|s| s == "summarize_ticket")
    );
    // Cargo-style status lines say where both went.
    assert!(
        stderr.contains(&format!("Flamegraph {}", svg.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("Profile {}", json.display())),
        "{stderr}"
    );
}

#[test]
fn run_without_the_flag_writes_no_profile() {
    let project = Project::empty();
    let wasm = project.write("named.wasm", named_plugin());
    let output = cli()
        .current_dir(&project.root)
        .args(["run", "--event", "ticket.created"])
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let files: Vec<PathBuf> = std::fs::read_dir(&project.root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files, [wasm]);
    assert!(!stderr_of(&output).contains("Flamegraph"));
}

#[test]
fn a_flame_graph_path_that_would_be_its_own_profile_is_refused() {
    let project = Project::empty();
    let wasm = project.write("named.wasm", named_plugin());
    let output = cli()
        .args(["run", "--event", "ticket.created", "--flamegraph"])
        .arg(project.root.join("graph.json"))
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("name it `.svg`"), "{stderr}");
    assert!(!project.root.join("graph.json").exists());
}

/// The workspace's slack-notifications example.
fn slack_example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/slack-notifications")
}

/// `cargo-otai-plugin ARGS` in the example's folder, building into the target directory
/// the examples' other tests share (`tests/flavours.rs`), offline.
fn in_example(args: &[&str]) -> std::process::Output {
    let mut cmd = cli();
    cmd.current_dir(slack_example()).env(
        "CARGO_TARGET_DIR",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e"),
    );
    offline(&mut cmd);
    cmd.args(args).output().unwrap()
}

#[test]
fn the_flame_graph_of_an_example_names_its_own_functions_demangled() {
    // The debug build, `run`'s default: it keeps the name section.
    let out = tempfile::tempdir().unwrap();
    let svg = out.path().join("slack.svg");
    let output = in_example(&[
        "run",
        "--fixture",
        "created_critical_mention",
        "--flamegraph",
        svg.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let titles = frame_titles(&svg);
    // The author's function, demangled and without rustc's hash; the SDK's decoding; the
    // host call that posted to Slack (the allocator it ran for the answer's body).
    for name in [
        "slack_notifications::created_text",
        "otai_plugin_sdk::",
        "ohd_http_request",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(name)),
            "no frame `{name}` in {titles:#?}"
        );
    }
    assert!(
        !titles.iter().any(|t| has_hash(t)),
        "a name keeps rustc's hash: {titles:#?}"
    );
}

/// Whether `title` holds a legacy-mangling hash, `::h` and 16 hex digits.
fn has_hash(title: &str) -> bool {
    title.match_indices("::h").any(|(at, _)| {
        let rest = &title.as_bytes()[at + 3..];
        rest.len() >= 16 && rest[..16].iter().all(u8::is_ascii_hexdigit)
    })
}

#[test]
fn test_writes_one_flame_graph_per_fixture_named_after_it() {
    // The release build the examples' other tests make: stripped of its names, which
    // `test` says.
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("graphs");
    let output = in_example(&[
        "test",
        "--release",
        "--flamegraph",
        dir.to_str().unwrap(),
        "fixtures/created_defaults",
    ]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["created_defaults.json", "created_defaults.svg"]);
    assert!(!frame_titles(&dir.join("created_defaults.svg")).is_empty());
    assert!(stderr.contains("no function names"), "{stderr}");
}
