//! `key new`, `sign`, `build --sign` and the signatures `check` lists.

mod support;

use std::path::{Path, PathBuf};

use otai_plugin_abi::module::rotation::{Rotation, read_rotations};
use otai_plugin_abi::module::signature::{PublicKey, SignatureState, verify_signatures};
use support::{Project, cli, stderr_of, stdout_of, wat_plugin};

/// A key `ssh-keygen -t ed25519 -N '' -C release@example` wrote: existing OpenSSH keys
/// sign as they are.
const SSH_KEYGEN_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDF9Nw+i75e5c6VyuZEbjwy5hMc4Du1UQq525+Lj8TFYwAAAJjzlokF85aJ
BQAAAAtzc2gtZWQyNTUxOQAAACDF9Nw+i75e5c6VyuZEbjwy5hMc4Du1UQq525+Lj8TFYw
AAAEDwDdW3iWr9tqIRvF65qm9Od/hJu7nGBe9fCTocwHprlsX03D6Lvl7lzpXK5kRuPDLm
ExzgO7VRCrnbn4uPxMVjAAAAD3JlbGVhc2VAZXhhbXBsZQECAwQFBg==
-----END OPENSSH PRIVATE KEY-----
";
const SSH_KEYGEN_PUB: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMX03D6Lvl7lzpXK5kRuPDLmExzgO7VRCrnbn4uPxMVj release@example";
/// What `ssh-keygen -l` prints for it.
const SSH_KEYGEN_FINGERPRINT: &str = "SHA256:aVL/i+90HRzwZejTQW6LVC2CGf8d8p71ACYAh9iZqCc";

/// The same kind of key with the passphrase `secret pass`.
const ENCRYPTED_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABCtLYlw/c
K9m0+LXBulRxE+AAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIIA1F86yFcAC5wYa
iPSdd1kLXVj+dzelGYSTY4k2VN1gAAAAkB4Y6NUSpcsv/c8Ph+qmKY/U7cgtgN9rTPzU28
hDBAAnQF5+T6XypsA6K8K/RQrQCZ2peBVfgqWuhHvZjiZqidkqGE4GScQPI0efUCPCug6u
McdAQSt6LjyXmCTahAaYKkQow43stUsWvtK5jLmjXHW82c/V00aR+4Jap+L6531RWKnMEz
iysLhqxXXL3AF+Qg==
-----END OPENSSH PRIVATE KEY-----
";

/// `key new --out DIR/NAME`: the private key's path and the public key.
fn new_key(project: &Project, name: &str) -> (PathBuf, PublicKey) {
    let path = project.root.join(name);
    let public = support::new_key(&path);
    (path, PublicKey::from_openssh(&public).unwrap())
}

fn public_file(project: &Project, name: &str, key: &PublicKey) -> PathBuf {
    project.write(name, key.to_openssh(""))
}

fn sign(wasm: &Path, key: &Path) -> std::process::Output {
    support::sign(wasm, key).output().unwrap()
}

fn check_json(wasm: &Path, keys: &[&Path]) -> (bool, serde_json::Value) {
    let mut cmd = cli();
    cmd.arg("check").arg(wasm).args(["--format", "json"]);
    for key in keys {
        cmd.arg("--key").arg(key);
    }
    let output = cmd.output().unwrap();
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stdout_of(&output)));
    (output.status.success(), json)
}

