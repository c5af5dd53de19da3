//! The administrator's health settings: checked, saved in the data directory, applied
//! to the next delivery, and read again by a desk opened later.

use otai_plugin_desk::{DATABASE_FILE, Desk, DeskError, DeskOptions, HealthSettings};
use otai_plugin_test_support::Module;
use serde_json::json;

use crate::common::{KEY, open_desk};

const FLAKY: &str = "com.example.flaky";

/// Traps for `ticket.closed`, works for `ticket.created`: the payload starts with
/// `{"event":"ticket.c`, and its byte 18 is `l` (108) for `closed`.
fn flaky() -> Vec<u8> {
    Module::new()
        .body(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
        (if (i32.eq (i32.load8_u offset=18 (local.get $p)) (i32.const 108)) (then unreachable)))"#,
        )
        .manifest(
            &json!({"id": FLAKY, "name": "Flaky", "version": "1.0.0", "description": "d",
                    "events": ["ticket.created", "ticket.closed"]})
            .to_string(),
        )
        .wasm()
}

fn settings(failure_percent: f64, min_deliveries: u32, window_minutes: u32) -> HealthSettings {
    HealthSettings {
        failure_percent,
        min_deliveries,
        window_minutes,
    }
}

/// 5 of 10 failed: not more than the default's half.
fn half_failed(desk: &Desk) {
    for _ in 0..5 {
        desk.deliver("ticket.created", "T-1").unwrap();
        desk.deliver("ticket.closed", "T-1").unwrap();
    }
}

#[test]
fn a_lower_threshold_disables_at_the_next_delivery_and_is_kept_for_the_next_desk() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open_desk(dir.path());
    assert_eq!(desk.health_settings(), settings(50.0, 10, 10));
    desk.install(&flaky()).unwrap();
    half_failed(&desk);
    // 5 of 11 (45%) failed: under the default's 50%, still enabled.
    desk.deliver("ticket.created", "T-1").unwrap();
    assert!(desk.plugin(FLAKY).unwrap().enabled);

    desk.set_health_settings(settings(40.0, 10, 10)).unwrap();
    assert_eq!(desk.health_settings(), settings(40.0, 10, 10));
    // 5 of 12 (42%) is over 40%: disabled by the new threshold, with a notice.
    desk.deliver("ticket.created", "T-1").unwrap();
    let info = desk.plugin(FLAKY).unwrap();
    let disabled = info.disabled.expect("disabled by the new threshold");
    assert_eq!(
        disabled.detail,
        "5 of 12 deliveries failed within 10 minutes"
    );
    assert_eq!(desk.notices(true, 10).unwrap().len(), 1);
    drop(desk);

    // Opened again (as `desk list` or `dev` later): the saved settings.
    let desk = open_desk(dir.path());
    assert_eq!(desk.health_settings(), settings(40.0, 10, 10));
    desk.enable(FLAKY).unwrap();
    half_failed(&desk);
    desk.deliver("ticket.created", "T-1").unwrap();
    assert!(
        desk.plugin(FLAKY).unwrap().disabled.is_some(),
        "the reopened desk judges by the saved 40%"
    );
}

#[test]
fn a_higher_threshold_keeps_a_plugin_the_default_would_disable() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open_desk(dir.path());
    desk.install(&flaky()).unwrap();
    desk.set_health_settings(settings(70.0, 10, 10)).unwrap();
    for _ in 0..6 {
        desk.deliver("ticket.closed", "T-1").unwrap();
    }
    for _ in 0..4 {
        desk.deliver("ticket.created", "T-1").unwrap();
    }
    // 6 of 10: over the default's 50%, not over 70%.
    let info = desk.plugin(FLAKY).unwrap();
    assert!(
        info.enabled && (info.deliveries, info.failures) == (10, 6),
        "{info:?}"
    );
    desk.set_health_settings(settings(50.0, 10, 10)).unwrap();
    desk.deliver("ticket.created", "T-1").unwrap();
    assert!(!desk.plugin(FLAKY).unwrap().enabled, "6 of 11 over 50%");
}

#[test]
fn a_smaller_minimum_and_a_longer_window_count_what_the_desk_kept() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open_desk(dir.path());
    desk.install(&flaky()).unwrap();
    desk.set_health_settings(settings(50.0, 10, 1)).unwrap();
    for _ in 0..3 {
        desk.deliver("ticket.closed", "T-1").unwrap();
    }
    // A longer window than the copy in memory was loaded for: it is read again, the
    // outcomes not yet committed included.
    desk.set_health_settings(settings(50.0, 4, 60)).unwrap();
    assert_eq!(desk.plugin(FLAKY).unwrap().deliveries, 3);
    desk.deliver("ticket.closed", "T-1").unwrap();
    let info = desk.plugin(FLAKY).unwrap();
    assert_eq!(
        info.disabled.map(|d| d.detail).as_deref(),
        Some("4 of 4 deliveries failed within 60 minutes")
    );
}

#[test]
fn hostile_settings_are_refused_naming_each_and_nothing_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open_desk(dir.path());
    for (bad, key) in [
        (settings(-1.0, 10, 10), "failure_percent"),
        (settings(100.5, 10, 10), "failure_percent"),
        (settings(f64::NAN, 10, 10), "failure_percent"),
        (settings(f64::INFINITY, 10, 10), "failure_percent"),
        (settings(50.0, 0, 10), "min_deliveries"),
        (settings(50.0, u32::MAX, 10), "min_deliveries"),
        (settings(50.0, 10, 0), "window_minutes"),
        (settings(50.0, 10, u32::MAX), "window_minutes"),
    ] {
        let Err(DeskError::InvalidSettings { problems }) = desk.set_health_settings(bad) else {
            panic!("{bad:?} was accepted");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, key);
        assert!(problems[0].message.contains("expected"), "{}", problems[0]);
        assert_eq!(desk.health_settings(), settings(50.0, 10, 10));
    }
    let text = desk
        .set_health_settings(settings(f64::NAN, 0, 0))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("failure_percent: found \"NaN\"")
            && text.contains("min_deliveries: found \"0\"")
            && text.contains("window_minutes: found \"0\""),
        "{text}"
    );
    drop(desk);
    assert_eq!(
        open_desk(dir.path()).health_settings(),
        settings(50.0, 10, 10)
    );
}

#[test]
fn settings_changed_in_the_file_by_another_program_are_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    open_desk(dir.path())
        .set_health_settings(settings(30.0, 5, 15))
        .unwrap();
    let db = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    db.execute("UPDATE health_settings SET failure_percent = 250", [])
        .unwrap();
    drop(db);
    let options = DeskOptions {
        key: Some(KEY.into()),
        ..DeskOptions::default()
    };
    let text = Desk::open_with(dir.path(), options)
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("the saved health settings are out of range")
            && text.contains("failure_percent: found \"250\""),
        "{text}"
    );
}
