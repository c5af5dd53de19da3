//! Plugins under `#[plugin]` run natively against the stand-in host of
//! `otai_plugin_sdk::testing`, with the host's observable behaviour.

use otai_plugin_sdk::log::Level;
use otai_plugin_sdk::prelude::*;
use otai_plugin_sdk::serde_json::json;
use otai_plugin_sdk::testing::{self, MockResponse};

#[derive(Deserialize, Config)]
#[config(cargo_toml = "fixtures/slack.toml")]
struct Config {
    webhook_url: String,
}

#[derive(Default)]
struct Slack;

#[plugin(cargo_toml = "fixtures/slack.toml")]
impl Plugin for Slack {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        match http::post(&event.config.webhook_url).body("hi").send() {
            Ok(r) => info!("status {}", r.status()),
            Err(HttpError::NotAllowed { host, .. }) => warn!("denied {host}"),
            Err(other) => return Err(other.into()),
        }
        Ok(())
    }
}

const HOOK: &str = "https://hooks.slack.com/services/x";

fn payload(kind: EventKind) -> String {
    testing::payload(kind, json!({ "webhook_url": HOOK }))
}

#[test]
fn scripted_responses_and_host_errors_reach_the_plugin() {
    testing::mock_http("POST", HOOK, MockResponse::status(403, "server says no"));
    let d = testing::deliver::<Slack>(&payload(EventKind::TicketCreated));
    d.result.unwrap();
    assert_eq!(
        d.logs[0].message, "status 403",
        "a server's 403 is a response"
    );

    testing::mock_http("POST", HOOK, MockResponse::not_allowed("hooks.slack.com"));
    let d = testing::deliver::<Slack>(&payload(EventKind::TicketCreated));
    assert_eq!(d.logs[0].message, "denied hooks.slack.com");
    assert_eq!(d.logs[0].level, Level::Warn);

    testing::mock_http("POST", HOOK, MockResponse::timeout());
    let d = testing::deliver::<Slack>(&payload(EventKind::TicketCreated));
    assert!(
        d.result
            .unwrap_err()
            .message()
            .starts_with("HTTP request timed out")
    );
}

#[test]
fn hosts_outside_the_manifests_allowed_hosts_are_refused_as_the_host_does() {
    // The manifest (fixtures/slack.toml) allows only hooks.slack.com: a script for
    // another host is never consulted, the stand-in refuses first, as the host would.
    let elsewhere = "https://hooks.slack.com.evil.example/x";
    testing::mock_http("POST", elsewhere, MockResponse::ok("sent"));
    let d = testing::deliver::<Slack>(&testing::payload(
        EventKind::TicketCreated,
        json!({ "webhook_url": elsewhere }),
    ));
    d.result.unwrap();
    assert_eq!(d.logs[0].message, "denied hooks.slack.com.evil.example");
    assert_eq!(d.http.len(), 1, "a refused request is still recorded");

    // Outside `deliver` the manifest is unknown, and the stand-in lets the host through.
    let (status, body) = testing::host_calls::http_request(
        br#"{"method":"POST","url":"https://hooks.slack.com.evil.example/x"}"#,
    );
    assert_eq!((status, body.as_slice()), (200, b"sent".as_slice()));
    testing::set_allowed_hosts(Some(&["hooks.slack.com"]));
    let (status, _) = testing::host_calls::http_request(
        br#"{"method":"POST","url":"https://hooks.slack.com.evil.example/x"}"#,
    );
    assert_eq!(status, 403);
}

#[test]
fn unscripted_requests_fail_with_a_network_error_naming_them() {
    let d = testing::deliver::<Slack>(&payload(EventKind::TicketCreated));
    let err = d.result.unwrap_err();
    assert!(
        err.message()
            .contains("no mock matched `POST https://hooks.slack.com/services/x`: add one with `testing::mock_http`"),
        "{err}"
    );
    assert_eq!(d.http.len(), 1);
    assert_eq!(d.http[0].body.as_deref(), Some("hi"));
}

#[test]
fn config_that_does_not_fit_fails_the_delivery_naming_the_field() {
    let d = testing::deliver::<Slack>(&testing::payload(EventKind::TicketCreated, json!({})));
    let err = d.result.unwrap_err();
    assert!(
        err.message()
            .starts_with("invalid event payload: config: missing field `webhook_url` at byte "),
        "{err}"
    );
}

#[derive(Default)]
struct Ops;

