//! A delivery the local desk logged, written as a fixture (`desk log --as-fixture`):
//! it passes `test` on the build that made the delivery, fails with a readable diff on
//! a changed one, and holds no form of the secret the desk keeps.

mod support;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use serde_json::{Map, Value, json};
use support::{DESK_KEY, Project, cli, shared_target_dir, stdout_of};

/// The webhook the desk keeps sealed: nothing of it past `https://hooks.slack.com/`,
/// which the manifest's `allowed_hosts` shows anyway, may reach a fixture.
const SECRET: &str = "https://hooks.slack.com/services/T0SECRET1/B0SECRET2/zz Secret+Token/é";
const PLUGIN: &str = "com.example.from-desk";

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn built_wasm() -> PathBuf {
    shared_target_dir().join("wasm32-unknown-unknown/debug/from_desk.wasm")
}

/// Every form of `SECRET` the host's redactor looks for, and then some: a fixture must
/// hold none of them.
fn secret_forms() -> Vec<String> {
    let tail = SECRET.trim_start_matches("https://hooks.slack.com/");
    let b64 = base64::engine::general_purpose::STANDARD;
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut forms = vec![
        SECRET.to_owned(),
        tail.to_owned(),
        "T0SECRET1".to_owned(),
        "B0SECRET2".to_owned(),
        "Secret+Token".to_owned(),
        // JSON-escaped, percent-encoded (either case), as the URL parser writes it.
        serde_json::to_string(SECRET)
            .unwrap()
            .trim_matches('"')
            .replace('/', "\\/"),
        url_encode(SECRET, false),
        url_encode(SECRET, true),
        "zz%20Secret+Token/%C3%A9".to_owned(),
        "zz%20secret".to_owned(),
    ];
    for text in [SECRET, tail] {
        forms.push(b64.encode(text));
        forms.push(url_safe.encode(text));
    }
    forms
}

