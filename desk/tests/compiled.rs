//! The desk keeps compiled modules in its data directory (`compiled/`, the host's
//! `compile_cache_dir` under the desk's key): the next process that opens it reads a
//! plugin's code instead of compiling it; a damaged entry, or one written by a desk
//! with another key, is compiled again and the plugin runs as it should.

use std::path::Path;
use std::sync::Arc;

use otai_plugin_desk::{COMPILED_DIR, Desk, DeskOptions};
use otai_plugin_host::Outcome;
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::{LOG, Module};
use serde_json::json;

fn open(dir: &Path, key: &str) -> Desk {
    Desk::open_with(
        dir,
        DeskOptions {
            http: Arc::new(MockHttp::new()),
            key: Some(key.repeat(32)),
            ..DeskOptions::default()
        },
    )
    .unwrap()
}

/// A plugin that logs the payload: a run of any other code would not.
fn echo() -> Vec<u8> {
    Module::new()
        .import(LOG)
        .body(r#"(func (export "on_event") (param i32 i32) (call $log (local.get 0) (local.get 1) (i32.const 1)))"#)
        .manifest(
            &json!({
                "id": "com.example.echo", "name": "Echo", "version": "1.0.0",
                "description": "d", "events": ["ticket.created"]
            })
            .to_string(),
        )
        .wasm()
}

fn delivers(desk: &Desk) {
    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].outcome, Outcome::Ok, "{:?}", reports[0]);
    assert!(
        reports[0].logs[0].message.contains("\"T-1\""),
        "{:?}",
        reports[0]
    );
}

fn stats(desk: &Desk) -> (u64, u64, u64) {
    let s = desk
        .host()
        .disk_cache_stats()
        .expect("the desk has a disk cache");
    (s.hits, s.writes, s.refused)
}

fn the_entry(dir: &Path) -> std::path::PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dir.join(COMPILED_DIR))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.into_iter().next().unwrap()
}

#[test]
fn the_next_desk_process_reads_what_install_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), "ab");
    desk.install(&echo()).unwrap();
    assert_eq!(stats(&desk), (0, 1, 0));
    drop(desk);
    the_entry(dir.path());

    let desk = open(dir.path(), "ab");
    delivers(&desk);
    assert_eq!(stats(&desk), (1, 0, 0));
}

#[test]
fn a_damaged_entry_is_compiled_again_and_the_plugin_runs() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path(), "ab").install(&echo()).unwrap();
    let entry = the_entry(dir.path());
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x80;
    std::fs::write(&entry, &bytes).unwrap();

    let desk = open(dir.path(), "ab");
    delivers(&desk);
    assert_eq!(stats(&desk), (0, 1, 1));
    assert_ne!(std::fs::read(&entry).unwrap(), bytes, "rewritten");
}

/// Another desk's entries (another key), copied into this one's directory, are not
/// run: a data directory put together from two desks compiles again.
#[test]
fn entries_of_a_desk_with_another_key_are_not_run() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    open(one.path(), "ab").install(&echo()).unwrap();
    let desk = open(two.path(), "cd");
    desk.install(&echo()).unwrap();
    drop(desk);
    let entry = the_entry(one.path());
    std::fs::copy(
        &entry,
        two.path()
            .join(COMPILED_DIR)
            .join(entry.file_name().unwrap()),
    )
    .unwrap();

    let desk = open(two.path(), "cd");
    delivers(&desk);
    assert_eq!(stats(&desk), (0, 1, 1));
}
