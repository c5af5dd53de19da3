use otai_plugin_sdk::log::Level;
use otai_plugin_sdk::serde_json::{self, Value, json};
use otai_plugin_sdk::testing::{self, MockResponse};

use super::*;

const ISSUE_URL: &str = "https://example.atlassian.net/rest/api/2/issue";
const BASIC: &str = "Basic YWdlbnRAZXhhbXBsZS5jb206czNjcjN0LXQwa2Vu";

fn config() -> Value {
    json!({ "email": "agent@example.com", "api_token": "s3cr3t-t0ken", "project_key": "OPS" })
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(target), Some(patch)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in patch {
            target.insert(k.clone(), v.clone());
        }
    }
    base
}

fn payload(kind: EventKind, config: Value, ticket: Value, data: Value) -> String {
    let mut payload: Value = serde_json::from_str(&testing::payload(kind, config)).unwrap();
    payload["ticket"] = with(payload["ticket"].take(), ticket);
    payload["data"] = with(payload["data"].take(), data);
    payload.to_string()
}

fn created(category: &str) -> String {
    payload(
        EventKind::TicketCreated,
        config(),
        json!({ "category": category }),
        json!({}),
    )
}

#[test]
fn the_site_constant_matches_the_manifest() {
    let cargo_toml = include_str!("../Cargo.toml");
    assert!(cargo_toml.contains(&format!("allowed_hosts = [\"{JIRA_SITE}\"]")));
    assert!(cargo_toml.contains(&format!("default = \"https://{JIRA_SITE}\"")));
}

#[test]
fn a_ticket_in_a_listed_category_gets_an_issue_and_a_link() {
    testing::mock_http(
        "POST",
        ISSUE_URL,
        MockResponse::status(
            201,
            r#"{"id":"10042","key":"OPS-42","self":"https://example.atlassian.net/rest/api/2/issue/10042"}"#,
        ),
    );
    let delivery = testing::deliver::<JiraLinker>(&created("Software"));
    assert!(delivery.result.is_ok(), "{:?}", delivery.result);
    assert_eq!(delivery.http.len(), 1);
    let request = &delivery.http[0];
    assert_eq!(request.headers["Authorization"], BASIC);
    assert_eq!(request.headers["Accept"], "application/json");
    let body: Value = serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["fields"]["project"], json!({ "key": "OPS" }));
    assert_eq!(body["fields"]["issuetype"], json!({ "name": "Task" }));
    assert_eq!(body["fields"]["summary"], "New laptop request");
    assert_eq!(
        body["fields"]["labels"],
        json!(["ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8", "open-help-desk"])
    );
    let description = body["fields"]["description"].as_str().unwrap();
    assert!(description.starts_with(
        "Opened from help desk ticket [01JQXYZ8K2M4N6P8R0T2V4W6Y8|https://helpdesk.example.com/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8]."
    ));
    assert!(
        description.ends_with("{quote}I need a replacement for the one that was stolen.{quote}")
    );

    assert_eq!(delivery.custom_fields.len(), 1);
    assert_eq!(delivery.custom_fields[0].key, JIRA_KEY_FIELD);
    assert_eq!(delivery.custom_fields[0].value, "OPS-42");
    assert_eq!(delivery.replies.len(), 1);
    assert!(delivery.replies[0].is_internal);
    assert_eq!(
        delivery.replies[0].body,
        "Linked JIRA issue OPS-42: https://example.atlassian.net/browse/OPS-42"
    );
}

#[test]
fn other_categories_and_linked_tickets_get_no_issue() {
    for ticket in [created("Hardware"), created(""), {
        payload(
            EventKind::TicketCreated,
            config(),
            json!({ "category": "Software", "custom_fields": { "jira_key": "OPS-1" } }),
            json!({}),
        )
    }] {
        let delivery = testing::deliver::<JiraLinker>(&ticket);
        assert!(delivery.result.is_ok());
        assert!(delivery.http.is_empty(), "{:?}", delivery.http);
    }
}

#[test]
fn categories_match_case_insensitively_with_a_wildcard() {
    assert!(category_matches("Software, Access", Some("software")));
    assert!(category_matches(" Software ,Access ", Some("Access")));
    assert!(!category_matches("Software, Access", Some("Soft")));
    assert!(!category_matches("Software, Access", None));
    assert!(!category_matches("", Some("Software")));
    assert!(!category_matches(",", Some("")));
    assert!(category_matches("*", None));
    assert!(category_matches("Hardware, *", Some("Anything")));
}

#[test]
fn a_base_url_off_the_allowed_site_is_refused_before_any_request() {
    for (url, expected) in [
        (
            "https://other.atlassian.net",
            "`jira_base_url` names `other.atlassian.net`",
        ),
        (
            "https://example.atlassian.net/jira",
            "without path, query or user",
        ),
        (
            "https://example.atlassian.net@evil.example",
            "without path, query or user",
        ),
        ("example.atlassian.net", "must be an https URL"),
    ] {
        let delivery = testing::deliver::<JiraLinker>(&payload(
            EventKind::TicketCreated,
            with(config(), json!({ "jira_base_url": url })),
            json!({ "category": "Access" }),
            json!({}),
        ));
        let err = delivery.result.unwrap_err();
        assert!(err.message().contains(expected), "{url}: {err}");
        assert!(delivery.http.is_empty());
    }
    let ok = Config {
        jira_base_url: "https://Example.Atlassian.net:443/".into(),
        email: String::new(),
        api_token: String::new(),
        project_key: String::new(),
        issue_type: String::new(),
        categories: String::new(),
    };
    assert_eq!(base_url(&ok).unwrap(), "https://Example.Atlassian.net:443");
}

