//! Health policy (with an injected clock), UI panels and secret redaction.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{
    DeliverError, Event, HealthPolicy, HealthStatus, Host, ManualClock, Outcome,
};
use serde_json::json;

const FLAKY: &str = "com.example.flaky";

/// A plugin that traps for `ticket.closed` and works for `ticket.created`.
fn flaky() -> Vec<u8> {
    let body = r#"(func (export "on_event") (param i32 i32)
        ;; payload starts with {"event":"ticket.c — byte 18 is `r` for created, `l` for closed
        (if (i32.eq (i32.load8_u offset=18 (local.get 0)) (i32.const 108)) (then unreachable)))"#;
    plugin(
        &manifest(FLAKY, &["ticket.created", "ticket.closed"], &[]),
        body,
    )
}

fn health_host(clock: &ManualClock, disabled: Arc<Mutex<Vec<(String, HealthStatus)>>>) -> Host {
    let host = Host::builder()
        .clock(clock.clone())
        .max_instances(4)
        .http(MockHttp::new())
        .on_disabled(move |id, status| {
            disabled
                .lock()
                .unwrap()
                .push((id.to_owned(), status.clone()))
        })
        .build()
        .unwrap();
    install(&host, &flaky(), json!({}));
    host
}

#[test]
fn the_flaky_plugin_fails_only_closed_events() {
    let host = health_host(&ManualClock::new(), Arc::default());
    host.deliver_to(FLAKY, &Event::ticket_created())
        .unwrap()
        .assert_ok();
    host.deliver_to(FLAKY, &Event::ticket_closed())
        .unwrap()
        .assert_trapped("unreachable");
}

#[test]
fn more_than_half_failing_with_enough_deliveries_disables() {
    let clock = ManualClock::new();
    let disabled = Arc::new(Mutex::new(Vec::new()));
    let host = health_host(&clock, disabled.clone());
    // 9 deliveries, all failing: below the minimum of 10, still enabled.
    for _ in 0..9 {
        host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
        clock.advance(Duration::from_secs(1));
    }
    assert!(host.health(FLAKY).unwrap().enabled);
    assert!(disabled.lock().unwrap().is_empty());
    // The 10th: 10 failures out of 10.
    host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
    let status = host.health(FLAKY).unwrap();
    assert!(!status.enabled && status.auto_disabled);
    assert_eq!((status.deliveries, status.failures), (10, 10));
    let calls = disabled.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, FLAKY);
    assert_eq!(calls[0].1.failures, 10);
    // Disabled: skipped by `deliver`, refused by `deliver_to`.
    assert!(host.deliver(&Event::ticket_created()).is_empty());
    assert!(matches!(
        host.deliver_to(FLAKY, &Event::ticket_created()),
        Err(DeliverError::Disabled { .. })
    ));
    // Enabling resets the window.
    host.enable(FLAKY).unwrap();
    let status = host.health(FLAKY).unwrap();
    assert!(status.enabled && !status.auto_disabled);
    assert_eq!(status.deliveries, 0);
    host.deliver_to(FLAKY, &Event::ticket_created())
        .unwrap()
        .assert_ok();
}

#[test]
fn exactly_half_is_not_more_than_half_and_old_failures_expire() {
    let clock = ManualClock::new();
    let disabled = Arc::new(Mutex::new(Vec::new()));
    let host = health_host(&clock, disabled.clone());
    for _ in 0..5 {
        host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
        host.deliver_to(FLAKY, &Event::ticket_created()).unwrap();
    }
    let status = host.health(FLAKY).unwrap();
    assert_eq!(
        (status.deliveries, status.failures, status.enabled),
        (10, 5, true)
    );
    // Ten minutes later the window is empty: failures no longer count.
    clock.advance(Duration::from_secs(600));
    assert_eq!(host.health(FLAKY).unwrap().deliveries, 0);
    for _ in 0..6 {
        host.deliver_to(FLAKY, &Event::ticket_created()).unwrap();
    }
    for _ in 0..6 {
        host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
    }
    // 6 of 12 failed: not more than half.
    assert!(host.health(FLAKY).unwrap().enabled);
    host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
    // 7 of 13.
    assert!(!host.health(FLAKY).unwrap().enabled);
    assert_eq!(disabled.lock().unwrap().len(), 1);
}

