//! The desk's database file: the desk writes only into its own, an empty one, or one an
//! earlier desk made, and never starts afresh over a file that lost its data.

use std::path::Path;

use otai_plugin_desk::{APPLICATION_ID, DATABASE_FILE, Desk, DeskError, DeskOptions, KEY_FILE};
use rusqlite::Connection;

/// Options with the key in the environment's place (no key file is made).
fn with_key() -> DeskOptions {
    DeskOptions {
        key: Some("ab".repeat(32)),
        ..DeskOptions::default()
    }
}

/// Options that read or make `desk.key`.
fn with_key_file() -> DeskOptions {
    DeskOptions {
        key: None,
        ..DeskOptions::default()
    }
}

fn application_id(db: &Path) -> i32 {
    Connection::open(db)
        .unwrap()
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap()
}

/// What is in the data directory, each file with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "desk.lock"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn refusal(dir: &Path, options: DeskOptions) -> String {
    let e = Desk::open_with(dir, options).unwrap_err();
    assert!(matches!(e, DeskError::Database { .. }), "{e}");
    let text = e.to_string();
    let db = dir.join(DATABASE_FILE);
    assert!(
        text.contains(&format!("`{}`", db.display())),
        "the file is not named: {text}"
    );
    text
}

#[test]
fn another_applications_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let foreign = Connection::open(&db).unwrap();
    foreign
        .execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER);
             INSERT INTO customers (name) VALUES ('Ada');
             PRAGMA user_version = 1;",
        )
        .unwrap();
    drop(foreign);
    let before = snapshot(dir.path());

    let text = refusal(dir.path(), with_key_file());
    assert!(
        text.contains("it holds another application's tables (`customers`, `orders`)")
            && text.contains("not the desk's mark (`PRAGMA application_id` 0x4f544149)")
            && text.contains("nothing was written to it")
            && text.contains("`--data-dir`"),
        "{text}"
    );
    // The same bytes, and no file beside it: no key, no write-ahead log.
    assert_eq!(snapshot(dir.path()), before);
    assert!(!dir.path().join(KEY_FILE).exists());

    // The desk's own tables beside another application's are not a desk either.
    let foreign = Connection::open(&db).unwrap();
    foreign
        .execute_batch("CREATE TABLE plugins (id TEXT PRIMARY KEY);")
        .unwrap();
    drop(foreign);
    let before = snapshot(dir.path());
    let text = refusal(dir.path(), with_key());
    assert!(text.contains("another application's tables"), "{text}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_file_marked_by_another_application_is_refused_even_without_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let foreign = Connection::open(&db).unwrap();
    // Fossil's mark, on a file that has nothing in it yet.
    foreign
        .execute_batch("PRAGMA application_id = 252006674;")
        .unwrap();
    drop(foreign);
    let before = snapshot(dir.path());
    let text = refusal(dir.path(), with_key());
    assert!(
        text.contains(
            "it belongs to another application (its `PRAGMA application_id` is 0xf055112"
        ) && text.contains("the desk's is 0x4f544149"),
        "{text}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_new_desk_is_marked_and_one_made_before_the_mark_is_marked_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    drop(Desk::open_with(dir.path(), with_key()).unwrap());
    assert_eq!(application_id(&db), APPLICATION_ID);
    let schema: i64 = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();

    // What earlier versions left: the desk's tables at schema 8 (this one's), 7 (no record
    // beside each delivery's report), 6 (no health settings), 5 (no notices), 3 (the
    // modules in the versions' rows, no source) or 1 (before the `outcomes` table and the
    // signers), with a ticket, and no mark.
    for earlier_schema in [
        "",
        "ALTER TABLE deliveries DROP COLUMN replay; PRAGMA user_version = 7;",
        "ALTER TABLE deliveries DROP COLUMN replay; DROP TABLE health_settings; PRAGMA user_version = 6;",
        "ALTER TABLE deliveries DROP COLUMN replay; DROP TABLE health_settings; \
             DROP TABLE notices; PRAGMA user_version = 5;",
        "ALTER TABLE deliveries DROP COLUMN replay; DROP TABLE health_settings; \
             DROP TABLE notices; ALTER TABLE versions DROP COLUMN source; \
             ALTER TABLE versions ADD COLUMN wasm BLOB NOT NULL DEFAULT x''; \
             UPDATE versions SET wasm = (SELECT wasm FROM modules WHERE version_seq = seq); \
             DROP TABLE modules; \
             PRAGMA user_version = 3;",
        "ALTER TABLE deliveries DROP COLUMN replay; DROP TABLE health_settings; \
             DROP TABLE notices; ALTER TABLE versions DROP COLUMN source; \
             ALTER TABLE versions ADD COLUMN wasm BLOB NOT NULL DEFAULT x''; \
             UPDATE versions SET wasm = (SELECT wasm FROM modules WHERE version_seq = seq); \
             DROP TABLE modules; \
             DROP TABLE outcomes; DROP TABLE trusted_keys; \
             ALTER TABLE versions DROP COLUMN signers; PRAGMA user_version = 1;",
    ] {
        let desk = Desk::open_with(dir.path(), with_key()).unwrap();
        desk.update_ticket(
            "T-1",
            serde_json::Map::from_iter([("subject".to_owned(), "Kept".into())]),
        )
        .unwrap();
        drop(desk);
        let earlier = Connection::open(&db).unwrap();
        earlier
            .execute_batch(&format!("{earlier_schema} PRAGMA application_id = 0;"))
            .unwrap();
        drop(earlier);
        assert_eq!(application_id(&db), 0);

        let desk = Desk::open_with(dir.path(), with_key()).unwrap();
        assert_eq!(desk.ticket("T-1").unwrap().ticket["subject"], "Kept");
        drop(desk);
        let marked = Connection::open(&db).unwrap();
        let (id, version): (i32, i64) = marked
            .query_row(
                "SELECT * FROM pragma_application_id, pragma_user_version",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((id, version), (APPLICATION_ID, schema), "{earlier_schema}");
    }
}

#[test]
fn an_empty_database_beside_a_key_file_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    drop(Desk::open_with(dir.path(), with_key_file()).unwrap());
    assert!(dir.path().join(KEY_FILE).exists());
    // Truncated, as a full disk or a careless copy leaves it.
    std::fs::write(&db, b"").unwrap();
    let before = snapshot(dir.path());

    let text = refusal(dir.path(), with_key_file());
    let key = dir.path().join(KEY_FILE);
    assert!(
        text.contains("the file is empty (0 bytes)")
            && text.contains(&format!("the key file `{}`", key.display()))
            && text.contains("remove both files"),
        "{text}"
    );
    assert_eq!(snapshot(dir.path()), before);

    // Without a key file beside it, an empty file is a new desk.
    let fresh = tempfile::tempdir().unwrap();
    std::fs::write(fresh.path().join(DATABASE_FILE), b"").unwrap();
    drop(Desk::open_with(fresh.path(), with_key()).unwrap());
    assert_eq!(
        application_id(&fresh.path().join(DATABASE_FILE)),
        APPLICATION_ID
    );
}

/// A plugin with one text field that does nothing with its events.
fn noting_plugin() -> Vec<u8> {
    let manifest = serde_json::json!({
        "id": "com.example.note", "name": "Note", "version": "1.0.0", "description": "d",
        "events": ["ticket.created"], "config_schema": {"note": {"type": "string"}}
    })
    .to_string()
    .replace('"', "\\\"");
    wat::parse_str(format!(
        r#"(module
  (memory (export "memory") 2)
  (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "ohd_free") (param i32 i32))
  (func (export "on_event") (param i32 i32))
  (@custom "ohd_manifest" "{manifest}"))"#
    ))
    .unwrap()
}