#[test]
fn key_new_writes_an_openssh_pair_readable_only_by_its_owner_and_never_replaces_one() {
    use std::os::unix::fs::PermissionsExt;
    let project = Project::empty();
    let path = project.root.join("keys").join("release");
    let output = cli()
        .args(["key", "new", "--comment", "release@example", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let private = std::fs::read_to_string(&path).unwrap();
    assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let public_text = std::fs::read_to_string(project.root.join("keys/release.pub")).unwrap();
    assert!(public_text.ends_with(" release@example\n"), "{public_text}");
    let public = PublicKey::from_openssh(&public_text).unwrap();
    // The public key file, the fingerprint and the key line, for a host's trust list.
    assert!(
        stdout.contains(&format!("public key:  {}.pub", path.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("fingerprint: {}", public.fingerprint())),
        "{stdout}"
    );
    assert!(stdout.contains(public_text.trim()), "{stdout}");

    // Again: refused, and the key is untouched.
    let output = cli()
        .args(["key", "new", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("already exists"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), private);
    // Nor when only the public half is there.
    std::fs::rename(&path, project.root.join("moved")).unwrap();
    let output = cli()
        .args(["key", "new", "--out"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(stderr_of(&output).contains("release.pub` already exists"));
    assert!(!path.exists());

    // Without `--out`: in the user's config directory, out of any project.
    let config = Project::empty();
    let output = cli()
        .args(["key", "new"])
        .env("XDG_CONFIG_HOME", &config.root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let default = config.root.join("otai-plugin/signing_ed25519");
    assert!(default.exists() && config.root.join("otai-plugin/signing_ed25519.pub").exists());
}

#[test]
fn sign_embeds_a_signature_that_check_lists_and_a_second_key_cosigns() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let (first, first_public) = new_key(&project, "first");
    let (second, second_public) = new_key(&project, "second");
    let first_pub = public_file(&project, "first.pub", &first_public);
    let second_pub = public_file(&project, "second.pub", &second_public);

    let output = sign(&wasm, &first);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        stderr_of(&output).contains(&format!("with {}", first_public.fingerprint())),
        "{}",
        stderr_of(&output)
    );
    let signed = std::fs::read(&wasm).unwrap();
    assert_eq!(
        verify_signatures(&signed, &[first_public]).signatures[0].state,
        SignatureState::Valid
    );

    // Without keys, `check` names the signer and cannot vouch for it; the module passes.
    let (ok, json) = check_json(&wasm, &[]);
    assert!(ok, "{json}");
    let listed = &json["signatures"]["signatures"];
    assert_eq!(listed.as_array().unwrap().len(), 1, "{json}");
    assert_eq!(listed[0]["key"], first_public.fingerprint().to_string());
    assert_eq!(listed[0]["state"], "untrusted");
    assert_eq!(listed[0]["covers_module"], true);
    assert_eq!(json["signatures"]["signed_bytes"]["end"], signed.len());
    // With its key: valid.
    let (ok, json) = check_json(&wasm, &[&first_pub]);
    assert!(ok, "{json}");
    assert_eq!(json["signatures"]["signatures"][0]["state"], "valid");

    // Signing again with the same key changes nothing.
    let output = sign(&wasm, &first);
    assert!(
        stderr_of(&output).contains("already by"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(std::fs::read(&wasm).unwrap(), signed);

    // A second key co-signs: both signatures are there, each valid with its key.
    let output = sign(&wasm, &second);
    assert!(
        stderr_of(&output).contains("(beside 1 other signature)"),
        "{}",
        stderr_of(&output)
    );
    let (ok, json) = check_json(&wasm, &[&second_pub]);
    assert!(ok, "{json}");
    let states: Vec<(String, String)> = json["signatures"]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].to_string(), s["state"].to_string()))
        .collect();
    assert_eq!(
        states,
        [
            (
                format!("\"{}\"", first_public.fingerprint()),
                "\"untrusted\"".to_owned()
            ),
            (
                format!("\"{}\"", second_public.fingerprint()),
                "\"valid\"".to_owned()
            ),
        ]
    );

    // The listing for people.
    let output = cli()
        .arg("check")
        .arg(&wasm)
        .arg("--key")
        .arg(&first_pub)
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("Signatures (signature): 2, over bytes "),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  {}  valid", first_public.fingerprint())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  {}  unverified: not one of the `--key` keys",
            second_public.fingerprint()
        )),
        "{stdout}"
    );

    // A key that signed nothing: `check --key` refuses it as such a host would.
    let (_, third_public) = new_key(&project, "third");
    let third_pub = public_file(&project, "third.pub", &third_public);
    let (ok, json) = check_json(&wasm, &[&third_pub]);
    assert!(!ok);
    assert_eq!(json["problems"][0]["kind"], "signature_untrusted", "{json}");
}

#[test]
fn a_module_changed_after_signing_is_refused_and_signing_again_drops_the_stale_signature() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let (key, public) = new_key(&project, "key");
    let public_path = public_file(&project, "key.pub", &public);
    assert!(sign(&wasm, &key).status.success());
    let signed = std::fs::read(&wasm).unwrap();
    // One byte of the manifest's description.
    let at = signed
        .windows(b"Written by hand".len())
        .position(|w| w == b"Written by hand")
        .unwrap();
    let mut changed = signed.clone();
    changed[at] = b'w';
    std::fs::write(&wasm, &changed).unwrap();

    let output = cli()
        .arg("check")
        .arg(&wasm)
        .arg("--key")
        .arg(&public_path)
        .output()
        .unwrap();
    let stdout = stdout_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "  {}  invalid: the module changed after it was signed",
            public.fingerprint()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("error[signature_changed]: the module changed after it was signed"));

    let output = sign(&wasm, &key);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("dropped 1 signature"), "{stderr}");
    let verification = verify_signatures(&std::fs::read(&wasm).unwrap(), &[public]);
    assert_eq!(verification.signatures.len(), 1);
    assert!(verification.is_trusted());
}

