//! The delivery log keeps each delivery's fuel when the desk counts it
//! (`DeskOptions::count_fuel`, which `dev` sets), and none otherwise.

use std::sync::Arc;

use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::Module;
use serde_json::json;

fn logged_fuel(count_fuel: bool) -> Option<u64> {
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::open_with(
        dir.path(),
        DeskOptions {
            http: Arc::new(MockHttp::new()),
            key: Some("cd".repeat(32)),
            count_fuel,
            ..DeskOptions::default()
        },
    )
    .unwrap();
    let wasm = Module::new()
        .body(
            r#"(func (export "on_event") (param i32 i32) (local $i i32)
    (loop $turn
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $turn (i32.lt_u (local.get $i) (i32.const 100)))))"#,
        )
        .manifest(
            &json!({
                "id": "com.example.counted", "name": "Counted", "version": "1.0.0",
                "description": "d", "events": ["ticket.created"]
            })
            .to_string(),
        )
        .wasm();
    desk.install(&wasm).unwrap();
    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    assert!(reports[0].outcome.is_ok(), "{reports:?}");
    let log = desk.deliveries("com.example.counted", 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].report.fuel, reports[0].fuel,
        "the log keeps the report's"
    );
    log[0].report.fuel
}

#[test]
fn a_counting_desk_logs_each_deliverys_fuel_and_a_default_one_none() {
    let fuel = logged_fuel(true).expect("a counting desk logs the fuel");
    // The loop's 100 turns of 8 operators, and a little around them.
    assert!((800..1000).contains(&fuel), "{fuel}");
    assert_eq!(logged_fuel(false), None);
}
