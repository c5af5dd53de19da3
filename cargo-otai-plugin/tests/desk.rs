//! `cargo otai-plugin desk`: the lifecycle from the command line, over a data directory.

mod support;

use std::path::Path;

use otai_plugin_test_support::{HTTP, LOG, Module};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::{Value, json};
use support::{desk, new_key};

fn module(version: &str, hosts: &[&str]) -> Vec<u8> {
    module_with(
        version,
        hosts,
        json!({"token": {"type": "string", "required": true, "secret": true},
               "retries": {"type": "integer"}}),
        "(call $log (local.get $p) (local.get $n) (i32.const 1))",
    )
}

/// The plugin with another config schema and another `on_event` body.
fn module_with(version: &str, hosts: &[&str], schema: Value, on_event: &str) -> Vec<u8> {
    let manifest = json!({
        "id": "com.example.cli-desk", "name": "CLI desk", "version": version,
        "description": "d", "events": ["ticket.created"],
        "permissions": {"http": {"allowed_hosts": hosts}},
        "config_schema": schema
    });
    Module::new()
        .import(LOG)
        .body(&format!(
            r#"(func (export "on_event") (param $p i32) (param $n i32) {on_event})"#
        ))
        .manifest(&manifest.to_string())
        .wasm()
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn the_lifecycle_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let v1 = tmp.path().join("v1.wasm");
    let v2 = tmp.path().join("v2.wasm");
    std::fs::write(&v1, module("1.0.0", &["a.example.com"])).unwrap();
    std::fs::write(&v2, module("2.0.0", &["a.example.com", "b.example.com"])).unwrap();

    desk(&data, &["install", v1.to_str().unwrap()])
        .assert()
        .success()
        .stdout(contains("allowed hosts: a.example.com"))
        .stderr(contains("Installed com.example.cli-desk 1.0.0"))
        .stderr(contains("is disabled: `token` must be configured"));
    desk(
        &data,
        &["configure", "com.example.cli-desk", "--set", "retries=many"],
    )
    .assert()
    .code(1)
    .stderr(contains("`token` is required"))
    .stderr(contains("retries"));
    desk(
        &data,
        &[
            "configure",
            "com.example.cli-desk",
            "--set-from-env",
            "token=MY_TOKEN",
            "--set",
            "retries=3",
        ],
    )
    .env("MY_TOKEN", "s3cr3t-value")
    .assert()
    .success();
    let form = desk(
        &data,
        &["configure", "com.example.cli-desk", "--format", "json"],
    )
    .output()
    .unwrap();
    let form = json_of(&form);
    let field = |key: &str| {
        form.as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            field("token")["is_set"].clone(),
            field("token")["value"].clone()
        ),
        (json!(true), Value::Null)
    );
    assert!(!form.to_string().contains("s3cr3t-value"));
    assert_eq!(field("retries")["value"], 3);

    let delivered = desk(
        &data,
        &[
            "deliver",
            "ticket.created",
            "--ticket",
            "T-7",
            "--format",
            "json",
        ],
    )
    .output()
    .unwrap();
    assert!(delivered.status.success());
    let reports = json_of(&delivered);
    let logged = reports[0]["logs"][0]["message"].as_str().unwrap();
    assert!(
        logged.contains("\"token\":\"[redacted]\"") && logged.contains("T-7"),
        "{logged}"
    );

    desk(&data, &["upgrade", v2.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(contains("+ may send requests to b.example.com"))
        .stderr(contains("Run again with `--approve`"));
    desk(&data, &["upgrade", v2.to_str().unwrap(), "--approve"])
        .assert()
        .success()
        .stderr(contains("Upgraded com.example.cli-desk 1.0.0 -> 2.0.0"));
    let list = json_of(&desk(&data, &["list", "--format", "json"]).output().unwrap());
    assert_eq!(list[0]["manifest"]["version"], "2.0.0");
    assert_eq!(list[0]["enabled"], true, "the token was carried over");
    desk(&data, &["rollback", "com.example.cli-desk"])
        .assert()
        .success()
        .stderr(contains("Rolled back com.example.cli-desk to 1.0.0"));
    desk(&data, &["log", "com.example.cli-desk"])
        .assert()
        .success()
        .stdout(contains("ticket T-7: ok"));
    desk(&data, &["disable", "com.example.cli-desk"])
        .assert()
        .success();
    desk(&data, &["deliver", "ticket.created"])
        .assert()
        .success()
        .stderr(contains("no enabled plugin subscribes to `ticket.created`"));
    desk(&data, &["remove", "com.example.cli-desk"])
        .assert()
        .success();
    desk(&data, &["list"])
        .assert()
        .success()
        .stdout(contains("no plugins installed"));
}

#[test]
fn failures_name_what_is_wrong_in_json_too() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let output = desk(&data, &["enable", "com.example.none", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let failure = json_of(&output);
    assert_eq!(failure["ok"], false);
    assert!(
        failure["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no plugin `com.example.none` is installed"),
        "{failure}"
    );

    let junk = tmp.path().join("junk.wasm");
    std::fs::write(&junk, b"(module)").unwrap();
    desk(&data, &["install", junk.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(contains("the module cannot be installed"));
    let mut wrong_key = desk(&data, &["list"]);
    wrong_key.env("OTAI_DESK_KEY", "cd".repeat(32));
    wrong_key.assert().code(1).stderr(contains(
        "is not the key this desk's database was made with",
    ));
}

/// Every JSON document on stdout.
fn documents(output: &std::process::Output) -> Vec<Value> {
    serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn a_failure_the_result_reports_is_one_json_document() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let v1 = tmp.path().join("v1.wasm");
    let v2 = tmp.path().join("v2.wasm");
    let schema = json!({});
    std::fs::write(&v1, module_with("1.0.0", &[], schema.clone(), "")).unwrap();
    // Asks for a host more, and traps on every event.
    std::fs::write(
        &v2,
        module_with("2.0.0", &["b.example.com"], schema, "unreachable"),
    )
    .unwrap();
    desk(&data, &["install", v1.to_str().unwrap()])
        .assert()
        .success();

    let output = desk(
        &data,
        &["upgrade", v2.to_str().unwrap(), "--format", "json"],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let [doc] = documents(&output)
        .try_into()
        .unwrap_or_else(|docs: Vec<Value>| panic!("{} documents on stdout: {docs:?}", docs.len()));
    assert_eq!(
        (&doc["ok"], &doc["needs_approval"]),
        (&json!(false), &json!(true)),
        "{doc}"
    );

    desk(&data, &["upgrade", v2.to_str().unwrap(), "--approve"])
        .assert()
        .success();
    let output = desk(&data, &["deliver", "ticket.created", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let [doc] = documents(&output)
        .try_into()
        .unwrap_or_else(|docs: Vec<Value>| panic!("{} documents on stdout: {docs:?}", docs.len()));
    assert!(
        doc[0]["outcome"].to_string().contains("unreachable"),
        "{doc}"
    );
}

#[test]
fn configure_refuses_a_value_or_a_config_past_its_limit_without_quoting_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let wasm = tmp.path().join("wide.wasm");
    let keys = ["a", "b", "c", "d", "e"];
    let mut schema = serde_json::Map::new();
    for k in keys {
        schema.insert(k.into(), json!({"type": "string", "secret": true}));
    }
    std::fs::write(&wasm, module_with("1.0.0", &[], Value::Object(schema), "")).unwrap();
    desk(&data, &["install", wasm.to_str().unwrap()])
        .assert()
        .success();

    let secret = format!("XXXXsecretXXXX{}", "s".repeat(16 * 1024));
    desk(
        &data,
        &[
            "configure",
            "com.example.cli-desk",
            "--set",
            &format!("a={secret}"),
        ],
    )
    .assert()
    .code(1)
    .stderr(contains(format!(
        "a: the value is {} bytes long; a config value may be at most 16 KiB (16384 bytes)",
        secret.len()
    )))
    .stderr(contains("XXXXsecret").not());

    // Each value within its limit, from the environment as secrets are given; together
    // past the config's.
    let value = format!("XXXXsecretXXXX{}", "v".repeat(16 * 1024 - 100));
    let mut configure = desk(&data, &["configure", "com.example.cli-desk"]);
    for k in keys {
        configure
            .arg("--set-from-env")
            .arg(format!("{k}=VALUE"))
            .env("VALUE", &value);
    }
    configure
        .assert()
        .code(1)
        .stderr(contains(
            "a config may be at most 64 KiB (65536 bytes). The largest values: `a`",
        ))
        .stderr(contains("XXXXsecret").not());
    let form = json_of(
        &desk(
            &data,
            &["configure", "com.example.cli-desk", "--format", "json"],
        )
        .output()
        .unwrap(),
    );
    assert!(
        form.as_array()
            .unwrap()
            .iter()
            .all(|f| f["is_set"] == false),
        "a refused config was stored: {form}"
    );
}

/// `--set KEY=VALUE` is read as the web UI's form is (`Desk::configure_text`): a number
/// may have spaces around it, a boolean is `true` or `false`, and other text is refused
/// at its field with what was typed, with every other problem.
#[test]
fn set_reads_its_text_as_the_web_form_does() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let wasm = tmp.path().join("typed.wasm");
    let schema = json!({"token": {"type": "string", "required": true, "secret": true},
                        "retries": {"type": "integer"},
                        "loud": {"type": "boolean"}});
    std::fs::write(&wasm, module_with("1.0.0", &[], schema, "")).unwrap();
    desk(&data, &["install", wasm.to_str().unwrap()])
        .assert()
        .success();

    desk(
        &data,
        &[
            "configure",
            "com.example.cli-desk",
            "--set",
            "retries=three",
            "--set",
            "loud=yes",
        ],
    )
    .assert()
    .code(1)
    .stderr(contains(
        r#"retries: expected a whole number, found "three""#,
    ))
    .stderr(contains(r#"loud: expected `true` or `false`, found "yes""#))
    .stderr(contains("`token` is required"));

    desk(
        &data,
        &[
            "configure",
            "com.example.cli-desk",
            "--set-from-env",
            "token=MY_TOKEN",
            "--set",
            "retries= 4 ",
            "--set",
            "loud=true",
        ],
    )
    .env("MY_TOKEN", "s3cr3t-value")
    .assert()
    .success();
    let form = json_of(
        &desk(
            &data,
            &["configure", "com.example.cli-desk", "--format", "json"],
        )
        .output()
        .unwrap(),
    );
    let values: Vec<&Value> = form
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["value"])
        .collect();
    assert_eq!(values, [&json!(true), &json!(4), &Value::Null], "{form}");
}

fn sign(wasm: &Path, key: &Path, out: &Path) {
    support::sign(wasm, key)
        .arg("--output")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn trusted_keys_and_the_signature_rules_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let path = |name: &str| tmp.path().join(name);
    let arg = |name: &str| tmp.path().join(name).to_str().unwrap().to_owned();
    let first = new_key(&path("first"));
    let second = new_key(&path("second"));
    let fingerprint = |line: &str| {
        otai_plugin_abi::module::signature::PublicKey::from_openssh(line)
            .unwrap()
            .fingerprint()
            .to_string()
    };
    let (first_fp, second_fp) = (fingerprint(&first), fingerprint(&second));
    std::fs::write(path("v1.wasm"), module("1.0.0", &[])).unwrap();
    std::fs::write(path("v2.wasm"), module("2.0.0", &[])).unwrap();
    sign(&path("v1.wasm"), &path("first"), &path("v1-first.wasm"));
    sign(&path("v2.wasm"), &path("second"), &path("v2-second.wasm"));

    // Reading creates no desk; the first key trusted does.
    desk(&data, &["trust", "list"])
        .assert()
        .failure()
        .stderr(contains("there is no desk in"));
    // A file, then a key's text.
    desk(&data, &["trust", "add", &arg("first.pub")])
        .assert()
        .success()
        .stderr(contains(format!("Trusted {first_fp}")));
    desk(&data, &["trust", "add", second.trim()])
        .assert()
        .success();
    desk(&data, &["trust", "add", &arg("missing.pub")])
        .assert()
        .code(1)
        .stderr(contains("there is no key file"));
    let listed = desk(&data, &["--format", "json", "trust", "list"])
        .output()
        .unwrap();
    let listed = json_of(&listed);
    let fingerprints: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fingerprints.len(), 2);
    assert!(
        fingerprints.contains(&first_fp.as_str()) && fingerprints.contains(&second_fp.as_str())
    );

    desk(&data, &["install", &arg("v1.wasm")])
        .assert()
        .code(1)
        .stderr(contains("signature_missing").and(contains("--allow-unsigned")));
    desk(&data, &["install", &arg("v1-first.wasm")])
        .assert()
        .success()
        .stdout(contains(format!("signature:     signed by {first_fp}")));
    desk(&data, &["list"])
        .assert()
        .success()
        .stdout(contains(format!("signed by {first_fp}")));
    desk(&data, &["upgrade", &arg("v2-second.wasm")])
        .assert()
        .code(1)
        .stderr(
            contains(format!("1.0.0 was signed by {first_fp}"))
                .and(contains(format!("{second_fp} (valid)"))),
        );
    desk(&data, &["trust", "remove", &first_fp])
        .assert()
        .success()
        .stderr(contains(format!("Removed {first_fp}")));
    desk(&data, &["trust", "remove", &first_fp])
        .assert()
        .code(1)
        .stderr(contains("does not trust a key"));

    // With unsigned modules allowed, a desk that trusts keys installs one, as unsigned.
    let other = tmp.path().join("other");
    desk(&other, &["trust", "add", &arg("first.pub")])
        .assert()
        .success();
    desk(&other, &["install", "--allow-unsigned", &arg("v1.wasm")])
        .assert()
        .success()
        .stdout(contains("signature:     unsigned"));
}

/// A damaged entry in the desk's cache of compiled modules fails nothing: the plugin is
/// compiled again and runs, and the command says what it found, on stderr.
#[test]
fn a_damaged_compiled_module_is_said_and_fails_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let wasm = tmp.path().join("p.wasm");
    std::fs::write(&wasm, module("1.0.0", &[])).unwrap();
    desk(&data, &["install", wasm.to_str().unwrap()])
        .assert()
        .success();
    desk(
        &data,
        &["configure", "com.example.cli-desk", "--set", "token=t"],
    )
    .assert()
    .success();
    let compiled = data.join(otai_plugin_desk::COMPILED_DIR);
    for entry in std::fs::read_dir(&compiled).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).unwrap();
    }
    desk(&data, &["deliver", "ticket.created"])
        .assert()
        .success()
        .stderr(contains("the cache of compiled modules: `").and(contains("compiled again")));
    // Rewritten: the next command is silent.
    desk(&data, &["deliver", "ticket.created"])
        .assert()
        .success()
        .stderr(contains("cache of compiled modules").not());
}

/// A reading command says which desk it reads, and on a directory without one says so
/// and makes nothing there.
#[test]
fn a_reading_command_names_its_desk_and_makes_none() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nowhere");
    let reads: [&[&str]; 5] = [
        &["list"],
        &["log", "com.example.cli-desk"],
        &["configure", "com.example.cli-desk"],
        &["settings"],
        &["trust", "list"],
    ];
    for args in reads {
        desk(&missing, args)
            .assert()
            .code(1)
            .stderr(contains(format!(
                "there is no desk in `{}`: there is no such directory",
                missing.display()
            )))
            .stderr(contains(
                "a desk is made by the first command that writes \
                 (`cargo otai-plugin desk install PLUGIN.wasm`",
            ));
        assert!(!missing.exists(), "{args:?} made the directory");
    }
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    desk(&empty, &["list"])
        .assert()
        .code(1)
        .stderr(contains("it holds no desk database"));
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);

    let wasm = tmp.path().join("p.wasm");
    std::fs::write(&wasm, module("1.0.0", &[])).unwrap();
    let data = tmp.path().join("desk");
    desk(&data, &["install", wasm.to_str().unwrap()])
        .assert()
        .success();
    desk(&data, &["list"])
        .assert()
        .success()
        .stderr(contains(format!("Using the desk in `{}`", data.display())))
        .stdout(contains("com.example.cli-desk"));
    desk(&data, &["trust", "list"])
        .assert()
        .success()
        .stdout(contains("no trusted keys"));
}

