//! `cargo otai-plugin sample`: it prints what the host delivers, byte for byte but for
//! the layout, for every event and with every kind of change; and a fixture's `null`
//! and `remove` deliver what `sample` shows with the same changes.

mod support;

use otai_plugin_abi::event::EventKind;
use otai_plugin_test_support::{LOG, Module};
use support::{Project, cli, stderr_of, stdout_of};

/// A plugin subscribed to every event that logs the payload it receives, as is.
fn echo_plugin() -> Vec<u8> {
    let events: Vec<&str> = EventKind::ALL.iter().map(EventKind::as_str).collect();
    let manifest = serde_json::json!({
        "id": "com.example.echo", "name": "Echo", "version": "1.0.0",
        "description": "Logs its payload.", "events": events,
    })
    .to_string();
    Module::new()
        .import(LOG)
        .heap(1024)
        .body(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1)))"#,
        )
        .manifest(&manifest)
        .wasm()
}

/// JSON text without the whitespace between its tokens.
fn minified(json: &str) -> String {
    let mut out = String::new();
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c.is_whitespace() {
            continue;
        }
        out.push(c);
    }
    out
}

/// `sample ARGS`'s stdout, which must succeed.
fn sample(args: &[&str]) -> String {
    let output = cli().arg("sample").args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
    stdout_of(&output)
}

/// The payload the echo plugin logged when `run ARGS` delivered an event to it.
fn delivered(project: &Project, args: &[&str]) -> String {
    let output = cli()
        .current_dir(&project.root)
        .arg("run")
        .args(args)
        .args(["--format", "json", "echo.wasm"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report["logs"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{args:?}: no log line: {report:#}"))
        .to_owned()
}

#[test]
fn sample_prints_what_the_host_delivers_for_every_event() {
    let project = Project::empty();
    project.write("echo.wasm", echo_plugin());
    for kind in EventKind::ALL {
        let printed = sample(&[kind.as_str()]);
        // Laid out for people: one member a line.
        assert!(printed.starts_with("{\n  \"event\": "), "{printed}");
        let got = delivered(&project, &["--event", kind.as_str()]);
        assert_eq!(minified(&printed), got, "{kind}");
    }
}

#[test]
fn sample_with_changes_is_what_a_fixture_with_the_same_changes_delivers() {
    let project = Project::empty();
    project.write("echo.wasm", echo_plugin());
    project.write(
        "resolved.toml",
        r#"[event]
kind = "ticket.status_changed"
null = ["ticket.category"]
remove = ["ticket.submitter.email"]

[event.ticket]
priority = "Critical"
custom_fields = { team = "it-ops" }

[event.data]
to_status = "Resolved"
"#,
    );
    let printed = sample(&[
        "ticket.status_changed",
        "--set",
        "ticket.priority=Critical",
        "--set",
        "ticket.custom_fields={ team = \"it-ops\" }",
        "--set",
        "data.to_status=Resolved",
        "--null",
        "ticket.category",
        "--remove",
        "ticket.submitter.email",
    ]);
    let got = delivered(&project, &["--fixture", "resolved.toml"]);
    assert_eq!(minified(&printed), got);
    // The changes are there, and the rest is the sample's.
    let payload: serde_json::Value = serde_json::from_str(&got).unwrap();
    let ticket = &payload["ticket"];
    assert_eq!(ticket["priority"], "Critical");
    assert_eq!(ticket["custom_fields"]["team"], "it-ops");
    assert!(ticket.as_object().unwrap()["category"].is_null());
    assert!(ticket["submitter"].get("email").is_none(), "{got}");
    assert_eq!(ticket["submitter"]["name"], "Sam Ortiz");
    assert_eq!(
        payload["data"],
        serde_json::json!({"from_status": "New", "to_status": "Resolved"})
    );
}

#[test]
fn a_member_that_is_not_there_is_refused_by_sample_and_by_a_fixture_alike() {
    let output = cli()
        .args(["sample", "ticket.created", "--remove", "ticket.catgory"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = "the payload has no `ticket.catgory` (it has assignee, category,";
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with(&format!("error: `--remove`: {message}")),
        "{stderr}"
    );

    let project = Project::empty();
    project.write("echo.wasm", echo_plugin());
    project.write(
        "typo.toml",
        "[event]\nkind = \"ticket.created\"\nremove = [\"ticket.catgory\"]\n",
    );
    let output = cli()
        .current_dir(&project.root)
        .args(["run", "--fixture", "typo.toml", "echo.wasm"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("`[event] remove`"), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
}

#[test]
fn sample_names_what_it_cannot_do() {
    for (args, expected) in [
        (
            &["ticket.create"][..],
            "unknown event `ticket.create`; the events are ticket.created,",
        ),
        (
            &["ticket.created", "--set", "ticket.priority"],
            "error: `--set ticket.priority`: expected PATH=VALUE",
        ),
        (
            &["ticket.created", "--null", "config.token"],
            "error: `--null config.token`: `config.token`: `config` is the installation's config",
        ),
        (
            &["ticket.created", "--remove", "ticket.subject"],
            "error: `--remove`: not an ABI v1 event payload: ticket: missing field `subject`",
        ),
        (
            &["ticket.created", "--set", "ticket.priority=3"],
            "error: `--set`: not an ABI v1 event payload: ticket.priority: invalid type: integer `3`",
        ),
    ] {
        let output = cli().arg("sample").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
