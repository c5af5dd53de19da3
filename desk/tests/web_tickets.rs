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