#[plugin(cargo_toml = "fixtures/slack.toml")]
impl RawPlugin for Ops {
    fn on_event(&mut self, event: RawEvent<'_>) -> Result<()> {
        let id = event.decode::<NoConfig>()?.ticket.id;
        ticket::set_custom_field(&id, "k", "v")?;
        ticket::add_reply(&id, "note", true)?;
        match ticket::add_reply("another-ticket", "x", false) {
            Err(TicketError::WrongTicket) => {}
            other => panic!("expected WrongTicket, got {other:?}"),
        }
        assert_eq!(
            ticket::add_reply(&id, "", false),
            Err(TicketError::InvalidRequest)
        );
        assert_eq!(
            ticket::set_custom_field(&id, "", "v"),
            Err(TicketError::InvalidRequest)
        );
        assert_eq!(
            ticket::set_custom_field(&id, &"k".repeat(129), "v"),
            Err(TicketError::TooLarge)
        );
        assert_eq!(
            ticket::set_custom_field(&id, "k", &"v".repeat(4097)),
            Err(TicketError::TooLarge)
        );
        assert_eq!(
            ticket::add_reply(&id, &"b".repeat(70_000), false),
            Err(TicketError::TooLarge)
        );
        Ok(())
    }

    fn render_panel(&mut self, ticket_id: &str) -> Result<String> {
        ticket::add_reply(ticket_id, "from the panel", false)?;
        Ok(String::new())
    }
}

#[test]
fn ticket_operations_get_the_hosts_status_codes() {
    let d = testing::deliver_raw::<Ops>(&payload(EventKind::TicketCreated));
    d.result.unwrap();
    assert_eq!(d.custom_fields.len(), 1);
    assert_eq!(d.replies.len(), 1);
    assert!(d.replies[0].is_internal);
    assert_eq!(d.replies[0].ticket_id, testing::TICKET_ID);
}

#[test]
fn ticket_operations_are_not_available_in_render_panel() {
    let panel = testing::render_panel_raw::<Ops>(testing::TICKET_ID);
    assert_eq!(
        panel.result.unwrap_err().message(),
        "ticket operations are available only during `on_event`, not `render_panel`"
    );
    assert!(panel.replies.is_empty());
}

#[test]
fn every_sample_payload_decodes_with_its_data() {
    for kind in EventKind::ALL {
        let json = payload(kind.clone());
        let event = Event::<NoConfig>::from_json(json.as_bytes()).unwrap();
        assert_eq!(event.kind, kind);
        let has_data = !matches!(event.data, EventData::None);
        let expects_data = !matches!(kind, EventKind::TicketCreated | EventKind::TicketClosed);
        assert_eq!(has_data, expects_data, "{kind}");
    }
}

#[test]
fn log_macros_send_one_line_per_call_at_their_level() {
    let n = 3;
    otai_plugin_sdk::debug!("a");
    otai_plugin_sdk::info!("b {n}");
    otai_plugin_sdk::warn!("c\nstill c");
    otai_plugin_sdk::error!("{}-{}", "d", n);
    let logs = testing::recorded().logs;
    let got: Vec<_> = logs.iter().map(|l| (l.level, l.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (Level::Debug, "a"),
            (Level::Info, "b 3"),
            (Level::Warn, "c\nstill c"),
            (Level::Error, "d-3")
        ]
    );
}

/// Reads `channel`, which the manifest defaults to `#support`, as a plain `String`.
#[derive(Deserialize, Config)]
#[config(cargo_toml = "fixtures/slack.toml")]
struct WithChannel {
    #[serde(rename = "webhook_url")]
    _webhook_url: String,
    channel: String,
}

#[derive(Default)]
struct Channel;

#[plugin(cargo_toml = "fixtures/slack.toml")]
impl Plugin for Channel {
    type Config = WithChannel;

    fn on_event(&mut self, event: Event<'_, WithChannel>) -> Result<()> {
        info!("channel {}", event.config.channel);
        Ok(())
    }
}

#[test]
fn deliver_fills_in_the_manifests_defaults_as_the_host_does() {
    for config in [
        json!({ "webhook_url": HOOK }),
        json!({ "webhook_url": HOOK, "channel": null }),
    ] {
        let d = testing::deliver::<Channel>(&testing::payload(EventKind::TicketCreated, config));
        d.result.unwrap();
        assert_eq!(d.logs[0].message, "channel #support");
    }
    let given = json!({ "webhook_url": HOOK, "channel": "#ops" });
    let d = testing::deliver::<Channel>(&testing::payload(EventKind::TicketCreated, given));
    assert_eq!(d.logs[0].message, "channel #ops");
}
