//! A refused form is shown again as it was typed, each problem beside its input, with
//! status 422; a secret typed is not sent back, and the form says so.
#![cfg(feature = "web")]

use crate::common;

use common::start;

#[test]
fn a_refused_event_form_keeps_what_was_typed_and_delivers_nothing() {
    let server = start();
    server.state.desk.enable("com.example.web").ok();
    let (status, page) = server.post(
        "/tickets/T-4/events",
        &[
            ("event", "ticket.reply_added"),
            ("subject", "Printer <on fire>"),
            ("description", "Smoke since 9:00"),
            ("priority", "High"),
            ("category", "Hardware"),
            ("data_body", "  "),
            ("data_is_internal", "false"),
            ("data_is_internal", "true"),
            ("data_author_name", "Sam"),
            ("data_author_email", "not an address"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    for kept in [
        r#"<option selected>ticket.reply_added</option>"#,
        r#"name="subject" value="Printer &lt;on fire&gt;""#,
        r#"rows="3">Smoke since 9:00</textarea>"#,
        r#"<option selected>High</option>"#,
        r#"name="category" value="Hardware""#,
        r#"value="true" checked>"#,
        r#"name="data_author_name" value="Sam""#,
        r#"name="data_author_email" value="not an address""#,
        r#"<div class="error" id="e-data_body">is blank"#,
        r#"<div class="error" id="e-data_author_email">found &quot;not an address&quot;"#,
        "the form has 2 problems",
    ] {
        assert!(page.contains(kept), "no {kept} in\n{page}");
    }
    assert!(!page.contains("<on fire>"), "{page}");
    // Nothing was delivered and the ticket was not changed.
    assert!(
        server
            .state
            .desk
            .deliveries("com.example.web", 10)
            .unwrap()
            .is_empty()
    );
    assert_ne!(
        server.state.desk.ticket("T-4").unwrap().ticket["subject"],
        "Printer <on fire>"
    );
    // An unknown event is kept in the event select, its problem beside it.
    let (status, page) = server.post("/tickets/T-4/events", &[("event", "ticket.exploded")]);
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains(r#"<option selected>ticket.exploded</option>"#)
            && page
                .contains(r#"<div class="error" id="e-event">found &quot;ticket.exploded&quot;"#),
        "{page}"
    );
}

#[test]
fn a_refused_new_ticket_keeps_what_was_typed() {
    let server = start();
    let (status, page) = server.post(
        "/tickets",
        &[
            ("subject", "  "),
            ("description", "The VPN drops every hour"),
            ("priority", "Critical"),
            ("category", "Network"),
        ],
    );
    assert_eq!(status, 422, "{page}");
    for kept in [
        r#"rows="3">The VPN drops every hour</textarea>"#,
        r#"<option selected>Critical</option>"#,
        r#"name="category" value="Network""#,
        r#"<div class="error" id="e-subject">is blank"#,
        r#"id="new-ticket-errors""#,
    ] {
        assert!(page.contains(kept), "no {kept} in\n{page}");
    }
    assert!(server.state.desk.tickets().unwrap().is_empty());
}

#[test]
fn a_refused_config_form_does_not_send_a_typed_secret_back_and_says_so() {
    let server = start();
    let (status, page) = server.post(
        "/plugins/com.example.web/config",
        &[("token", "s3cr3t-token"), ("retries", "three")],
    );
    assert_eq!(status, 422, "{page}");
    assert!(!page.contains("s3cr3t-token"), "{page}");
    assert!(
        page.contains(r#"<div class="note" id="r-token">What you typed here was not saved"#)
            && page.contains(r#"name="retries" value="three""#),
        "{page}"
    );
    // Nothing typed in it: nothing to type again.
    let (status, page) = server.post(
        "/plugins/com.example.web/config",
        &[("token", ""), ("retries", "three")],
    );
    assert_eq!(status, 422, "{page}");
    assert!(!page.contains(r#"id="r-token""#), "{page}");
}
