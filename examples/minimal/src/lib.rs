//! The smallest useful plugin: one log line per ticket event.
//!
//! It implements [`RawPlugin`], so the payload is never decoded: the SDK finds the
//! event name with a small scan, and the module stays a few kilobytes.
//!
//! Build: `cargo build -p ohd-example-minimal --release --target wasm32-unknown-unknown`.

use otai_plugin_sdk::prelude::*;

/// The plugin. The SDK creates one with `Default` for every event.
#[derive(Default)]
pub struct Minimal;

#[plugin]
impl RawPlugin for Minimal {
    fn on_event(&mut self, event: RawEvent<'_>) -> Result<()> {
        info!("received {}", event.name().unwrap_or("an unknown event"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_sdk::EventKind;
    use otai_plugin_sdk::log::Level;
    use otai_plugin_sdk::testing;

    use super::*;

    #[test]
    fn logs_one_info_line_per_event() {
        for kind in EventKind::ALL {
            let payload = testing::payload(kind.clone(), serde_json_free_config());
            let delivery = testing::deliver_raw::<Minimal>(&payload);
            assert!(delivery.result.is_ok());
            assert_eq!(delivery.logs.len(), 1);
            assert_eq!(delivery.logs[0].level, Level::Info);
            assert_eq!(
                delivery.logs[0].message,
                format!("received {}", kind.as_str())
            );
        }
    }

    fn serde_json_free_config() -> otai_plugin_sdk::serde_json::Value {
        otai_plugin_sdk::serde_json::Value::Object(Default::default())
    }
}
