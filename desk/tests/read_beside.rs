//! A desk opened to read beside the desk that holds the directory (`cargo otai-plugin
//! dev`): it sees what the holder committed, writes nothing, and a desk kept out names
//! the holder.

use std::sync::Arc;

use otai_plugin_desk::{DATABASE_FILE, Desk, DeskError, DeskOptions, LockHolder};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::{LOG, Module};
use serde_json::json;

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const ID: &str = "com.example.beside";

fn options() -> DeskOptions {
    DeskOptions {
        http: Arc::new(MockHttp::new()),
        key: Some(KEY.into()),
        ..DeskOptions::default()
    }
}

/// Logs the payload on every event.
fn module(version: &str) -> Vec<u8> {
    let manifest = json!({
        "id": ID, "name": "Beside", "version": version,
        "description": "d", "events": ["ticket.created"],
        "config_schema": {"token": {"type": "string", "secret": true}, "team": {"type": "string"}}
    });
    Module::new()
        .import(LOG)
        .body(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
                 (call $log (local.get $p) (local.get $n) (i32.const 1)))"#,
        )
        .manifest(&manifest.to_string())
        .wasm()
}

/// The files in `dir`, sorted.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_reader_sees_what_the_holder_commits_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let holder = Desk::open_with(dir.path(), options()).unwrap();
    holder.install(&module("1.0.0")).unwrap();
    holder.deliver("ticket.created", "T-1").unwrap();
    holder.flush().unwrap();

    // The holder keeps the directory: a second desk that writes is kept out, and one
    // that reads is not.
    assert!(matches!(
        Desk::open_with(dir.path(), options()).unwrap_err(),
        DeskError::Locked { .. }
    ));
    let reader = Desk::open_read_only(dir.path(), options()).unwrap();
    let list = reader.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].deliveries, 1);
    assert_eq!(reader.deliveries(ID, 10).unwrap().len(), 1);
    let form = reader.config_form(ID).unwrap();
    assert_eq!(form.len(), 2);

    // What the holder commits later, the same reader sees.
    holder
        .configure(ID, json!({"team": "ops"}).as_object().unwrap().clone())
        .unwrap();
    holder.deliver("ticket.created", "T-2").unwrap();
    holder.flush().unwrap();
    assert_eq!(reader.deliveries(ID, 10).unwrap().len(), 2);
    let team = reader.config_form(ID).unwrap();
    assert_eq!(
        team.iter().find(|f| f.key == "team").unwrap().value,
        Some(json!("ops"))
    );

    // Every change through the reader is refused, and leaves the database as it was.
    let seqs = |d: &Desk| -> Vec<i64> {
        d.deliveries(ID, 10)
            .unwrap()
            .iter()
            .map(|d| d.seq)
            .collect()
    };
    let before = seqs(&reader);
    let e = reader.disable(ID).unwrap_err();
    assert!(matches!(e, DeskError::ReadOnly { .. }), "{e}");
    assert!(e.to_string().contains("opened only to read"), "{e}");
    let e = reader.install(&module("2.0.0")).unwrap_err();
    assert!(
        matches!(
            e,
            DeskError::AlreadyInstalled { .. } | DeskError::ReadOnly { .. }
        ),
        "{e}"
    );
    let delivered = reader
        .deliver("ticket.created", "T-3")
        .and_then(|_| reader.flush());
    assert!(
        matches!(delivered, Err(DeskError::ReadOnly { .. })),
        "{delivered:?}"
    );
    assert_eq!(seqs(&reader), before);
    assert!(holder.plugin(ID).unwrap().enabled);
    drop(reader);
    // The holder goes on as before.
    holder.deliver("ticket.created", "T-4").unwrap();
    holder.flush().unwrap();
    assert_eq!(holder.deliveries(ID, 10).unwrap().len(), 3);
}

