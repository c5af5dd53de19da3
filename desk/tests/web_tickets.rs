//! The ticket page as an agent uses it: a form that delivers redirects to the ticket page
//! with what the delivery did (post/redirect/get), so a reload or a bookmark never
//! delivers again.
#![cfg(feature = "web")]

use crate::common;

use common::{Server, start};

/// A client that does not follow redirects: what the browser is told, not where it lands.
fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// Posts `form` as the desk's pages do; returns the status and the `Location`.
fn post_form(server: &Server, path: &str, form: &[(&str, &str)]) -> (u16, Option<String>) {
    let response = no_redirects()
        .post(&format!("{}{path}", server.base))
        .header("Origin", &server.base)
        .send_form(form.iter().copied())
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    (response.status().as_u16(), location)
}

fn deliveries(server: &Server) -> usize {
    server
        .state
        .desk
        .deliveries("com.example.web", 100)
        .unwrap()
        .len()
}

fn configured() -> Server {
    let server = start();
    server.post(
        "/plugins/com.example.web/config",
        &[("token", "xoxb-web-token"), ("region", "eu")],
    );
    server
}

#[test]
fn firing_an_event_redirects_to_the_ticket_page_with_its_result() {
    let server = configured();
    let (status, location) = post_form(
        &server,
        "/tickets/T-9/events",
        &[("event", "ticket.created"), ("subject", "Printer on fire")],
    );
    assert_eq!(status, 303, "{location:?}");
    let location = location.unwrap();
    assert!(
        location.starts_with("/tickets/T-9?delivered="),
        "{location}"
    );
    assert_eq!(deliveries(&server), 1);

    // The page it names shows the result, each report collapsed to its outcome line.
    let (status, page) = server.get(&location);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Delivered ticket.created"), "{page}");
    assert!(
        page.contains(r#"<details class="report">"#)
            && page.contains("<strong>com.example.web</strong> (ticket.created)")
            && page.contains("[info] hello, desk!"),
        "{page}"
    );
    assert!(page.contains("Printer on fire"), "{page}");
    // A reload shows it again and delivers nothing.
    let (status, again) = server.get(&location);
    assert_eq!(status, 200);
    assert!(again.contains("Delivered ticket.created"), "{again}");
    assert_eq!(deliveries(&server), 1, "a reload delivered again");

    // A bookmark of where the form posts is the ticket, not a 405.
    let response = no_redirects()
        .get(&format!("{}/tickets/T-9/events", server.base))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/tickets/T-9");
    let (status, page) = server.get("/tickets/T-9/events");
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("Delivered"), "{page}");
    assert_eq!(deliveries(&server), 1);

    // Changing the status redirects the same way.
    let (status, location) = post_form(
        &server,
        "/tickets/T-9/status",
        &[("status", "Closed"), ("notes", "")],
    );
    assert_eq!(status, 303);
    let (_, page) = server.get(&location.unwrap());
    assert!(
        page.contains("Delivered ticket.status_changed, then ticket.closed"),
        "{page}"
    );
    assert_eq!(deliveries(&server), 2);
}

/// The id comes back as itself through the redirect, and a result number that is not
/// one held for this ticket (unknown, hostile, another ticket's) shows no result and
/// says so.
#[test]
fn the_redirect_keeps_a_hostile_ticket_id_and_refuses_a_foreign_result() {
    let server = configured();
    let (status, location) = post_form(
        &server,
        "/tickets/a%2Fb%3Fc%23d%20e/events",
        &[("event", "ticket.created")],
    );
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(
        location.starts_with("/tickets/a%2Fb%3Fc%23d%20e?delivered="),
        "{location}"
    );
    let (_, page) = server.get(&location);
    assert!(
        page.contains("Delivered ticket.created") && page.contains("a&#x2f;b?c#d e"),
        "{page}"
    );

    let n = location.rsplit('=').next().unwrap();
    for query in [
        format!("/tickets/T-1?delivered={n}"),
        "/tickets/a%2Fb%3Fc%23d%20e?delivered=999".to_owned(),
        "/tickets/T-1?delivered=%3Cscript%3E".to_owned(),
    ] {
        let (status, page) = server.get(&query);
        assert_eq!(status, 200, "{query}: {page}");
        assert!(
            page.contains(r#"id="delivered-gone""#)
                && page.contains("is no longer held here")
                && !page.contains("Delivered ticket.created")
                && !page.contains("<script>\""),
            "{query}: {page}"
        );
    }
}

/// A plugin on every event that logs the payload it gets.
pub(crate) fn echo_module() -> Vec<u8> {
    let manifest = serde_json::json!({
        "id": "com.example.echo", "name": "Echo", "version": "1.0.0", "description": "d",
        "events": ["ticket.created", "ticket.assigned", "ticket.status_changed",
                   "ticket.reply_added", "ticket.note_added", "ticket.resolved",
                   "ticket.closed", "ticket.reopened"]
    });
    otai_plugin_test_support::Module::new()
        .imports(&[otai_plugin_test_support::LOG])
        .body(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1)))"#,
        )
        .manifest(&manifest.to_string())
        .wasm()
}

