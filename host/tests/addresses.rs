//! Outbound requests to internal addresses: the real client connects only to the
//! addresses `otai_plugin_abi::rules::address` keeps, checked on the answers of a name
//! resolution the tests control, with loopback listeners that must see no connection.

use crate::common;

use std::net::IpAddr;
use std::time::Duration;

use common::*;
use otai_plugin_host::http::{HostErrorKind, RealHttp};
use otai_plugin_host::{DeliveryReport, Event, Host};
use serde_json::{Value, json};

const ID: &str = "com.example.addresses";

/// A name resolution that answers `answers` for every name.
fn answering(answers: &[&str]) -> impl Fn(&str) -> std::io::Result<Vec<IpAddr>> + use<> {
    let answers: Vec<IpAddr> = answers.iter().map(|a| a.parse().unwrap()).collect();
    move |_| Ok(answers.clone())
}

fn host_with(transport: RealHttp) -> Host {
    Host::builder()
        .deadline(Duration::from_secs(5))
        .max_instances(4)
        .http(transport)
        .build()
        .unwrap()
}

fn get(host: &Host, allowed: &[&str], url: &str) -> DeliveryReport {
    let request = json!({ "method": "GET", "url": url }).to_string();
    install(
        host,
        &plugin(
            &manifest(ID, &["ticket.created"], allowed),
            &http_call(request.as_bytes()),
        ),
        json!({}),
    );
    host.deliver_to(ID, &Event::ticket_created()).unwrap()
}

#[test]
fn a_name_resolving_to_an_internal_address_is_refused_without_a_connection() {
    let listener = Loopback::new();
    let port = listener.port();
    // Each class, in IPv4, IPv6 and the IPv6 forms that carry an IPv4 address. The
    // loopback ones, `0.0.0.0` and the mapped loopback would reach the listener.
    for answer in [
        "127.0.0.1",
        "127.1.2.3",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "::1",
        "::",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "fd00::1",
        "169.254.169.254",
        "::ffff:169.254.169.254",
        "fe80::1",
        "100.64.0.1",
        "224.0.0.1",
        "ff02::1",
        "255.255.255.255",
        "192.0.2.1",
        "2001:db8::1",
        "240.0.0.1",
    ] {
        let host = host_with(RealHttp::new().resolver(answering(&[answer])));
        let report = get(
            &host,
            &["internal.example"],
            &format!("http://internal.example:{port}/"),
        );
        report.assert_ok();
        let exchange = &report.http[0];
        assert_eq!(exchange.status, 0, "{answer}");
        assert!(!exchange.blocked, "{answer}: `blocked` is the allow-list's");
        let error = exchange.error.as_ref().unwrap();
        assert_eq!(error.kind, HostErrorKind::AddressNotAllowed, "{answer}");
        assert_eq!(error.host.as_deref(), Some("internal.example"), "{answer}");
        let shown: IpAddr = answer.parse().unwrap();
        assert!(
            error.message.starts_with(&format!(
                "host `internal.example` resolves only to internal addresses ({shown}: "
            )),
            "{answer}: {}",
            error.message
        );
        // The plugin received the host's error body, saying the same.
        let body: Value = serde_json::from_str(&report.logs[0].message).unwrap();
        assert_eq!(body["ohd_error"]["kind"], "address_not_allowed");
        assert_eq!(body["ohd_error"]["host"], "internal.example");
        assert_eq!(body["ohd_error"]["message"], error.message.as_str());
        listener.assert_untouched(answer);
    }
}

#[test]
fn every_answer_is_checked_not_only_the_first() {
    let listener = Loopback::new();
    let port = listener.port();
    let host = host_with(RealHttp::new().resolver(answering(&[
        "10.0.0.1",
        "127.0.0.1",
        "::ffff:127.0.0.1",
        "169.254.169.254",
    ])));
    let report = get(
        &host,
        &["internal.example"],
        &format!("http://internal.example:{port}/"),
    );
    let error = report.http[0].error.as_ref().unwrap();
    assert_eq!(error.kind, HostErrorKind::AddressNotAllowed);
    for address in [
        "10.0.0.1: private",
        "127.0.0.1: loopback",
        "::ffff:127.0.0.1: loopback",
        "169.254.169.254: link-local",
    ] {
        assert!(
            error.message.contains(address),
            "{address}: {}",
            error.message
        );
    }
    listener.assert_untouched("a list of internal answers");
}

