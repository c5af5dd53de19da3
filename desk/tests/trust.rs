//! The desk's trusted keys and the signature rules of install and upgrade: with a
//! trusted key, a valid signature from one is needed (unless unsigned modules are
//! allowed); an upgrade of a signed plugin needs a signature from a key that signed it.

use otai_plugin_abi::module::ProblemKind;
use otai_plugin_abi::module::rotation::{Rotation, with_rotations};
use otai_plugin_abi::module::signature::PublicKey;
use otai_plugin_desk::{Desk, DeskError, DeskOptions, InstallOptions};
use otai_plugin_test_support::{LOG, Module, public, sign};
use serde_json::json;

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const ID: &str = "com.example.signed";

fn open(dir: &std::path::Path) -> Desk {
    let options = DeskOptions {
        key: Some(KEY.into()),
        ..DeskOptions::default()
    };
    Desk::open_with(dir, options).unwrap()
}

fn module(version: &str) -> Vec<u8> {
    let manifest = json!({
        "id": ID, "name": "Signed test", "version": version,
        "description": "A plugin for the desk's signature tests.", "events": ["ticket.created"]
    });
    Module::new()
        .imports(&[LOG])
        .pages(2)
        .body(r#"(func (export "on_event") (param i32 i32))"#)
        .manifest(&manifest.to_string())
        .wasm()
}

fn fingerprint(pair: &wasmsign2::KeyPair) -> String {
    public(pair).fingerprint().to_string()
}

/// A desk in `dir` that trusts `pairs`.
fn trusting(dir: &std::path::Path, pairs: &[&wasmsign2::KeyPair]) -> Desk {
    let desk = open(dir);
    for pair in pairs {
        desk.trust_add(&public(pair).to_openssh("release@example"))
            .unwrap();
    }
    desk
}

fn signature_refusal(result: Result<impl std::fmt::Debug, DeskError>) -> (ProblemKind, String) {
    match result {
        Err(e @ DeskError::Signature { kind, .. }) => (kind, e.to_string()),
        other => panic!("expected a signature refusal, got {other:?}"),
    }
}

#[test]
fn keys_are_added_listed_and_removed_and_kept_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let pair = wasmsign2::KeyPair::generate();
    let desk = open(dir.path());
    assert!(desk.trust_list().unwrap().is_empty());
    let text = format!(
        "# the release key\n{}\n",
        public(&pair).to_openssh("release@example")
    );
    let added = desk.trust_add(&text).unwrap();
    assert_eq!(added.fingerprint, fingerprint(&pair));
    assert_eq!(added.comment, "release@example");
    // Trusting it again keeps one.
    desk.trust_add(&public(&pair).to_openssh("")).unwrap();
    drop(desk);

    let desk = open(dir.path());
    let list = desk.trust_list().unwrap();
    assert_eq!(list, std::slice::from_ref(&added));
    assert_eq!(
        PublicKey::from_openssh(&list[0].key).unwrap(),
        public(&pair)
    );

    let refused = desk.trust_add("ssh-rsa AAAAB3NzaC1yc2E rsa@example");
    assert!(
        matches!(refused, Err(DeskError::TrustedKey(_))),
        "{refused:?}"
    );
    let unknown = desk.trust_remove("SHA256:nothing");
    assert!(
        matches!(&unknown, Err(DeskError::NotTrusted { fingerprint }) if fingerprint == "SHA256:nothing"),
        "{unknown:?}"
    );
    // The prefix may be left out.
    let bare = added.fingerprint.trim_start_matches("SHA256:");
    assert_eq!(desk.trust_remove(bare).unwrap(), added);
    assert!(desk.trust_list().unwrap().is_empty());
    drop(desk);
    assert!(open(dir.path()).trust_list().unwrap().is_empty());
}

#[test]
fn a_desk_that_trusts_no_key_installs_modules_signed_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let pair = wasmsign2::KeyPair::generate();
    let desk = open(dir.path());
    let info = desk.install(&module("1.0.0")).unwrap();
    assert!(info.signers.is_empty());
    // A signature by a key the desk does not know proves nothing, and is not recorded.
    let up = desk.upgrade(&sign(&pair, &module("1.1.0")), false).unwrap();
    assert!(up.plugin.signers.is_empty());
}