/// The payload the echo plugin got last.
pub(crate) fn echoed(server: &Server) -> serde_json::Value {
    let last = &server.state.desk.deliveries("com.example.echo", 1).unwrap()[0];
    serde_json::from_str(&last.report.logs[0].message).unwrap()
}

#[test]
fn each_event_kinds_data_reaches_the_plugins_payload() {
    let server = start();
    server.state.desk.install(&echo_module()).unwrap();
    server.state.desk.enable("com.example.echo").unwrap();
    let (_, page) = server.get("/tickets/T-5");
    for input in [
        r#"<select id="status" name="status"><option selected>New</option><option>In Progress</option>"#,
        r#"<select id="priority" name="priority"><option>Low</option><option selected>Medium</option>"#,
        r#"<textarea id="data_body" name="data_body""#,
        r#"<input type="checkbox" id="data_is_internal" name="data_is_internal" value="true">"#,
        r#"<select id="data_from_status" name="data_from_status">"#,
        r#"<select id="data_to_status" name="data_to_status">"#,
        r#"<input type="text" id="data_assignee_name" name="data_assignee_name""#,
    ] {
        assert!(page.contains(input), "no {input} in\n{page}");
    }

    let fire = |form: &[(&str, &str)]| {
        let (status, location) = post_form(&server, "/tickets/T-5/events", form);
        assert_eq!(status, 303, "{form:?}");
        assert!(location.unwrap().contains("?delivered="));
        echoed(&server)
    };
    let reply = fire(&[
        ("event", "ticket.reply_added"),
        ("priority", "Critical"),
        ("data_body", "Line one\r\nline <two>"),
        ("data_is_internal", "false"),
        ("data_is_internal", "true"),
        ("data_author_name", "Ana Lima"),
        ("data_author_email", "ana@example.com"),
    ]);
    assert_eq!(reply["ticket"]["priority"], "Critical");
    assert_eq!(reply["data"]["body"], "Line one\nline <two>");
    assert_eq!(reply["data"]["is_internal"], true);
    assert_eq!(reply["data"]["author"]["name"], "Ana Lima");
    assert_eq!(reply["data"]["author"]["email"], "ana@example.com");
    assert_eq!(reply["data"]["author"]["id"], "desk-ana-lima");

    let note = fire(&[
        ("event", "ticket.note_added"),
        ("data_body", "internal"),
        ("data_is_internal", "false"),
    ]);
    assert_eq!(
        note["data"]["is_internal"], true,
        "a note is always internal"
    );

    let change = fire(&[
        ("event", "ticket.status_changed"),
        ("status", "New"),
        ("data_from_status", "New"),
        ("data_to_status", "Resolved"),
    ]);
    assert_eq!(change["data"]["from_status"], "New");
    assert_eq!(change["data"]["to_status"], "Resolved");
    assert_eq!(change["ticket"]["status"], "Resolved");

    let assigned = fire(&[
        ("event", "ticket.assigned"),
        ("data_assignee_type", "group"),
        ("data_assignee_name", "Tier 2"),
        ("data_assignee_email", ""),
    ]);
    let group = serde_json::json!({"type": "group", "id": "desk-tier-2", "name": "Tier 2"});
    assert_eq!(assigned["data"]["assignee"], group);
    assert_eq!(assigned["ticket"]["assignee"], group);

    let resolved = fire(&[
        ("event", "ticket.resolved"),
        ("data_resolution_notes", "Swapped the toner"),
    ]);
    assert_eq!(resolved["data"]["resolution_notes"], "Swapped the toner");
    let reopened = fire(&[("event", "ticket.reopened"), ("data_reason", "")]);
    assert_eq!(reopened["data"]["reason"], "");
}

