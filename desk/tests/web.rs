//! The web UI over HTTP, as a browser sends its requests: forms in, pages out.
#![cfg(feature = "web")]

use crate::common;

use common::{module, start};
use otai_plugin_desk::PermissionDiff;
use otai_plugin_desk::web::PendingUpgrade;

#[test]
fn the_config_form_has_a_widget_per_type_and_never_shows_a_secret() {
    let server = start();
    let (status, list) = server.get("/");
    assert_eq!(status, 200);
    assert!(
        list.contains("Web test")
            && list.contains("disabled")
            && list.contains("`token` must be configured"),
        "{list}"
    );

    let (_, page) = server.get("/plugins/com.example.web");
    for widget in [
        r#"<input type="password" id="f-token" name="token" value="""#,
        r##"<input type="text" id="f-channel" name="channel" value="#support" class="defaulted">"##,
        r#"<input type="number" id="f-retries" name="retries""#,
        r#"<input type="checkbox" id="f-loud" name="loud" value="true">"#,
        r#"<select id="f-region" name="region">"#,
        "<option selected>eu</option>",
        r#"API token <span class="error" title="required">*</span>"#,
        r#"<span class="note" id="s-token">not set</span>"#,
    ] {
        assert!(page.contains(widget), "no {widget} in\n{page}");
    }

    // Every problem at once, inline, and what was typed is kept (never a secret).
    let (status, page) = server.post(
        "/plugins/com.example.web/config",
        &[
            ("token", "s3cr3t-token"),
            ("retries", "three"),
            ("channel", "#ops"),
            ("region", "eu"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains(r#"<div class="error" id="e-retries">"#),
        "{page}"
    );
    assert!(page.contains(r##"value="#ops""##), "{page}");
    assert!(
        !page.contains("s3cr3t-token"),
        "the secret came back:\n{page}"
    );

    let (status, page) = server.post(
        "/plugins/com.example.web/config",
        &[
            ("token", "s3cr3t-token"),
            ("retries", "3"),
            ("loud", "true"),
            ("region", "us"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Configuration saved")
            && page.contains(r#"id="state" class="state-enabled""#),
        "{page}"
    );
    assert!(
        page.contains(r#"<span class="note" id="s-token">set</span>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"value="3""#) && page.contains(r#"name="loud" value="true" checked"#),
        "{page}"
    );
    assert!(!page.contains("s3cr3t-token"), "{page}");

    // An empty secret keeps the stored one.
    let (status, page) = server.post(
        "/plugins/com.example.web/config",
        &[("retries", "4"), ("region", "us")],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"id="s-token">set<"#), "{page}");

    let (_, page) = server.post("/plugins/com.example.web/disable", &[]);
    assert!(
        page.contains(r#"class="state-disabled""#) && page.contains("disabled by hand"),
        "{page}"
    );
    let (_, page) = server.post("/plugins/com.example.web/enable", &[]);
    assert!(page.contains(r#"class="state-enabled""#), "{page}");
}

/// The form's text is read as `--set KEY=VALUE` is (`Desk::configure_text`): a checked
/// box sends `true` after the hidden `false` before it, an unchecked one only the
/// `false`; a number may have spaces around it; other text for a boolean or a number
/// is refused at its field with what was typed.
#[test]
fn the_form_reads_its_text_as_the_command_line_does() {
    let server = start();
    let (_, page) = server.get("/plugins/com.example.web");
    let hidden = r#"<input type="hidden" name="loud" value="false">"#;
    let boxed = r#"<input type="checkbox" id="f-loud" name="loud" value="true">"#;
    assert!(page.contains(&format!("{hidden}\n      {boxed}")), "{page}");

    let config = "/plugins/com.example.web/config";
    let (status, page) = server.post(
        config,
        &[
            ("token", "xoxb-form"),
            ("retries", " 5 "),
            ("loud", "false"),
            ("loud", "true"),
            ("region", "us"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"value="5""#) && page.contains(r#"name="loud" value="true" checked"#),
        "{page}"
    );

    let (status, page) = server.post(
        config,
        &[("retries", "5"), ("loud", "false"), ("region", "us")],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(boxed), "unchecked: {page}");

    let (status, page) = server.post(
        config,
        &[("retries", "5.5"), ("loud", "on"), ("region", "us")],
    );
    assert_eq!(status, 422, "{page}");
    let page = page.replace("&quot;", "\"").replace("&#x60;", "`");
    assert!(
        page.contains(
            r#"<div class="error" id="e-retries">expected a whole number, found "5.5"</div>"#
        ) && page.contains(
            r#"<div class="error" id="e-loud">expected `true` or `false`, found "on"</div>"#
        ),
        "{page}"
    );
}

#[test]
fn a_ticket_fires_events_shows_what_plugins_wrote_and_the_panel() {
    let server = start();
    server.post(
        "/plugins/com.example.web/config",
        &[("token", "xoxb-web-token"), ("region", "eu")],
    );
    let (status, page) = server.post(
        "/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8/events",
        &[
            ("event", "ticket.created"),
            ("subject", "Printer <on> fire"),
            ("priority", "Critical"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    // Attribute values escape `/` as `&#x2f;`, which a browser reads as `/`.
    let page = page.replace("&#x2f;", "/");
    assert!(page.contains("Delivered ticket.created"), "{page}");
    assert!(page.contains("[info] hello, desk!"), "{page}");
    assert!(page.contains("Printer &lt;on&gt; fire"), "escaped: {page}");
    assert!(page.contains("<th>jira</th><td>OPS-7</td>"), "{page}");
    // The panel from its development server, sandboxed, at the manifest's height.
    assert!(
        page.contains(r#"src="http://127.0.0.1:9/p?t=1" height="180" sandbox="allow-scripts allow-same-origin""#),
        "{page}"
    );
    // The page's bridge holds the ticket as plugins see it.
    assert!(
        page.contains(r#""custom_fields": {"jira": "OPS-7"}"#),
        "{page}"
    );

    let (status, page) = server.post("/tickets/T-2/events", &[("event", "ticket.exploded")]);
    assert_eq!(status, 422);
    assert!(page.contains("unknown event"), "{page}");
    let (status, _) = server.get("/plugins/com.example.none");
    assert_eq!(status, 404);

    let (_, log) = server.get("/plugins/com.example.web");
    assert!(
        log.contains(r#"<table id="deliveries">"#) && log.contains("custom field jira = OPS-7"),
        "{log}"
    );
}

/// docs/ABI.md section 6, "One change, several events": the ticket page changes a
/// status as the help desk does, delivering every event of the change in order.
#[test]
fn changing_a_tickets_status_delivers_every_event_of_the_change() {
    let server = start();
    server.post(
        "/plugins/com.example.web/config",
        &[("token", "xoxb-web-token"), ("region", "eu")],
    );
    let (status, page) = server.post(
        "/tickets/T-3/status",
        &[("status", "Closed"), ("notes", "")],
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Delivered ticket.status_changed, then ticket.closed"),
        "{page}"
    );
    // The plugin subscribes to `ticket.closed` only.
    assert!(
        page.contains("<strong>com.example.web</strong> (ticket.closed)")
            && !page.contains("(ticket.status_changed)"),
        "{page}"
    );
    assert!(page.contains("[info] hello, desk!"), "{page}");
    assert!(
        page.contains(r#"<select id="status" name="status"><option>New</option><option>In Progress</option><option>Resolved</option><option selected>Closed</option></select>"#),
        "the ticket keeps its new status: {page}"
    );

    let (status, page) = server.post("/tickets/T-3/status", &[("status", "Closed")]);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Delivered nothing: the status already is Closed"),
        "{page}"
    );
    let (status, page) = server.post("/tickets/T-3/status", &[("status", " ")]);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("the status to change to is blank"), "{page}");
    let (status, page) = server.post("/tickets/T-3/status", &[("status", "Binned")]);
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains(
            r#"The status was not changed: status: found "Binned", expected one of New, In Progress, Resolved, Closed"#
        ),
        "{page}"
    );
}

#[test]
fn an_upgrade_that_asks_for_more_waits_for_approval_on_the_plugin_page() {
    let server = start();
    let next = module("1.1.0", &["panel.example.com", "api.example.com"]);
    let desk = server.state.desk.clone();
    let err = desk.upgrade(&next, false).unwrap_err();
    let otai_plugin_desk::DeskError::NeedsApproval { diff, .. } = err else {
        panic!("{err}")
    };
    server.state.set_pending(
        "com.example.web",
        Some(PendingUpgrade {
            wasm: next,
            version: "1.1.0".into(),
            diff: PermissionDiff::clone(&diff),
        }),
    );
    let (_, page) = server.get("/plugins/com.example.web");
    assert!(
        page.contains("Upgrade to 1.1.0 waits for approval")
            && page.contains("+ may send requests to api.example.com"),
        "{page}"
    );
    let (_, page) = server.post("/plugins/com.example.web/approve", &[]);
    assert!(
        page.contains("<span class=\"note\">1.1.0</span>") && !page.contains("waits for approval"),
        "{page}"
    );
    server
        .state
        .set_build_error(Some("error[E0425]: cannot find value `x`".into()));
    let (_, page) = server.get("/");
    assert!(
        page.contains(r#"id="build-error""#) && page.contains("cannot find value `x`"),
        "{page}"
    );
}

#[test]
fn a_form_posted_from_another_site_is_refused() {
    let server = start();
    let url = format!("{}/plugins/com.example.web/disable", server.base);
    let mut refused = common::agent()
        .post(&url)
        .header("Origin", "http://evil.example")
        .send_form([("x", "y")])
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert!(
        refused
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains("http://evil.example")
    );
    let (_, page) = server.get("/plugins/com.example.web");
    assert!(
        !page.contains("disabled by hand"),
        "the post went through:\n{page}"
    );
    // The desk's own pages post with their own origin.
    let own = server.base.clone();
    let mut accepted = common::agent()
        .post(&url)
        .header("Origin", &own)
        .send_form([("x", "y")])
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 200);
    assert!(
        accepted
            .body_mut()
            .read_to_string()
            .unwrap()
            .contains("disabled by hand")
    );
}

#[test]
fn the_plugin_page_shows_who_signed_the_installed_version() {
    let server = start();
    let (_, page) = server.get("/plugins/com.example.web");
    assert!(page.contains(r#"<td id="signers">unsigned</td>"#), "{page}");

    let pair = wasmsign2::KeyPair::generate();
    let public = otai_plugin_test_support::public(&pair);
    let wasm = otai_plugin_test_support::sign_without_key_id(
        &pair,
        &module("1.0.1", &["panel.example.com"]),
    );
    let desk = server.state.desk.clone();
    desk.trust_add(&public.to_openssh("")).unwrap();
    desk.upgrade(&wasm, true).unwrap();
    let (_, page) = server.get("/plugins/com.example.web");
    assert!(
        page.contains(&format!(
            r#"<td id="signers">{}</td>"#,
            // The page escapes `/` in text.
            public.fingerprint().to_string().replace('/', "&#x2f;")
        )),
        "{page}"
    );
}
