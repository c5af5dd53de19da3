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