#[test]
fn a_config_an_earlier_version_stored_past_the_limits_is_shown_not_silently_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::open_with(dir.path(), with_key()).unwrap();
    desk.install(&noting_plugin()).unwrap();
    assert_eq!(desk.deliver("ticket.created", "T-1").unwrap().len(), 1);
    drop(desk);
    // What an earlier version, without the limits, accepted.
    let long = "n".repeat(20_000);
    Connection::open(dir.path().join(DATABASE_FILE))
        .unwrap()
        .execute(
            "UPDATE versions SET config = json_object('note', ?1)",
            [&long],
        )
        .unwrap();

    let desk = Desk::open_with(dir.path(), with_key()).unwrap();
    // Found at its first use: the delivery says why the plugin did not run.
    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].outcome.status(), "rejected", "{:?}", reports[0]);
    let info = desk.plugin("com.example.note").unwrap();
    let error = info.load_error.expect("the refused config is shown");
    assert!(
        error.contains(
            "its stored config is refused (`note`: the value is 20000 bytes long; a config \
             value may be at most 16 KiB (16384 bytes)); set the values again"
        ),
        "{error}"
    );
    // A value within the limit puts it back to work.
    desk.configure(
        "com.example.note",
        serde_json::Map::from_iter([("note".to_owned(), "short".into())]),
    )
    .unwrap();
    assert!(
        desk.plugin("com.example.note")
            .unwrap()
            .load_error
            .is_none()
    );
    assert_eq!(desk.deliver("ticket.created", "T-1").unwrap().len(), 1);
}

#[test]
fn a_stored_ticket_that_is_not_an_object_is_an_error_naming_it_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::open_with(dir.path(), with_key()).unwrap();
    desk.install(&noting_plugin()).unwrap();
    assert_eq!(desk.deliver("ticket.created", "T-1").unwrap().len(), 1);
    drop(desk);
    for row in ["[1,2,3]", "\"a string\"", "null"] {
        Connection::open(dir.path().join(DATABASE_FILE))
            .unwrap()
            .execute(
                "INSERT INTO tickets (id, ticket, updated_at) VALUES ('T-1', ?1, 0)
                 ON CONFLICT (id) DO UPDATE SET ticket = excluded.ticket",
                [row],
            )
            .unwrap();
        let desk = Desk::open_with(dir.path(), with_key()).unwrap();
        let expected =
            format!("ticket `T-1`: the stored ticket is not a JSON object (found `{row}`)");
        let deliver = desk
            .deliver("ticket.created", "T-1")
            .unwrap_err()
            .to_string();
        assert!(deliver.contains(&expected), "{deliver}");
        let read = desk.ticket("T-1").unwrap_err().to_string();
        assert!(read.contains(&expected), "{read}");
        let fire = desk
            .fire("T-1", "ticket.created", serde_json::Map::new())
            .unwrap_err()
            .to_string();
        assert!(fire.contains(&expected), "{fire}");
        let update = desk
            .update_ticket("T-1", serde_json::Map::new())
            .unwrap_err()
            .to_string();
        assert!(update.contains(&expected), "{update}");
    }
}
