//! `configure` and `configure_text`: what a save stores, and values typed as text; the
//! config an upgrade carries over.

use std::collections::BTreeMap;
use std::path::Path;

use otai_plugin_desk::DATABASE_FILE;
use otai_plugin_test_support::{LOG, Module};
use serde_json::{Map, Value, json};

use crate::common::open_desk;

const ID: &str = "com.example.configure";

/// A plugin with two secret fields and two plain ones; it logs its payload.
fn module() -> Vec<u8> {
    module_of("1.0.0", true)
}

/// [`module`] at `version`, its `signing` field secret or not.
fn module_of(version: &str, signing_is_secret: bool) -> Vec<u8> {
    let manifest = json!({
        "id": ID, "name": "Configure", "version": version,
        "description": "d", "events": ["ticket.created"],
        "config_schema": {
            "token": {"type": "string", "required": true, "secret": true},
            "signing": {"type": "string", "secret": signing_is_secret},
            "channel": {"type": "string", "default": "#support"},
            "retries": {"type": "integer"},
            "loud": {"type": "boolean"}
        }
    });
    Module::new()
        .imports(&[LOG])
        .body(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1)))"#,
        )
        .manifest(&manifest.to_string())
        .wasm()
}

fn values(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// The sealed bytes of each secret, read from the database (the desk closed: it holds
/// the file exclusively).
fn sealed(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let db = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let mut stmt = db.prepare("SELECT key, sealed FROM secrets").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Configures, closes the desk, and reads the sealed secrets.
fn configure(dir: &Path, v: Value) -> BTreeMap<String, Vec<u8>> {
    let desk = open_desk(dir);
    desk.configure(ID, values(v)).unwrap();
    drop(desk);
    sealed(dir)
}

#[test]
fn a_save_reseals_only_the_secrets_that_changed() {
    let dir = tempfile::tempdir().unwrap();
    open_desk(dir.path()).install(&module()).unwrap();
    let first = configure(
        dir.path(),
        json!({"token": "xoxb-first", "signing": "sign-first", "channel": "#a"}),
    );
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["signing", "token"],
        "{first:?}"
    );

    // A plain field changed, and a secret given again with the value it has: both
    // secrets keep their bytes (a new seal has a new random nonce).
    let plain = configure(dir.path(), json!({"channel": "#b", "token": "xoxb-first"}));
    assert_eq!(plain, first, "a save that changed no secret resealed one");

    // One secret changed: only it is sealed anew.
    let token = configure(dir.path(), json!({"token": "xoxb-second"}));
    assert_ne!(token["token"], first["token"]);
    assert_eq!(token["signing"], first["signing"]);

    // One removed: the other keeps its bytes.
    let removed = configure(dir.path(), json!({"signing": null}));
    assert_eq!(removed.keys().collect::<Vec<_>>(), ["token"]);
    assert_eq!(removed["token"], token["token"]);

    // The bytes kept still open, to the values last set.
    let desk = open_desk(dir.path());
    let logged = &desk.deliver("ticket.created", "T-1").unwrap()[0].logs[0].message;
    assert!(
        logged.contains(r##""config":{"channel":"#b","token":"[redacted]"}"##),
        "{logged}"
    );
    assert_eq!(desk.host().redact(ID, "xoxb-second"), "[redacted]");
    assert_eq!(desk.host().redact(ID, "sign-first"), "sign-first");
    // The manifest's fields are in JSON's order (by name): found by key.
    let form = desk.config_form(ID).unwrap();
    let signing = form.iter().find(|f| f.key == "signing").unwrap();
    assert!(!signing.is_set, "signing removed");
}

/// The sealed bytes of each secret of each version, by version.
fn sealed_by_version(dir: &Path) -> BTreeMap<(i64, String), Vec<u8>> {
    let db = rusqlite::Connection::open(dir.join(DATABASE_FILE)).unwrap();
    let mut stmt = db
        .prepare("SELECT version_seq, key, sealed FROM secrets")
        .unwrap();
    stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn an_upgrade_copies_the_sealed_secrets_and_opens_only_one_no_longer_secret() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open_desk(dir.path());
    desk.install(&module()).unwrap();
    desk.configure(
        ID,
        values(json!({"token": "xoxb-kept", "signing": "sign-plain", "channel": "#a"})),
    )
    .unwrap();
    drop(desk);
    let before = sealed_by_version(dir.path());
    let old_seq = before.keys().next().unwrap().0;

    // 1.1.0 keeps `token` secret and makes `signing` a plain field.
    let desk = open_desk(dir.path());
    desk.upgrade(&module_of("1.1.0", false), false).unwrap();
    drop(desk);
    let after = sealed_by_version(dir.path());
    let new_seq = after.keys().map(|(seq, _)| *seq).max().unwrap();
    assert_ne!(new_seq, old_seq);
    let new_rows: Vec<_> = after
        .iter()
        .filter(|((seq, _), _)| *seq == new_seq)
        .collect();
    assert_eq!(new_rows.len(), 1, "{new_rows:?}");
    assert_eq!(new_rows[0].0.1, "token");
    assert_eq!(
        new_rows[0].1,
        &before[&(old_seq, "token".to_owned())],
        "the upgrade sealed the secret anew"
    );

    // After reopening, the copied bytes open to the value set, and the field that is
    // no longer secret reaches the plugin as a plain value.
    let desk = open_desk(dir.path());
    let info = desk.plugin(ID).unwrap();
    assert_eq!(
        (info.manifest.version.as_str(), info.enabled),
        ("1.1.0", true)
    );
    let logged = &desk.deliver("ticket.created", "T-1").unwrap()[0].logs[0].message;
    assert!(
        logged
            .contains(r##""config":{"channel":"#a","signing":"sign-plain","token":"[redacted]"}"##),
        "{logged}"
    );
    assert_eq!(desk.host().redact(ID, "xoxb-kept"), "[redacted]");
    let form = desk.config_form(ID).unwrap();
    let signing = form.iter().find(|f| f.key == "signing").unwrap();
    assert_eq!(signing.value, Some(json!("sign-plain")));
}

#[test]
fn values_typed_as_text_are_read_against_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open_desk(dir.path());
    desk.install(&module()).unwrap();

    // Every problem at once: text that is not of its field's type (named, with what
    // was typed), an unknown key (with the nearest one), a required field missing.
    let refused = desk
        .configure_text(ID, [("retries", "three"), ("lod", "true"), ("loud", "yes")])
        .unwrap_err()
        .to_string();
    assert_eq!(
        refused,
        format!(
            "invalid config for plugin `{ID}`:\n\
             error: retries: expected a whole number, found \"three\"\n\
             error: loud: expected `true` or `false`, found \"yes\"\n\
             error: token: `token` is required; set a value\n\
             error: lod: unknown config key \"lod\"; did you mean \"loud\"?\n"
        )
    );

    let info = desk
        .configure_text(
            ID,
            [
                ("token", " xoxb-typed "),
                ("retries", " 4 "),
                ("loud", "true"),
                ("channel", ""),
            ],
        )
        .unwrap();
    assert!(info.enabled, "{info:?}");
    let logged = &desk.deliver("ticket.created", "T-1").unwrap()[0].logs[0].message;
    assert!(
        logged.contains(
            r##""config":{"channel":"#support","loud":true,"retries":4,"token":"[redacted]"}"##
        ),
        "{logged}"
    );
    // The secret as typed, spaces included.
    assert_eq!(desk.host().redact(ID, " xoxb-typed "), "[redacted]");

    // Empty text removes a value; a key not named keeps its own.
    desk.configure_text(ID, [("retries", "")]).unwrap();
    let form = desk.config_form(ID).unwrap();
    let value = |key: &str| form.iter().find(|f| f.key == key).unwrap().value.clone();
    assert_eq!((value("retries"), value("loud")), (None, Some(json!(true))));
}
