//! The notices to administrators: a plugin the health policy disabled is a banner on
//! every page until dismissed, and stays in the list of notices with when and why.
#![cfg(feature = "web")]

use crate::common;

use common::{failing_module, start};

#[test]
fn an_auto_disabled_plugin_is_a_banner_on_every_page_until_dismissed() {
    let server = start();
    let (_, page) = server.get("/notices");
    assert!(
        page.contains("No notices") && !page.contains(r#"id="notices""#),
        "{page}"
    );

    server.state.desk.install(&failing_module()).unwrap();
    for _ in 0..10 {
        server.state.desk.deliver("ticket.created", "T-9").unwrap();
    }
    let banner = "<strong>com.example.failing was disabled</strong> at ";
    for path in [
        "/",
        "/plugins/com.example.web",
        "/tickets",
        "/tickets/T-9",
        "/notices",
    ] {
        let (status, page) = server.get(path);
        assert_eq!(status, 200, "{path}: {page}");
        assert!(
            page.contains(r#"<div class="banner" id="notices">"#)
                && page.contains(banner)
                && page.contains("10 of 10 deliveries failed within 10 minutes"),
            "{path}: {page}"
        );
    }
    let notice = &server.state.desk.notices(false, 10).unwrap()[0];
    assert_eq!(notice.plugin_id, "com.example.failing");
    assert!(!notice.dismissed);

    // Hostile dismissals change nothing and say why.
    for (form, expected) in [
        (vec![("seq", "1; DROP TABLE notices")], "seq: found"),
        (vec![], "the form names no notice"),
        (vec![("seq", "1"), ("all", "1")], "not both"),
    ] {
        let (status, page) = server.post("/notices/dismiss", &form);
        assert_eq!(status, 422, "{form:?}: {page}");
        assert!(page.contains(expected), "{form:?}: {page}");
    }
    let (status, page) = server.post("/notices/dismiss", &[("seq", "999")]);
    assert_eq!(status, 200, "an unknown notice is no error: {page}");
    assert!(page.contains(banner), "{page}");

    let seq = notice.seq.to_string();
    let (status, page) = server.post("/notices/dismiss", &[("seq", &seq)]);
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains(r#"id="notices""#), "{page}");
    // The list keeps it, with when and why.
    assert!(
        page.contains("<code>com.example.failing</code></a> was disabled")
            && page.contains("<td>10 of 10 deliveries failed within 10 minutes</td>")
            && page.contains(r#"<span class="note">dismissed</span>"#)
            && page.contains(" UTC<div class=\"note\">"),
        "{page}"
    );
    let (_, page) = server.get("/");
    assert!(!page.contains(r#"id="notices""#), "{page}");
    // It survives a restart, dismissed.
    let server = server.restart();
    let (_, page) = server.get("/notices");
    assert!(
        page.contains("dismissed") && !page.contains(r#"id="notices""#),
        "{page}"
    );
}