#[test]
fn jira_s_field_errors_fail_the_delivery() {
    testing::mock_http(
        "POST",
        ISSUE_URL,
        MockResponse::status(
            400,
            r#"{"errorMessages":[],"errors":{"project":"valid project is required"}}"#,
        ),
    );
    let delivery = testing::deliver::<JiraLinker>(&created("Access"));
    assert_eq!(
        delivery.result.unwrap_err().message(),
        "JIRA refused to create an issue for ticket 01JQXYZ8K2M4N6P8R0T2V4W6Y8: HTTP 400: project: valid project is required \
         (check `project_key` and `issue_type`)"
    );
}

#[test]
fn outages_are_logged_and_the_delivery_succeeds() {
    for response in [
        MockResponse::status(503, "<html>down</html>"),
        MockResponse::network_error("reset"),
    ] {
        testing::mock_http("POST", ISSUE_URL, response);
        let delivery = testing::deliver::<JiraLinker>(&created("Access"));
        assert!(delivery.result.is_ok());
        assert_eq!(delivery.logs.last().unwrap().level, Level::Error);
        assert!(delivery.custom_fields.is_empty());
    }
}

#[test]
fn a_public_reply_becomes_a_comment_on_the_linked_issue() {
    let url = "https://example.atlassian.net/rest/api/2/issue/OPS-42/comment";
    testing::mock_http("POST", url, MockResponse::status(201, r#"{"id":"10100"}"#));
    let delivery = testing::deliver::<JiraLinker>(&payload(
        EventKind::TicketReplyAdded,
        config(),
        json!({ "custom_fields": { "jira_key": "OPS-42" } }),
        json!({}),
    ));
    assert!(delivery.result.is_ok(), "{:?}", delivery.result);
    assert_eq!(delivery.http.len(), 1);
    assert_eq!(delivery.http[0].url, url);
    let body: Value = serde_json::from_str(delivery.http[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "body": "Riley Chen replied on help desk ticket [01JQXYZ8K2M4N6P8R0T2V4W6Y8|https://helpdesk.example.com/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8]:\n\n{quote}Thanks Sam, a replacement is on its way.{quote}" })
    );
}

#[test]
fn internal_replies_and_unlinked_tickets_are_not_copied() {
    for (fields, data) in [
        (
            json!({ "jira_key": "OPS-42" }),
            json!({ "is_internal": true }),
        ),
        (json!({}), json!({})),
    ] {
        let delivery = testing::deliver::<JiraLinker>(&payload(
            EventKind::TicketReplyAdded,
            config(),
            json!({ "custom_fields": fields }),
            data,
        ));
        assert!(delivery.result.is_ok());
        assert!(delivery.http.is_empty());
    }
}

#[test]
fn a_tampered_issue_key_never_reaches_a_url() {
    let delivery = testing::deliver::<JiraLinker>(&payload(
        EventKind::TicketReplyAdded,
        config(),
        json!({ "custom_fields": { "jira_key": "../../admin" } }),
        json!({}),
    ));
    assert!(
        delivery
            .result
            .unwrap_err()
            .message()
            .contains("not a JIRA issue key")
    );
    assert!(delivery.http.is_empty());
    assert!(is_issue_key("OPS-1") && is_issue_key("A1_B-20"));
    assert!(
        !is_issue_key("ops-1")
            && !is_issue_key("OPS-")
            && !is_issue_key("-1")
            && !is_issue_key("OPS1")
    );
}

#[test]
fn the_panel_searches_for_the_ticket_label() {
    let panel = testing::render_panel::<JiraLinker>("01JQXYZ8K2M4N6P8R0T2V4W6Y8");
    assert_eq!(
        panel.result.unwrap(),
        "https://example.atlassian.net/issues/?jql=labels%20%3D%20%22ohd-01JQXYZ8K2M4N6P8R0T2V4W6Y8%22"
    );
    assert_eq!(ticket_label("a b/c"), "ohd-a-b-c");
    assert!(testing::render_panel::<JiraLinker>(" ").result.is_err());
}

#[test]
fn summaries_are_one_line_within_jira_s_limit() {
    assert_eq!(issue_summary("  VPN\n drops\tagain "), "VPN drops again");
    let long = issue_summary(&"x".repeat(300));
    assert_eq!(long.chars().count(), 255);
    assert!(long.ends_with('…'));
}

#[test]
fn events_outside_the_manifest_are_not_delivered() {
    // The host does not run the plugin on them, and neither does the stand-in.
    for kind in EventKind::ALL {
        if matches!(kind, EventKind::TicketCreated | EventKind::TicketReplyAdded) {
            continue;
        }
        let expected = format!("does not subscribe to `{kind}`");
        let delivery = testing::deliver::<JiraLinker>(&payload(
            kind,
            config(),
            json!({ "category": "Software", "custom_fields": { "jira_key": "OPS-42" } }),
            json!({}),
        ));
        let refusal = delivery.result.expect_err("not subscribed");
        assert!(
            refusal.message().contains(&expected),
            "{}",
            refusal.message()
        );
        assert!(delivery.http.is_empty());
    }
}