#[test]
fn an_ssh_keygen_key_signs_as_it_is_and_other_files_are_refused_for_what_they_are() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let key = project.write("id_ed25519", SSH_KEYGEN_KEY);
    let public = PublicKey::from_openssh(SSH_KEYGEN_PUB).unwrap();
    assert_eq!(public.fingerprint().to_string(), SSH_KEYGEN_FINGERPRINT);
    let output = sign(&wasm, &key);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(verify_signatures(&std::fs::read(&wasm).unwrap(), &[public]).is_trusted());

    let unsigned = project.write("unsigned.wasm", wat_plugin());
    for (name, contents, expected) in [
        ("encrypted", ENCRYPTED_KEY, "protected by a passphrase"),
        ("id_ed25519.pub", SSH_KEYGEN_PUB, "it is a public key"),
        (
            "garbage",
            "hello",
            "does not start with `-----BEGIN OPENSSH PRIVATE KEY-----`",
        ),
    ] {
        let path = project.write(name, contents);
        let output = sign(&unsigned, &path);
        let stderr = stderr_of(&output);
        assert!(!output.status.success(), "{name}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("`{}` is not a signing key", path.display())),
            "{stderr}"
        );
    }
    assert_eq!(std::fs::read(&unsigned).unwrap(), wat_plugin());

    // A module a host refuses is not signed.
    let broken = project.write("broken.wasm", b"\0asm\x01\0\0\0");
    let output = sign(&broken, &key);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("error[manifest_missing]"),
        "{}",
        stderr_of(&output)
    );
    // `check --key` takes public keys only.
    let output = cli()
        .arg("check")
        .arg(&wasm)
        .arg("--key")
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        stderr_of(&output).contains("is a private key"),
        "{}",
        stderr_of(&output)
    );
}

/// A profile that optimizes in the CLI's sense (not `dev`) and compiles like `dev`.
const PROFILE: &str = "sign-test";

