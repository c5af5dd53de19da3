//! What the desk adds: `cargo bench -p otai-plugin-desk --bench desk`.
//!
//! Prints figures; asserts nothing. Issue 13's targets: installing a plugin whose
//! module is already compiled ≤ 50 ms; a delivery through the desk (ticket read,
//! delivery, report and ticket writes, health judged) ≤ 3× a bare host delivery of
//! the same plugin and event. The desk commits deliveries in groups, so its mean (every
//! commit included) is the figure to hold to the target, not its median.
//! Configuring (a save that changes a plain field, the secrets kept) and firing an
//! event from the ticket page (a field changed, then delivered) have no target: their
//! figures are for comparing changes to `configure` and `fire`.

use std::time::{Duration, Instant};

use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host};
use otai_plugin_test_support::{FIELD, LOG, Module};
use serde_json::json;

/// Logs a line and sets a custom field: a delivery with something to persist.
fn plugin() -> Vec<u8> {
    plugin_with(&json!({
        "id": "com.example.bench", "name": "Bench", "version": "1.0.0",
        "description": "Logs and sets a field.", "events": ["ticket.created", "ticket.assigned"]
    }))
}

/// The plugin of [`plugin`] with another manifest.
fn plugin_with(manifest: &serde_json::Value) -> Vec<u8> {
    Module::new()
        .imports(&[LOG, FIELD])
        .body(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (i32.const 0) (i32.const 20) (i32.const 1))
    (drop (call $field (i32.const 100) (i32.const 46))))
  (data (i32.const 0) "delivered, all good.")
  (data (i32.const 100) "{\"ticket_id\":\"T-1\",\"key\":\"bench\",\"value\":\"ok\"}")"#,
        )
        .manifest(&manifest.to_string())
        .wasm()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let wasm = plugin();
    let dir = tempfile::tempdir().expect("a temp dir");
    let options = || DeskOptions {
        http: std::sync::Arc::new(MockHttp::new()),
        key: Some("ab".repeat(32)),
        ..DeskOptions::default()
    };
    let desk = Desk::open_with(dir.path(), options()).expect("the desk opens");

    // Install / remove: the module is compiled once, then found in the host's cache.
    desk.install(&wasm).expect("installs");
    let mut installs = Vec::new();
    for _ in 0..50 {
        desk.remove("com.example.bench").expect("removes");
        let start = Instant::now();
        desk.install(&wasm).expect("installs");
        installs.push(start.elapsed());
    }

    // Configure: each save changes a plain field and keeps two secrets.
    let configured = "com.example.bench-config";
    desk.install(&plugin_with(&json!({
        "id": configured, "name": "Bench config", "version": "1.0.0",
        "description": "Has a config.", "events": ["ticket.closed"],
        "config_schema": {
            "token": {"type": "string", "required": true, "secret": true},
            "signing": {"type": "string", "secret": true},
            "channel": {"type": "string"}
        }
    })))
    .expect("installs");
    let config = |v: serde_json::Value| v.as_object().expect("an object").clone();
    desk.configure(
        configured,
        config(json!({"token": "xoxb-bench", "signing": "sign-bench", "channel": "#0"})),
    )
    .expect("configures");
    let mut configures = Vec::new();
    for i in 0..200 {
        let start = Instant::now();
        desk.configure(configured, config(json!({"channel": format!("#{i}")})))
            .expect("configures");
        configures.push(start.elapsed());
    }
    desk.remove(configured).expect("removes");

    // Firing from the ticket page, a field changed each time: as the page did it before
    // (three calls: the change, the delivery, the ticket read for the page) and as
    // `Desk::fire` does it, in turn.
    let (mut three_calls, mut fired) = (Vec::new(), Vec::new());
    for i in 0..200 {
        let changes = config(json!({"subject": format!("Subject {i}")}));
        let start = Instant::now();
        desk.update_ticket("T-2", changes.clone())
            .expect("changes the ticket");
        let reports = desk.deliver("ticket.created", "T-2").expect("delivers");
        let ticket = desk.ticket("T-2").expect("reads the ticket");
        three_calls.push(start.elapsed());
        assert_eq!(
            (reports.len(), ticket.ticket["subject"].clone()),
            (1, json!(format!("Subject {i}")))
        );
        let changes = config(json!({"subject": format!("Fired {i}")}));
        let start = Instant::now();
        let done = desk.fire("T-2", "ticket.created", changes).expect("fires");
        // The page's next read commits the delivery, as `ticket` does above.
        desk.flush().expect("commits");
        fired.push(start.elapsed());
        assert_eq!(
            (done.reports.len(), done.ticket.ticket["subject"].clone()),
            (1, json!(format!("Fired {i}")))
        );
    }

    // 2,048: a whole number of the desk's commit groups (64), so that the mean carries
    // every commit.
    let runs = 2_048;
    let mut through_desk = Vec::new();
    let all = Instant::now();
    for i in 0..runs {
        let start = Instant::now();
        let reports = desk.deliver("ticket.created", "T-1").expect("delivers");
        through_desk.push(start.elapsed());
        assert_eq!(
            reports[0].custom_fields.len(),
            1,
            "run {i}: {:?}",
            reports[0]
        );
    }
    let desk_mean = all.elapsed() / runs;
    desk.flush().expect("commits");
    // The desk reuses the last event about a ticket that did not change; alternating
    // two events defeats that, so every delivery builds its event.
    let mut alternating = Vec::new();
    let all = Instant::now();
    for i in 0..runs {
        let event = ["ticket.created", "ticket.assigned"][i as usize % 2];
        let start = Instant::now();
        let reports = desk.deliver(event, "T-1").expect("delivers");
        alternating.push(start.elapsed());
        assert_eq!(reports[0].custom_fields.len(), 1, "run {i}");
    }
    let alternating_mean = all.elapsed() / runs;
    desk.flush().expect("commits");

    let host = Host::builder()
        .http(MockHttp::new())
        .build()
        .expect("a host");
    let plugin = host.load(&wasm).expect("loads");
    host.install(&plugin, json!({})).expect("installs");
    // The desk's ticket T-1 as the desk delivers it (the sample ticket, renamed).
    let partial = json!({"event": "ticket.created", "ticket": {"id": "T-1"}});
    let event = Event::from_partial_json(partial.clone()).expect("a valid event");
    let mut bare = Vec::new();
    let all = Instant::now();
    for _ in 0..runs {
        let start = Instant::now();
        let reports = host.deliver(&event);
        bare.push(start.elapsed());
        assert_eq!(reports[0].custom_fields.len(), 1);
    }
    let bare_mean = all.elapsed() / runs;
    // What the desk does for every delivery and a reused event saves: building the
    // event from JSON, and its payload serialized again.
    let mut fresh = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let event = Event::from_partial_json(partial.clone()).expect("a valid event");
        let reports = host.deliver(&event);
        fresh.push(start.elapsed());
        assert_eq!(reports[0].custom_fields.len(), 1);
    }

    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let (install, desk_median, host_median, fresh_median) = (
        median(installs),
        median(through_desk),
        median(bare),
        median(fresh),
    );
    println!(
        "install, module already compiled: median {:>7.1} µs (target ≤ 50 ms)",
        micros(install)
    );
    println!(
        "configure, a plain field changed: median {:>7.1} µs",
        micros(median(configures))
    );
    println!(
        "fire from the ticket page:        median {:>7.1} µs (as three calls: {:>7.1} µs)",
        micros(median(fired)),
        micros(median(three_calls))
    );
    println!(
        "delivery through the desk:        median {:>7.1} µs, mean {:>7.1} µs (commits included)",
        micros(desk_median),
        micros(desk_mean)
    );
    println!(
        "  the same, two events in turn:   median {:>7.1} µs, mean {:>7.1} µs",
        micros(median(alternating)),
        micros(alternating_mean)
    );
    println!(
        "delivery on a bare host:          median {:>7.1} µs, mean {:>7.1} µs",
        micros(host_median),
        micros(bare_mean)
    );
    println!(
        "  the same, the event built anew: median {:>7.1} µs",
        micros(fresh_median)
    );
    println!(
        "desk ÷ bare host:                 median {:>7.2}×, mean {:>7.2}× (target ≤ 3×)",
        micros(desk_median) / micros(host_median),
        micros(desk_mean) / micros(bare_mean)
    );
    println!(
        "  two events in turn ÷ bare host:        mean {:>7.2}×",
        micros(alternating_mean) / micros(bare_mean)
    );
}
