//! The host's decisions on a plugin's calls, as functions (feature `rules`).
//!
//! Everything a host decides without running wasm lives here once: the reference host
//! (`otai-plugin-host`) and the SDK's native stand-in call these functions rather than
//! repeating them, and parity tests hold both to the same answers.
//!
//! - [`ticket`]: what `ohd_add_reply` and `ohd_set_custom_field` answer;
//! - [`http`]: what `ohd_http_request` refuses before sending, and the allow-list.
//!
//! Judging a whole module at load time is [`crate::module`] (feature `module`).

pub mod http;
pub mod ticket;
