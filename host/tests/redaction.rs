//! Secrets in the forms the host itself writes them: a plugin of each flavour requests
//! URLs built from a secret config value that the URL parser rewrites (a space, an
//! upper-case host, a default port, non-ASCII characters in a path or a host, a token
//! in a host label, a query or a path), logs them, logs what the host and the server
//! answered, and traps with the server's echo. Nothing of the secret is left in the
//! report, in any form.

use crate::common;

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{DeliveryReport, Event, Outcome};
use serde_json::{Value, json};

const ID: &str = "com.example.leaky-url";

/// Every secret of these cases holds this, in some letter case; every form the host or
/// the plugin writes of it holds it too (percent-encoding and punycode keep ASCII
/// letters and digits), and nothing else in the reports does.
const MARK: &str = "cr3t";

/// A secret config value and the URLs the plugin builds from it.
struct Case {
    name: &'static str,
    secret: &'static str,
    /// The URL the plugin requests, which the host sends.
    url: String,
    /// A URL holding the secret in a host that is not allowed.
    refused: Option<String>,
}

fn cases() -> Vec<Case> {
    let webhook = |name, secret: &'static str| Case {
        name,
        secret,
        url: secret.to_owned(),
        refused: None,
    };
    vec![
        webhook(
            "a space in a webhook",
            "https://hooks.slack.com/services/T000/B000/Sp4ce cr3t",
        ),
        webhook(
            "an upper-case host",
            "https://HOOKS.slack.com/services/T000/B000/Upp3rCr3t",
        ),
        webhook(
            "the default port written out",
            "https://hooks.slack.com:443/services/T000/B000/P0rtCr3t",
        ),
        webhook(
            "non-ASCII characters in the path",
            "https://hooks.slack.com/services/T000/B000/Ünïcr3t",
        ),
        webhook(
            "non-ASCII characters in the host",
            "https://bücher-cr3t.example/hooks/T000",
        ),
        Case {
            name: "a tenant in the host",
            secret: "Tenant-Cr3t",
            url: "https://Tenant-Cr3t.example.com/api".into(),
            refused: Some("https://Tenant-Cr3t.evil.example/api".into()),
        },
        Case {
            name: "a token with a quote, a space and a slash in the query",
            secret: "q'cr3t x/y",
            url: "https://api.example.com/v1?token=q'cr3t x/y&page=1".into(),
            refused: None,
        },
        Case {
            name: "a token with a backslash and non-ASCII in the path",
            secret: "T0\\cr3t-é",
            url: "https://api.example.com/v1/T0\\cr3t-é/items".into(),
            refused: None,
        },
    ]
}

/// Makes a plugin of one flavour that does the steps.
type Build = fn(&Value, &[Step]) -> Vec<u8>;

