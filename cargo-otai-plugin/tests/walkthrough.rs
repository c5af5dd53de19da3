//! Issue 42's new user, again: the plugin they wrote (on `ticket.created`, a `team` custom
//! field from the category through a configured map; on a Critical ticket, a POST to a
//! secret webhook and an internal note; on a status change to Resolved, a log line),
//! built from what docs/SDK.md shows and nothing else. The guide's "A whole plugin" is
//! followed as written: its command, then its `Cargo.toml` excerpt in place of the
//! template's manifest and its `src/lib.rs`. The six fixtures are the user's, written in
//! the fixture format the docs give; they must all pass.
//!
//! As in `tutorial.rs`, the plugin builds into the shared test target directory with this
//! workspace's `Cargo.lock` and no network.
//!
//! The map is a `config::KeyValues` field, checked by `#[derive(Config)]` against the
//! guide's manifest; the template's `bad_teams` fixture covers a map an admin got wrong.

mod support;

use support::{
    Project, checkout, cli, offline, pin_dependencies, shared_target_dir, stderr_of, stdout_of,
};

const GUIDE: &str = include_str!("../../docs/SDK.md");

/// The fenced blocks of the guide's section `heading`: (language, text).
fn blocks(heading: &str) -> Vec<(&'static str, String)> {
    let start = GUIDE
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("docs/SDK.md has no {heading:?}"));
    let section = &GUIDE[start + heading.len() + 2..];
    let section = section.find("\n## ").map_or(section, |end| &section[..end]);
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```").filter(|l| !l.is_empty()) {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push((lang, body.join("\n") + "\n"));
        }
    }
    blocks
}

/// The user's fixtures: what the issue's plugin must do, one file each.
const FIXTURES: &[(&str, &str)] = &[
    (
        "mapped_category",
        r#"description = "a category in the map gets its team, and nothing else happens"
[event]
kind = "ticket.created"
[event.ticket]
category = "Network"
[config]
team_map = "Hardware=it-ops, Network=net-ops"
webhook_url = "https://hooks.example.com/services/T0/B0/SECRET"
[expect]
http = []
replies = []
[expect.custom_fields]
team = "net-ops"
"#,
    ),
    (
        "default_team",
        r#"description = "a category the map does not name gets the default team"
[event]
kind = "ticket.created"
[event.ticket]
category = "Facilities"
[config]
team_map = "Hardware=it-ops"
webhook_url = "https://hooks.example.com/services/T0/B0/SECRET"
[expect]
http = []
[expect.custom_fields]
team = "service-desk"
"#,
    ),
    (
        "critical",
        r#"description = "a critical ticket pages its team and says so in an internal note"
[event]
kind = "ticket.created"
[event.ticket]
subject = "Core switch down"
category = "Network"
priority = "Critical"
[config]
team_map = "Hardware=it-ops, Network=net-ops"
webhook_url = "https://hooks.example.com/services/T0/B0/SECRET"
[[http]]
method = "POST"
url = "https://hooks.example.com/services/T0/B0/SECRET"
status = 200
body = "ok"
[[expect.http]]
method = "POST"
url = "https://hooks.example.com/services/T0/B0/SECRET"
body_json = { ticket = "01JQXYZ8K2M4N6P8R0T2V4W6Y8", subject = "Core switch down", team = "net-ops" }
[[expect.replies]]
body = "Critical ticket: net-ops was paged."
is_internal = true
[expect.custom_fields]
team = "net-ops"
"#,
    ),
    (
        "webhook_down",
        r#"description = "a failing webhook fails the delivery; the team set before stays"
[event]
kind = "ticket.created"
[event.ticket]
category = "Hardware"
priority = "Critical"
[config]
team_map = "Hardware=it-ops"
webhook_url = "https://hooks.example.com/services/T0/B0/SECRET"
[[http]]
method = "POST"
url = "https://hooks.example.com/services/T0/B0/SECRET"
status = 503
body = "unavailable"
[expect]
outcome = "trapped"
replies = []
[expect.custom_fields]
team = "it-ops"
[[expect.logs]]
level = "error"
contains = "the webhook answered HTTP 503"
"#,
    ),
    (
        "resolved",
        r#"description = "a status change to Resolved is logged"
[event]
kind = "ticket.status_changed"
[event.ticket]
status = "Resolved"
[event.data]
from_status = "In Progress"
to_status = "Resolved"
[config]
team_map = "Hardware=it-ops"
webhook_url = "https://hooks.example.com/services/T0/B0/SECRET"
[expect]
http = []
replies = []
[[expect.logs]]
level = "info"
contains = "resolved (it was In Progress)"
"#,
    ),
    (
        "other_status",
        r#"description = "another status change does nothing"
[event]
kind = "ticket.status_changed"
[config]
team_map = "Hardware=it-ops"
webhook_url = "https://hooks.example.com/services/T0/B0/SECRET"
[expect]
http = []
replies = []
"#,
    ),
];

#[test]
fn the_issues_plugin_built_from_the_guide_passes_its_fixtures() {
    let blocks = blocks("## A whole plugin");
    let work = Project::empty();
    let plugin = work.root.join("ticket-router");

    // The guide's command, as written.
    let commands: Vec<&str> = blocks
        .iter()
        .filter(|(lang, _)| *lang == "sh")
        .flat_map(|(_, text)| text.lines())
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    assert_eq!(
        commands,
        ["cargo otai-plugin new ticket-router --template triage"]
    );
    let args: Vec<&str> = commands[0]
        .strip_prefix("cargo otai-plugin ")
        .unwrap()
        .split_whitespace()
        .collect();
    // On this checkout's SDK, which the guide's reader gets from crates.io.
    cli()
        .current_dir(&work.root)
        .args(&args)
        .arg("--sdk-path")
        .arg(checkout())
        .assert()
        .success();
    pin_dependencies(&plugin);
    let project = work.into_subdir("ticket-router");

    // Its manifest in place of the template's: from `[package.metadata.ohd]` to `[lib]`.
    let (_, manifest) = blocks
        .iter()
        .find(|(lang, text)| *lang == "toml" && text.starts_with("# Cargo.toml (excerpt)\n"))
        .expect("the guide shows the plugin's manifest");
    let manifest = manifest.trim_start_matches("# Cargo.toml (excerpt)\n");
    let generated = project.read("Cargo.toml");
    let start = generated
        .find("[package.metadata.ohd]\n")
        .expect("the template has a manifest");
    let end = generated.find("\n[lib]\n").expect("the template has [lib]");
    assert!(start < end, "{generated}");
    project.write(
        "Cargo.toml",
        format!("{}{manifest}{}", &generated[..start], &generated[end..]),
    );

    // Its src/lib.rs, whole.
    let (_, lib) = blocks
        .iter()
        .find(|(lang, text)| *lang == "rust" && text.starts_with("// src/lib.rs\n"))
        .expect("the guide shows src/lib.rs");
    project.write("src/lib.rs", lib);

    std::fs::remove_dir_all(plugin.join("tests/fixtures")).unwrap();
    for (name, text) in FIXTURES {
        project.write(&format!("tests/fixtures/{name}.toml"), text);
    }

    let output = project.cmd(&["test"]).output().unwrap();
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for (name, _) in FIXTURES {
        assert!(
            stdout.contains(&format!("test fixtures/{name} ... ok\n")),
            "{stdout}"
        );
    }
    assert!(
        stdout.trim_end().ends_with("6 passed, 0 failed"),
        "{stdout}"
    );
    assert!(
        !stderr.contains("warning:"),
        "the guide's plugin builds without warnings:\n{stderr}"
    );

    // `run` shows the webhook's host, never its secret path.
    let mut run = cli();
    run.current_dir(&plugin)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .args(["run", "--fixture", "critical"]);
    offline(&mut run);
    let output = run.output().unwrap();
    let stdout = stdout_of(&output);
    assert!(output.status.success(), "{stdout}{}", stderr_of(&output));
    assert!(stdout.starts_with("outcome: ok"), "{stdout}");
    assert!(!stdout.contains("SECRET"), "{stdout}");
}