#[test]
fn disabling_by_hand_stops_deliveries_until_enabled() {
    let clock = ManualClock::new();
    let host = health_host(&clock, Arc::new(Mutex::new(Vec::new())));
    host.disable(FLAKY).unwrap();
    let status = host.health(FLAKY).unwrap();
    assert!(!status.enabled && !status.auto_disabled, "{status:?}");
    assert!(host.deliver(&Event::ticket_created()).is_empty());
    assert!(matches!(
        host.deliver_to(FLAKY, &Event::ticket_created()),
        Err(DeliverError::Disabled { .. })
    ));
    host.enable(FLAKY).unwrap();
    host.deliver_to(FLAKY, &Event::ticket_created())
        .unwrap()
        .assert_ok();
}

#[test]
fn a_reinstall_keeps_the_health_and_an_uninstall_forgets_it() {
    let host = health_host(&ManualClock::new(), Arc::default());
    host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
    host.disable(FLAKY).unwrap();
    // Installed again (as the desk does with a new version or config): the same
    // plugin, still disabled, with its failures.
    install(&host, &flaky(), json!({}));
    let status = host.health(FLAKY).unwrap();
    assert!(!status.enabled && status.failures == 1, "{status:?}");
    assert!(host.deliver(&Event::ticket_created()).is_empty());

    assert!(host.uninstall(FLAKY));
    assert!(host.health(FLAKY).is_none());
    assert!(matches!(
        host.enable(FLAKY),
        Err(DeliverError::NotInstalled { .. })
    ));
    install(&host, &flaky(), json!({}));
    let status = host.health(FLAKY).unwrap();
    assert!(status.enabled && status.deliveries == 0, "{status:?}");
    host.deliver_to(FLAKY, &Event::ticket_created())
        .unwrap()
        .assert_ok();
}

#[test]
fn the_policy_is_configurable() {
    let clock = ManualClock::new();
    let host = Host::builder()
        .clock(clock.clone())
        .failure_threshold(0.2)
        .min_deliveries(2)
        .failure_window(Duration::from_secs(60))
        .max_instances(2)
        .http(MockHttp::new())
        .build()
        .unwrap();
    install(&host, &flaky(), json!({}));
    host.deliver_to(FLAKY, &Event::ticket_created()).unwrap();
    host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
    assert!(!host.health(FLAKY).unwrap().enabled);

    let never = Host::builder()
        .auto_disable(false)
        .max_instances(2)
        .http(MockHttp::new())
        .build()
        .unwrap();
    install(&never, &flaky(), json!({}));
    for _ in 0..20 {
        never.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
    }
    assert!(never.health(FLAKY).unwrap().enabled);
}

/// The policy changed while the host runs: the next outcome is judged by the new one,
/// and a policy the builder would refuse is refused and leaves the old one.
#[test]
fn the_policy_changes_at_run_time() {
    let host = health_host(&ManualClock::new(), Arc::default());
    for _ in 0..3 {
        host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
    }
    // 3 of 3 failed, below the default minimum of 10.
    assert!(host.health(FLAKY).unwrap().enabled);
    let lenient = host.health_policy();
    for threshold in [f64::NAN, -0.1, 1.5, f64::INFINITY] {
        let bad = HealthPolicy {
            failure_threshold: threshold,
            ..lenient
        };
        let refused = host.set_health_policy(bad).unwrap_err().to_string();
        assert!(refused.contains("failure_threshold"), "{refused}");
        assert_eq!(host.health_policy(), lenient);
    }
    host.set_health_policy(HealthPolicy {
        min_deliveries: 4,
        ..lenient
    })
    .unwrap();
    host.deliver_to(FLAKY, &Event::ticket_closed()).unwrap();
    let status = host.health(FLAKY).unwrap();
    assert!(!status.enabled && status.auto_disabled, "{status:?}");
}

