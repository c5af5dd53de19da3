#![deny(unsafe_code, missing_docs, unreachable_pub)]
//! A raw plugin in a crate that denies unsafe code: the generated exports stay allowed.

use otai_plugin_sdk::prelude::*;

/// The plugin.
#[derive(Default)]
pub struct Minimal;

#[plugin(cargo_toml = "../../fixtures/good.toml")]
impl RawPlugin for Minimal {
    fn on_event(&mut self, event: RawEvent<'_>) -> Result<()> {
        info!("received {}", event.name().unwrap_or("?"));
        Ok(())
    }

    fn render_panel(&mut self, _ticket_id: &str) -> Result<String> {
        Ok("https://panel.example.com/".to_owned())
    }
}

fn main() {}
