//! The host's decisions on a plugin's calls, as functions (feature `rules`).
//!
//! Everything a host decides without running wasm lives here once: the reference host
//! (`otai-plugin-host`) and the SDK's native stand-in call these functions rather than
//! repeating them, and parity tests hold both to the same answers.
//!
//! - [`delivery`]: which events a plugin is given;
//! - [`ticket`]: what `ohd_add_reply` and `ohd_set_custom_field` answer;
//! - [`http`]: what `ohd_http_request` refuses before sending, and the allow-list;
//! - [`address`]: which of the addresses a host name resolves to a request may connect
//!   to;
//! - [`status`]: which events one change of a ticket's status sends, in order.
//!
//! Judging a whole module at load time is `crate::module` (feature `module`).

pub mod address;
pub mod delivery;
pub mod http;
pub mod status;
pub mod ticket;

/// Decodes the JSON object a plugin passed to a host function. The calls' JSON is
/// documented as objects; serde's derived `Deserialize` would also read a struct from
/// an array of its fields in order (`["GET", "https://…"]`), a shape no document
/// allows and no other host would accept.
pub(crate) fn decode_object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first.is_some_and(|&b| b != b'{') {
        return Err(serde::de::Error::custom("expected a JSON object"));
    }
    serde_json::from_slice(bytes)
}

#[cfg(test)]
mod tests {
    use crate::calls::HttpRequest;

    #[test]
    fn an_array_of_the_fields_is_not_an_object() {
        let e =
            super::decode_object::<HttpRequest>(br#"["GET", "https://a.example/"]"#).unwrap_err();
        assert_eq!(e.to_string(), "expected a JSON object");
        let ok: HttpRequest =
            super::decode_object(b" \n{\"method\": \"GET\", \"url\": \"https://a.example/\"}")
                .unwrap();
        assert_eq!(ok.method, "GET");
        // Everything else is serde_json's to judge.
        assert!(super::decode_object::<HttpRequest>(b"").is_err());
        assert!(super::decode_object::<HttpRequest>(b"{").is_err());
    }
}