// ---- panels ----

const PANEL: &str = "com.example.panel";

fn panel_plugin(url: &str) -> Vec<u8> {
    let mut m = manifest(PANEL, &["ticket.created"], &["plugin-server.example.com"]);
    m["ui_panel"] = json!({"title": "JIRA Issue", "height": 140});
    let reply = br#"{"ticket_id":"T-1","body":"hi"}"#;
    let body = format!(
        r#"(func (export "on_event") (param i32 i32))
           (func (export "render_panel") (param i32 i32) (result i32 i32)
             (local $p i32)
             ;; ticket operations are not available here: status 4
             (if (i32.ne (call $reply (i32.const 3072) (i32.const {rlen})) (i32.const 4)) (then unreachable))
             (if (i32.ne (call $field (i32.const 3072) (i32.const {rlen})) (i32.const 4)) (then unreachable))
             ;; copy the URL into an allocated buffer, as a real plugin would
             (local.set $p (call $alloc (i32.const {len})))
             (memory.copy (local.get $p) (i32.const 2048) (i32.const {len}))
             (call $log (local.get 0) (local.get 1) (i32.const 1))
             (local.get $p) (i32.const {len}))
           {url}
           {reply}"#,
        len = url.len(),
        rlen = reply.len(),
        url = data(2048, url.as_bytes()),
        reply = data(3072, reply),
    );
    plugin(&m, &body)
}

fn panel(url: &str) -> otai_plugin_host::PanelReport {
    let host = test_host(MockHttp::new());
    install(&host, &panel_plugin(url), json!({}));
    host.render_panel(PANEL, "T-1").unwrap()
}

#[test]
fn render_panel_returns_an_allowed_url() {
    let r = panel("https://plugin-server.example.com/panel?ticket=T-1");
    assert_eq!(r.outcome, Outcome::Ok);
    assert_eq!(
        r.url.as_deref(),
        Some("https://plugin-server.example.com/panel?ticket=T-1")
    );
    assert_eq!(
        r.logs[0].message, "T-1",
        "the plugin received the ticket id"
    );
    assert_eq!(
        r.assert_url(),
        "https://plugin-server.example.com/panel?ticket=T-1"
    );
}

#[test]
fn render_panel_refuses_bad_urls() {
    panel("https://evil.example/panel").assert_refused("host `evil.example` is not in");
    panel("https://plugin-server.example.com.evil.example/").assert_refused("is not in");
    panel("javascript:alert(1)").assert_refused("scheme `javascript`");
    panel("/relative").assert_refused("not a valid absolute URL");
    for r in [
        panel("https://evil.example/panel"),
        panel("javascript:alert(1)"),
    ] {
        assert_eq!(r.outcome, Outcome::Ok);
        assert!(r.url.is_none());
    }
}

#[test]
fn a_panel_url_of_exactly_the_limit_is_shown_and_one_byte_more_is_not() {
    use otai_plugin_host::abi::limits::MAX_PANEL_URL;
    let base = "https://plugin-server.example.com/p?x=";
    for (len, shown) in [(MAX_PANEL_URL, true), (MAX_PANEL_URL + 1, false)] {
        let url = format!("{base}{}", "a".repeat(len - base.len()));
        let r = panel(&url);
        assert_eq!(r.outcome, Outcome::Ok);
        assert_eq!(r.url.is_some(), shown, "{len} bytes: {:?}", r.refused);
        if !shown {
            r.assert_refused("longer than");
        }
    }
}

#[test]
fn render_panel_needs_a_panel() {
    let host = test_host(MockHttp::new());
    install(
        &host,
        &plugin(
            &manifest("com.example.nopanel", &["ticket.created"], &[]),
            NOOP,
        ),
        json!({}),
    );
    assert!(matches!(
        host.render_panel("com.example.nopanel", "T-1"),
        Err(DeliverError::NoPanel { .. })
    ));
}

