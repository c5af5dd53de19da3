//! The plugin of docs/CONFIG.md: its code blocks are quoted from this file (without the
//! `cargo_toml` arguments the UI tests need), and tests/tests/config_guide.rs in the
//! workspace checks that they are.
use otai_plugin_sdk::config::{KeyValues, List};
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config_guide.toml")]
struct Config {
    webhook_url: String,
    team_map: KeyValues,
    channels: Option<List>,
    max_notes: u8,
    severity: Severity,
    dry_run: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Severity {
    Critical,
    Warning,
}

#[derive(Default)]
struct Triage;

#[plugin(cargo_toml = "../../fixtures/config_guide.toml")]
impl Plugin for Triage {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        let config = &event.config;
        let category = event.ticket.category.as_deref().unwrap_or_default();
        if let Some(team) = config.team_map.get_ignore_ascii_case(category) {
            ticket::set_custom_field(&event.ticket.id, "team", team)?;
        }
        for channel in config.channels.iter().flat_map(List::iter) {
            info!("notifying {channel}");
        }
        let _ = (&config.webhook_url, config.max_notes, &config.severity, config.dry_run);
        Ok(())
    }
}

fn main() {
    use otai_plugin_sdk::serde_json::json;
    use otai_plugin_sdk::testing;

    let payload = |config| testing::payload(EventKind::TicketCreated, config);
    let d = testing::deliver::<Triage>(&payload(json!({
        "webhook_url": "https://hooks.example.com/T0",
        "team_map": "Hardware=desk-side, Network=it-ops",
        "channels": "#ops, #support",
    })));
    assert!(d.result.is_ok(), "{:?}", d.result);
    // The sample ticket's category is `Hardware`.
    assert_eq!(d.custom_fields[0].value, "desk-side");
    assert_eq!(d.logs[1].message, "notifying #support");

    let d = testing::deliver::<Triage>(&payload(json!({
        "webhook_url": "https://hooks.example.com/T0",
        "team_map": "Billing=finance, Network",
    })));
    let err = d.result.unwrap_err();
    assert!(
        err.message().starts_with(
            "invalid event payload: config: team_map: entry 2 (column 18) has no `=`: write `key=value` at byte "
        ),
        "{err}"
    );
}
