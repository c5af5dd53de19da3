//! `cargo otai-plugin desk log` in full, and the commands that only read, used beside a
//! desk that holds the data directory (as `dev` does).

mod support;

use std::path::Path;

use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_test_support::{FIELD, HTTP, LOG, Module, REPLY, wat_string};
use serde_json::{Value, json};
use support::{DESK_KEY, desk, stderr_of, stdout_of};

const ID: &str = "com.example.log";

/// Version 1 logs, sends a request (answered by no one: the desk sends none), adds an
/// internal reply and sets a custom field on T-9; version 2 does the same and traps.
fn module(version: &str, trap: bool) -> Vec<u8> {
    let manifest = json!({
        "id": ID, "name": "Log", "version": version,
        "description": "d", "events": ["ticket.created"],
        "permissions": {"http": {"allowed_hosts": ["api.example.com"]}},
        "config_schema": {"team": {"type": "string"}}
    });
    let request = json!({"method": "GET", "url": "https://api.example.com/lookup"}).to_string();
    let field = r#"{"ticket_id":"T-9","key":"jira","value":"OPS-1"}"#;
    let reply = r#"{"ticket_id":"T-9","body":"Linked","is_internal":true}"#;
    let said = "looked it up";
    Module::new()
        .imports(&[LOG, HTTP, REPLY, FIELD])
        .pages(4)
        .body(&format!(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (i32.const 400) (i32.const {said_len}) (i32.const 1))
    (drop (call $http (i32.const 200) (i32.const {request_len}) (i32.const 600) (i32.const 604)))
    (drop (call $reply (i32.const 100) (i32.const {reply_len})))
    (drop (call $field (i32.const 0) (i32.const {field_len})))
    {end})
  (data (i32.const 0) "{field}")
  (data (i32.const 100) "{reply}")
  (data (i32.const 200) "{request}")
  (data (i32.const 400) "{said}")"#,
            said_len = said.len(),
            request_len = request.len(),
            reply_len = reply.len(),
            field_len = field.len(),
            end = if trap { "unreachable" } else { "" },
            field = wat_string(field),
            reply = wat_string(reply),
            request = wat_string(&request),
            said = wat_string(said),
        ))
        .manifest(&manifest.to_string())
        .wasm()
}

/// A desk with two deliveries to T-9: one of version 1.0.0 that ended `ok`, one of
/// 2.0.0 that trapped.
fn desk_with_two_deliveries(tmp: &Path) -> std::path::PathBuf {
    let data = tmp.join("desk");
    for (version, trap) in [("1.0.0", false), ("2.0.0", true)] {
        let wasm = tmp.join(format!("{version}.wasm"));
        std::fs::write(&wasm, module(version, trap)).unwrap();
        let action = if trap { "upgrade" } else { "install" };
        desk(&data, &[action, wasm.to_str().unwrap()])
            .assert()
            .success();
        let delivered = desk(&data, &["deliver", "ticket.created", "--ticket", "T-9"])
            .output()
            .unwrap();
        assert_eq!(
            delivered.status.success(),
            !trap,
            "{}",
            stderr_of(&delivered)
        );
    }
    data
}

#[test]
fn log_shows_what_each_delivery_did_and_when() {
    let tmp = tempfile::tempdir().unwrap();
    let data = desk_with_two_deliveries(tmp.path());

    let out = desk(&data, &["log", ID]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let blocks: Vec<&str> = text.split("\n#").collect();
    assert_eq!(blocks.len(), 2, "{text}");
    // Newest first: the trap, then the delivery that ended ok.
    let (trapped, ok) = (blocks[0], blocks[1]);
    assert!(
        trapped.starts_with("#2 2.0.0 ticket.created ticket T-9: trap"),
        "{text}"
    );
    assert!(
        ok.starts_with("1 1.0.0 ticket.created ticket T-9: ok"),
        "{text}"
    );
    for block in [trapped, ok] {
        // The time in UTC and how long it took, then what it did.
        let when = block.lines().nth(1).unwrap();
        assert!(
            when.starts_with("  at 20") && when.contains(" UTC, took "),
            "{text}"
        );
        assert!(block.contains("  [info] looked it up"), "{text}");
        assert!(
            block.contains("  GET https://api.example.com/lookup -> 0 ("),
            "the request, its status and the host's error: {text}"
        );
        assert!(block.contains("  reply (internal): Linked"), "{text}");
        assert!(block.contains("  custom field jira = OPS-1"), "{text}");
    }

    // `--failed`: only the trap; `--limit 1`: only the newest.
    let failed = stdout_of(&desk(&data, &["log", ID, "--failed"]).output().unwrap());
    assert!(
        failed.starts_with("#2 ") && !failed.contains("\n#1 "),
        "{failed}"
    );
    let newest = stdout_of(&desk(&data, &["log", ID, "--limit", "1"]).output().unwrap());
    assert_eq!(newest, trapped.to_owned() + "\n", "{newest}");
    let json: Value = serde_json::from_slice(
        &desk(&data, &["log", ID, "--failed", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json[0]["seq"], 2, "{json}");
}

#[test]
fn reading_commands_work_beside_a_running_desk_and_writing_ones_name_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = desk_with_two_deliveries(tmp.path());
    // The desk held open by this process, as `dev` holds it.
    let holder = Desk::open_with(
        &data,
        DeskOptions {
            key: Some(DESK_KEY.into()),
            ..DeskOptions::default()
        },
    )
    .unwrap();
    holder
        .set_holder("cargo otai-plugin dev", Some("http://127.0.0.1:4242"))
        .unwrap();

    let list = desk(&data, &["list"]).output().unwrap();
    assert!(list.status.success(), "{}", stderr_of(&list));
    assert!(stdout_of(&list).contains(ID), "{}", stdout_of(&list));
    let log = desk(&data, &["log", ID]).output().unwrap();
    assert!(log.status.success(), "{}", stderr_of(&log));
    assert!(stdout_of(&log).contains("[info] looked it up"));
    let form = desk(&data, &["configure", ID]).output().unwrap();
    assert!(form.status.success(), "{}", stderr_of(&form));
    assert!(stdout_of(&form).contains("team"), "{}", stdout_of(&form));

    for change in [
        &["disable", ID][..],
        &["configure", ID, "--set", "team=ops"],
        &["deliver", "ticket.created"],
    ] {
        let out = desk(&data, change).output().unwrap();
        assert!(!out.status.success(), "{change:?} ran beside the holder");
        let err = stderr_of(&out);
        assert!(
            err.contains(&format!(
                "in use by another desk: process {} (`cargo otai-plugin dev`), serving http://127.0.0.1:4242",
                std::process::id()
            )),
            "{change:?}: {err}"
        );
        assert!(
            err.contains("make the change in its web UI at http://127.0.0.1:4242"),
            "{err}"
        );
    }
    // Nothing the refused commands asked for happened.
    assert!(holder.plugin(ID).unwrap().enabled);
    assert_eq!(holder.deliveries(ID, 10).unwrap().len(), 2);
}

#[test]
fn a_reading_command_creates_no_desk() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("none");
    let out = desk(&data, &["list"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("there is no desk in"),
        "{}",
        stderr_of(&out)
    );
    assert!(!data.exists());
}
