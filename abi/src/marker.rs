//! The ABI marker: the `ohd_abi` custom section.
//!
//! It holds one UTF-8 JSON object, e.g. `{"abi":1,"sdk":"otai-plugin-sdk 0.1.0"}`.
//! `abi` is the ABI version the module was built for; `sdk` names the library or tool
//! that built it and is optional. The section is optional: a module without one is
//! taken to be ABI v1. Hosts that do not know the section ignore it, so the manifest
//! that every host reads stays as it is.

use serde::{Deserialize, Serialize};

/// The contents of the `ohd_abi` custom section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbiMarker {
    /// The ABI version the module was built for.
    pub abi: u32,
    /// The SDK or tool that built the module, e.g. `otai-plugin-sdk 0.1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<String>,
}