#[test]
fn with_a_trusted_key_an_unsigned_module_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let pair = wasmsign2::KeyPair::generate();
    let desk = trusting(dir.path(), &[&pair]);
    let (kind, text) = signature_refusal(desk.install(&module("1.0.0")));
    assert_eq!(kind, ProblemKind::SignatureMissing);
    assert!(
        text.contains("`com.example.signed` 1.0.0 is refused (signature_missing)")
            && text.contains("not signed")
            && text.contains("--allow-unsigned"),
        "{text}"
    );
    assert!(desk.list().unwrap().is_empty());

    let allowed = InstallOptions {
        allow_unsigned: true,
    };
    let info = desk.install_with(&module("1.0.0"), allowed).unwrap();
    assert!(info.signers.is_empty());
}

#[test]
fn a_module_signed_by_an_untrusted_key_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted, other) = (
        wasmsign2::KeyPair::generate(),
        wasmsign2::KeyPair::generate(),
    );
    let desk = trusting(dir.path(), &[&trusted]);
    let (kind, text) = signature_refusal(desk.install(&sign(&other, &module("1.0.0"))));
    assert_eq!(kind, ProblemKind::SignatureUntrusted);
    assert!(text.contains(&fingerprint(&other)), "{text}");
    assert!(desk.list().unwrap().is_empty());
}

#[test]
fn a_module_signed_by_a_trusted_key_is_installed_with_its_signer_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted, other) = (
        wasmsign2::KeyPair::generate(),
        wasmsign2::KeyPair::generate(),
    );
    let desk = trusting(dir.path(), &[&trusted]);
    // Co-signed: by a key the desk does not trust, then by one it does.
    let wasm = sign(&trusted, &sign(&other, &module("1.0.0")));
    let info = desk.install(&wasm).unwrap();
    assert_eq!(info.signers, [fingerprint(&trusted)]);
    drop(desk);
    let desk = open(dir.path());
    assert_eq!(desk.plugin(ID).unwrap().signers, [fingerprint(&trusted)]);
}

#[test]
fn a_module_changed_after_it_was_signed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pair = wasmsign2::KeyPair::generate();
    let desk = trusting(dir.path(), &[&pair]);
    let signed = sign(&pair, &module("1.0.0"));
    // One byte of the manifest: the name `Signed test` becomes `Signed tesT`.
    let at = signed
        .windows(11)
        .position(|w| w == b"Signed test")
        .unwrap();
    let mut changed = signed.clone();
    changed[at + 10] = b'T';
    let (kind, text) = signature_refusal(desk.install(&changed));
    assert_eq!(kind, ProblemKind::SignatureChanged);
    assert!(
        text.contains("changed after it was signed") && text.contains(&fingerprint(&pair)),
        "{text}"
    );
    assert!(desk.list().unwrap().is_empty());
    desk.install(&signed).unwrap();
}

#[test]
fn an_upgrade_signed_by_another_key_is_refused_naming_both_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (
        wasmsign2::KeyPair::generate(),
        wasmsign2::KeyPair::generate(),
    );
    // Both keys are trusted: the rule is about who signed the installed version.
    let desk = trusting(dir.path(), &[&first, &second]);
    desk.install(&sign(&first, &module("1.0.0"))).unwrap();

    let refused = desk.upgrade(&sign(&second, &module("1.1.0")), true);
    let text = match refused {
        Err(e @ DeskError::SignerChanged { .. }) => e.to_string(),
        other => panic!("expected a signer refusal, got {other:?}"),
    };
    assert!(
        text.contains(&format!("1.0.0 was signed by {}", fingerprint(&first)))
            && text.contains(&format!("{} (valid)", fingerprint(&second))),
        "{text}"
    );
    // Allowing unsigned modules does not lift the rule.
    let unsigned = desk.upgrade_with(
        &module("1.1.0"),
        true,
        InstallOptions {
            allow_unsigned: true,
        },
    );
    assert!(
        matches!(unsigned, Err(DeskError::SignerChanged { ref offered, .. }) if offered == "no signature"),
        "{unsigned:?}"
    );
    let info = desk.plugin(ID).unwrap();
    assert_eq!(
        (info.manifest.version.as_str(), info.signers),
        ("1.0.0", vec![fingerprint(&first)])
    );
}

