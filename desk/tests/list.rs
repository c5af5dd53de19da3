//! `desk list` reads every plugin in one pass (issue 41): what it shows of each is what
//! the plugin's own page reads, in every state a plugin can be in.

use otai_plugin_desk::{DATABASE_FILE, Desk, PluginInfo};
use serde_json::{Value, json};

use crate::common::{failing_module, module, module_with};

fn web_manifest(id: &str, version: &str) -> Value {
    json!({
        "id": id, "name": "Web test", "version": version,
        "description": "d", "events": ["ticket.created"],
        "config_schema": {
            "token": {"type": "string", "required": true, "secret": true},
            "channel": {"type": "string", "default": "#support"},
            "team": {"type": "string", "required": true}
        }
    })
}

/// Each listed plugin against [`Desk::plugin`], field by field (as the CLI's JSON
/// prints them).
fn assert_list_is_each_plugin(desk: &Desk) -> Vec<PluginInfo> {
    let list = desk.list().unwrap();
    let ids: Vec<&str> = list.iter().map(|p| p.id.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "the list is in id order");
    for info in &list {
        assert_eq!(
            serde_json::to_value(info).unwrap(),
            serde_json::to_value(desk.plugin(&info.id).unwrap()).unwrap(),
            "{}",
            info.id
        );
    }
    list
}

#[test]
fn the_list_shows_each_plugin_as_its_page_does() {
    let dir = tempfile::tempdir().unwrap();
    let desk = crate::common::open_desk(dir.path());
    assert!(assert_list_is_each_plugin(&desk).is_empty());

    // Upgraded (a previous version), one required field set as a secret, one missing.
    desk.install(&module("1.0.0", &[])).unwrap();
    desk.upgrade(&module("1.1.0", &[]), true).unwrap();
    desk.configure(
        "com.example.web",
        serde_json::from_value(json!({"token": "t0ken"})).unwrap(),
    )
    .unwrap();
    // Both required fields set, the secret one sealed; then disabled.
    desk.install(&module_with(&web_manifest("com.example.b", "2.0.0")))
        .unwrap();
    desk.configure(
        "com.example.b",
        serde_json::from_value(json!({"token": "t", "team": "ops"})).unwrap(),
    )
    .unwrap();
    // Failed twice, then enabled again: its window starts after those failures.
    desk.install(&failing_module()).unwrap();
    desk.deliver("ticket.created", "T-1").unwrap();
    desk.deliver("ticket.created", "T-1").unwrap();
    desk.disable("com.example.failing").unwrap();
    desk.enable("com.example.failing").unwrap();
    desk.disable("com.example.b").unwrap();
    desk.deliver("ticket.created", "T-2").unwrap();

    let list = assert_list_is_each_plugin(&desk);
    let by_id = |list: &[PluginInfo], id: &str| list.iter().find(|p| p.id == id).cloned().unwrap();
    let web = by_id(&list, "com.example.web");
    assert_eq!(web.previous_version.as_deref(), Some("1.0.0"));
    assert_eq!(web.manifest.version, "1.1.0");
    assert!(web.missing_config.is_empty(), "{web:?}");
    let b = by_id(&list, "com.example.b");
    assert!(!b.enabled && b.disabled.is_some(), "{b:?}");
    assert!(b.missing_config.is_empty(), "{b:?}");
    assert_eq!((b.deliveries, b.failures), (2, 0));
    assert_eq!(b.previous_version, None);
    drop(desk);

    // The windows' edges, set apart by more than a millisecond: an outcome of the
    // failing plugin from before it was enabled again (the table keeps such rows until
    // its next trim), and the web plugin's first outcome an hour ago (out of the
    // policy's ten minutes).
    let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    // The two failures before the re-enable may share its millisecond on a fast
    // machine (the window starts at it, inclusive): they are set a millisecond before.
    db.execute_batch(
        "UPDATE outcomes SET at = (SELECT window_start - 1 FROM plugins
                                   WHERE id = 'com.example.failing')
             WHERE plugin_id = 'com.example.failing'
             AND rowid < (SELECT max(rowid) FROM outcomes WHERE plugin_id = 'com.example.failing');
         INSERT INTO outcomes (plugin_id, at, failed)
             SELECT id, window_start - 1000, 1 FROM plugins WHERE id = 'com.example.failing';
         UPDATE outcomes SET at = at - 3600000 WHERE plugin_id = 'com.example.web'
             AND rowid = (SELECT min(rowid) FROM outcomes WHERE plugin_id = 'com.example.web');",
    )
    .unwrap();
    drop(db);

    // From the database alone, on a desk opened anew.
    let desk = crate::common::open_desk(dir.path());
    let list = assert_list_is_each_plugin(&desk);
    assert_eq!(list.len(), 3);
    let failing = by_id(&list, "com.example.failing");
    assert!(failing.enabled, "{failing:?}");
    assert_eq!((failing.deliveries, failing.failures), (1, 1));
    assert!(failing.last_delivery_ms.is_some());
    let web = by_id(&list, "com.example.web");
    assert_eq!((web.deliveries, web.failures), (2, 0));
    // A plugin never delivered to, with a required field missing.
    desk.install(&module_with(&web_manifest("com.example.a", "0.1.0")))
        .unwrap();
    let list = assert_list_is_each_plugin(&desk);
    assert_eq!(list[0].id, "com.example.a");
    assert_eq!(list[0].missing_config, ["team", "token"]);
    assert_eq!(list[0].last_delivery_ms, None);
}
