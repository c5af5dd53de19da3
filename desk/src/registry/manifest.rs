//! The OCI image manifest of a plugin, in the layout of the CNCF TAG Runtime's Wasm OCI
//! artifact: an image manifest whose config is `application/vnd.wasm.config.v0+json`
//! and whose one layer is the module, `application/wasm`. That layout sets no
//! `artifactType`: the config's media type says what the artifact is, as the OCI image
//! specification 1.1 reads a manifest without one; registries that predate 1.1 (the
//! CNCF Distribution 2.8 of the tests) store it as any image manifest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The manifest's own media type.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config's media type in the CNCF Wasm layout.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The module's layer media type in the CNCF Wasm layout.
pub const LAYER_MEDIA_TYPE: &str = "application/wasm";

/// An OCI image manifest (the members a plugin's uses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// [`MANIFEST_MEDIA_TYPE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers: one, the module.
    pub layers: Vec<Descriptor>,
    /// What a registry's UI shows: the plugin's id, name, version, events, hosts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A blob as a manifest names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// What the blob is.
    pub media_type: String,
    /// `sha256:…` of its bytes.
    pub digest: String,
    /// Its length in bytes.
    pub size: u64,
}

impl Manifest {
    /// The module's layer: the one layer of media type [`LAYER_MEDIA_TYPE`] under a
    /// [`CONFIG_MEDIA_TYPE`] config.
    ///
    /// # Errors
    /// Why the manifest is not a plugin's, in words for the user.
    pub fn module_layer(&self) -> Result<&Descriptor, String> {
        if self.schema_version != 2 {
            return Err(format!(
                "its `schemaVersion` is {}, not 2",
                self.schema_version
            ));
        }
        if let Some(media_type) = &self.media_type
            && media_type != MANIFEST_MEDIA_TYPE
        {
            return Err(format!(
                "its `mediaType` is `{media_type}`, not `{MANIFEST_MEDIA_TYPE}` (an index or a \
                 docker image is not a plugin)"
            ));
        }
        if self.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(format!(
                "its config is `{}`, not a Wasm artifact's `{CONFIG_MEDIA_TYPE}`",
                self.config.media_type
            ));
        }
        match self.layers.as_slice() {
            [layer] if layer.media_type == LAYER_MEDIA_TYPE => Ok(layer),
            [layer] => Err(format!(
                "its layer is `{}`, not `{LAYER_MEDIA_TYPE}`",
                layer.media_type
            )),
            layers => Err(format!(
                "it has {} layers; a plugin's has one, the module",
                layers.len()
            )),
        }
    }
}

/// The config blob of the CNCF Wasm layout. `os` is `wasip1` for a core module (the
/// layout's value for a module that is not a component) and `wasip2` for a component.
/// `layerDigests` makes the config, and so the manifest, differ for different modules.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WasmConfig<'a> {
    pub(crate) created: String,
    pub(crate) architecture: &'a str,
    pub(crate) os: &'a str,
    pub(crate) layer_digests: Vec<String>,
}

/// Now as RFC 3339 UTC (`2026-12-07T19:31:34Z`), without a date library.
pub(crate) fn now_rfc3339() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::clock::rfc3339(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(config: &str, layers: &[&str]) -> Manifest {
        let descriptor = |media_type: &str| Descriptor {
            media_type: media_type.to_owned(),
            digest: format!("sha256:{}", "0".repeat(64)),
            size: 1,
        };
        Manifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
            config: descriptor(config),
            layers: layers.iter().map(|m| descriptor(m)).collect(),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn only_the_wasm_layout_has_a_module_layer() {
        assert!(
            manifest(CONFIG_MEDIA_TYPE, &[LAYER_MEDIA_TYPE])
                .module_layer()
                .is_ok()
        );
        let docker = manifest(
            "application/vnd.oci.image.config.v1+json",
            &[LAYER_MEDIA_TYPE],
        );
        assert!(
            docker
                .module_layer()
                .unwrap_err()
                .contains("not a Wasm artifact's")
        );
        let two = manifest(CONFIG_MEDIA_TYPE, &[LAYER_MEDIA_TYPE, LAYER_MEDIA_TYPE]);
        assert!(two.module_layer().unwrap_err().contains("2 layers"));
        let tar = manifest(
            CONFIG_MEDIA_TYPE,
            &["application/vnd.oci.image.layer.v1.tar"],
        );
        assert!(
            tar.module_layer()
                .unwrap_err()
                .contains("not `application/wasm`")
        );
    }
}
