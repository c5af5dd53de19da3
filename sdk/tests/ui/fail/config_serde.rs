//! serde attributes: renames are followed, what cannot be seen through is refused.
use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
#[serde(rename_all = "camelCase")]
struct Camel {
    webhook_url: String,
}

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
struct Renamed {
    #[serde(rename = "webhook")]
    url: String,
    #[serde(rename(deserialize = "webhook_url"))]
    hook: String,
    #[serde(alias = "mention")]
    mention_on_critical: bool,
    #[serde(flatten)]
    rest: Rest,
}

#[derive(Deserialize)]
struct Rest {
    retries: i64,
}

#[derive(Deserialize, Config)]
#[config(cargo_toml = "../../fixtures/config.toml")]
#[serde(from = "Camel")]
struct Converted {
    webhook_url: String,
}

impl From<Camel> for Converted {
    fn from(c: Camel) -> Self {
        Converted { webhook_url: c.webhook_url }
    }
}

fn main() {}