#[test]
fn an_upgrade_signed_by_the_same_key_is_accepted_even_once_the_key_is_no_longer_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (
        wasmsign2::KeyPair::generate(),
        wasmsign2::KeyPair::generate(),
    );
    let desk = trusting(dir.path(), &[&first]);
    desk.install(&sign(&first, &module("1.0.0"))).unwrap();
    let up = desk
        .upgrade(&sign(&first, &module("1.1.0")), false)
        .unwrap();
    assert_eq!(
        (up.to.as_str(), up.plugin.signers),
        ("1.1.0", vec![fingerprint(&first)])
    );

    // The desk now trusts another key only: an upgrade needs both rules, so one
    // signed by the installed version's key alone is untrusted, and with unsigned
    // modules allowed it goes through on the same-signer rule.
    desk.trust_remove(&fingerprint(&first)).unwrap();
    desk.trust_add(&public(&second).to_openssh("")).unwrap();
    let wasm = sign(&first, &module("1.2.0"));
    let (kind, _) = signature_refusal(desk.upgrade(&wasm, false));
    assert_eq!(kind, ProblemKind::SignatureUntrusted);
    let allowed = InstallOptions {
        allow_unsigned: true,
    };
    let up = desk.upgrade_with(&wasm, false, allowed).unwrap();
    assert_eq!(up.plugin.signers, [fingerprint(&first)]);
}

/// The statement of `from` that hands plugin `plugin` to `to`, as `key rotate` writes it.
fn rotation(from: &wasmsign2::KeyPair, to: &wasmsign2::KeyPair, plugin: &str) -> Rotation {
    let message = Rotation::message(plugin, &public(from), &public(to));
    let signature = from.sk.sk.sign(message, None);
    Rotation::new(plugin, public(from), public(to), *signature)
}

/// `module("1.1.0")` carrying `rotations`, signed by `pair`.
fn rotated(pair: &wasmsign2::KeyPair, rotations: &[Rotation]) -> Vec<u8> {
    sign(pair, &with_rotations(&module("1.1.0"), rotations).unwrap())
}

fn signer_refusal(result: Result<impl std::fmt::Debug, DeskError>) -> String {
    match result {
        Err(e @ DeskError::SignerChanged { .. }) => e.to_string(),
        other => panic!("expected a signer refusal, got {other:?}"),
    }
}

#[test]
fn an_upgrade_by_a_new_key_is_accepted_with_a_rotation_statement_of_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second, third) = (
        wasmsign2::KeyPair::generate(),
        wasmsign2::KeyPair::generate(),
        wasmsign2::KeyPair::generate(),
    );
    let desk = trusting(dir.path(), &[&first, &second, &third]);
    desk.install(&sign(&first, &module("1.0.0"))).unwrap();

    // Each statement that does not hand the plugin from its signer to the new module's
    // signer is refused, saying why.
    let mut forged = rotation(&second, &second, ID);
    forged.from = public(&first);
    let refusals = [
        (
            rotated(&second, &[rotation(&first, &second, "com.example.other")]),
            "it is for another plugin",
        ),
        (
            rotated(&second, &[rotation(&third, &second, ID)]),
            "its `from` key did not sign the installed version",
        ),
        (
            rotated(&second, &[rotation(&first, &third, ID)]),
            "its `to` key did not sign the new module as it is",
        ),
        (
            rotated(&second, &[forged]),
            "its signature does not verify with its `from` key",
        ),
    ];
    for (wasm, why) in refusals {
        let text = signer_refusal(desk.upgrade(&wasm, true));
        assert!(
            text.contains("its rotation statements do not lead to a key that signed it")
                && text.contains(why),
            "{why}: {text}"
        );
    }
    // A statement added after the new key signed is not covered by its signature.
    let late = with_rotations(
        &sign(&second, &module("1.1.0")),
        &[rotation(&first, &second, ID)],
    )
    .unwrap();
    let (kind, _) = signature_refusal(desk.upgrade(&late, true));
    assert_eq!(kind, ProblemKind::SignatureChanged);
    assert_eq!(desk.plugin(ID).unwrap().manifest.version, "1.0.0");

    let up = desk
        .upgrade(&rotated(&second, &[rotation(&first, &second, ID)]), true)
        .unwrap();
    assert_eq!(
        (up.to.as_str(), up.plugin.signers),
        ("1.1.0", vec![fingerprint(&second)])
    );
    // From now on the new key is the plugin's signer, and the old one is not.
    let text = signer_refusal(desk.upgrade(&sign(&first, &module("1.2.0")), true));
    assert!(
        text.contains(&format!("1.1.0 was signed by {}", fingerprint(&second))),
        "{text}"
    );
    let up = desk
        .upgrade(&sign(&second, &module("1.2.0")), true)
        .unwrap();
    assert_eq!(up.to, "1.2.0");
}