/// An error whose cause is its own text (the desk's errors show their source) is
/// printed once, not as `error: X` and then `Caused by: X`.
#[test]
fn an_error_is_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let wasm = tmp.path().join("p.wasm");
    std::fs::write(&wasm, module("1.0.0", &[])).unwrap();
    desk(&data, &["install", wasm.to_str().unwrap()])
        .assert()
        .success();
    let output = desk(&data, &["deliver", "ticket.exploded"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("unknown event `ticket.exploded`").count(),
        1,
        "{stderr}"
    );
    assert!(!stderr.contains("Caused by"), "{stderr}");
}

#[test]
fn the_health_settings_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let wasm = tmp.path().join("p.wasm");
    std::fs::write(&wasm, module("1.0.0", &[])).unwrap();
    desk(&data, &["install", wasm.to_str().unwrap()])
        .assert()
        .success();
    desk(&data, &["settings"])
        .assert()
        .success()
        .stdout(contains("failure_percent = 50").and(contains("window_minutes = 10")));
    desk(
        &data,
        &[
            "settings",
            "--set",
            "failure_percent=20",
            "--set",
            "window_minutes=5",
        ],
    )
    .assert()
    .success()
    .stderr(contains("Saved"))
    .stdout(contains("failure_percent = 20").and(contains("min_deliveries = 10")));
    let output = desk(&data, &["--format", "json", "settings"])
        .output()
        .unwrap();
    assert_eq!(
        json_of(&output),
        json!({"failure_percent": 20.0, "min_deliveries": 10, "window_minutes": 5})
    );
    desk(
        &data,
        &[
            "settings",
            "--set",
            "failure_percent=NaN",
            "--set",
            "colour=red",
        ],
    )
    .assert()
    .code(1)
    .stderr(contains(
        "failure_percent: found \"NaN\", expected a percentage from 0 to 100",
    ))
    .stderr(contains("\"colour\": no such setting"));
    desk(&data, &["settings"])
        .assert()
        .success()
        .stdout(contains("failure_percent = 20"));
}

