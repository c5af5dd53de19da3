//! The work every example plugin is measured (`benches/examples.rs`) and tested
//! (`tests/examples.rs`) with: the config each needs, a mock answering its requests, and
//! a ~2 KB `ticket.created` that makes each do its whole work.

use otai_plugin_host::Event;
use otai_plugin_host::http::MockHttp;
use serde_json::{Value, json};

/// The config each example needs and a mock answering its requests as the real
/// service does (the answers of the examples' own fixtures).
pub(crate) fn setup(name: &str) -> (Value, MockHttp, usize) {
    match name {
        "slack-notifications" => (
            json!({
                "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
                "channel": "#support",
                "mention_on_critical": true
            }),
            MockHttp::new()
                .on("POST", "https://hooks.slack.com/services/T000/B000/XXXX")
                .respond(200, "ok"),
            1,
        ),
        "pagerduty" => (
            json!({ "routing_key": "R0UT1NGKEY0000000000000000000001" }),
            MockHttp::new()
                .on("POST", "https://events.pagerduty.com/v2/enqueue")
                .respond(
                    202,
                    r#"{"status":"success","message":"Event processed","dedup_key":"ohd-T-1"}"#,
                ),
            1,
        ),
        "jira-linker" => (
            json!({
                "email": "agent@example.com",
                "api_token": "s3cr3t-t0ken",
                "project_key": "OPS"
            }),
            MockHttp::new()
                .on("POST", "https://example.atlassian.net/rest/api/2/issue")
                .respond(
                    201,
                    r#"{"id":"10042","key":"OPS-42","self":"https://example.atlassian.net/rest/api/2/issue/10042"}"#,
                ),
            1,
        ),
        _ => (json!({}), MockHttp::new(), 0),
    }
}

/// The ~2 KB `ticket.created` of the reference docs, with a 1.5 KB description; Critical
/// and in a category the JIRA example links, so every example does its full work.
pub(crate) fn event_2k() -> Event {
    Event::ticket_created()
        .description(&description())
        .priority("Critical")
        .category("Software")
}

/// A 1,500-byte ticket description.
pub(crate) fn description() -> String {
    let mut text = "The laptop was stolen from the car park on Tuesday evening. ".repeat(25);
    text.truncate(1500);
    text
}