#[test]
fn a_reader_creates_no_desk_and_reads_only_its_own_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here");
    let e = Desk::open_read_only(&missing, options()).unwrap_err();
    assert!(matches!(e, DeskError::NoDesk { .. }), "{e}");
    assert!(e.to_string().contains("desk install"), "{e}");
    assert!(
        !missing.exists(),
        "a reader created `{}`",
        missing.display()
    );
    let e = Desk::open_read_only(tmp.path(), options()).unwrap_err();
    assert!(e.to_string().contains("holds no desk database"), "{e}");
    assert!(files(tmp.path()).iter().all(|f| f == "nothing-here"));

    // A desk closed: a reader opens it, and leaves nothing but SQLite's own files.
    let dir = tmp.path().join("desk");
    let desk = Desk::open_with(&dir, options()).unwrap();
    desk.install(&module("1.0.0")).unwrap();
    drop(desk);
    let before = std::fs::read(dir.join(DATABASE_FILE)).unwrap();
    let files_before = files(&dir);
    let reader = Desk::open_read_only(&dir, options()).unwrap();
    assert_eq!(reader.list().unwrap().len(), 1);
    drop(reader);
    assert_eq!(std::fs::read(dir.join(DATABASE_FILE)).unwrap(), before);
    let sqlites_own = ["desk.sqlite3-shm", "desk.sqlite3-wal"];
    for file in files(&dir) {
        assert!(
            files_before.contains(&file) || sqlites_own.contains(&file.as_str()),
            "the reader left `{file}`"
        );
    }

    // A schema of another version: older (as a desk of before the last migration left
    // it) and newer are both refused, with what to do.
    let conn = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    for (other, says) in [
        (
            version - 1,
            "a command that only reads never brings a schema up to date",
        ),
        (version + 1, "written by a newer otai-plugin-desk"),
    ] {
        conn.pragma_update(None, "user_version", other).unwrap();
        let e = Desk::open_read_only(&dir, options()).unwrap_err();
        assert!(e.to_string().contains(says), "{e}");
    }
    conn.pragma_update(None, "user_version", version).unwrap();
    drop(conn);
    // A wrong key is refused as by a desk that writes.
    let wrong = DeskOptions {
        key: Some("ff".repeat(32)),
        ..options()
    };
    let e = Desk::open_read_only(&dir, wrong).unwrap_err();
    assert!(matches!(e, DeskError::Key { .. }), "{e}");
}

#[test]
fn a_desk_kept_out_names_the_holder_and_where_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let holder = Desk::open_with(dir.path(), options()).unwrap();
    let holder_of = |e: DeskError| match e {
        DeskError::Locked { holder, .. } => holder,
        other => panic!("{other}"),
    };
    // Before it says what it runs: this process, by the name it was started as.
    let e = Desk::open_with(dir.path(), options()).unwrap_err();
    let text = e.to_string();
    let found = holder_of(e).expect("the lock file names its holder");
    assert_eq!(found.pid, Some(std::process::id()));
    assert!(found.url.is_none());
    assert!(
        text.contains("give this one its own `--data-dir`"),
        "{text}"
    );
    assert!(text.contains("`desk list`"), "{text}");

    holder
        .set_holder("cargo otai-plugin dev", Some("http://127.0.0.1:4242"))
        .unwrap();
    let e = Desk::open_with(dir.path(), options()).unwrap_err();
    let text = e.to_string();
    assert_eq!(
        holder_of(e),
        Some(LockHolder {
            pid: Some(std::process::id()),
            command: Some("cargo otai-plugin dev".into()),
            url: Some("http://127.0.0.1:4242".into()),
        })
    );
    assert!(
        text.contains(&format!(
            "process {} (`cargo otai-plugin dev`), serving http://127.0.0.1:4242",
            std::process::id()
        )),
        "{text}"
    );
    assert!(
        text.contains("make the change in its web UI at http://127.0.0.1:4242"),
        "{text}"
    );
    drop(holder);
    // Free again: the next desk opens it, and its lock file says it holds it now.
    let next = Desk::open_with(dir.path(), options()).unwrap();
    drop(next);
}
