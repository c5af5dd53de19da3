//! A request no mock answered is a warning on the delivery, on the plugin's page and on
//! the ticket page, whatever the plugin returned (here it ends `ok`).
#![cfg(feature = "web")]

use std::sync::Arc;

use crate::common;

use otai_plugin_desk::web::WebState;
use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::{HTTP, Module};
use serde_json::json;

/// Posts to `url` and ends `ok` whatever the answer, as a plugin that treats a network
/// error as nothing to worry about does.
fn poster(url: &str) -> Vec<u8> {
    let request = json!({"method": "POST", "url": url, "body": "hi"}).to_string();
    let data = request.replace('\\', "\\\\").replace('"', "\\\"");
    Module::new()
        .imports(&[HTTP])
        .pages(2)
        .body(&format!(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (drop (call $http (i32.const 0) (i32.const {}) (i32.const 4096) (i32.const 4100))))
  (data (i32.const 0) "{data}")"#,
            request.len()
        ))
        .manifest(
            &json!({"id": "com.example.poster", "name": "Poster", "version": "1.0.0",
                    "description": "d", "events": ["ticket.created"],
                    "permissions": {"http": {"allowed_hosts": ["hooks.slack.com"]}}})
            .to_string(),
        )
        .wasm()
}

#[test]
fn a_request_no_mock_answered_is_a_warning_naming_the_closest_mock() {
    let dir = tempfile::tempdir().unwrap();
    let mock = MockHttp::new()
        .on("POST", "https://hooks.slack.com/services/A")
        .respond(200, "ok");
    let desk = Desk::open_with(
        dir.path(),
        DeskOptions {
            http: Arc::new(mock),
            key: Some("ab".repeat(32)),
            ..DeskOptions::default()
        },
    )
    .unwrap();
    desk.install(&poster("https://hooks.slack.com/services/B"))
        .unwrap();
    let state = WebState::with_docker_config(Arc::new(desk), Vec::new(), None);
    let pages = state.clone();
    let (base, _running) = common::spawn(move |port| otai_plugin_desk::web::router(pages, port));

    let mut response = common::agent()
        .post(&format!("{base}/tickets"))
        .header("Origin", &base)
        .send_form([("subject", "Printer"), ("priority", "Low")])
        .unwrap();
    // The page escapes `/` as `&#x2f;`.
    let ticket = response
        .body_mut()
        .read_to_string()
        .unwrap()
        .replace("&#x2f;", "/");
    let warning = "warning: no mock answered `POST https://hooks.slack.com/services/B`; the \
                   closest mock is `POST https://hooks.slack.com/services/A`, and a mock&#x27;s URL \
                   matches exactly unless it ends with `*`";
    assert!(
        ticket.contains(r#"<span class="warn">ok</span>"#) && ticket.contains(warning),
        "{ticket}"
    );
    let mut response = common::agent()
        .get(&format!("{base}/plugins/com.example.poster"))
        .call()
        .unwrap();
    let page = response
        .body_mut()
        .read_to_string()
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(
        page.contains(r#"<span class="warn">ok</span>"#)
            && page.contains(&format!(r#"<div class="warn" id="warn-1-1">{warning}"#)),
        "{page}"
    );
    drop(state);
}
