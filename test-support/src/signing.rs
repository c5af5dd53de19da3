//! Modules signed for the signature tests, with `wasmsign2` (the module-signatures
//! design's implementation, what `cargo otai-plugin sign` writes with): each signature
//! embedded in the module's `signature` section, beside any already there.

use std::io::Cursor;

use otai_plugin_abi::module::signature::PublicKey;
use wasmsign2::KeyPair;

/// `pair`'s public half, as the host and the desk trust it.
pub fn public(pair: &KeyPair) -> PublicKey {
    PublicKey::from_bytes(*pair.pk.pk)
}

/// `module` with one more signature by `pair`, whose key id is the key's fingerprint,
/// as `cargo otai-plugin sign` writes it: a host checks it with that key only.
pub fn sign(pair: &KeyPair, module: &[u8]) -> Vec<u8> {
    let key_id = public(pair).fingerprint().0;
    signed(pair, Some(&key_id), module)
}

/// `module` with one more signature by `pair` and no key id, as other signers write it:
/// a host tries it against every key it trusts.
pub fn sign_without_key_id(pair: &KeyPair, module: &[u8]) -> Vec<u8> {
    signed(pair, None, module)
}

fn signed(pair: &KeyPair, key_id: Option<&[u8]>, module: &[u8]) -> Vec<u8> {
    let parsed = wasmsign2::Module::deserialize(&mut Cursor::new(module))
        .expect("a module to sign reads as a module");
    let key_id = key_id.map(<[u8]>::to_vec);
    let (signed, _) = pair
        .sk
        .sign_multi(parsed, key_id.as_ref(), false, false)
        .expect("wasmsign2 signs the module");
    let mut out = Vec::with_capacity(module.len() + 256);
    signed
        .serialize(&mut out)
        .expect("a signed module serializes");
    out
}
