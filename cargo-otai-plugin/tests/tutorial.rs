//! The README's "A new plugin in five minutes" (then "Ship it" and "When a delivery
//! fails"), followed literally on a fresh folder: its commands in order, and every
//! excerpt it shows of the generated files checked against what `new` wrote, so that
//! the tutorial cannot drift from the templates.
//!
//! Two things differ from a person at a terminal, both to share compiled dependencies
//! with the other tests: the plugin builds into the shared test target directory (so
//! `../ticket-to-slack/target/` in a command means that directory), and it gets this
//! workspace's `Cargo.lock` after `new` and no network, so that it builds with the same
//! dependency versions as the rest of the run. The commands run in a folder of their
//! own beside the plugin's; `.` after `--sdk-path`, which the README runs in the
//! checkout, is the checkout.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::Registry;
use serde_json::json;
use support::{checkout, cli, offline, pin_dependencies, shared_target_dir, stderr_of, stdout_of};

const README: &str = include_str!("../../README.md");

/// A fenced code block: its language and its text.
struct Block<'a> {
    lang: &'a str,
    text: String,
}

/// The code blocks of the README's section `heading`, in order.
fn blocks(heading: &str) -> Vec<Block<'static>> {
    let start = README
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no {heading:?}"));
    let section = &README[start + heading.len()..];
    let section = section.find("\n## ").map_or(section, |end| &section[..end]);
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```").filter(|l| !l.is_empty()) {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push(Block {
                lang,
                text: body.join("\n") + "\n",
            });
        }
    }
    blocks
}

/// `# Cargo.toml (excerpt)` / `// src/lib.rs`: the file a block shows, whether it is an
/// excerpt, and the block without that line.
fn shown_file<'b>(block: &'b Block<'_>) -> Option<(&'b str, bool, &'b str)> {
    let (first, rest) = block.text.split_once('\n')?;
    let name = first
        .strip_prefix("# ")
        .or_else(|| first.strip_prefix("// "))?;
    match name.strip_suffix(" (excerpt)") {
        Some(file) => Some((file, true, rest)),
        None => Some((name, false, rest)),
    }
}

/// Runs one line of a `sh` block in `work`: a `cargo otai-plugin` command (the
/// registry `127.0.0.1:5000` of "Ship it" replaced by `registry`, when given), or another
/// command by `sh`. Returns its stdout.
fn run_command(line: &str, work: &Path, plugin: &Path, registry: Option<&str>) -> String {
    let Some(rest) = line.strip_prefix("cargo otai-plugin ") else {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(work)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "`{line}` failed:\n{}",
            stderr_of(&output)
        );
        return stdout_of(&output);
    };
    let mut args: Vec<String> = rest
        .split_whitespace()
        .map(|arg| match arg.strip_prefix("../ticket-to-slack/target/") {
            Some(rest) => shared_target_dir().join(rest).display().to_string(),
            None => match registry {
                Some(address) => arg.replace("127.0.0.1:5000", address),
                None => arg.to_owned(),
            },
        })
        .collect();
    if let Some(at) = args.iter().position(|a| a == "--sdk-path")
        && let Some(path) = args.get_mut(at + 1)
        && path == "."
    {
        *path = checkout().display().to_string();
    }
    let mut command = cli();
    command
        .current_dir(work)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        // The user's registry logins never take part.
        .env("DOCKER_CONFIG", work.join("docker"))
        .args(&args);
    offline(&mut command);
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "`{line}` failed:\nstdout:\n{}\nstderr:\n{}",
        stdout_of(&output),
        stderr_of(&output)
    );
    if args.first().is_some_and(|a| a == "new") {
        pin_dependencies(plugin);
    }
    let stdout = stdout_of(&output);
    if args.first().is_some_and(|a| a == "run") {
        assert!(stdout.starts_with("outcome: ok"), "{stdout}");
    }
    stdout
}

