//! `Manifest::validate_config` and the redaction of secrets.

use otai_plugin_abi::manifest::{ConfigValue, Manifest};
use serde_json::{Value, json};

const SECRET: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

fn manifest() -> Manifest {
    // Written as text: `json!` would sort the keys, and their order is the form's order.
    Manifest::from_json(
        br##"{
            "id": "com.example.x", "name": "X", "version": "1.0.0", "description": "d",
            "events": ["ticket.created"],
            "config_schema": {
                "webhook_url": {"type": "string", "label": "Webhook URL", "required": true, "secret": true},
                "channel": {"type": "string", "default": "#support"},
                "mention": {"type": "boolean", "default": false},
                "retries": {"type": "integer"},
                "priority": {"type": "select", "options": ["low", "high"], "default": "low"}
            }
        }"##,
    )
    .unwrap()
}

fn errors(values: Value) -> Vec<String> {
    manifest()
        .validate_config(&values)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn fills_defaults_in_schema_order_and_keeps_types() {
    let config = manifest()
        .validate_config(&json!({"webhook_url": SECRET, "retries": -3, "priority": "high"}))
        .unwrap();
    let keys: Vec<_> = config.iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        ["webhook_url", "channel", "mention", "retries", "priority"]
    );
    assert_eq!(
        config.get("channel"),
        Some(&ConfigValue::String("#support".into()))
    );
    assert_eq!(config.get("mention"), Some(&ConfigValue::Boolean(false)));
    assert_eq!(config.get("retries"), Some(&ConfigValue::Integer(-3)));
    assert_eq!(
        config.get("priority"),
        Some(&ConfigValue::Select("high".into()))
    );
    assert!(
        matches!(config.get("webhook_url"), Some(ConfigValue::Secret(s)) if s.expose() == SECRET)
    );
    assert!(!config.is_empty());
    let none = otai_plugin_abi::manifest::Manifest::from_json(
        br#"{"id":"com.example.x","name":"X","version":"1.0.0","description":"d","events":["ticket.created"]}"#,
    )
    .unwrap()
    .validate_config(&json!({}))
    .unwrap();
    assert!(none.is_empty());
}

#[test]
fn payload_json_has_secrets_decrypted() {
    let config = manifest()
        .validate_config(&json!({"webhook_url": SECRET}))
        .unwrap();
    assert_eq!(
        config.to_payload_json(),
        json!({"webhook_url": SECRET, "channel": "#support", "mention": false, "priority": "low"})
    );
    assert_eq!(config.secret_values().collect::<Vec<_>>(), [SECRET]);
}

#[test]
fn empty_secrets_are_not_listed_for_redaction() {
    let config = manifest()
        .validate_config(&json!({"webhook_url": ""}))
        .unwrap();
    assert_eq!(config.secret_values().count(), 0);
}

