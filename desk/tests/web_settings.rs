//! `/settings`: the health settings from the browser, saved and applied, a refused form
//! shown again as typed, and only the desk's own pages may change them.
#![cfg(feature = "web")]

use crate::common;

use common::{agent, failing_module, start};
use otai_plugin_desk::HealthSettings;

fn defaults() -> HealthSettings {
    HealthSettings {
        failure_percent: 50.0,
        min_deliveries: 10,
        window_minutes: 10,
    }
}

#[test]
fn the_settings_are_saved_from_the_page_and_disable_by_the_new_count() {
    let server = start();
    let (status, page) = server.get("/");
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<a href="/settings">Settings</a>"#),
        "{page}"
    );
    let (status, page) = server.get("/settings");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"name="failure_percent" value="50""#)
            && page.contains(r#"name="min_deliveries" value="10""#)
            && page.contains(r#"name="window_minutes" value="10""#),
        "{page}"
    );

    let (status, page) = server.post(
        "/settings",
        &[
            ("failure_percent", "25.5"),
            ("min_deliveries", "3"),
            ("window_minutes", "30"),
        ],
    );
    // Redirected (303) to the page, which says so.
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(r#"id="settings-saved""#)
            && page.contains(r#"name="failure_percent" value="25.5""#)
            && page.contains(r#"name="min_deliveries" value="3""#),
        "{page}"
    );
    let desk = &server.state.desk;
    assert_eq!(
        desk.health_settings(),
        HealthSettings {
            failure_percent: 25.5,
            min_deliveries: 3,
            window_minutes: 30
        }
    );
    desk.install(&failing_module()).unwrap();
    for _ in 0..3 {
        desk.deliver("ticket.created", "T-1").unwrap();
    }
    let (_, page) = server.get("/notices");
    assert!(
        page.contains("3 of 3 deliveries failed within 30 minutes"),
        "{page}"
    );
    // Kept across a restart.
    let server = server.restart();
    let (_, page) = server.get("/settings");
    assert!(
        page.contains(r#"name="window_minutes" value="30""#),
        "{page}"
    );
}

#[test]
fn a_refused_form_is_shown_again_as_typed_with_each_problem_beside_its_field() {
    let server = start();
    for (form, field, found) in [
        (
            [
                ("failure_percent", "-5"),
                ("min_deliveries", "10"),
                ("window_minutes", "10"),
            ],
            "failure_percent",
            "&quot;-5&quot;",
        ),
        (
            [
                ("failure_percent", "NaN"),
                ("min_deliveries", "10"),
                ("window_minutes", "10"),
            ],
            "failure_percent",
            "&quot;NaN&quot;",
        ),
        (
            [
                ("failure_percent", "50"),
                ("min_deliveries", "1e9"),
                ("window_minutes", "10"),
            ],
            "min_deliveries",
            "&quot;1e9&quot;",
        ),
        (
            [
                ("failure_percent", "50"),
                ("min_deliveries", "10"),
                ("window_minutes", "99999999999"),
            ],
            "window_minutes",
            "&quot;99999999999&quot;",
        ),
        (
            [
                ("failure_percent", "50"),
                ("min_deliveries", "10"),
                ("window_minutes", "<b>ten</b>"),
            ],
            "window_minutes",
            "&quot;&lt;b&gt;ten&lt;&#x2f;b&gt;&quot;",
        ),
    ] {
        let (status, page) = server.post("/settings", &form);
        assert_eq!(status, 422, "{form:?}: {page}");
        assert!(
            page.contains(r#"id="settings-errors""#)
                && page.contains(&format!(
                    r#"<div class="error" id="e-{field}">found {found}"#
                )),
            "{form:?}: {page}"
        );
        // What was typed is in the form again, escaped; the others as typed too.
        let typed = form.iter().find(|(k, _)| *k == field).unwrap().1;
        assert!(!page.contains("<b>ten</b>"), "{page}");
        if !typed.contains('<') {
            assert!(
                page.contains(&format!(r#"name="{field}" value="{typed}""#)),
                "{form:?}: {page}"
            );
        }
        assert_eq!(server.state.desk.health_settings(), defaults());
    }
    let (status, page) = server.post("/settings", &[("evil", "1")]);
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("no such setting"), "{page}");
}

#[test]
fn another_origin_cannot_change_the_settings() {
    let server = start();
    for origin in ["http://evil.example", "null"] {
        let mut response = agent()
            .post(&format!("{}/settings", server.base))
            .header("Origin", origin)
            .send_form([("failure_percent", "100")])
            .unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        assert_eq!(response.status().as_u16(), 403, "{origin}: {body}");
    }
    assert_eq!(server.state.desk.health_settings(), defaults());
}