#[test]
fn an_ip_literal_listed_in_allowed_hosts_reaches_the_loopback_server() {
    let (port, server) = serve_once(Some(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_vec(),
    ));
    // No lookup is made for a literal: this resolution would fail the test.
    let host = host_with(RealHttp::new().resolver(|name| panic!("`{name}` was looked up")));
    let report = get(&host, &["127.0.0.1"], &format!("http://127.0.0.1:{port}/"));
    report.assert_ok();
    assert_eq!(report.http[0].status, 200, "{}", report.to_snapshot());
    assert_eq!(report.logs[0].message, "hello");
    server.join().unwrap();
}

#[test]
fn a_transport_allowing_internal_addresses_reaches_a_name_resolving_to_loopback() {
    let (port, server) = serve_once(Some(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nlocal".to_vec(),
    ));
    // One lookup per request, whose answers are the ones checked and connected to: a
    // check made on a lookup of its own would let a rebinding DNS server answer the
    // connection's lookup differently.
    let lookups = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = lookups.clone();
    let loopback = answering(&["127.0.0.1"]);
    let host = host_with(
        RealHttp::new()
            .allow_internal_addresses(true)
            .resolver(move |name| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                loopback(name)
            }),
    );
    let report = get(
        &host,
        &["svc.internal"],
        &format!("http://svc.internal:{port}/x"),
    );
    report.assert_ok();
    assert_eq!(report.http[0].status, 200, "{}", report.to_snapshot());
    assert_eq!(report.logs[0].message, "local");
    let head = String::from_utf8_lossy(&server.join().unwrap()).to_lowercase();
    assert!(head.starts_with("get /x http/1.1"), "{head}");
    assert!(
        head.contains(&format!("host: svc.internal:{port}")),
        "{head}"
    );
    assert_eq!(lookups.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// A component's `on-event` requesting `url` (GET) and logging, when the host answers
/// with an error, the `request-error` case's index as a digit, then its message.
fn component_get(url: &str) -> String {
    format!(
        r#"(func (export "on-event") (param i32 i32)
             (call $http (i32.const 0) (i32.const 1024) (i32.const {len})
               (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
               (i32.const 2048))
             (if (i32.load8_u (i32.const 2048))
               (then
                 (i32.store8 (i32.const 1300) (i32.add (i32.const 48) (i32.load8_u (i32.const 2052))))
                 (call $log (i32.const 1) (i32.const 1300) (i32.const 1))
                 (call $log (i32.const 2) (i32.load (i32.const 2056)) (i32.load (i32.const 2060))))))
           {data}"#,
        len = url.len(),
        data = data(1024, url.as_bytes())
    )
}

#[test]
fn a_component_sees_the_refusal_as_a_network_error_naming_host_and_address() {
    let listener = Loopback::new();
    let port = listener.port();
    let host = host_with(RealHttp::new().resolver(answering(&["127.0.0.1"])));
    let wasm = component(
        "plugin",
        Some(&manifest(ID, &["ticket.created"], &["internal.example"])),
        &component_get(&format!("http://internal.example:{port}/")),
    );
    install(&host, &wasm, json!({}));
    let report = host.deliver_to(ID, &Event::ticket_created()).unwrap();
    report.assert_ok();
    // The report is the core flavour's: the kind of its own.
    let error = report.http[0].error.as_ref().unwrap();
    assert_eq!(error.kind, HostErrorKind::AddressNotAllowed);
    assert_eq!(error.host.as_deref(), Some("internal.example"));
    // The plugin got `network` (case 2 of `request-error`) with the same message.
    assert_eq!(report.logs[0].message, "2");
    assert_eq!(report.logs[1].message, error.message);
    assert!(
        error.message.contains(
            "`internal.example` resolves only to internal addresses (127.0.0.1: loopback)"
        ),
        "{}",
        error.message
    );
    listener.assert_untouched("the component's request");
}
