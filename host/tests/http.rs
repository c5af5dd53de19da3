//! Outbound HTTP: allowed_hosts enforced before any transport, the mock, and the
//! real client against loopback servers the tests start.

use crate::common;

use std::net::TcpListener;
use std::time::Duration;

use common::*;
use otai_plugin_host::http::{HostErrorKind, MockHttp, RealHttp};
use otai_plugin_host::{DeliveryReport, Event, Host, Outcome};
use serde_json::{Value, json};

const ID: &str = "com.example.http";

fn request(method: &str, url: &str) -> Vec<u8> {
    json!({"method": method, "url": url, "headers": {"Content-Type": "application/json"}, "body": "{\"text\":\"hi\"}"})
        .to_string()
        .into_bytes()
}

fn deliver_request(host: &Host, allowed: &[&str], method: &str, url: &str) -> DeliveryReport {
    install(
        host,
        &plugin(
            &manifest(ID, &["ticket.created"], allowed),
            &http_call(&request(method, url)),
        ),
        json!({}),
    );
    host.deliver_to(ID, &Event::ticket_created()).unwrap()
}

fn mock_case(url: &str) -> (DeliveryReport, MockHttp) {
    let mock = MockHttp::new().on("*", "*").respond(200, "ok");
    let host = test_host(mock.clone());
    let r = deliver_request(&host, &["hooks.slack.com"], "POST", url);
    r.assert_ok();
    (r, mock)
}

fn assert_refused(url: &str, kind: HostErrorKind) {
    let (r, mock) = mock_case(url);
    let x = &r.http[0];
    assert_eq!(
        x.error.as_ref().map(|e| e.kind),
        Some(kind),
        "{url}: {}",
        r.to_snapshot()
    );
    assert_eq!(x.status, kind.status());
    assert_eq!(x.blocked, kind == HostErrorKind::HostNotAllowed);
    assert!(mock.requests().is_empty(), "{url} reached the transport");
    // The plugin received the host's error body.
    let body: Value = serde_json::from_str(&r.logs[0].message).unwrap();
    assert_eq!(
        body["ohd_error"]["kind"],
        serde_json::to_value(kind).unwrap()
    );
}

#[test]
fn denied_hosts_never_reach_the_transport() {
    assert_refused(
        "https://hooks.slack.com.evil.example/services/x",
        HostErrorKind::HostNotAllowed,
    );
    assert_refused("https://evil.example/", HostErrorKind::HostNotAllowed);
    assert_refused("http://127.0.0.1:9/", HostErrorKind::HostNotAllowed);
    assert_refused("http://[::1]:9/", HostErrorKind::HostNotAllowed);
    assert_refused("http://2130706433/", HostErrorKind::HostNotAllowed);
    // Credentials in the URL are refused outright (the host there is evil.example).
    assert_refused(
        "https://hooks.slack.com@evil.example/",
        HostErrorKind::InvalidRequest,
    );
    for url in [
        "ftp://hooks.slack.com/x",
        "file:///etc/passwd",
        "data:text/plain,hi",
        "hooks.slack.com/x",
    ] {
        assert_refused(url, HostErrorKind::InvalidRequest);
    }
}

#[test]
fn the_403_body_names_the_host() {
    let (r, _) = mock_case("https://hooks.slack.com.evil.example/");
    let body: Value = serde_json::from_str(&r.logs[0].message).unwrap();
    assert_eq!(body["ohd_error"]["kind"], "host_not_allowed");
    assert_eq!(body["ohd_error"]["host"], "hooks.slack.com.evil.example");
    let parsed: otai_plugin_host::abi::calls::HostErrorBody = serde_json::from_value(body).unwrap();
    assert_eq!(parsed.ohd_error.kind.status(), 403);
}

#[test]
fn allowed_hosts_match_case_insensitively_with_any_port_and_a_trailing_dot() {
    for url in [
        "HTTPS://HOOKS.SLACK.COM/services/x",
        "https://hooks.slack.com./x",
        "https://hooks.slack.com:8443/x",
    ] {
        let (r, mock) = mock_case(url);
        assert_eq!(r.http[0].status, 200, "{url}");
        assert!(!r.http[0].blocked);
        assert_eq!(mock.requests().len(), 1);
        assert_eq!(r.logs[0].message, "ok");
    }
}