#[test]
fn debug_and_display_never_show_a_secret() {
    let config = manifest()
        .validate_config(&json!({"webhook_url": SECRET}))
        .unwrap();
    for shown in [
        format!("{config:?}"),
        format!("{config}"),
        format!("{:?}", config.get("webhook_url")),
    ] {
        assert!(!shown.contains("XXXXSECRET"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
    assert_eq!(
        config.to_string(),
        r##"{"webhook_url": [redacted], "channel": "#support", "mention": false, "priority": "low"}"##
    );
}

#[test]
fn errors_never_show_a_secret_even_of_the_wrong_type() {
    for bad in [json!(["XXXXSECRET"]), json!({"url": "XXXXSECRET"})] {
        let err = manifest()
            .validate_config(&json!({"webhook_url": bad}))
            .unwrap_err();
        for shown in [format!("{err:?}"), format!("{err}")] {
            assert!(!shown.contains("XXXXSECRET"), "{shown}");
        }
        assert!(
            err.to_string()
                .contains("error: webhook_url: the value must be a string, found"),
            "{err}"
        );
    }
    // A misspelt key may hold a secret: its value is not shown either.
    let err = manifest()
        .validate_config(&json!({"webhook_url": "x", "webhok_url": "XXXXSECRET"}))
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("XXXXSECRET"));
}

#[test]
fn values_must_be_an_object() {
    assert_eq!(
        errors(json!(["a"])),
        ["error: the config must be a JSON object of field names to values, found an array"]
    );
}

#[test]
fn missing_required_is_an_error_and_null_means_unset() {
    assert_eq!(
        errors(json!({})),
        ["error: webhook_url: `webhook_url` (Webhook URL) is required; set a value"]
    );
    assert_eq!(errors(json!({"webhook_url": null})).len(), 1);
    let config = manifest()
        .validate_config(&json!({"webhook_url": "u", "channel": null}))
        .unwrap();
    assert_eq!(
        config.get("channel"),
        Some(&ConfigValue::String("#support".into()))
    );
}

#[test]
fn wrong_types_are_errors_naming_the_key() {
    assert_eq!(
        errors(
            json!({"webhook_url": "u", "channel": 5, "mention": "yes", "retries": 1.5, "priority": "urgent"})
        ),
        [
            "error: channel: the value must be a string, found a number",
            "error: mention: the value must be `true` or `false`, found a string",
            "error: retries: the value must be a whole number",
            r#"error: priority: the value "urgent" is not one of the options "low", "high""#,
        ]
    );
    assert_eq!(
        errors(json!({"webhook_url": "u", "retries": 9_223_372_036_854_775_808_u64})),
        ["error: retries: the value is out of range: integers are 64-bit signed"]
    );
}

#[test]
fn unknown_keys_are_errors_with_a_suggestion() {
    assert_eq!(
        errors(json!({"webhook_url": "u", "chanel": "#x", "zzz": 1})),
        [
            r#"error: chanel: unknown config key "chanel"; did you mean "channel"?"#,
            r#"error: zzz: unknown config key "zzz"; the plugin's config keys are "webhook_url", "channel", "mention", "retries", "priority""#,
        ]
    );
    let bare = Manifest::from_json(
        br#"{"id":"a.b","name":"n","version":"1.0.0","description":"d","events":[]}"#,
    )
    .unwrap();
    let err = bare.validate_config(&json!({"x": 1})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "error: x: unknown config key \"x\"; this plugin has no config; remove it\n"
    );
}

#[test]
fn a_value_over_its_limit_is_refused_by_name_and_size_never_quoted() {
    use otai_plugin_abi::limits::MAX_CONFIG_VALUE;
    let at_limit = "S".repeat(MAX_CONFIG_VALUE);
    manifest()
        .validate_config(&json!({"webhook_url": at_limit}))
        .unwrap();
    let over = format!("XXXXSECRET{}", "S".repeat(MAX_CONFIG_VALUE));
    let err = manifest()
        .validate_config(&json!({"webhook_url": over, "channel": over, "retries": over}))
        .unwrap_err();
    let n = over.len();
    let limit = "a config value may be at most 16 KiB (16384 bytes)";
    assert_eq!(
        err.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            format!("error: webhook_url: the value is {n} bytes long; {limit}"),
            format!("error: channel: the value is {n} bytes long; {limit}"),
            format!("error: retries: the value is {n} bytes long; {limit}"),
        ]
    );
    assert!(!format!("{err} {err:?}").contains("XXXXSECRET"));
}

#[test]
fn a_default_over_the_value_limit_is_a_manifest_error() {
    let big = "d".repeat(otai_plugin_abi::limits::MAX_CONFIG_VALUE + 1);
    let m = Manifest::from_json(
        format!(
            r#"{{"id":"com.example.x","name":"X","version":"1.0.0","description":"d","events":["ticket.created"],
               "config_schema":{{"channel":{{"type":"string","default":"{big}"}}}}}}"#
        )
        .as_bytes(),
    )
    .unwrap();
    let diagnostics = m.validate();
    assert!(
        diagnostics.iter().any(|d| d.path == "config_schema.channel.default"
            && d.message == "the default is 16385 bytes long; a config value may be at most 16 KiB (16384 bytes)"),
        "{diagnostics}"
    );
}

#[test]
fn a_config_over_its_limit_is_refused_naming_its_largest_values() {
    use otai_plugin_abi::limits::{MAX_CONFIG, MAX_CONFIG_VALUE};
    let keys = ["a", "b", "c", "d", "e"];
    let schema: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| (k.to_string(), json!({"type": "string", "secret": true})))
        .collect();
    let m = Manifest::from_json(
        json!({"id":"com.example.x","name":"X","version":"1.0.0","description":"d",
               "events":["ticket.created"],"config_schema": schema})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    // Each value within its own limit; together over the config's.
    let value = |len: usize| format!("XXXXSECRET{}", "v".repeat(len - 10));
    let mut values = serde_json::Map::new();
    for (i, k) in keys.iter().enumerate() {
        values.insert(k.to_string(), json!(value(MAX_CONFIG_VALUE - 100 - i)));
    }
    let sent = Value::Object(values.clone());
    let total = sent.to_string().len();
    assert!(total > MAX_CONFIG);
    let err = m.validate_config(&sent).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "error: the config is {total} bytes as the plugin receives it (JSON, defaults included); \
             a config may be at most 64 KiB (65536 bytes). The largest values: `a` ({} bytes), \
             `b` ({} bytes), `c` ({} bytes)\n",
            MAX_CONFIG_VALUE - 98,
            MAX_CONFIG_VALUE - 99,
            MAX_CONFIG_VALUE - 100
        )
    );
    assert!(!format!("{err:?}").contains("XXXXSECRET"));
    // One value fewer fits.
    values.remove("e");
    m.validate_config(&Value::Object(values)).unwrap();
}

#[test]
fn a_long_unknown_key_is_not_echoed_whole() {
    let key = "k".repeat(1 << 20);
    let err = manifest()
        .validate_config(&json!({"webhook_url": "u", key: 1}))
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.len() < 400, "{shown}");
    assert!(
        shown.contains("unknown config key of 1048576 bytes, starting \"kkkk"),
        "{shown}"
    );
}