/// Each hostile value is refused with its input named, nothing is delivered and the
/// ticket is not changed.
#[test]
fn a_hostile_event_form_is_refused_with_every_problem_named() {
    let server = start();
    server.state.desk.install(&echo_module()).unwrap();
    server.state.desk.enable("com.example.echo").unwrap();
    for (form, expected) in [
        (
            vec![("event", "ticket.created"), ("priority", "<script>")],
            "priority: found &quot;&lt;script&gt;&quot;, expected one of Low, Medium, High, Critical",
        ),
        (
            vec![("event", "ticket.created"), ("status", "Deleted")],
            "status: found &quot;Deleted&quot;, expected one of New, In Progress, Resolved, Closed",
        ),
        (
            vec![
                ("event", "ticket.reply_added"),
                ("data_body", "  "),
                ("data_is_internal", "yes"),
            ],
            "data_body: is blank",
        ),
        (
            vec![("event", "ticket.reply_added"), ("data_is_internal", "yes")],
            "data_is_internal: found &quot;yes&quot;, expected `true` or `false`",
        ),
        (
            vec![
                ("event", "ticket.status_changed"),
                ("data_from_status", "New"),
                ("data_to_status", "New"),
            ],
            "data_to_status: the same as data_from_status",
        ),
        (
            vec![
                ("event", "ticket.assigned"),
                ("data_assignee_type", "group"),
                ("data_assignee_name", "Ops"),
                ("data_assignee_email", "ops@example.com"),
            ],
            "data_assignee_email: found &quot;ops@example.com&quot;, but a group has no email",
        ),
        (
            vec![
                ("event", "ticket.assigned"),
                ("data_assignee_name", "Ops"),
                ("data_assignee_email", "ops at example"),
            ],
            "data_assignee_email: found &quot;ops at example&quot;, expected an address",
        ),
        (
            vec![("event", "ticket.created"), ("subject", " ")],
            "subject: is blank",
        ),
    ] {
        let (status, page) = server.post("/tickets/T-6/events", &form);
        assert_eq!(status, 422, "{form:?}: {page}");
        // The form again, each problem beside its input.
        let (input, message) = expected.split_once(": ").unwrap();
        let expected = format!(r#"<div class="error" id="e-{input}">{message}"#);
        assert!(
            page.contains(&expected) && page.contains(r#"id="fire-errors""#),
            "{form:?}: no {expected} in\n{page}"
        );
    }
    assert!(
        server
            .state
            .desk
            .deliveries("com.example.echo", 10)
            .unwrap()
            .is_empty(),
        "a refused form delivered"
    );
    assert_eq!(
        server.state.desk.ticket("T-6").unwrap().ticket["priority"],
        "Medium"
    );
}

#[test]
fn the_ticket_list_shows_each_ticket_and_a_new_one_is_opened_from_it() {
    let server = configured();
    let (status, page) = server.get("/tickets");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("No tickets yet") && page.contains(r#"<a href="/tickets">Tickets</a>"#),
        "{page}"
    );

    // The sample ticket, which the plugin writes a custom field on, and a ticket with an
    // id that needs escaping.
    let sample = "01JQXYZ8K2M4N6P8R0T2V4W6Y8";
    server.post(
        &format!("/tickets/{sample}/events"),
        &[
            ("event", "ticket.created"),
            ("subject", "Printer <on> fire"),
        ],
    );
    server.post("/tickets/a%2Fb/events", &[("event", "ticket.closed")]);

    let (status, location) = post_form(
        &server,
        "/tickets",
        &[
            ("subject", "VPN is down"),
            ("description", "Since 9:00"),
            ("priority", "High"),
            ("category", "Network"),
            // Not a new ticket's to choose.
            ("status", "Closed"),
        ],
    );
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(
        location.starts_with("/tickets/T-1?delivered="),
        "{location}"
    );
    let (_, page) = server.get(&location);
    assert!(
        page.contains("Delivered ticket.created") && page.contains("VPN is down"),
        "{page}"
    );
    let ticket = server.state.desk.ticket("T-1").unwrap().ticket;
    assert_eq!(
        (
            &ticket["subject"],
            &ticket["status"],
            &ticket["priority"],
            &ticket["category"]
        ),
        (
            &"VPN is down".into(),
            &"New".into(),
            &"High".into(),
            &"Network".into()
        )
    );
    // The next one gets the next id.
    let (_, location) = post_form(&server, "/tickets", &[("subject", "Second")]);
    assert!(location.unwrap().starts_with("/tickets/T-2?"));
    let second = server.state.desk.ticket("T-2").unwrap().ticket;
    assert_eq!(
        (
            &second["description"],
            &second["category"],
            &second["priority"]
        ),
        (&"".into(), &serde_json::Value::Null, &"Medium".into()),
        "nothing of the sample ticket's"
    );

    let (_, page) = server.get("/tickets");
    let page = page.replace("&#x2f;", "/");
    for row in [
        format!(r#"<td><a href="/tickets/{sample}">{sample}</a></td>"#),
        "<td>Printer &lt;on&gt; fire</td>".to_owned(),
        r#"<a href="/plugins/com.example.web"><code>com.example.web</code></a>"#.to_owned(),
        r#"<td><a href="/tickets/a%2Fb">a/b</a></td>"#.to_owned(),
        r#"<td><a href="/tickets/T-1">T-1</a></td>"#.to_owned(),
        "<td>VPN is down</td>".to_owned(),
    ] {
        assert!(page.contains(&row), "no {row} in\n{page}");
    }
    assert!(page.contains("ticket.closed<div class=\"note\">"), "{page}");

    for (form, expected) in [
        (vec![("subject", " ")], "subject: is blank"),
        (vec![], "subject: is blank"),
        (
            vec![("subject", "x"), ("priority", "")],
            r#"priority: found "", expected one of Low, Medium, High, Critical"#,
        ),
    ] {
        let (status, page) = server.post("/tickets", &form);
        assert_eq!(status, 422, "{form:?}: {page}");
        let (input, message) = expected.split_once(": ").unwrap();
        let expected = format!(
            r#"<div class="error" id="e-{input}">{}"#,
            message.replace('"', "&quot;")
        );
        assert!(
            page.contains("The ticket was not opened") && page.contains(&expected),
            "{form:?}: no {expected} in\n{page}"
        );
    }
    assert!(
        server
            .state
            .desk
            .tickets()
            .unwrap()
            .iter()
            .all(|t| t.id != "T-3")
    );
}