#[test]
fn methods_and_bad_headers_are_invalid_requests() {
    assert_refused_method("FETCH");
    assert_refused_method("post");
    let bad_header = json!({"method":"GET","url":"https://hooks.slack.com/","headers":{"X-A":"1\r\nHost: evil"}}).to_string();
    let dup_header =
        r#"{"method":"GET","url":"https://hooks.slack.com/","headers":{"X-A":"1","x-a":"2"}}"#;
    for req in [bad_header.as_str(), dup_header] {
        let mock = MockHttp::new();
        let host = test_host(mock.clone());
        install(
            &host,
            &plugin(
                &manifest(ID, &["ticket.created"], &["hooks.slack.com"]),
                &http_call(req.as_bytes()),
            ),
            json!({}),
        );
        let r = host.deliver_to(ID, &Event::ticket_created()).unwrap();
        assert_eq!(
            r.http[0].error.as_ref().unwrap().kind,
            HostErrorKind::InvalidRequest,
            "{req}"
        );
        assert!(mock.requests().is_empty());
    }
}

fn assert_refused_method(method: &str) {
    let mock = MockHttp::new();
    let host = test_host(mock.clone());
    let r = deliver_request(
        &host,
        &["hooks.slack.com"],
        method,
        "https://hooks.slack.com/",
    );
    assert_eq!(
        r.http[0].error.as_ref().unwrap().kind,
        HostErrorKind::InvalidRequest
    );
    assert!(mock.requests().is_empty());
}

#[test]
fn mock_reactions_and_unmatched_requests() {
    let mock = MockHttp::new()
        .on("POST", "https://hooks.slack.com/timeout")
        .timeout()
        .on("POST", "https://hooks.slack.com/down")
        .network_error("connection refused");
    let host = test_host(mock.clone());
    let r = deliver_request(
        &host,
        &["hooks.slack.com"],
        "POST",
        "https://hooks.slack.com/timeout",
    );
    assert_eq!(
        r.http[0].error.as_ref().unwrap().kind,
        HostErrorKind::Timeout
    );
    assert_eq!(r.http[0].status, 0);
    let r = deliver_request(
        &host,
        &["hooks.slack.com"],
        "POST",
        "https://hooks.slack.com/down",
    );
    assert_eq!(
        r.http[0].error.as_ref().unwrap().message,
        "connection refused"
    );
    let r = deliver_request(
        &host,
        &["hooks.slack.com"],
        "POST",
        "https://hooks.slack.com/other",
    );
    let e = r.http[0].error.as_ref().unwrap();
    assert_eq!(e.kind, HostErrorKind::Network);
    assert!(
        e.message
            .contains("no mock matched `POST https://hooks.slack.com/other`"),
        "{}",
        e.message
    );
    assert_eq!(mock.requests().len(), 3);
    assert_eq!(
        mock.requests()[0].headers["Content-Type"],
        "application/json"
    );
}

#[test]
fn an_empty_body_writes_zero_pointer_and_length() {
    let mock = MockHttp::new()
        .on("GET", "https://hooks.slack.com/")
        .respond(204, "");
    let host = test_host(mock);
    let req = br#"{"method":"GET","url":"https://hooks.slack.com/"}"#;
    let body = format!(
        r#"(func (export "on_event") (param i32 i32)
             (i32.store (i32.const 512) (i32.const 77))
             (i32.store (i32.const 516) (i32.const 77))
             (if (i32.ne (call $http (i32.const 1024) (i32.const {len}) (i32.const 512) (i32.const 516)) (i32.const 204))
               (then unreachable))
             (if (i32.or (i32.load (i32.const 512)) (i32.load (i32.const 516))) (then unreachable)))
           {data}"#,
        len = req.len(),
        data = data(1024, req)
    );
    install(
        &host,
        &plugin(
            &manifest(ID, &["ticket.created"], &["hooks.slack.com"]),
            &body,
        ),
        json!({}),
    );
    host.deliver_to(ID, &Event::ticket_created())
        .unwrap()
        .assert_ok();
}