#[test]
fn the_readme_tutorial_works_as_written() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let plugin: PathBuf = root.path().join("ticket-to-slack");

    let blocks = blocks("## A new plugin in five minutes");
    let mut commands = 0;
    let mut files = 0;
    for block in &blocks {
        if block.lang == "sh" {
            for line in block.text.lines().map(str::trim) {
                if !line.is_empty() && !line.starts_with('#') {
                    run_command(line, &work, &plugin, None);
                    commands += 1;
                }
            }
            continue;
        }
        let (file, excerpt, shown) = shown_file(block).unwrap_or_else(|| {
            panic!(
                "a {} block of the tutorial does not say which generated file it shows \
                 (first line `# FILE` or `// FILE (excerpt)`):\n{}",
                block.lang, block.text
            )
        });
        let written = std::fs::read_to_string(plugin.join(file)).unwrap_or_else(|e| {
            panic!("the tutorial shows `{file}`, which `new` did not write: {e}")
        });
        if excerpt {
            assert!(
                written.contains(shown),
                "the README's excerpt of `{file}` is not in the generated file:\n{shown}\n--- generated ---\n{written}"
            );
        } else {
            assert_eq!(
                shown, written,
                "the README shows `{file}` other than generated"
            );
        }
        files += 1;
    }
    assert_eq!(
        (commands, files),
        (5, 3),
        "the tutorial's steps changed: update this test"
    );

    ship_it(&work, &plugin);
    a_delivery_fails(root.path(), &plugin);
}

/// "Ship it", on the tutorial's plugin: signed, published to a registry the test starts
/// (in place of the README's `127.0.0.1:5000`), installed and upgraded from there.
fn ship_it(work: &Path, plugin: &Path) {
    let Some(registry) = Registry::start() else {
        return;
    };
    let address = registry.address();
    let mut listed = Vec::new();
    for block in blocks("## Ship it: sign, publish, install from a registry") {
        assert_eq!(block.lang, "sh", "{}", block.text);
        for line in block.text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                let stdout = run_command(line, work, plugin, Some(&address));
                if line.ends_with("desk --data-dir ../desk list") {
                    listed.push(stdout);
                }
            }
        }
    }
    assert_eq!(listed.len(), 1, "\"Ship it\" lists the desk's plugins once");
    let pinned = format!("from oci://{address}/acme/ticket-to-slack:0.1.0@sha256:");
    assert!(
        listed[0].contains("com.example.ticket-to-slack 0.1.0")
            && listed[0].contains("signed by SHA256:")
            && listed[0].contains(&pinned),
        "{}",
        listed[0]
    );
    // The upgrade took: the desk now runs 0.2.0, from its own pinned reference.
    let mut list = cli();
    list.current_dir(work)
        .args(["desk", "--data-dir", "../desk", "list", "--format", "json"]);
    let output = list.output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(list[0]["manifest"]["version"], "0.2.0", "{list}");
    assert!(
        list[0]["source"]
            .as_str()
            .is_some_and(|s| s.starts_with(&format!(
                "oci://{address}/acme/ticket-to-slack:0.2.0@sha256:"
            ))),
        "{list}"
    );
}

