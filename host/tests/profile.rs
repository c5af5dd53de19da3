//! Profiling a delivery (`HostBuilder::profile`): the profile names the plugin's own
//! functions and its host calls, in the Firefox Profiler's JSON and as folded stacks; it
//! changes neither the fuel nor the deadline; a host that does not profile reports none.

use crate::common;

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host, Outcome};
use serde_json::{Value, json};

const NAMED: &str = "com.example.named";

/// `on_event` calls `$handle_ticket`, which loops in `$count_words` and then logs: three
/// functions the name section names, one host call.
fn named_functions(turns: u32) -> Vec<u8> {
    plugin(
        &manifest(NAMED, &["ticket.created"], &[]),
        &format!(
            r#"(func $count_words (local $i i32)
                 (loop $turn
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br_if $turn (i32.lt_u (local.get $i) (i32.const {turns})))))
               (func $handle_ticket (param i32 i32)
                 (call $count_words)
                 (call $log (local.get 0) (local.get 1) (i32.const 1)))
               (func $on_event (export "on_event") (param i32 i32)
                 (call $handle_ticket (local.get 0) (local.get 1)))"#
        ),
    )
}

fn host(profile: bool) -> Host {
    Host::builder()
        .profile(profile)
        .count_fuel(true)
        .max_instances(2)
        .http(MockHttp::new())
        .build()
        .unwrap()
}

fn deliver(host: &Host) -> otai_plugin_host::DeliveryReport {
    let report = host.deliver_to(NAMED, &Event::ticket_created()).unwrap();
    assert_eq!(report.outcome, Outcome::Ok, "{}", report.to_snapshot());
    report
}

/// The stacks of a folded profile, without their weights.
fn stacks(folded: &str) -> Vec<&str> {
    folded
        .lines()
        .map(|line| {
            let (stack, nanos) = line.rsplit_once(' ').expect("`STACK NANOS`");
            assert!(nanos.parse::<u64>().is_ok_and(|n| n > 0), "{line}");
            stack
        })
        .collect()
}

#[test]
fn a_profile_names_the_plugins_functions_and_its_host_calls() {
    let host = host(true);
    install(&host, &named_functions(10_000), json!({}));
    let report = deliver(&host);
    let profile = report.profile.expect("a profiling host reports a profile");

    let stacks = stacks(profile.folded());
    // Outermost first: the export, the function it called, the loop in the callee.
    assert!(
        stacks.contains(&"on_event;handle_ticket;count_words"),
        "{stacks:#?}"
    );
    // The time inside `ohd_log`, on top of the function that called it; the allocator
    // the host calls to hand over the payload, at the top.
    assert!(
        stacks.contains(&"on_event;handle_ticket;ohd_log"),
        "{stacks:#?}"
    );
    assert!(stacks.contains(&"alloc"), "{stacks:#?}");

    // The Firefox Profiler's processed format, with the same names in its strings.
    let firefox: Value = serde_json::from_str(profile.firefox_json()).unwrap();
    let thread = &firefox["threads"][0];
    let strings: Vec<&str> = thread["stringArray"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in ["on_event", "handle_ticket", "count_words"] {
        assert!(strings.contains(&name), "{name} in {strings:?}");
    }
    assert!(thread["samples"]["length"].as_u64().unwrap() > 0);
    // Only the import is a host frame: the epoch checks the profiler samples at, which are
    // calls out of wasm too, are not.
    assert!(
        stacks
            .iter()
            .all(|s| !s.contains("ohd_") || s.ends_with(";ohd_log")),
        "{stacks:#?}"
    );
}

#[test]
fn two_runs_of_a_delivery_have_the_same_stacks_and_host_calls() {
    let host = host(true);
    install(&host, &named_functions(1_000), json!({}));
    let (first, second) = (deliver(&host), deliver(&host));
    let (first, second) = (first.profile.unwrap(), second.profile.unwrap());
    // The weights are times; what was sampled where is not.
    assert_eq!(stacks(first.folded()), stacks(second.folded()));
    let calls = first.host_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0].function, calls[0].calls), ("ohd_log", 1));
    assert_eq!(
        second
            .host_calls()
            .iter()
            .map(|c| c.calls)
            .collect::<Vec<_>>(),
        [1]
    );
}

#[test]
fn a_host_that_does_not_profile_reports_no_profile() {
    let host = host(false);
    install(&host, &named_functions(10), json!({}));
    assert!(deliver(&host).profile.is_none());
    // Nor does the report's JSON ever carry one.
    let profiled = host_with_profile_report();
    let json = serde_json::to_value(&profiled).unwrap();
    assert!(json.get("profile").is_none(), "{json}");
}

fn host_with_profile_report() -> otai_plugin_host::DeliveryReport {
    let host = host(true);
    install(&host, &named_functions(10), json!({}));
    let report = deliver(&host);
    assert!(report.profile.is_some());
    report
}

#[test]
fn profiling_leaves_the_fuel_of_a_delivery_as_it_was() {
    let plain = host(false);
    install(&plain, &named_functions(5_000), json!({}));
    let profiled = host(true);
    install(&profiled, &named_functions(5_000), json!({}));
    let (without, with) = (deliver(&plain).fuel, deliver(&profiled).fuel);
    assert!(without.is_some_and(|f| f > 5_000), "{without:?}");
    assert_eq!(without, with);
}

#[test]
fn a_plugin_being_profiled_still_times_out() {
    // The profiler replaces the epoch's trap with a callback at every check: the
    // callback must still end the delivery at its deadline.
    let host = Host::builder()
        .profile(true)
        .deadline(std::time::Duration::from_millis(100))
        .max_instances(2)
        .http(MockHttp::new())
        .build()
        .unwrap();
    install(
        &host,
        &plugin(
            &manifest(NAMED, &["ticket.created"], &[]),
            r#"(func $spin (loop $forever (br $forever)))
               (func $on_event (export "on_event") (param i32 i32) (call $spin))"#,
        ),
        json!({}),
    );
    let report = host.deliver_to(NAMED, &Event::ticket_created()).unwrap();
    assert_eq!(report.outcome, Outcome::TimedOut);
    let profile = report
        .profile
        .expect("a timed-out delivery has its profile too");
    assert!(
        stacks(profile.folded()).contains(&"on_event;spin"),
        "{}",
        profile.folded()
    );
}

#[test]
fn a_components_profile_names_its_functions() {
    let host = host(true);
    install(
        &host,
        &component(
            "plugin",
            Some(&manifest(NAMED, &["ticket.created"], &[])),
            r#"(func $answer_ticket (param i32 i32)
                 (call $log (i32.const 1) (local.get 0) (local.get 1)))
               (func $on_event (export "on-event") (param i32 i32)
                 (call $answer_ticket (local.get 0) (local.get 1)))"#,
        ),
        json!({}),
    );
    let report = deliver(&host);
    let folded = report.profile.expect("a profile").folded().to_owned();
    assert!(folded.contains("answer_ticket"), "{folded}");
}