/// The desk sends no request without `--allow-network`: one a plugin makes is a
/// warning on its delivery, though the plugin ends `ok`.
#[test]
fn a_request_no_mock_answered_is_a_warning_on_the_delivery() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("desk");
    let request = json!({"method": "POST", "url": "https://hooks.example.com/x"}).to_string();
    let manifest = json!({
        "id": "com.example.poster", "name": "Poster", "version": "1.0.0",
        "description": "d", "events": ["ticket.created"],
        "permissions": {"http": {"allowed_hosts": ["hooks.example.com"]}}
    });
    let poster = Module::new()
        .import(HTTP)
        .pages(2)
        .body(&format!(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (drop (call $http (i32.const 0) (i32.const {}) (i32.const 4096) (i32.const 4100))))
  (data (i32.const 0) "{}")"#,
            request.len(),
            request.replace('"', "\\\"")
        ))
        .manifest(&manifest.to_string())
        .wasm();
    let wasm = tmp.path().join("p.wasm");
    std::fs::write(&wasm, poster).unwrap();
    desk(&data, &["install", wasm.to_str().unwrap()])
        .assert()
        .success();
    desk(&data, &["deliver", "ticket.created"])
        .assert()
        .success()
        .stdout(contains("com.example.poster").and(contains("ok")))
        .stdout(contains(
            "warning: no mock answered `POST https://hooks.example.com/x`",
        ));
}
