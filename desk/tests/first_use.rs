//! Plugins are loaded (compiled) at their first use, not when the desk opens (issue 41):
//! what loads is counted by the host's disk cache of compiled modules, each load a
//! module compiled and written or one read
//! ([`Host::disk_cache_stats`](otai_plugin_host::Host::disk_cache_stats)), not timed.

use std::sync::Arc;

use otai_plugin_desk::{DATABASE_FILE, Desk, DeskError, DeskOptions};
use otai_plugin_host::Outcome;
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::Module;
use serde_json::{Map, Value, json};

use crate::common::{KEY, open_desk};

/// How many modules the desk's host loaded since it opened.
fn loads(desk: &Desk) -> u64 {
    let stats = desk
        .host()
        .disk_cache_stats()
        .expect("the desk has a disk cache");
    stats.hits + stats.writes
}

/// Plugin `com.example.{name}`, subscribed to `events`, with a panel and a plain config
/// field.
fn plugin(name: &str, events: &[&str]) -> Vec<u8> {
    Module::new()
        .body(
            r#"(func (export "on_event") (param i32 i32))
  (func (export "render_panel") (param i32 i32) (result i32 i32)
    (i32.const 300) (i32.const 31))
  (data (i32.const 300) "https://panel.example.com/p?t=1")"#,
        )
        .manifest(
            &json!({
                "id": format!("com.example.{name}"), "name": name, "version": "1.0.0",
                "description": "d", "events": events,
                "permissions": {"http": {"allowed_hosts": ["panel.example.com"]}},
                "ui_panel": {"title": name, "height": 100},
                "config_schema": {"channel": {"type": "string"}}
            })
            .to_string(),
        )
        .wasm()
}

/// A desk with three plugins installed, reopened: nothing is loaded.
fn three(dir: &std::path::Path) -> Desk {
    let desk = open_desk(dir);
    desk.install(&plugin("a", &["ticket.created"])).unwrap();
    desk.install(&plugin("b", &["ticket.created"])).unwrap();
    desk.install(&plugin("closer", &["ticket.closed"])).unwrap();
    assert_eq!(loads(&desk), 3, "installing compiles");
    drop(desk);
    open_desk(dir)
}

#[test]
fn opening_listing_and_managing_plugins_compile_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let desk = three(dir.path());
    assert_eq!(loads(&desk), 0, "opening compiles nothing");
    assert_eq!(desk.list().unwrap().len(), 3);
    desk.plugin("com.example.a").unwrap();
    desk.config_form("com.example.a").unwrap();
    desk.deliveries("com.example.a", 10).unwrap();
    let channel = Map::from_iter([("channel".to_owned(), Value::from("#ops"))]);
    desk.configure("com.example.a", channel).unwrap();
    desk.configure_text("com.example.b", [("channel", "#dev")])
        .unwrap();
    desk.disable("com.example.b").unwrap();
    desk.enable("com.example.b").unwrap();
    desk.remove("com.example.b").unwrap();
    assert_eq!(loads(&desk), 0, "none of these compiles");
    assert!(desk.host().installed().is_empty());

    // A delivery loads the plugins subscribed to its event, and only those.
    let reports = desk.deliver("ticket.closed", "T-1").unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].outcome, Outcome::Ok);
    assert_eq!(loads(&desk), 1);
    assert_eq!(desk.host().installed(), ["com.example.closer"]);
    // The config set while it was not loaded is the one it runs with.
    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(loads(&desk), 2);
    // Loaded once: a second delivery compiles nothing more.
    desk.deliver("ticket.created", "T-1").unwrap();
    desk.deliver("ticket.closed", "T-1").unwrap();
    assert_eq!(loads(&desk), 2);
}

#[test]
fn a_panel_loads_its_plugin_at_its_first_render() {
    let dir = tempfile::tempdir().unwrap();
    let desk = three(dir.path());
    let report = desk.render_panel("com.example.closer", "T-1").unwrap();
    assert_eq!(
        report.embed_url(),
        Some("https://panel.example.com/p?t=1"),
        "{report:?}"
    );
    assert_eq!(desk.host().installed(), ["com.example.closer"]);
    desk.disable("com.example.a").unwrap();
    let e = desk.render_panel("com.example.a", "T-1").unwrap_err();
    assert!(matches!(e, DeskError::Deliver(_)), "{e}");
    assert!(e.to_string().contains("disabled"), "{e}");
    let e = desk.render_panel("com.example.none", "T-1").unwrap_err();
    assert!(e.to_string().contains("com.example.none"), "{e}");
}