fn url_encode(text: &str, lower: bool) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else if lower {
                format!("%{b:02x}")
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn a_desk_delivery_becomes_a_fixture_that_passes_on_its_build_and_fails_on_a_changed_one() {
    let project = Project::plugin("from-desk", "http");
    // The build that made the delivery also notes it on the ticket.
    project.edit(
        "src/lib.rs",
        "info!(\"posted ticket {} to Slack\", event.ticket.id);",
        "ticket::add_reply(&event.ticket.id, \"Posted to Slack.\", true)?;\n        \
         info!(\"posted ticket {} to Slack\", event.ticket.id);",
    );
    project.cmd(&["build"]).assert().success();
    let wasm = std::fs::read(built_wasm()).unwrap();

    // Slack's answer is longer than a report keeps (16 KiB): the log keeps it whole.
    let answer = format!("ok{}", "k".repeat(20_000));
    let data = project.root.join("desk");
    {
        let desk = Desk::open_with(
            &data,
            DeskOptions {
                http: Arc::new(
                    MockHttp::new()
                        .on("POST", "https://hooks.slack.com/*")
                        .respond(200, answer.clone()),
                ),
                key: Some(DESK_KEY.to_owned()),
                ..DeskOptions::default()
            },
        )
        .unwrap();
        desk.install(&wasm).unwrap();
        desk.configure(
            PLUGIN,
            object(json!({"webhook_url": SECRET, "mention_on_critical": true})),
        )
        .unwrap();
        let ticket = desk
            .create_ticket(object(
                json!({"subject": "Printer on fire", "priority": "Critical", "category": null}),
            ))
            .unwrap();
        let reports = desk.deliver("ticket.created", &ticket).unwrap();
        assert!(reports[0].outcome.is_ok(), "{:?}", reports[0]);
        assert_eq!(reports[0].replies.len(), 1);
    }

    let fixture = project.root.join("tests/fixtures/from_desk.toml");
    cli()
        .args(["desk", "--data-dir"])
        .arg(&data)
        .args(["log", PLUGIN, "--as-fixture", "-o"])
        .arg(&fixture)
        .env("OTAI_DESK_KEY", DESK_KEY)
        .assert()
        .success();
    let text = std::fs::read_to_string(&fixture).unwrap();
    for form in secret_forms() {
        assert!(
            !text.to_lowercase().contains(&form.to_lowercase()),
            "the fixture holds the secret as {form:?}:\n{text}"
        );
    }
    assert!(
        text.contains("webhook_url = \"https://hooks.slack.com/FILL-IN-webhook_url\""),
        "{text}"
    );
    assert!(text.contains(&format!("body = \"{answer}\"")), "{text}");
    assert!(text.contains("null = [\"ticket.category\"]"), "{text}");

    // The same build passes it, with the placeholder as it is.
    project
        .cmd(&["test", "fixtures/from_desk"])
        .assert()
        .success();
    // Stdout without `-o`: the same file.
    let printed = cli()
        .args(["desk", "--data-dir"])
        .arg(&data)
        .args(["log", PLUGIN, "--as-fixture", "1"])
        .env("OTAI_DESK_KEY", DESK_KEY)
        .output()
        .unwrap();
    assert_eq!(stdout_of(&printed), text);

    // Replayed, the same build does the same; from the desk's log as well.
    project
        .cmd(&["replay", "tests/fixtures/from_desk.toml"])
        .assert()
        .success()
        .stdout(predicates::str::contains("the same"));
    let mut from_log = project.cmd(&["replay", &format!("desk:{PLUGIN}/1"), "--data-dir"]);
    from_log.arg(&data).env("OTAI_DESK_KEY", DESK_KEY);
    from_log.assert().success();

    // Another reply text fails, naming both.
    project.edit("src/lib.rs", "\"Posted to Slack.\"", "\"Sent to Slack.\"");
    let output = project
        .cmd(&["test", "fixtures/from_desk"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("Posted to Slack.") && stdout.contains("Sent to Slack."),
        "{stdout}"
    );
    // Replayed, the reply is a line diff: the recorded line `-`, the line now `+`.
    let output = project
        .cmd(&["replay", "tests/fixtures/from_desk.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains(
            "replies[0].body changed (- recorded, + now):\n    - Posted to Slack.\n    + Sent to Slack.\n"
        ),
        "{stdout}"
    );
    project.edit("src/lib.rs", "\"Sent to Slack.\"", "\"Posted to Slack.\"");

    // A changed request body: its JSON pretty-printed, the member that changed one line.
    project.edit("src/lib.rs", "New {} ticket:", "New {} ticket!:");
    let output = project
        .cmd(&["replay", "tests/fixtures/from_desk.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains(
            "http[0].body changed (- recorded, + now):\n      {\n\
             \x20   -   \"text\": \"<!channel> New Critical ticket: <"
        ) && stdout.contains("\n    +   \"text\": \"<!channel> New Critical ticket!: <"),
        "{stdout}"
    );
    project.edit("src/lib.rs", "New {} ticket!:", "New {} ticket:");

    // So does one request more.
    project.edit(
        "src/lib.rs",
        "info!(\"posted ticket",
        "http::get(\"https://hooks.slack.com/audit\").send()?;\n        info!(\"posted ticket",
    );
    let output = project
        .cmd(&["test", "fixtures/from_desk"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout_of(&output));
    let stdout = stdout_of(&output);
    assert!(stdout.contains("https://hooks.slack.com/audit"), "{stdout}");
    let output = project
        .cmd(&["replay", "tests/fixtures/from_desk.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout_of(&output));
    let stdout = stdout_of(&output);
    assert!(
        stdout.contains("changed") && stdout.contains("https://hooks.slack.com/audit"),
        "{stdout}"
    );
    // `--accept` makes what it does now the fixture's expectation, which then holds.
    project
        .cmd(&["replay", "tests/fixtures/from_desk.toml", "--accept"])
        .assert()
        .success();
    let accepted = project.read("tests/fixtures/from_desk.toml");
    assert!(
        accepted.contains("url = \"https://hooks.slack.com/audit\""),
        "{accepted}"
    );
    assert!(accepted.starts_with(&text[..text.find("[expect]").unwrap()]));
    project
        .cmd(&["test", "fixtures/from_desk"])
        .assert()
        .success();
}

/// A delivery asked for that the log does not hold is an error naming it.
#[test]
fn a_delivery_not_in_the_log_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let wasm = tmp.path().join("p.wasm");
    std::fs::write(&wasm, support::wat_plugin()).unwrap();
    let desk = |args: &[&str]| {
        let mut cmd = cli();
        cmd.args(["desk", "--data-dir"])
            .arg(&data)
            .args(args)
            .env("OTAI_DESK_KEY", DESK_KEY);
        cmd
    };
    let id = "com.example.wat";
    desk(&["install", wasm.to_str().unwrap()])
        .assert()
        .success();
    desk(&["log", id, "--as-fixture"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(format!(
            "plugin `{id}` has no delivery in the delivery log"
        )));
    desk(&["deliver", "ticket.created"]).assert().success();
    desk(&["log", id, "--as-fixture"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "[event]\nkind = \"ticket.created\"",
        ));
    desk(&["log", id, "--as-fixture", "7"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(format!(
            "plugin `{id}` has no delivery #7 in the delivery log"
        )));
}
