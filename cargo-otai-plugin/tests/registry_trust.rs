//! The signature rules through a registry, end to end: each module is published with
//! `cargo otai-plugin publish` to a real registry (Debian's `docker-registry`, one per
//! test, started by it) and installed or upgraded with `desk install|upgrade oci://…`.
//! A module changed after signing (code, a custom section, the manifest), one signed
//! only by an untrusted key, an unsigned one, and an upgrade by another key are refused
//! with their kind; a co-signed module with one trusted signature, and an upgrade by a
//! key the old one rotated to, are installed. And the review `desk install oci://…`
//! shows before it installs anything.

mod support;

use std::path::{Path, PathBuf};

use otai_plugin_test_support::Registry;
use support::{Project, cli, stderr_of, wat_plugin};

/// `cargo-otai-plugin ARGS` in `project`, with docker's config and the desk there.
fn run(project: &Project, args: &[&str]) -> std::process::Output {
    cli()
        .current_dir(&project.root)
        .env("DOCKER_CONFIG", project.root.join("docker"))
        .env("OTAI_DESK_KEY", "ab".repeat(32))
        .env_remove("OTAI_REGISTRY_PASSWORD")
        .env_remove("CARGO_TARGET_DIR")
        .args(args)
        .output()
        .unwrap()
}

fn ok(output: std::process::Output) -> std::process::Output {
    assert!(output.status.success(), "{}", stderr_of(&output));
    output
}

fn desk(project: &Project, args: &[&str]) -> std::process::Output {
    let dir = project.root.join("desk");
    let mut all = vec!["desk", "--data-dir", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    run(project, &all)
}

/// A new key pair `name` (and `name.pub`) in `project`.
fn key(project: &Project, name: &str) -> PathBuf {
    let path = project.root.join(name);
    ok(run(
        project,
        &["key", "new", "--out", path.to_str().unwrap()],
    ));
    path
}

fn public(key: &Path) -> String {
    format!("{}.pub", key.display())
}

fn fingerprint(key: &Path) -> String {
    let text = std::fs::read_to_string(public(key)).unwrap();
    otai_plugin_abi::module::signature::PublicKey::from_openssh(&text)
        .unwrap()
        .fingerprint()
        .to_string()
}

/// `bytes` with the one occurrence of `from` replaced by `to` (of the same length).
fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "{from:?} is not in the module exactly once");
    let mut out = bytes.to_vec();
    out[at[0]..at[0] + to.len()].copy_from_slice(to);
    out
}

/// The WAT plugin at `version`, with a custom section `extra` after its own sections.
fn plugin(version: &str) -> Vec<u8> {
    let mut wasm = replace_once(
        &wat_plugin(),
        br#""version":"1.0.0""#,
        format!(r#""version":"{version}""#).as_bytes(),
    );
    let (name, payload) = (b"extra", b"publisher's notes");
    wasm.push(0);
    wasm.push((1 + name.len() + payload.len()) as u8);
    wasm.push(name.len() as u8);
    wasm.extend_from_slice(name);
    wasm.extend_from_slice(payload);
    wasm
}

/// Writes `wasm` as `name` in `project`, signed by each of `keys` in turn.
fn signed(project: &Project, name: &str, wasm: &[u8], keys: &[&Path]) -> PathBuf {
    let path = project.write(name, wasm);
    for key in keys {
        ok(run(
            project,
            &[
                "sign",
                path.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
            ],
        ));
    }
    path
}

/// Publishes `wasm` to `oci://REGISTRY/acme/NAME:TAG` (`--allow-unsigned`: a publisher
/// that does not care, or a module changed after `publish` checked it); the reference.
fn publish(project: &Project, registry: &Registry, name: &str, tag: &str, wasm: &Path) -> String {
    let target = format!("oci://{}/acme/{name}:{tag}", registry.address());
    ok(run(
        project,
        &[
            "publish",
            &target,
            wasm.to_str().unwrap(),
            "--allow-unsigned",
        ],
    ));
    target
}

fn installed(project: &Project) -> serde_json::Value {
    serde_json::from_slice(&ok(desk(project, &["list", "--format", "json"])).stdout).unwrap()
}

#[test]
fn install_from_a_registry_refuses_what_the_trusted_keys_do_not_vouch_for() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let project = Project::empty();
    let (release, stranger) = (key(&project, "release"), key(&project, "stranger"));
    ok(desk(&project, &["trust", "add", &public(&release)]));
    let good = std::fs::read(signed(&project, "good.wasm", &plugin("1.0.0"), &[&release])).unwrap();

    // What was signed, changed by one byte: in the code (`i32.const 13`, the length of
    // the logged text), in a custom section, in the manifest.
    let code = replace_once(&good, &[0x41, 0x00, 0x41, 0x0d], &[0x41, 0x00, 0x41, 0x0c]);
    let custom = replace_once(&good, b"publisher's notes", b"publisher's notez");
    let manifest = replace_once(&good, b"Written by hand.", b"Written by hanD.");
    let untrusted = signed(&project, "untrusted.wasm", &plugin("1.0.0"), &[&stranger]);
    let unsigned = project.write("unsigned.wasm", plugin("1.0.0"));
    let cases = [
        (
            "code",
            project.write("code.wasm", code),
            "signature_changed",
        ),
        (
            "custom",
            project.write("custom.wasm", custom),
            "signature_changed",
        ),
        (
            "manifest",
            project.write("manifest.wasm", manifest),
            "signature_changed",
        ),
        ("untrusted", untrusted, "signature_untrusted"),
        ("unsigned", unsigned, "signature_missing"),
    ];
    for (name, wasm, kind) in &cases {
        let target = publish(&project, &registry, name, "1.0.0", wasm);
        let output = desk(&project, &["install", &target, "--yes"]);
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{name}: installed\n{stderr}");
        assert!(stderr.contains(kind), "{name}: no {kind} in\n{stderr}");
        assert_eq!(installed(&project), serde_json::json!([]), "{name}");
        if *name == "untrusted" {
            assert!(stderr.contains(&fingerprint(&stranger)), "{stderr}");
        }
    }

    // Co-signed by the stranger and the release key: the trusted signature is enough,
    // and only the trusted key is recorded.
    let both = signed(
        &project,
        "both.wasm",
        &plugin("1.0.0"),
        &[&stranger, &release],
    );
    let target = publish(&project, &registry, "both", "1.0.0", &both);
    ok(desk(&project, &["install", &target, "--yes"]));
    let list = installed(&project);
    assert_eq!(list[0]["id"], "com.example.wat");
    assert_eq!(
        list[0]["signers"],
        serde_json::json!([fingerprint(&release)])
    );
}

