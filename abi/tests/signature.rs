//! `module::signature`: a module's signatures checked against trusted keys, and the rule
//! of a host that requires a trusted signer. Modules are signed with `wasmsign2` (the
//! module-signatures design's implementation), as `cargo otai-plugin sign` does.

use otai_plugin_abi::module::signature::{
    Fingerprint, KeyError, PublicKey, SignatureState, Verification, verify_signatures,
};
use otai_plugin_abi::module::{AcceptOptions, Acceptance, ProblemKind, accept};

const MANIFEST: &str = r#"{"id":"com.example.signed","name":"Hello","version":"1.0.0","description":"d","events":["ticket.created"]}"#;

/// A plugin with a constant in its code and a custom section of its own, so that each
/// can be changed after signing.
fn plugin() -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
            (memory (export "memory") 1)
            (func (export "ohd_alloc") (param i32) (result i32) i32.const 16)
            (func (export "ohd_free") (param i32 i32))
            (func (export "on_event") (param i32 i32) i32.const 1234567 drop)
            (@custom "notes" "hello notes")
            (@custom "ohd_manifest" "{}"))"#,
        MANIFEST.replace('"', "\\\"")
    ))
    .unwrap()
}

struct Key {
    pair: wasmsign2::KeyPair,
}

impl Key {
    fn new() -> Key {
        Key {
            pair: wasmsign2::KeyPair::generate(),
        }
    }

    fn public(&self) -> PublicKey {
        PublicKey::from_bytes(*self.pair.pk.pk)
    }

    /// Signs as `cargo otai-plugin sign` does: embedded, the key's fingerprint as key id,
    /// beside any signature already there. (The crates above share this as the test
    /// support's `sign`; the contract depends on no crate of ours, not even that one.)
    fn sign(&self, module: &[u8]) -> Vec<u8> {
        let parsed = wasmsign2::Module::deserialize(&mut std::io::Cursor::new(module)).unwrap();
        let key_id = self.public().fingerprint().0.to_vec();
        let (signed, _) = self
            .pair
            .sk
            .sign_multi(parsed, Some(&key_id), false, false)
            .unwrap();
        let mut out = Vec::new();
        signed.serialize(&mut out).unwrap();
        out
    }
}

/// The verdict of a host with the default settings that requires one of `trusted`.
fn host_verdict(bytes: &[u8], trusted: &[PublicKey]) -> (Acceptance, Verification) {
    let mut verdict = accept(bytes, &AcceptOptions::default());
    let verification = verify_signatures(bytes, trusted);
    verification.require(&mut verdict);
    (verdict, verification)
}

fn error_kinds(verdict: &Acceptance) -> Vec<ProblemKind> {
    verdict.errors().map(|p| p.kind).collect()
}

/// `bytes` with the only occurrence of `from` replaced by `to` (same length).
fn replaced(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "{from:?} occurs {} times", at.len());
    let mut out = bytes.to_vec();
    out[at[0]..at[0] + to.len()].copy_from_slice(to);
    out
}

#[test]
fn a_signed_module_verifies_and_a_host_requiring_its_key_accepts_it() {
    let key = Key::new();
    let signed = key.sign(&plugin());
    let (verdict, verification) = host_verdict(&signed, &[key.public()]);
    assert!(!verdict.has_errors(), "{:?}", verdict.problems);
    assert!(verification.is_trusted());
    assert_eq!(verification.signatures.len(), 1);
    let only = &verification.signatures[0];
    assert_eq!(only.state, SignatureState::Valid);
    assert_eq!(only.key, Some(key.public().fingerprint()));
    assert!(only.covers_module);
    // Everything after the `signature` section, to the end of the module.
    let range = verification.signed_bytes.clone().unwrap();
    assert_eq!(range.end, signed.len() as u64);
    assert_eq!(&signed[range.start as usize..], &plugin()[8..]);
    // The signature does not change what the module is to a host.
    assert_eq!(verdict.manifest.unwrap().id, "com.example.signed");

    // wasmsign2's own verification agrees.
    let mut set = wasmsign2::PublicKeySet::empty();
    set.insert(key.pair.pk.clone()).unwrap();
    set.verify(&mut std::io::Cursor::new(&signed), None)
        .unwrap();
}