// ---- secrets ----

const SECRET: &str = "T000/B000/XXXXsecretXXXX";

#[test]
fn secrets_are_redacted_everywhere_in_reports() {
    let mut m = manifest(
        "com.example.slack",
        &["ticket.created"],
        &["hooks.slack.com"],
    );
    m["config_schema"] = json!({
        "webhook_url": {"type": "string", "label": "Webhook URL", "required": true, "secret": true}
    });
    let url = format!("https://hooks.slack.com/services/{SECRET}");
    // The plugin logs the URL and posts to it (with the secret also in a header), with
    // credentials derived from a secret (`Basic base64(user:token)`) in `Authorization`.
    let req = json!({"method": "POST", "url": url, "headers": {
        "X-Forwarded-To": format!("url={url}"),
        "Authorization": "Basic dXNlcjp0b2tlbg==",
    }, "body": "{}"})
    .to_string();
    let line = format!("posting to {url}");
    let body = format!(
        r#"(func (export "on_event") (param i32 i32)
             (call $log (i32.const 4096) (i32.const {llen}) (i32.const 1))
             (drop (call $http (i32.const 1024) (i32.const {rlen}) (i32.const 512) (i32.const 516))))
           {req}
           {line}"#,
        llen = line.len(),
        rlen = req.len(),
        req = data(1024, req.as_bytes()),
        line = data(4096, line.as_bytes()),
    );
    let mock = MockHttp::new()
        .on("POST", "https://hooks.slack.com/*")
        .respond(200, format!("echo {}", url.replace('/', "\\/")));
    let host = test_host(mock.clone());
    install(&host, &plugin(&m, &body), json!({"webhook_url": url}));
    let r = host
        .deliver_to("com.example.slack", &Event::ticket_created())
        .unwrap();
    r.assert_ok();
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("XXXXsecretXXXX"), "{json}");
    assert!(!format!("{r:?}").contains("XXXXsecretXXXX"));
    // The allowed host is public (the manifest names it); the rest is the secret.
    assert_eq!(
        r.logs[0].message,
        "posting to https://hooks.slack.com/[redacted]"
    );
    assert_eq!(r.http[0].request.url, "https://hooks.slack.com/[redacted]");
    assert_eq!(
        r.http[0].request.headers["X-Forwarded-To"],
        "url=https://hooks.slack.com/[redacted]"
    );
    assert_eq!(
        r.http[0].request.headers["Authorization"],
        "Basic [redacted]"
    );
    assert!(!json.contains("dXNlcjp0b2tlbg"), "{json}");
    assert_eq!(r.http[0].response_body.as_deref(), Some("echo [redacted]"));
    // The transport got the real request: redaction is for reports only.
    assert_eq!(mock.requests()[0].url, url);
    // Nor in the host's Debug output.
    assert!(!format!("{host:?}").contains("XXXXsecretXXXX"));
}

#[test]
fn install_errors_do_not_contain_secrets() {
    let mut m = manifest(
        "com.example.slack",
        &["ticket.created"],
        &["hooks.slack.com"],
    );
    m["config_schema"] = json!({
        "webhook_url": {"type": "string", "label": "Webhook URL", "required": true, "secret": true},
        "channel": {"type": "string", "label": "Channel"}
    });
    let host = test_host(MockHttp::new());
    let p = host.load(&plugin(&m, NOOP)).unwrap();
    let url = format!("https://hooks.slack.com/services/{SECRET}");
    let e = host
        .install(&p, json!({"webhook_url": url, "extra": 1}))
        .unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(text.contains("extra"), "{text}");
    assert!(!text.contains("XXXXsecretXXXX"), "{text}");
    let e = host.install(&p, json!({"channel": "#x"})).unwrap_err();
    assert!(e.to_string().contains("webhook_url"), "{e}");
}

