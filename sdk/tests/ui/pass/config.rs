//! Every form `#[derive(Config)]` accepts, and what the plugin then reads.
use std::borrow::Cow;

use otai_plugin_sdk::config::{KeyValues, List};
use otai_plugin_sdk::prelude::*;
use otai_plugin_sdk::serde_json::json;
use otai_plugin_sdk::testing;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
#[serde(rename_all = "snake_case")]
struct Config {
    #[serde(rename = "webhook_url")]
    webhook: Cow<'static, str>,
    // A defaulted field is always sent: a plain type, no serde default.
    mention_on_critical: bool,
    retries: i64,
    severity: Severity,
    team_map: KeyValues,
    // Optional fields: `Option`, or a serde default.
    channels: Option<List>,
    #[serde(default)]
    max_age_days: u32,
    // Not read from the config.
    #[serde(skip)]
    _cache: Vec<String>,
}

#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Severity {
    Critical,
    Warning,
}

/// Only the keys it reads; the key of a `deserialize_with` field is checked, not its
/// type.
#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
struct Partial {
    webhook_url: String,
    #[serde(deserialize_with = "days")]
    max_age_days: Option<std::time::Duration>,
}

fn days<'de, D: otai_plugin_sdk::serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<std::time::Duration>, D::Error> {
    let days = Option::<u64>::deserialize(d)?;
    Ok(days.map(|d| std::time::Duration::from_secs(d * 86_400)))
}

#[derive(Default)]
struct Triage;

#[plugin(cargo_toml = "../../fixtures/config.toml")]
impl Plugin for Triage {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        let c = &event.config;
        let channels = c.channels.as_ref().map_or(0, List::len);
        info!(
            "{} {} {} {:?} {} {} {}",
            c.webhook.len(),
            c.mention_on_critical,
            c.retries,
            c.severity,
            c.team_map.get("Network").unwrap_or("-"),
            channels,
            c.max_age_days,
        );
        Ok(())
    }
}

#[derive(Default)]
struct Minimal;

#[plugin(cargo_toml = "../../fixtures/config.toml")]
impl Plugin for Minimal {
    type Config = Partial;

    fn on_event(&mut self, event: Event<'_, Partial>) -> Result<()> {
        info!("{:?}", event.config.max_age_days);
        Ok(())
    }
}

/// `NoConfig` where no config field is required.
#[derive(Default)]
struct Plain;

#[plugin(cargo_toml = "../../fixtures/no_config.toml")]
impl Plugin for Plain {
    type Config = NoConfig;

    fn on_event(&mut self, _event: Event<'_, NoConfig>) -> Result<()> {
        Ok(())
    }
}

fn main() {
    let payload = |config| testing::payload(EventKind::TicketCreated, config);

    // The stand-in fills in the defaults as the host does.
    let d = testing::deliver::<Triage>(&payload(json!({ "webhook_url": "https://h/x" })));
    assert!(d.result.is_ok(), "{:?}", d.result);
    assert_eq!(d.logs[0].message, "11 false 1000 Critical it-ops 0 0");

    let d = testing::deliver::<Triage>(&payload(json!({
        "webhook_url": "https://h/x",
        "channels": "#ops, #support",
        "max_age_days": 7,
    })));
    assert_eq!(d.logs[0].message, "11 false 1000 Critical it-ops 2 7");

    // Text that does not parse fails the delivery, naming the field and the place.
    let d = testing::deliver::<Triage>(&payload(json!({
        "webhook_url": "https://h/x",
        "team_map": "Billing=finance, Network",
    })));
    let err = d.result.unwrap_err().to_string();
    assert!(
        err.starts_with(
            "invalid event payload: config: team_map: entry 2 (column 18) has no `=`: write `key=value` at byte "
        ),
        "{err}"
    );

    let d = testing::deliver::<Minimal>(&payload(json!({ "webhook_url": "u", "max_age_days": 1 })));
    assert_eq!(d.logs[0].message, "Some(86400s)");
    assert!(testing::deliver::<Plain>(&payload(json!({}))).result.is_ok());
}
