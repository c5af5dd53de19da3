//! Counting the work of a delivery (`HostBuilder::count_fuel`): the same count for the
//! same delivery on any run and any host, a count of the plugin's operators rather than
//! of time, the whole budget when the fuel ran out, and nothing from a host that does
//! not count.

use crate::common;

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host, Outcome};
use serde_json::json;

const LOOPER: &str = "com.example.looper";

/// An `on_event` that counts to `n` (8 operators a turn: `local.get`, `i32.const`,
/// `i32.add`, `local.set`, `local.get`, `i32.const`, `i32.lt_u`, `br_if`; `loop` and
/// `end` cost nothing) and logs the payload, a host call whose time fuel does not see.
fn looper(n: u32) -> Vec<u8> {
    plugin(
        &manifest(LOOPER, &["ticket.created"], &[]),
        &format!(
            r#"(func (export "on_event") (param i32 i32) (local $i i32)
                 (loop $turn
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br_if $turn (i32.lt_u (local.get $i) (i32.const {n}))))
                 (call $log (local.get 0) (local.get 1) (i32.const 1)))"#
        ),
    )
}

fn counting_host() -> Host {
    Host::builder()
        .count_fuel(true)
        .max_instances(2)
        .http(MockHttp::new())
        .build()
        .unwrap()
}

fn fuel_of(host: &Host) -> u64 {
    let report = host.deliver_to(LOOPER, &Event::ticket_created()).unwrap();
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.to_snapshot());
    report.fuel.expect("a counting host reports the fuel")
}

#[test]
fn a_delivery_costs_the_same_fuel_in_two_runs_and_on_two_hosts() {
    let first = counting_host();
    install(&first, &looper(1000), json!({}));
    let second = counting_host();
    install(&second, &looper(1000), json!({}));
    let runs = [fuel_of(&first), fuel_of(&first), fuel_of(&second)];
    assert!(runs[0] > 8000, "{runs:?}");
    assert_eq!(runs, [runs[0]; 3]);
}

#[test]
fn fuel_counts_the_plugins_operators() {
    let host = counting_host();
    install(&host, &looper(1000), json!({}));
    let thousand = fuel_of(&host);
    install(&host, &looper(3000), json!({}));
    let three_thousand = fuel_of(&host);
    // 2000 more turns of 8 operators each, and nothing else changed.
    assert_eq!(three_thousand - thousand, 16_000);
}

#[test]
fn a_delivery_out_of_fuel_reports_its_whole_budget() {
    let host = Host::builder()
        .fuel(10_000)
        .count_fuel(true)
        .max_instances(2)
        .http(MockHttp::new())
        .build()
        .unwrap();
    install(
        &host,
        &plugin(
            &manifest(LOOPER, &["ticket.created"], &[]),
            r#"(func (export "on_event") (param i32 i32) (loop (br 0)))"#,
        ),
        json!({}),
    );
    let report = host.deliver_to(LOOPER, &Event::ticket_created()).unwrap();
    assert!(
        matches!(&report.outcome, Outcome::Trapped { message, .. } if message.contains("fuel")),
        "{:?}",
        report.outcome
    );
    assert_eq!(report.fuel, Some(10_000));
}

#[test]
fn a_panel_render_is_counted_too() {
    let mut m = manifest(LOOPER, &["ticket.created"], &["panel.example.com"]);
    m["ui_panel"] = json!({"title": "Panel", "height": 100});
    let url = "https://panel.example.com/";
    let wasm = plugin(
        &m,
        &format!(
            r#"(func (export "on_event") (param i32 i32))
               (func (export "render_panel") (param i32 i32) (result i32 i32)
                 (local $p i32)
                 (local.set $p (call $alloc (i32.const {len})))
                 (memory.copy (local.get $p) (i32.const 2048) (i32.const {len}))
                 (local.get $p) (i32.const {len}))
               {data}"#,
            len = url.len(),
            data = data(2048, url.as_bytes()),
        ),
    );
    let host = counting_host();
    install(&host, &wasm, json!({}));
    let renders: Vec<_> = (0..2)
        .map(|_| host.render_panel(LOOPER, "T-1").unwrap())
        .collect();
    assert_eq!(renders[0].url.as_deref(), Some(url));
    let fuel = renders[0]
        .fuel
        .expect("a counting host reports a panel's fuel");
    // `memory.copy` costs a unit a byte on top of its operator.
    assert!(fuel > url.len() as u64, "{fuel}");
    assert_eq!(renders[1].fuel, Some(fuel));
}

#[test]
fn a_host_that_does_not_count_reports_no_fuel() {
    // The default, and a host with only a budget: their reports are as they were.
    for host in [
        Host::builder()
            .max_instances(2)
            .http(MockHttp::new())
            .build(),
        Host::builder()
            .fuel(1_000_000)
            .max_instances(2)
            .http(MockHttp::new())
            .build(),
    ] {
        let host = host.unwrap();
        install(&host, &looper(10), json!({}));
        let report = host.deliver_to(LOOPER, &Event::ticket_created()).unwrap();
        assert_eq!(report.outcome, Outcome::Ok);
        assert_eq!(report.fuel, None);
        let json = serde_json::to_value(&report).unwrap();
        assert!(json.get("fuel").is_none(), "{json}");
    }
}

#[test]
fn snapshots_leave_the_fuel_out() {
    let host = counting_host();
    install(&host, &looper(10), json!({}));
    let report = host.deliver_to(LOOPER, &Event::ticket_created()).unwrap();
    assert!(report.fuel.is_some());
    assert!(
        serde_json::to_value(&report).unwrap()["fuel"].is_u64(),
        "the JSON report has it"
    );
    assert!(
        !report.to_snapshot().contains("fuel"),
        "{}",
        report.to_snapshot()
    );
}
