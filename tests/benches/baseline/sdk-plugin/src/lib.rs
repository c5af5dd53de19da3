//! The baseline handler of `../raw-plugin` written as a plugin author would with the
//! SDK: `#[plugin]` decodes the payload into `Event<'_, Config>` and `info!` is the one
//! `ohd_log` call. The manifest comes from `Cargo.toml`.

use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
pub struct Config {
    webhook_url: String,
    channel: String,
}

#[derive(Default)]
pub struct Baseline;

#[plugin]
impl Plugin for Baseline {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        info!(
            "[{}] {} ({}) {} -> {} via {}",
            event.name(),
            event.ticket.subject,
            event.ticket.status,
            event.ticket.url,
            event.config.channel,
            event.config.webhook_url
        );
        Ok(())
    }
}