/// "When a delivery fails", from the tutorial's plugin folder as the README says. Its
/// desk is `dev`'s, `target/otai-desk`: here `target` is the test's own (the commands
/// that read the desk get `CARGO_TARGET_DIR` of the test's folder, the others still
/// build into the shared one), and the failed delivery in it is made by the desk's
/// library, Slack answering 404, as the seventh, so that `--as-fixture 7` is the
/// README's command as written. "Fix the plugin" is done where the README says it.
fn a_delivery_fails(root: &Path, plugin: &Path) {
    let own_target = root.join("target");
    let wasm = std::fs::read(
        shared_target_dir().join("wasm32-unknown-unknown/debug/ticket_to_slack.wasm"),
    )
    .unwrap();
    {
        let desk = Desk::open_with(
            own_target.join("otai-desk"),
            DeskOptions {
                http: Arc::new(
                    MockHttp::new()
                        .on("POST", "https://hooks.slack.com/*")
                        .respond(404, "no_service"),
                ),
                ..DeskOptions::default()
            },
        )
        .unwrap();
        desk.install(&wasm).unwrap();
        let config = json!({"webhook_url": "https://hooks.slack.com/services/T0/B0/gone"});
        desk.configure(
            "com.example.ticket-to-slack",
            config.as_object().unwrap().clone(),
        )
        .unwrap();
        for n in 1..=7 {
            let ticket =
                json!({"subject": format!("Printer on fire ({n})"), "priority": "Critical"});
            let ticket = desk
                .create_ticket(ticket.as_object().unwrap().clone())
                .unwrap();
            let reports = desk.deliver("ticket.created", &ticket).unwrap();
            assert!(!reports[0].outcome.is_ok(), "{:?}", reports[0]);
        }
    }

    let mut commands = Vec::new();
    for block in blocks("## When a delivery fails: from the desk to a test") {
        assert_eq!(block.lang, "sh", "{}", block.text);
        for line in block.text.lines().map(str::trim) {
            if line.starts_with("# 2. Fix the plugin") {
                // The fix: a webhook Slack no longer knows is the config's fault, said in
                // the log, not a failed delivery.
                let lib = plugin.join("src/lib.rs");
                let code = std::fs::read_to_string(&lib).unwrap();
                let failing = "        if !response.is_success() {";
                assert!(code.contains(failing), "{code}");
                let fix = "        if response.status() == 404 {\n            \
                           warn!(\"Slack no longer knows the webhook: update `webhook_url`\");\n            \
                           return Ok(());\n        }\n";
                let fixed = code.replace(failing, &format!("{fix}{failing}"));
                std::fs::write(&lib, fixed).unwrap();
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let rest = line.strip_prefix("cargo otai-plugin ").unwrap_or_else(|| {
                panic!("\"When a delivery fails\" runs `cargo otai-plugin` only: {line}")
            });
            let args: Vec<&str> = rest.split_whitespace().collect();
            let target = if args[0] == "desk" {
                own_target.clone()
            } else {
                shared_target_dir()
            };
            let mut command = cli();
            command
                .current_dir(plugin)
                .env("CARGO_TARGET_DIR", target)
                .env_remove("OTAI_DESK_KEY")
                .args(&args);
            offline(&mut command);
            let output = command.output().unwrap();
            // A replay of the fixed plugin differs from the failed delivery: exit 1.
            let changes = args[0] == "replay" && !args.contains(&"--accept");
            assert_eq!(
                output.status.code(),
                Some(if changes { 1 } else { 0 }),
                "`{line}`:\nstdout:\n{}\nstderr:\n{}",
                stdout_of(&output),
                stderr_of(&output)
            );
            commands.push((line.to_owned(), stdout_of(&output)));
        }
    }
    let said = |command: &str| {
        commands
            .iter()
            .find(|(line, _)| line.ends_with(command))
            .map(|(_, stdout)| stdout.as_str())
            .unwrap_or_else(|| panic!("the README no longer runs `{command}`"))
    };
    assert_eq!(
        commands.len(),
        5,
        "the step's commands changed: update this test"
    );
    let log = said("desk log com.example.ticket-to-slack");
    // The README's example line is the log's first, as far as it shows it.
    let shown = README
        .split("newest first: `")
        .nth(1)
        .and_then(|rest| rest.split_once(" …`"))
        .map(|(shown, _)| shown)
        .expect("the README shows the log's first line");
    assert!(log.starts_with(shown), "{shown:?}\n{log}");
    let replayed = said("replay tests/fixtures/slack_404.toml");
    assert!(
        replayed.contains("changed") && replayed.contains("Slack no longer knows the webhook"),
        "{replayed}"
    );
    let fixture = std::fs::read_to_string(plugin.join("tests/fixtures/slack_404.toml")).unwrap();
    assert!(
        fixture.contains("outcome = \"ok\"") && !fixture.contains("T0/B0/gone"),
        "{fixture}"
    );
}