#[test]
fn an_upgrade_from_a_registry_keeps_its_signer_unless_the_old_key_rotated_to_the_new() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let project = Project::empty();
    let (old, other, new) = (
        key(&project, "old"),
        key(&project, "other"),
        key(&project, "new"),
    );
    for k in [&old, &other, &new] {
        ok(desk(&project, &["trust", "add", &public(k)]));
    }
    let v1 = signed(&project, "v1.wasm", &plugin("1.0.0"), &[&old]);
    let target = publish(&project, &registry, "wat", "1.0.0", &v1);
    ok(desk(&project, &["install", &target, "--yes"]));

    // Another key, trusted by the desk, but not the one that signed 1.0.0.
    let by_other = signed(&project, "other.wasm", &plugin("1.1.0"), &[&other]);
    let target = publish(&project, &registry, "wat", "1.1.0", &by_other);
    let output = desk(&project, &["upgrade", &target, "--yes", "--allow-unsigned"]);
    let stderr = stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("upgrading `com.example.wat` to 1.1.0 is refused"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&fingerprint(&old)) && stderr.contains(&fingerprint(&other)),
        "both keys are named:\n{stderr}"
    );
    assert_eq!(installed(&project)[0]["manifest"]["version"], "1.0.0");

    // The new key, with the old key's rotation statement: accepted.
    let statement = project.root.join("rotation.json");
    ok(run(
        &project,
        &[
            "key",
            "rotate",
            "--from",
            old.to_str().unwrap(),
            "--to",
            &public(&new),
            "--plugin",
            "com.example.wat",
            "--out",
            statement.to_str().unwrap(),
        ],
    ));
    let rotated = project.write("rotated.wasm", plugin("1.1.0"));
    ok(run(
        &project,
        &[
            "sign",
            rotated.to_str().unwrap(),
            "--key",
            new.to_str().unwrap(),
            "--rotation",
            statement.to_str().unwrap(),
        ],
    ));
    let target = publish(&project, &registry, "wat-rotated", "1.1.0", &rotated);
    ok(desk(&project, &["upgrade", &target, "--yes"]));
    let list = installed(&project);
    assert_eq!(list[0]["manifest"]["version"], "1.1.0");
    assert!(
        list[0]["signers"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(fingerprint(&new))),
        "{list}"
    );
}

#[test]
fn desk_install_from_a_registry_shows_the_review_and_installs_only_with_yes() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let project = Project::empty();
    let release = key(&project, "release");
    ok(desk(&project, &["trust", "add", &public(&release)]));
    let wasm = signed(&project, "plugin.wasm", &plugin("1.0.0"), &[&release]);
    let target = publish(&project, &registry, "wat", "1.0.0", &wasm);

    // Not a terminal, no `--yes`: the review, and nothing installed.
    let output = desk(&project, &["install", &target]);
    let stderr = stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    for shown in [
        "com.example.wat 1.0.0 (WAT)".to_owned(),
        format!("from:          {target}@sha256:"),
        "events:        ticket.created".to_owned(),
        "allowed hosts: hooks.example.com".to_owned(),
        "ticket panel:  none".to_owned(),
        format!("signatures:    {} (valid)", fingerprint(&release)),
        format!("signer:        {} (trusted)", fingerprint(&release)),
        "nothing was installed".to_owned(),
        "--yes".to_owned(),
    ] {
        assert!(stderr.contains(&shown), "no {shown} in\n{stderr}");
    }
    assert_eq!(installed(&project), serde_json::json!([]));

    // The same as one JSON document.
    let output = desk(&project, &["install", &target, "--format", "json"]);
    assert!(!output.status.success());
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["needs_confirmation"], true, "{document}");
    assert_eq!(document["review"]["manifest"]["id"], "com.example.wat");
    assert_eq!(
        document["review"]["signers"],
        serde_json::json!([fingerprint(&release)])
    );
    assert_eq!(installed(&project), serde_json::json!([]));

    ok(desk(&project, &["install", &target, "--yes"]));
    assert_eq!(installed(&project)[0]["manifest"]["version"], "1.0.0");

    // An upgrade shows its diff and who signed the installed version.
    let mut more = plugin("1.1.0");
    more = replace_once(
        &more,
        br#"["hooks.example.com"]"#,
        br#"["hooks.example.org"]"#,
    );
    let wasm = signed(&project, "v2.wasm", &more, &[&release]);
    let target = publish(&project, &registry, "wat", "1.1.0", &wasm);
    let output = desk(&project, &["upgrade", &target]);
    let stderr = stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("replacing 1.0.0"), "{stderr}");
    assert!(stderr.contains("hooks.example.org"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "same signer:   {}, which signed 1.0.0",
            fingerprint(&release)
        )),
        "{stderr}"
    );
    assert_eq!(installed(&project)[0]["manifest"]["version"], "1.0.0");
}