#[test]
fn build_sign_signs_last_after_wasm_opt_and_a_no_op_build_keeps_the_signature() {
    use std::os::unix::fs::PermissionsExt;
    let project = Project::plugin("signed", "minimal");
    let cargo_toml = project.read("Cargo.toml");
    project.write(
        "Cargo.toml",
        format!("{cargo_toml}\n[profile.{PROFILE}]\ninherits = \"dev\"\n"),
    );
    // A stand-in `wasm-opt` that appends a custom section: the signature must cover it.
    let fake = project.root.join("wasm-opt");
    std::fs::write(
        &fake,
        "#!/bin/sh\nfor a; do [ \"$prev\" = -o ] && out=$a; [ \"$a\" = -o ] && in=$prev; prev=$a; done\n\
         cat \"$in\" > \"$out\" && printf '\\000\\010\\007fakeopt' >> \"$out\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let keys = Project::empty();
    let (key, public) = new_key(&keys, "release");
    let build = |args: &[&str]| {
        project
            .cmd(&[&["build", "--profile", PROFILE][..], args].concat())
            .env("WASM_OPT", &fake)
            .output()
            .unwrap()
    };
    let module = || {
        std::fs::read(
            support::shared_target_dir()
                .join("wasm32-unknown-unknown")
                .join(PROFILE)
                .join("signed.wasm"),
        )
        .unwrap()
    };
    let key_arg = key.to_str().unwrap();

    let output = build(&["--sign", key_arg]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    let optimizing = stderr.find("Optimizing `signed`").expect(&stderr);
    let signing = stderr.find("Signed ").unwrap_or_else(|| panic!("{stderr}"));
    let finished = stderr.find("Finished `signed` plugin").expect(&stderr);
    assert!(optimizing < signing && signing < finished, "{stderr}");
    assert!(
        stderr.contains(&format!("with {}", public.fingerprint())),
        "{stderr}"
    );
    let signed = module();
    assert!(
        signed.ends_with(b"\x00\x08\x07fakeopt"),
        "not wasm-opt's output"
    );
    assert!(verify_signatures(&signed, &[public]).is_trusted());

    // A no-op build finds the signed module and leaves it; so does one without `--sign`.
    let output = build(&["--sign", key_arg]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("already by"), "{stderr}");
    assert_eq!(module(), signed);
    let output = build(&[]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(verify_signatures(&module(), &[public]).is_trusted());

    // A wrong key fails before anything is built.
    let output = build(&["--sign", "/nonexistent/key"]);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("failed to read the key `/nonexistent/key`"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn key_rotate_writes_a_statement_that_sign_embeds_and_check_lists() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let (old, old_public) = new_key(&project, "old");
    let (new, new_public) = new_key(&project, "new");
    let (other, _) = new_key(&project, "other");
    let new_pub = public_file(&project, "new.pub", &new_public);
    let rotate = |to: &Path, plugin: &str, out: &str| {
        cli()
            .args(["key", "rotate", "--from"])
            .arg(&old)
            .arg("--to")
            .arg(to)
            .args(["--plugin", plugin, "--out"])
            .arg(project.root.join(out))
            .output()
            .unwrap()
    };
    let output = rotate(&new_pub, "com.example.wat", "rotation.json");
    assert!(output.status.success(), "{}", stderr_of(&output));
    let statement = project.root.join("rotation.json");
    let text = std::fs::read_to_string(&statement).unwrap();
    let rotation = Rotation::from_json(&text).unwrap();
    assert!(rotation.verifies());
    assert_eq!(
        (rotation.plugin_id.as_str(), rotation.from, rotation.to),
        ("com.example.wat", old_public, new_public)
    );

    let sign_with = |key: &Path, statement: &Path| {
        cli()
            .arg("sign")
            .arg(&wasm)
            .arg("--key")
            .arg(key)
            .arg("--rotation")
            .arg(statement)
            .output()
            .unwrap()
    };
    // A statement for another plugin, or to another key than the signing one: refused,
    // and the module is left as it was.
    let output = rotate(&new_pub, "com.example.other", "other-plugin.json");
    assert!(output.status.success(), "{}", stderr_of(&output));
    let output = sign_with(&new, &project.root.join("other-plugin.json"));
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("for another plugin than this module's `com.example.wat`"),
        "{}",
        stderr_of(&output)
    );
    let output = sign_with(&other, &statement);
    assert!(!output.status.success());
    assert!(
        stderr_of(&output).contains("not to the signing key"),
        "{}",
        stderr_of(&output)
    );
    // A statement changed after `key rotate` wrote it.
    let tampered = project.write(
        "tampered.json",
        text.replace("com.example.wat", "com.example.waT"),
    );
    let output = sign_with(&new, &tampered);
    assert!(
        stderr_of(&output).contains("does not verify"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(std::fs::read(&wasm).unwrap(), wat_plugin());

    let output = sign_with(&new, &statement);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let signed = std::fs::read(&wasm).unwrap();
    assert_eq!(read_rotations(&signed).unwrap(), [rotation]);
    assert_eq!(
        verify_signatures(&signed, &[new_public]).signatures[0].state,
        SignatureState::Valid
    );
    let (ok, json) = check_json(&wasm, &[&new_pub]);
    assert!(ok, "{json}");
    assert_eq!(
        json["rotations"],
        serde_json::json!([{
            "plugin_id": "com.example.wat",
            "from": old_public.fingerprint().to_string(),
            "to": new_public.fingerprint().to_string(),
            "verifies": true,
        }])
    );
    // Signing again with the same statement changes nothing.
    let output = sign_with(&new, &statement);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(std::fs::read(&wasm).unwrap(), signed);
}
