//! The traits a plugin implements, under [`#[plugin]`](crate::plugin).

use serde::de::DeserializeOwned;

use crate::{Error, Event, RawEvent, Result};

/// A plugin that receives decoded events.
///
/// Implement it for a type with `Default` (the SDK builds a fresh value for every call,
/// matching the fresh instance the host creates per delivery) and put
/// [`#[plugin]`](crate::plugin) on the impl, which generates the wasm exports.
///
/// ```
/// use otai_plugin_sdk::prelude::*;
///
/// #[derive(Deserialize, Config)]
/// # #[config(cargo_toml = "../tests/fixtures/slack.toml")]
/// struct Config {
///     webhook_url: String,
/// }
///
/// #[derive(Default)]
/// struct Slack;
///
/// # #[otai_plugin_sdk::plugin(cargo_toml = "../tests/fixtures/slack.toml")]
/// impl Plugin for Slack {
///     type Config = Config;
///
///     fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
///         http::post(&event.config.webhook_url)
///             .json(&serde_json::json!({ "text": event.ticket.subject }))
///             .send()?;
///         Ok(())
///     }
/// }
/// ```
pub trait Plugin: Default {
    /// The plugin's configuration, deserialized from the payload's `config` object
    /// (whose fields are declared in `[package.metadata.ohd.config]`). Under
    /// `#[plugin]` it must derive [`Config`](macro@crate::config::Config), which checks
    /// it against that table when the crate compiles; use [`NoConfig`](crate::NoConfig)
    /// for none.
    type Config: DeserializeOwned;

    /// The manifest JSON that `#[plugin]` embeds, read by [`crate::testing`] off wasm32.
    /// Not public API: `#[plugin]` defines it.
    #[doc(hidden)]
    const __OHD_MANIFEST: &'static str = "";

    /// Handles one event. An `Err` is logged at error level and fails the delivery
    /// (the help desk counts it against the plugin's health); so does a panic.
    ///
    /// # Errors
    /// Whatever the plugin considers a failed delivery.
    fn on_event(&mut self, event: Event<'_, Self::Config>) -> Result<()>;

    /// Returns the URL of the ticket's UI panel (manifest `ui_panel`). Called with no
    /// event: ticket operations are not available here. Only called if the impl under
    /// `#[plugin]` defines it.
    ///
    /// # Errors
    /// Whatever the plugin considers a failed panel; the host shows no panel.
    fn render_panel(&mut self, ticket_id: &str) -> Result<String> {
        let _ = ticket_id;
        Err(Error::msg("this plugin has no UI panel"))
    }
}

/// A plugin that receives the payload's JSON bytes, undecoded: the smallest plugins.
///
/// A [`RawEvent`]'s accessors read the members a handler asks for and nothing else
/// (`event.kind()?`, `event.ticket().subject()?`), so such a plugin links no decoder of
/// the whole event; the `minimal` template of `cargo otai-plugin new` is one. Take a
/// [`Plugin`] for the event decoded into types, with config.
///
/// ```
/// use otai_plugin_sdk::prelude::*;
///
/// #[derive(Default)]
/// struct Minimal;
///
/// # #[otai_plugin_sdk::plugin(cargo_toml = "../tests/fixtures/minimal.toml")]
/// impl RawPlugin for Minimal {
///     fn on_event(&mut self, event: RawEvent<'_>) -> Result<()> {
///         info!("received {}", event.name().unwrap_or("an event"));
///         Ok(())
///     }
/// }
/// ```
pub trait RawPlugin: Default {
    /// As [`Plugin::__OHD_MANIFEST`]. Not public API.
    #[doc(hidden)]
    const __OHD_MANIFEST: &'static str = "";

    /// Handles one event. An `Err` is logged at error level and fails the delivery.
    ///
    /// # Errors
    /// Whatever the plugin considers a failed delivery.
    fn on_event(&mut self, event: RawEvent<'_>) -> Result<()>;

    /// As [`Plugin::render_panel`].
    ///
    /// # Errors
    /// Whatever the plugin considers a failed panel.
    fn render_panel(&mut self, ticket_id: &str) -> Result<String> {
        let _ = ticket_id;
        Err(Error::msg("this plugin has no UI panel"))
    }
}