/// What the plugin does, in order; after each request it logs what it got back (the
/// server's body, or the host's error) at `level`.
enum Step {
    Log(&'static str, String),
    Request { url: String, level: &'static str },
}

fn level_code(level: &str) -> u32 {
    match level {
        "info" => 1,
        "warn" => 2,
        _ => 3,
    }
}

/// A core module doing `steps`, then trapping.
fn core_plugin(manifest: &Value, steps: &[Step]) -> Vec<u8> {
    let mut calls = String::new();
    let mut datas = String::new();
    for (i, step) in steps.iter().enumerate() {
        let at = 4096 + 1024 * i;
        let (bytes, call) = match step {
            Step::Log(level, text) => (
                text.clone(),
                format!(
                    "(call $log (i32.const {at}) (i32.const {}) (i32.const {}))",
                    text.len(),
                    level_code(level)
                ),
            ),
            Step::Request { url, level } => {
                let request = json!({"method": "POST", "url": url}).to_string();
                let call = format!(
                    "(drop (call $http (i32.const {at}) (i32.const {}) (i32.const 512) (i32.const 516)))
                     (call $log (i32.load (i32.const 512)) (i32.load (i32.const 516)) (i32.const {}))",
                    request.len(),
                    level_code(level)
                );
                (request, call)
            }
        };
        calls.push_str(&call);
        datas.push_str(&data(at as u32, bytes.as_bytes()));
    }
    plugin(
        manifest,
        &format!(r#"(func (export "on_event") (param i32 i32) {calls} unreachable) {datas}"#),
    )
}

/// A component doing `steps`, then trapping. A request's result is at 2048: the
/// response's body at 2056, or the error's case at 2052 with its string at 2056 (the
/// message at 2064 for `host-not-allowed`, whose record starts with the host).
fn component_plugin(manifest: &Value, steps: &[Step]) -> Vec<u8> {
    let mut calls = String::new();
    let mut datas = String::new();
    for (i, step) in steps.iter().enumerate() {
        let at = 4096 + 1024 * i;
        let (bytes, call) = match step {
            Step::Log(level, text) => (
                text.clone(),
                format!(
                    "(call $log (i32.const {}) (i32.const {at}) (i32.const {}))",
                    level_code(level),
                    text.len()
                ),
            ),
            Step::Request { url, level } => {
                let level = level_code(level);
                let call = format!(
                    r#"(call $http (i32.const 2) (i32.const {at}) (i32.const {len})
                         (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
                         (i32.const 2048))
                       (if (i32.eqz (i32.load8_u (i32.const 2048)))
                         (then (call $log (i32.const {level}) (i32.load (i32.const 2056)) (i32.load (i32.const 2060))))
                         (else
                           (if (i32.eqz (i32.load8_u (i32.const 2052)))
                             (then (call $log (i32.const {level}) (i32.load (i32.const 2064)) (i32.load (i32.const 2068))))
                             (else (call $log (i32.const {level}) (i32.load (i32.const 2056)) (i32.load (i32.const 2060)))))))"#,
                    len = url.len(),
                );
                (url.clone(), call)
            }
        };
        calls.push_str(&call);
        datas.push_str(&data(at as u32, bytes.as_bytes()));
    }
    component(
        "plugin",
        Some(manifest),
        &format!(r#"(func (export "on-event") (param i32 i32) {calls} unreachable) {datas}"#),
    )
}

/// Delivers `case` to a plugin made by `build`; returns the report and what the
/// server received.
fn deliver(case: &Case, build: Build) -> (DeliveryReport, Vec<String>, String) {
    let sent = url::Url::parse(&case.url).unwrap();
    let host = sent.host_str().unwrap().to_owned();
    let mut m = manifest(ID, &["ticket.created"], &[&host]);
    m["config_schema"] = json!({"secret": {"type": "string", "secret": true}});
    // A server that echoes the URL it got, in JSON with `/` escaped and as is, and, for
    // a webhook, passes it on as a query parameter.
    let mut echo = format!(
        r#"{{"url":{}}} got {}"#,
        serde_json::to_string(sent.as_str())
            .unwrap()
            .replace('/', "\\/"),
        sent.as_str()
    );
    if case.url == case.secret {
        let encoded: String =
            url::form_urlencoded::byte_serialize(sent.as_str().as_bytes()).collect();
        echo.push_str(&format!(" next=?u={encoded}"));
    }
    let mut steps = vec![
        Step::Log("info", format!("posting to {}", case.url)),
        // Not absolute: refused, the error quotes the URL.
        Step::Request {
            url: format!("/{}", case.url),
            level: "warn",
        },
    ];
    if let Some(refused) = &case.refused {
        steps.push(Step::Request {
            url: refused.clone(),
            level: "warn",
        });
    }
    steps.push(Step::Request {
        url: case.url.clone(),
        level: "error",
    });
    let mock = MockHttp::new().on("POST", "*").respond(200, echo);
    let plugin_host = test_host(mock.clone());
    install(
        &plugin_host,
        &build(&m, &steps),
        json!({"secret": case.secret}),
    );
    let report = plugin_host
        .deliver_to(ID, &Event::ticket_created())
        .unwrap();
    let received = mock.requests().into_iter().map(|r| r.url).collect();
    (report, received, sent.into())
}

/// Where `report` shows the secret of `case`, or not as expected; empty when it is
/// right.
fn leaks(case: &Case, report: &DeliveryReport) -> Vec<String> {
    let mut leaks = Vec::new();
    // The plugin's allowed host is in its manifest, for anyone to read: a webhook shows
    // it and hides the rest.
    let parsed = url::Url::parse(&case.url).unwrap();
    let public_host = parsed.host_str().unwrap();
    let expected_url = if case.url == case.secret {
        format!("{}://{public_host}/[redacted]", parsed.scheme())
    } else {
        let plain = case.url.replace(case.secret, "zzplainzz");
        url::Url::parse(&plain)
            .unwrap()
            .as_str()
            .replace("zzplainzz", "[redacted]")
    };
    let sent = report.http.last().map(|e| e.request.url.as_str());
    if sent != Some(expected_url.as_str()) {
        leaks.push(format!("request URL {sent:?}, expected {expected_url:?}"));
    }
    if case.refused.is_some() {
        let host = report.http[1]
            .error
            .as_ref()
            .and_then(|e| e.host.as_deref());
        if host != Some("[redacted].evil.example") {
            leaks.push(format!("refused host {host:?}"));
        }
    }
    let json = serde_json::to_string(report).unwrap();
    if json.to_lowercase().replace(public_host, "").contains(MARK) {
        leaks.push(format!("the report holds the secret: {json}"));
    }
    if format!("{report:?}")
        .to_lowercase()
        .replace(public_host, "")
        .contains(MARK)
    {
        leaks.push("Debug holds the secret".into());
    }
    leaks
}

#[test]
fn a_secret_the_url_parser_rewrites_leaves_no_trace_in_either_flavours_report() {
    let flavours: [(&str, Build); 2] = [("core", core_plugin), ("component", component_plugin)];
    let mut failures = Vec::new();
    for case in cases() {
        for (flavour, build) in flavours {
            let what = format!("{} ({flavour})", case.name);
            let (report, received, sent) = deliver(&case, build);
            // What the plugin did: the server got the URL the parser wrote, secret and
            // all (redaction is for reports), the first request was refused, the
            // last answered, and the plugin trapped with the answer.
            assert_eq!(received, std::slice::from_ref(&sent), "{what}");
            assert!(received[0].to_lowercase().contains(MARK), "{what}");
            assert_ne!(sent, case.url, "{what}: the parser rewrites the URL");
            assert_eq!(report.http[0].status, 0, "{what}: {:?}", report.http[0]);
            if case.refused.is_some() {
                assert!(report.http[1].blocked, "{what}");
            }
            assert_eq!(report.http.last().unwrap().status, 200, "{what}");
            match &report.outcome {
                Outcome::Trapped {
                    reason: Some(reason),
                    ..
                } => assert!(reason.contains("got "), "{what}: {reason}"),
                other => panic!("{what}: expected a trap with a reason, got {other:?}"),
            }
            for leak in leaks(&case, &report) {
                failures.push(format!("{what}: {leak}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