#[test]
fn one_byte_changed_after_signing_is_refused_as_changed() {
    let key = Key::new();
    let signed = key.sign(&plugin());
    // `i32.const 1234567` is `41 87 ad cb 00`: its first byte, 87, becomes 88.
    let code = replaced(
        &signed,
        &[0x41, 0x87, 0xad, 0xcb, 0x00],
        &[0x41, 0x88, 0xad, 0xcb, 0x00],
    );
    let custom = replaced(&signed, b"hello notes", b"jello notes");
    let manifest = replaced(&signed, br#""name":"Hello""#, br#""name":"Jello""#);
    for (what, changed) in [
        ("code", code),
        ("custom section", custom),
        ("manifest", manifest),
    ] {
        // Still a module a host loads: only the signature says it changed.
        assert!(
            !accept(&changed, &AcceptOptions::default()).has_errors(),
            "{what}"
        );
        let (verdict, verification) = host_verdict(&changed, &[key.public()]);
        assert_eq!(
            error_kinds(&verdict),
            [ProblemKind::SignatureChanged],
            "{what}"
        );
        assert_eq!(
            verification.signatures[0].state,
            SignatureState::Changed,
            "{what}"
        );
        assert!(!verification.signatures[0].covers_module, "{what}");
        let message = &verdict.errors().next().unwrap().message;
        assert!(
            message.contains("changed after it was signed"),
            "{what}: {message}"
        );
        assert!(
            message.contains(&key.public().fingerprint().to_string()),
            "{what}: {message}"
        );
    }
}

#[test]
fn a_valid_signature_from_an_untrusted_key_is_refused() {
    let signer = Key::new();
    let trusted = Key::new();
    let signed = signer.sign(&plugin());
    let (verdict, verification) = host_verdict(&signed, &[trusted.public()]);
    assert_eq!(error_kinds(&verdict), [ProblemKind::SignatureUntrusted]);
    assert_eq!(verification.signatures[0].state, SignatureState::Untrusted);
    // The key id names the signer even to a host that does not have its key.
    assert_eq!(
        verification.signatures[0].key,
        Some(signer.public().fingerprint())
    );
    assert!(verification.signatures[0].covers_module);
}

#[test]
fn no_signature_is_refused_when_one_is_required_and_ignored_otherwise() {
    let key = Key::new();
    let (verdict, verification) = host_verdict(&plugin(), &[key.public()]);
    assert_eq!(error_kinds(&verdict), [ProblemKind::SignatureMissing]);
    assert!(verification.signatures.is_empty());
    assert_eq!(verification.signed_bytes, None);
    // No trusted key at all: nothing can satisfy the rule.
    let signed = key.sign(&plugin());
    let (verdict, _) = host_verdict(&signed, &[]);
    assert_eq!(error_kinds(&verdict), [ProblemKind::SignatureUntrusted]);
    // Without the rule, a signature is one more custom section.
    assert!(!accept(&signed, &AcceptOptions::default()).has_errors());
}

#[test]
fn two_signatures_of_which_one_is_trusted_are_accepted() {
    let first = Key::new();
    let second = Key::new();
    let cosigned = second.sign(&first.sign(&plugin()));
    for trusted in [first.public(), second.public()] {
        let (verdict, verification) = host_verdict(&cosigned, &[trusted]);
        assert!(!verdict.has_errors(), "{:?}", verdict.problems);
        let states: Vec<(Option<Fingerprint>, SignatureState)> = verification
            .signatures
            .iter()
            .map(|s| (s.key, s.state))
            .collect();
        let state_of = |key: &Key| {
            if key.public() == trusted {
                SignatureState::Valid
            } else {
                SignatureState::Untrusted
            }
        };
        assert_eq!(
            states,
            [
                (Some(first.public().fingerprint()), state_of(&first)),
                (Some(second.public().fingerprint()), state_of(&second)),
            ]
        );
    }
    // And neither of them trusted: refused, naming both signers.
    let (verdict, _) = host_verdict(&cosigned, &[Key::new().public()]);
    let message = &verdict.errors().next().unwrap().message;
    assert!(message.contains(&first.public().fingerprint().to_string()));
    assert!(message.contains(&second.public().fingerprint().to_string()));
}

#[test]
fn a_signature_that_names_a_trusted_key_but_does_not_verify_is_invalid() {
    let key = Key::new();
    let signed = key.sign(&plugin());
    // The section ends with the one signature's 64 bytes.
    let mut forged = signed.clone();
    forged[first_section_end(&signed) - 10] ^= 0x01;
    let (verdict, verification) = host_verdict(&forged, &[key.public()]);
    assert_eq!(error_kinds(&verdict), [ProblemKind::SignatureInvalid]);
    assert_eq!(verification.signatures[0].state, SignatureState::Invalid);
    // The hashes were not touched: only the signature over them is wrong.
    assert!(verification.signatures[0].covers_module);
}

#[test]
fn a_signed_component_verifies_and_changed_is_refused() {
    // The smallest component; the signature format is the same for both flavours.
    let component = wat::parse_str(r#"(component (@custom "notes" "hello notes"))"#).unwrap();
    let key = Key::new();
    let signed = key.sign(&component);
    assert!(wasmparser::Parser::is_component(&signed));
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&signed)
        .unwrap();
    let verification = verify_signatures(&signed, &[key.public()]);
    assert!(verification.is_trusted());
    let changed = replaced(&signed, b"hello notes", b"jello notes");
    let verification = verify_signatures(&changed, &[key.public()]);
    assert_eq!(verification.signatures[0].state, SignatureState::Changed);
}

#[test]
fn hostile_signature_sections_are_refused_without_allocating_what_they_claim() {
    let key = Key::new();
    let body = &plugin()[8..];
    let with_section = |payload: &[u8]| {
        let mut section = vec![9u8];
        section.extend_from_slice(b"signature");
        section.extend_from_slice(payload);
        let mut module = b"\0asm\x01\0\0\0\0".to_vec();
        leb(&mut module, section.len() as u32);
        module.extend(section);
        module.extend_from_slice(body);
        module
    };
    for (what, payload) in [
        // One hash set that claims 4 GiB.
        (
            "a huge hash set",
            vec![1, 1, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f],
        ),
        ("too many hash sets", vec![1, 1, 1, 0xff, 0x01]),
        // Two sets of 200 signatures each: within the format's limits, over the host's.
        ("too many signatures in all", many_signatures(&[200, 200])),
        ("another format", vec![2, 1, 1, 0]),
        ("a truncated section", vec![1, 1]),
        // A set with 64 hashes announced and none there.
        ("missing hashes", vec![1, 1, 1, 1, 1, 64]),
    ] {
        let module = with_section(&payload);
        let (verdict, verification) = host_verdict(&module, &[key.public()]);
        assert_eq!(
            error_kinds(&verdict),
            [ProblemKind::SignatureInvalid],
            "{what}"
        );
        assert!(verification.unreadable.is_some(), "{what}");
    }
    // A first section that claims more bytes than the module has.
    let mut module = b"\0asm\x01\0\0\0\0\xff\xff\xff\xff\x0f".to_vec();
    module.extend_from_slice(b"\x09signature");
    let verification = verify_signatures(&module, &[key.public()]);
    assert!(
        verification
            .unreadable
            .unwrap()
            .contains("more than the module has")
    );
}

#[test]
fn a_signature_section_that_is_not_the_first_is_not_read() {
    let key = Key::new();
    let signed = key.sign(&plugin());
    // Move the section to the end.
    let section_end = first_section_end(&signed);
    let mut moved = signed[..8].to_vec();
    moved.extend_from_slice(&signed[section_end..]);
    moved.extend_from_slice(&signed[8..section_end]);
    let (verdict, verification) = host_verdict(&moved, &[key.public()]);
    assert_eq!(error_kinds(&verdict), [ProblemKind::SignatureInvalid]);
    assert!(
        verification
            .unreadable
            .unwrap()
            .contains("first section only")
    );
}

#[test]
fn public_keys_read_from_openssh_and_say_what_else_they_found() {
    let key = Key::new();
    let line = key.public().to_openssh("me@example");
    assert!(line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
    let text = format!("# my keys\n\n{line}\n");
    assert_eq!(PublicKey::from_openssh(&text).unwrap(), key.public());
    assert!(matches!(
        PublicKey::from_openssh("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ me"),
        Err(KeyError::KeyType(t)) if t == "ssh-rsa"
    ));
    for garbage in [
        "",
        "hello",
        "ssh-ed25519",
        "ssh-ed25519 !!!",
        "ssh-ed25519 AAAA",
    ] {
        assert!(
            matches!(PublicKey::from_openssh(garbage), Err(KeyError::Syntax(_))),
            "{garbage:?}"
        );
    }
}

/// A section payload with sets of `counts` signatures, each by no particular key.
fn many_signatures(counts: &[usize]) -> Vec<u8> {
    let mut payload = vec![1, 1, 1];
    leb(&mut payload, counts.len() as u32);
    for &count in counts {
        let mut set = vec![1];
        set.extend_from_slice(&[0; 32]);
        leb(&mut set, count as u32);
        for _ in 0..count {
            // No key id, ed25519, 64 bytes.
            let mut one = vec![0, 1, 64];
            one.extend_from_slice(&[0; 64]);
            leb(&mut set, one.len() as u32);
            set.extend(one);
        }
        leb(&mut payload, set.len() as u32);
        payload.extend(set);
    }
    payload
}

/// Where the module's first section ends.
fn first_section_end(module: &[u8]) -> usize {
    let (mut len, mut shift, mut at) = (0usize, 0, 9);
    loop {
        let byte = module[at];
        at += 1;
        len |= usize::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return at + len;
        }
    }
}

fn leb(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