#[test]
fn an_oversized_config_value_or_config_is_refused_at_install_without_the_secret() {
    use otai_plugin_abi::limits::{MAX_CONFIG, MAX_CONFIG_VALUE};
    let mut m = manifest("com.example.big", &["ticket.created"], &[]);
    m["config_schema"] = json!({
        "token": {"type": "string", "secret": true},
        "a": {"type": "string"}, "b": {"type": "string"},
        "c": {"type": "string"}, "d": {"type": "string"}
    });
    let host = test_host(MockHttp::new());
    let p = host.load(&plugin(&m, NOOP)).unwrap();
    // One value past its limit (a secret: named and measured, never quoted).
    let token = format!("{SECRET}{}", "t".repeat(MAX_CONFIG_VALUE));
    let e = host.install(&p, json!({"token": token})).unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(
        text.contains(&format!(
            "token: the value is {} bytes long; a config value may be at most 16 KiB (16384 bytes)",
            token.len()
        )),
        "{text}"
    );
    assert!(!text.contains("XXXXsecretXXXX"), "{text}");
    // Every value within its limit, the whole config past its own.
    let value = "v".repeat(MAX_CONFIG_VALUE - 100);
    let config = json!({"token": format!("{SECRET}{value}"), "a": value, "b": value, "c": value, "d": value});
    assert!(config.to_string().len() > MAX_CONFIG);
    let e = host.install(&p, config).unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(
        text.contains("a config may be at most 64 KiB (65536 bytes). The largest values: `token`"),
        "{text}"
    );
    assert!(!text.contains("XXXXsecretXXXX"), "{text}");
    assert!(host.installed().is_empty());
}

#[test]
fn credential_headers_are_redacted_without_any_secret_config() {
    // No `config_schema` at all: nothing is secret by config, the headers still are.
    let m = manifest(
        "com.example.auth",
        &["ticket.created"],
        &["api.example.com"],
    );
    let req = json!({"method": "GET", "url": "https://api.example.com/x", "headers": {
        "Authorization": "Bearer eyJhbGciOi.payload.sig",
        "Cookie": "session=abc123",
        "X-Api-Key": "k-123456",
        "Accept": "application/json",
    }})
    .to_string();
    let mock = MockHttp::new()
        .on("GET", "https://api.example.com/x")
        .respond(200, "ok");
    let host = test_host(mock.clone());
    install(&host, &plugin(&m, &http_call(req.as_bytes())), json!({}));
    let r = host
        .deliver_to("com.example.auth", &Event::ticket_created())
        .unwrap();
    let headers = &r.http[0].request.headers;
    assert_eq!(headers["Authorization"], "Bearer [redacted]");
    assert_eq!(headers["Cookie"], "[redacted]");
    assert_eq!(headers["X-Api-Key"], "[redacted]");
    assert_eq!(headers["Accept"], "application/json");
    let json = serde_json::to_string(&r).unwrap();
    for secret in ["eyJhbGciOi", "abc123", "k-123456"] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
    // The transport got the real headers.
    assert_eq!(mock.requests()[0].headers["Cookie"], "session=abc123");
}

#[test]
fn a_secret_percent_encoded_in_lower_case_is_redacted() {
    let mut m = manifest(
        "com.example.token",
        &["ticket.created"],
        &["api.example.com"],
    );
    m["config_schema"] = json!({ "token": {"type": "string", "secret": true} });
    // What a plugin gets from an encoder that writes `%2f` for `/`.
    let url = "https://api.example.com/x?token=abc%2fdef%3d";
    let req = json!({"method": "GET", "url": url}).to_string();
    let mock = MockHttp::new()
        .on("GET", "https://api.example.com/*")
        .respond(200, "ok");
    let host = test_host(mock);
    install(
        &host,
        &plugin(&m, &http_call(req.as_bytes())),
        json!({"token": "abc/def="}),
    );
    let r = host
        .deliver_to("com.example.token", &Event::ticket_created())
        .unwrap();
    assert_eq!(
        r.http[0].request.url,
        "https://api.example.com/x?token=[redacted]"
    );
}