#[test]
fn a_response_body_of_exactly_the_limit_is_delivered_and_one_byte_more_is_not() {
    use otai_plugin_host::abi::limits::MAX_HTTP_RESPONSE;
    for (size, delivered) in [(MAX_HTTP_RESPONSE, true), (MAX_HTTP_RESPONSE + 1, false)] {
        let mock = MockHttp::new()
            .on("GET", "*")
            .respond(200, vec![b'x'; size]);
        let host = test_host(mock);
        let r = deliver_request(
            &host,
            &["hooks.slack.com"],
            "GET",
            "https://hooks.slack.com/",
        );
        let exchange = &r.http[0];
        if delivered {
            assert_eq!(exchange.status, 200, "{size} bytes");
            assert!(
                exchange.error.is_none(),
                "{size} bytes: {:?}",
                exchange.error
            );
        } else {
            assert_eq!(exchange.status, 0, "{size} bytes");
            assert_eq!(
                exchange.error.as_ref().map(|e| e.kind),
                Some(HostErrorKind::ResponseTooLarge)
            );
        }
    }
}

#[test]
fn a_report_keeps_the_first_16_kib_of_a_response_body() {
    let body: String = (0..20 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let mock = MockHttp::new().on("GET", "*").respond(200, body.clone());
    let host = test_host(mock);
    let r = deliver_request(
        &host,
        &["hooks.slack.com"],
        "GET",
        "https://hooks.slack.com/",
    );
    assert_eq!(r.http[0].response_body.as_deref(), Some(&body[..16 * 1024]));
}

#[test]
fn an_unmatched_request_says_the_hint_and_replaced_rules_take_effect() {
    let mock = MockHttp::new()
        .on("GET", "https://hooks.slack.com/old")
        .respond(200, "old")
        .unmatched_hint("add a `[[http]]` mock for it");
    let host = test_host(mock.clone());
    let r = deliver_request(
        &host,
        &["hooks.slack.com"],
        "GET",
        "https://hooks.slack.com/new",
    );
    let error = r.http[0].error.as_ref().unwrap();
    assert_eq!(error.kind, HostErrorKind::Network);
    assert!(
        error.message.contains("add a `[[http]]` mock for it"),
        "{}",
        error.message
    );
    assert_eq!(mock.requests().len(), 1);

    // The host keeps its clone; new rules reach it, and the record starts again.
    mock.replace_rules(
        &MockHttp::new()
            .on("GET", "https://hooks.slack.com/new")
            .respond(201, "new"),
    );
    assert!(mock.requests().is_empty());
    let r = deliver_request(
        &host,
        &["hooks.slack.com"],
        "GET",
        "https://hooks.slack.com/new",
    );
    assert_eq!(r.http[0].status, 201);
}

#[test]
fn a_mock_sends_what_no_rule_matches_to_its_fallback() {
    struct Teapot;
    impl otai_plugin_host::http::HttpTransport for Teapot {
        fn send(
            &self,
            _: &otai_plugin_host::abi::calls::HttpRequest,
            _: Duration,
        ) -> Result<otai_plugin_host::http::HttpResponse, otai_plugin_host::http::TransportError>
        {
            Ok(otai_plugin_host::http::HttpResponse {
                status: 418,
                body: b"from the fallback".to_vec(),
            })
        }
    }
    let mock = MockHttp::new()
        .on("GET", "https://hooks.slack.com/ruled")
        .respond(200, "from the rule")
        .fallback(Teapot);
    assert_eq!(
        format!("{mock:?}"),
        "MockHttp { rules: 1, requests: 0, fallback: true }"
    );
    let host = test_host(mock);
    let ruled = deliver_request(
        &host,
        &["hooks.slack.com"],
        "GET",
        "https://hooks.slack.com/ruled",
    );
    assert_eq!(ruled.http[0].status, 200);
    let other = deliver_request(
        &host,
        &["hooks.slack.com"],
        "GET",
        "https://hooks.slack.com/other",
    );
    assert_eq!(other.http[0].status, 418);
    assert_eq!(
        other.http[0].response_body.as_deref(),
        Some("from the fallback")
    );
}

// ---- the real client, against loopback servers started here ----

fn real_host(deadline: Duration) -> Host {
    Host::builder()
        .deadline(deadline)
        .max_instances(4)
        .http(RealHttp::new())
        .build()
        .unwrap()
}

#[test]
fn a_denied_loopback_host_sees_no_connection() {
    let listener = Loopback::new();
    let port = listener.port();
    let host = real_host(Duration::from_secs(5));
    let r = deliver_request(
        &host,
        &["hooks.slack.com", "localhost"],
        "GET",
        &format!("http://127.0.0.1:{port}/"),
    );
    r.assert_ok();
    assert_eq!(r.http[0].status, 403);
    assert!(r.http[0].blocked);
    listener.assert_untouched("the denied host");
}

#[test]
fn the_real_client_returns_the_response() {
    let (port, server) = serve_once(Some(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_vec(),
    ));
    let host = real_host(Duration::from_secs(5));
    let r = deliver_request(
        &host,
        &["127.0.0.1"],
        "POST",
        &format!("http://127.0.0.1:{port}/hook"),
    );
    r.assert_ok();
    assert_eq!(r.http[0].status, 200, "{}", r.to_snapshot());
    assert_eq!(r.http[0].response_body.as_deref(), Some("hello"));
    assert_eq!(r.logs[0].message, "hello");
    let head = String::from_utf8_lossy(&server.join().unwrap()).to_lowercase();
    assert!(head.starts_with("post /hook http/1.1"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
}

#[test]
fn redirects_are_returned_not_followed() {
    let (port, server) = serve_once(Some(
        b"HTTP/1.1 302 Found\r\nLocation: http://evil.example/\r\nContent-Length: 5\r\nConnection: close\r\n\r\nmoved"
            .to_vec(),
    ));
    let host = real_host(Duration::from_secs(5));
    let r = deliver_request(
        &host,
        &["127.0.0.1"],
        "GET",
        &format!("http://127.0.0.1:{port}/"),
    );
    r.assert_ok();
    assert_eq!(r.http.len(), 1);
    assert_eq!(r.http[0].status, 302, "{}", r.to_snapshot());
    assert_eq!(r.logs[0].message, "moved");
    server.join().unwrap();
}

#[test]
fn the_real_client_delivers_a_body_of_exactly_the_limit_and_refuses_more() {
    use otai_plugin_host::abi::limits::MAX_HTTP_RESPONSE;
    for (size, delivered) in [(MAX_HTTP_RESPONSE, true), (MAX_HTTP_RESPONSE + 10, false)] {
        let mut response =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n")
                .into_bytes();
        response.extend(std::iter::repeat_n(b'x', size));
        let (port, server) = serve_once(Some(response));
        let host = real_host(Duration::from_secs(5));
        let r = deliver_request(
            &host,
            &["127.0.0.1"],
            "GET",
            &format!("http://127.0.0.1:{port}/"),
        );
        r.assert_ok();
        if delivered {
            assert_eq!(r.http[0].status, 200, "{size}: {:?}", r.http[0].error);
        } else {
            assert_eq!(r.http[0].status, 0);
            assert_eq!(
                r.http[0].error.as_ref().unwrap().kind,
                HostErrorKind::ResponseTooLarge,
                "{}",
                r.to_snapshot()
            );
        }
        drop(host);
        server.join().unwrap();
    }
}

#[test]
fn a_closed_port_is_a_network_error_not_a_timeout() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let host = real_host(Duration::from_secs(5));
    let r = deliver_request(
        &host,
        &["127.0.0.1"],
        "GET",
        &format!("http://127.0.0.1:{port}/"),
    );
    assert_eq!(r.http[0].status, 0);
    assert_eq!(
        r.http[0].error.as_ref().map(|e| e.kind),
        Some(HostErrorKind::Network),
        "{}",
        r.to_snapshot()
    );
}

#[test]
fn a_slow_server_times_the_delivery_out() {
    let (port, server) = serve_once(None);
    let host = real_host(Duration::from_millis(300));
    let r = deliver_request(
        &host,
        &["127.0.0.1"],
        "GET",
        &format!("http://127.0.0.1:{port}/"),
    );
    assert_eq!(r.outcome, Outcome::TimedOut, "{}", r.to_snapshot());
    assert_eq!(
        r.http[0].error.as_ref().unwrap().kind,
        HostErrorKind::Timeout
    );
    server.join().unwrap();
}

#[test]
fn a_plugin_cannot_set_the_headers_that_steer_a_request() {
    for name in [
        "Host",
        "content-length",
        "Transfer-Encoding",
        "Proxy-Authorization",
    ] {
        let mock = MockHttp::new().on("*", "*").respond(200, "ok");
        let host = test_host(mock.clone());
        let json = json!({
            "method": "POST", "url": "https://hooks.slack.com/x",
            "headers": { name: "evil.example.com" }, "body": "hi"
        });
        install(
            &host,
            &plugin(
                &manifest(ID, &["ticket.created"], &["hooks.slack.com"]),
                &http_call(json.to_string().as_bytes()),
            ),
            json!({}),
        );
        let r = host.deliver_to(ID, &Event::ticket_created()).unwrap();
        let error = r.http[0].error.as_ref().expect("refused by the host");
        assert_eq!(error.kind, HostErrorKind::InvalidRequest, "{name}");
        assert!(
            error
                .message
                .contains(&format!("header `{name}` may not be set")),
            "{}",
            error.message
        );
        assert_eq!(r.http[0].status, 0);
        assert!(mock.requests().is_empty(), "{name} reached the transport");
    }
}

/// URL forms a parser and a client could read differently: what is sent is the URL the
/// allow-list judged, serialized, whatever the transport.
const TRICKY_FORMS: [(&str, &str); 5] = [
    (
        r"https://hooks.slack.com\@evil.example/x",
        "https://hooks.slack.com/@evil.example/x",
    ),
    ("https://hooks%2eslack.com/x", "https://hooks.slack.com/x"),
    (
        "https://hooks\u{ff0e}slack\u{ff0e}com/x",
        "https://hooks.slack.com/x",
    ),
    (" https://hooks.slack.com/x", "https://hooks.slack.com/x"),
    ("https:/hooks.slack.com/x", "https://hooks.slack.com/x"),
];

#[test]
fn the_mock_receives_the_url_that_was_judged() {
    for (form, sent) in TRICKY_FORMS {
        let (r, mock) = mock_case(form);
        assert_eq!(r.http[0].status, 200, "{form}");
        assert_eq!(mock.requests()[0].url, sent, "{form}");
        assert_eq!(
            r.http[0].request.url, sent,
            "{form}: the report shows what was sent"
        );
    }
    // An exact mock written in another form of the same URL matches what is sent.
    let mock = MockHttp::new()
        .on("POST", "HTTPS://Hooks.Slack.com/x")
        .respond(201, "ok");
    let host = test_host(mock.clone());
    let r = deliver_request(
        &host,
        &["hooks.slack.com"],
        "POST",
        "https://hooks.slack.com/x",
    );
    assert_eq!(r.http[0].status, 201);
}

#[test]
fn the_real_client_sends_the_url_that_was_judged() {
    for (form, path) in [
        (r"http://127.0.0.1:PORT\@evil.example/x", "/@evil.example/x"),
        ("http://127%2e0.0.1:PORT/x", "/x"),
        ("http://127\u{ff0e}0\u{ff0e}0\u{ff0e}1:PORT/x", "/x"),
        (" http://127.0.0.1:PORT/x", "/x"),
        ("http:/127.0.0.1:PORT/x", "/x"),
    ] {
        let (port, server) = serve_once(Some(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec(),
        ));
        let url = form.replace("PORT", &port.to_string());
        let host = real_host(Duration::from_secs(5));
        let r = deliver_request(&host, &["127.0.0.1"], "POST", &url);
        assert_eq!(r.http[0].status, 200, "{form}: {:?}", r.http[0].error);
        let head = String::from_utf8(server.join().unwrap()).unwrap();
        assert!(
            head.starts_with(&format!("POST {path} HTTP/1.1\r\n")),
            "{form}: {head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("host: 127.0.0.1:{port}\r\n")),
            "{form}: {head}"
        );
    }
}