#[test]
fn a_module_corrupted_after_install_is_listed_and_its_first_use_names_it() {
    let dir = tempfile::tempdir().unwrap();
    drop(three(dir.path()));
    // The stored module of `b` overwritten with garbage, as a damaged disk or a hand
    // edit would leave it.
    let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let changed = db
        .execute(
            "UPDATE modules SET wasm = x'00617364deadbeef0102' WHERE version_seq =
             (SELECT current_seq FROM plugins WHERE id = 'com.example.b')",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);

    let desk = open_desk(dir.path());
    let listed = desk.list().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|p| p.load_error.is_none() && p.enabled));

    // Every delivery to it says why it did not run, naming the plugin, its version
    // and where it is stored; the others run.
    for _ in 0..2 {
        let reports = desk.deliver("ticket.created", "T-1").unwrap();
        let outcomes: Vec<(&str, &str)> = reports
            .iter()
            .map(|r| (r.plugin_id.as_str(), r.outcome.status()))
            .collect();
        assert_eq!(
            outcomes,
            [("com.example.a", "ok"), ("com.example.b", "rejected")]
        );
        let Outcome::Rejected { reason } = &reports[1].outcome else {
            unreachable!()
        };
        assert!(
            reason.starts_with(
                "plugin `com.example.b` cannot run: this host does not load its module \
                 (version 1.0.0, stored in `"
            ) && reason.contains(DATABASE_FILE),
            "{reason}"
        );
    }
    let error = desk.plugin("com.example.b").unwrap().load_error.unwrap();
    assert!(error.contains("version 1.0.0"), "{error}");
    let e = desk.render_panel("com.example.b", "T-1").unwrap_err();
    assert!(matches!(e, DeskError::Unloadable { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("plugin `com.example.b` cannot run: "),
        "{e}"
    );
    // Both deliveries are in its log, not counted against its health.
    let info = desk.plugin("com.example.b").unwrap();
    assert_eq!((info.deliveries, info.failures), (0, 0));
    assert_eq!(desk.deliveries("com.example.b", 10).unwrap().len(), 2);

    // Installed again from a good module, it runs.
    desk.remove("com.example.b").unwrap();
    desk.install(&plugin("b", &["ticket.created"])).unwrap();
    assert_eq!(desk.deliver("ticket.created", "T-1").unwrap().len(), 2);
    assert!(desk.plugin("com.example.b").unwrap().load_error.is_none());
}

/// Two first deliveries at once (the web UI serves requests on several threads): both
/// load what they need and neither drops a plugin.
#[test]
fn two_threads_delivering_first_both_reach_every_subscribed_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(three(dir.path()));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let desk = desk.clone();
            std::thread::spawn(move || {
                if i == 1 {
                    // A configure racing the loads: the plugin is loaded again with it.
                    desk.configure_text("com.example.a", [("channel", "#raced")])
                        .unwrap();
                }
                desk.deliver("ticket.created", &format!("T-{i}")).unwrap()
            })
        })
        .collect();
    for handle in handles {
        let reports = handle.join().unwrap();
        let ids: Vec<&str> = reports.iter().map(|r| r.plugin_id.as_str()).collect();
        assert_eq!(ids, ["com.example.a", "com.example.b"]);
        assert!(
            reports.iter().all(|r| r.outcome == Outcome::Ok),
            "{reports:?}"
        );
    }
    assert_eq!(desk.host().installed(), ["com.example.a", "com.example.b"]);
}

/// Plugins unused for longer than `unload_idle_after` are taken out of the host after a
/// later delivery, and loaded again (from the disk cache of compiled modules) at their
/// next use. With the bound at zero, every plugin the last delivery did not reach is
/// idle; with the default (10 minutes), none is.
#[test]
fn idle_plugins_are_unloaded_and_load_again_at_their_next_use() {
    let dir = tempfile::tempdir().unwrap();
    drop(three(dir.path()));
    let desk = Desk::open_with(
        dir.path(),
        DeskOptions {
            http: Arc::new(MockHttp::new()),
            key: Some(KEY.into()),
            unload_idle_after: Some(std::time::Duration::ZERO),
            ..DeskOptions::default()
        },
    )
    .unwrap();
    desk.deliver("ticket.created", "T-1").unwrap();
    assert_eq!(desk.host().installed(), ["com.example.a", "com.example.b"]);
    desk.deliver("ticket.closed", "T-1").unwrap();
    assert_eq!(desk.host().installed(), ["com.example.closer"]);
    desk.render_panel("com.example.a", "T-1").unwrap();
    assert_eq!(desk.host().installed(), ["com.example.a"]);

    // Loaded again at their next use, with the config they had.
    let reports = desk.deliver("ticket.created", "T-2").unwrap();
    assert_eq!(reports.len(), 2);
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Ok),
        "{reports:?}"
    );
    assert_eq!(desk.host().installed(), ["com.example.a", "com.example.b"]);
    drop(desk);

    let desk = open_desk(dir.path());
    desk.deliver("ticket.created", "T-1").unwrap();
    desk.deliver("ticket.closed", "T-1").unwrap();
    assert_eq!(desk.host().installed().len(), 3);
}