#[test]
fn secrets_are_redacted_in_replies_fields_the_failure_reason_and_every_encoding() {
    const TOKEN: &str = "s3cr3t/T0K3N=";
    let mut m = manifest(
        "com.example.leaky",
        &["ticket.created"],
        &["api.example.com"],
    );
    m["config_schema"] = json!({ "token": {"type": "string", "secret": true} });
    let ticket = otai_plugin_host::DEFAULT_TICKET_ID;
    let reply = json!({"ticket_id": ticket, "body": format!("token {TOKEN}")}).to_string();
    let field = json!({"ticket_id": ticket, "key": "k", "value": TOKEN}).to_string();
    // As it is, upper- and lower-case percent-encoded, then the last words.
    let lines = [
        format!("raw {TOKEN}"),
        "upper s3cr3t%2FT0K3N%3D".to_owned(),
        "lower s3cr3t%2fT0K3N%3d".to_owned(),
        format!("giving up with {TOKEN}"),
    ];
    let mut at = 8192;
    let mut calls = String::new();
    let mut datas = String::new();
    for (i, text) in [reply.as_str(), field.as_str()]
        .into_iter()
        .chain(lines.iter().map(String::as_str))
        .enumerate()
    {
        let call = match i {
            0 => format!(
                "(drop (call $reply (i32.const {at}) (i32.const {})))",
                text.len()
            ),
            1 => format!(
                "(drop (call $field (i32.const {at}) (i32.const {})))",
                text.len()
            ),
            5 => format!(
                "(call $log (i32.const {at}) (i32.const {}) (i32.const 3))",
                text.len()
            ),
            _ => format!(
                "(call $log (i32.const {at}) (i32.const {}) (i32.const 1))",
                text.len()
            ),
        };
        calls.push_str(&call);
        datas.push_str(&data(at, text.as_bytes()));
        at += 512;
    }
    let body = format!(r#"(func (export "on_event") (param i32 i32) {calls} unreachable) {datas}"#);
    let host = test_host(MockHttp::new());
    install(&host, &plugin(&m, &body), json!({"token": TOKEN}));
    let r = host
        .deliver_to("com.example.leaky", &Event::ticket_created())
        .unwrap();
    assert_eq!(r.replies[0].body, "token [redacted]");
    assert_eq!(r.custom_fields[0].value, "[redacted]");
    let logged: Vec<&str> = r.logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(
        logged,
        [
            "raw [redacted]",
            "upper [redacted]",
            "lower [redacted]",
            "giving up with [redacted]"
        ]
    );
    match &r.outcome {
        Outcome::Trapped { reason, .. } => {
            assert_eq!(reason.as_deref(), Some("giving up with [redacted]"));
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("T0K3N"), "{json}");
}

#[test]
fn a_refused_proxy_authorization_header_is_recorded_redacted() {
    let m = manifest(
        "com.example.proxy",
        &["ticket.created"],
        &["api.example.com"],
    );
    let req = json!({"method": "GET", "url": "https://api.example.com/x", "headers": {
        "Proxy-Authorization": "Basic cHJveHk6cGFzcw==",
    }})
    .to_string();
    let mock = MockHttp::new();
    let host = test_host(mock.clone());
    install(&host, &plugin(&m, &http_call(req.as_bytes())), json!({}));
    let r = host
        .deliver_to("com.example.proxy", &Event::ticket_created())
        .unwrap();
    assert_eq!(r.http[0].status, 0, "a plugin may not set Proxy-* headers");
    assert_eq!(
        r.http[0].request.headers["Proxy-Authorization"],
        "Basic [redacted]"
    );
    assert!(mock.requests().is_empty(), "nothing was sent");
    assert!(!serde_json::to_string(&r).unwrap().contains("cHJveHk6"));
}

#[test]
fn a_panel_report_is_redacted() {
    const TOKEN: &str = "pan3l-T0K3N";
    let mut m = manifest(PANEL, &["ticket.created"], &["plugin-server.example.com"]);
    m["ui_panel"] = json!({"title": "P", "height": 100});
    m["config_schema"] = json!({ "token": {"type": "string", "secret": true} });
    let url = format!("https://plugin-server.example.com/p?t={TOKEN}");
    let refused_url = format!("https://elsewhere.example/p?t={TOKEN}");
    let render = |url: &str| {
        format!(
            r#"(func (export "on_event") (param i32 i32))
               (func (export "render_panel") (param i32 i32) (result i32 i32)
                 (local $p i32)
                 (call $log (i32.const 2048) (i32.const {len}) (i32.const 1))
                 (local.set $p (call $alloc (i32.const {len})))
                 (memory.copy (local.get $p) (i32.const 2048) (i32.const {len}))
                 (local.get $p) (i32.const {len}))
               {data}"#,
            len = url.len(),
            data = data(2048, url.as_bytes())
        )
    };
    for (url, accepted) in [(&url, true), (&refused_url, false)] {
        let host = test_host(MockHttp::new());
        install(&host, &plugin(&m, &render(url)), json!({"token": TOKEN}));
        let r = host.render_panel(PANEL, "T-1").unwrap();
        assert_eq!(r.url.is_some(), accepted, "{r:?}");
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("T0K3N"), "{json}");
        assert!(!format!("{r:?}").contains("T0K3N"), "{r:?}");
        // The page embeds the URL that works, token and all.
        assert_eq!(r.embed_url(), accepted.then_some(url.as_str()));
        if accepted {
            assert_eq!(
                r.url.as_deref(),
                Some("https://plugin-server.example.com/p?t=[redacted]")
            );
        }
        assert!(r.logs[0].message.ends_with("t=[redacted]"), "{:?}", r.logs);
    }
}

/// `install_config` takes a config the embedder validated (the desk does, to store
/// it): its secrets reach the plugin and are redacted as `install`'s are, and a config
/// validated against another manifest is refused, naming each field that does not fit
/// and never quoting a value.
#[test]
fn a_config_validated_by_the_embedder_installs_and_one_for_another_manifest_does_not() {
    let mut m = manifest("com.example.validated", &["ticket.created"], &[]);
    m["config_schema"] = json!({
        "token": {"type": "string", "required": true, "secret": true},
        "retries": {"type": "integer"}
    });
    let body = r#"(func (export "on_event") (param $p i32) (param $n i32)
                    (call $log (local.get $p) (local.get $n) (i32.const 1)))"#;
    let host = test_host(MockHttp::new());
    let plugin = host.load(&plugin(&m, body)).unwrap();
    let config = plugin
        .manifest()
        .validate_config(&json!({"token": SECRET, "retries": 2}))
        .unwrap();
    host.install_config(&plugin, &config).unwrap();
    let r = host
        .deliver_to("com.example.validated", &Event::ticket_created())
        .unwrap();
    r.assert_ok();
    assert!(
        r.logs[0]
            .message
            .contains(r#""config":{"retries":2,"token":"[redacted]"}"#),
        "{}",
        r.logs[0].message
    );

    let mut other = m.clone();
    other["config_schema"] = json!({
        "token": {"type": "string", "secret": true},
        "retries": {"type": "string"},
        "channel": {"type": "string"}
    });
    let other = otai_plugin_abi::manifest::Manifest::from_json(other.to_string().as_bytes())
        .unwrap()
        .validate_config(&json!({"token": SECRET, "retries": "XXXXsecretXXXX", "channel": "#ops"}))
        .unwrap();
    let e = host
        .install_config(&plugin, &other)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid config for plugin `com.example.validated`:\n\
         error: channel: `channel` is not a config key of `com.example.validated`\n\
         error: retries: the value is not of the field's type (integer)\n"
    );
    let empty = otai_plugin_abi::manifest::Config::default();
    let e = host
        .install_config(&plugin, &empty)
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("error: token: `token` is required; set a value\n"),
        "{e}"
    );
}
