use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/good.toml")]
struct Config {
    token: String,
}

#[derive(Default)]
struct Panel;

#[plugin(cargo_toml = "../../fixtures/good.toml")]
impl Plugin for Panel {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        info!("{} for {}", event.name(), event.config.token.len());
        Ok(())
    }

    fn render_panel(&mut self, ticket_id: &str) -> Result<String> {
        Ok(format!("https://panel.example.com/t/{ticket_id}"))
    }
}

fn main() {
    let payload = otai_plugin_sdk::testing::payload(
        EventKind::TicketCreated,
        otai_plugin_sdk::serde_json::json!({ "token": "s3cret" }),
    );
    assert!(otai_plugin_sdk::testing::deliver::<Panel>(&payload).result.is_ok());
    let panel = otai_plugin_sdk::testing::render_panel::<Panel>("T-1");
    assert_eq!(panel.result.unwrap(), "https://panel.example.com/t/T-1");
}
