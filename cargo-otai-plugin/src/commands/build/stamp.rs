//! The stamp `build` leaves beside each module, and the copy of what `wasm-opt` wrote.

use cargo_metadata::camino::Utf8PathBuf;
use otai_plugin_abi::manifest::Manifest;

use super::Checked;
use crate::message_format::ArtifactProblem;

/// What the last build checked, next to the module (`<module>.otai-plugin`): when the
/// module is still the same file (size, modification time, inode), Cargo.toml still
/// gives the same manifest and this CLI is the same executable, the lint is skipped and
/// its warnings replayed, as cargo replays rustc's. Cargo links the module it built
/// into place again on every build, undoing what processing wrote (the dropped data
/// copies of every SDK plugin, a panel plugin's adapter): the stamp knows that file
/// too, and it is processed again, which gives the bytes checked last time. The
/// Cargo.toml manifest is part of the key because editing `[package.metadata.ohd]` does
/// not always relink: cargo does not track that table, and the macro may read another
/// file. So is the `wasm-opt` that ran, whose output is kept beside the module: putting
/// that back costs a file copy, running it again a few hundred milliseconds.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Stamp {
    pub(super) tool: String,
    /// The module as cargo left it.
    pub(super) source: Identity,
    /// The module as this CLI left it (`source` when processing changed nothing).
    pub(super) output: Identity,
    pub(super) manifest: String,
    pub(super) cargo_toml_manifest: Option<String>,
    /// The `wasm-opt` that ran ([`WasmOpt::key`]).
    pub(super) wasm_opt: Option<String>,
    /// The hash of the output kept beside the module ([`keep_output`]).
    pub(super) kept_output: Option<u64>,
    pub(super) problems: Vec<ArtifactProblem>,
}

/// Where the processed module is kept when `wasm-opt` made it, for a no-op build to
/// put back when cargo has linked its own module into place again.
fn kept_output_path(module: &Utf8PathBuf) -> Utf8PathBuf {
    Utf8PathBuf::from(format!("{module}.otai-plugin-out"))
}

/// Best effort, as the stamp: without the copy the next build processes again.
pub(super) fn keep_output(module: &Utf8PathBuf, bytes: &[u8]) -> bool {
    std::fs::write(kept_output_path(module), bytes).is_ok()
}

/// Stable for one build of this CLI, which the stamp's `tool` pins.
pub(super) fn hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Which file a stamp recognised.
pub(super) enum Found {
    /// The module this CLI wrote.
    Output,
    /// The module cargo built, before processing.
    Source,
}

/// A file as the file system sees it, enough to tell that it has not changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Identity {
    len: u64,
    modified_ns: u128,
    inode: u64,
}

/// This CLI: its version, and the size and modification time of its executable, so
/// that a rebuilt CLI (a changed lint, in development) checks every module again.
pub(super) fn tool() -> String {
    let version = concat!("cargo-otai-plugin ", env!("CARGO_PKG_VERSION"));
    let exe = std::env::current_exe()
        .ok()
        .and_then(|exe| Utf8PathBuf::from_path_buf(exe).ok())
        .and_then(|exe| identity(&exe));
    match exe {
        Some(Identity {
            len, modified_ns, ..
        }) => format!("{version} ({len} bytes, {modified_ns})"),
        None => version.to_owned(),
    }
}

pub(super) fn identity(path: &Utf8PathBuf) -> Option<Identity> {
    let meta = std::fs::metadata(path).ok()?;
    let modified_ns = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Identity {
        len: meta.len(),
        modified_ns,
        inode,
    })
}

impl Stamp {
    pub(super) fn matching(
        stamp_path: &Utf8PathBuf,
        module: &Utf8PathBuf,
        cargo_toml_manifest: Option<&str>,
        wasm_opt: Option<&str>,
    ) -> Option<(Stamp, Found)> {
        let stamp: Stamp = serde_json::from_slice(&std::fs::read(stamp_path).ok()?).ok()?;
        if stamp.tool != tool()
            || stamp.cargo_toml_manifest.as_deref() != cargo_toml_manifest
            || stamp.wasm_opt.as_deref() != wasm_opt
        {
            return None;
        }
        // A stamp whose manifest no longer parses was written by another version.
        Manifest::from_json(stamp.manifest.as_bytes()).ok()?;
        let current = identity(module)?;
        if current == stamp.output {
            Some((stamp, Found::Output))
        } else if current == stamp.source {
            Some((stamp, Found::Source))
        } else {
            None
        }
    }

    /// The output kept beside `module`, when it is the one this stamp checked.
    pub(super) fn kept_output(&self, module: &Utf8PathBuf) -> Option<Vec<u8>> {
        let expected = self.kept_output?;
        let bytes = std::fs::read(kept_output_path(module)).ok()?;
        (bytes.len() as u64 == self.output.len && hash(&bytes) == expected).then_some(bytes)
    }

    /// The checked module's figures and problems, as the build that checked it found.
    pub(super) fn replay(self) -> Checked {
        Checked {
            size: self.output.len,
            manifest: Manifest::from_json(self.manifest.as_bytes()).ok(),
            problems: self.problems,
            fresh: true,
        }
    }

    /// Records that the output at `module` was replaced by `bytes` (signed): a no-op
    /// build then finds it as the output, and puts these bytes back when cargo links
    /// its own module into place again.
    pub(super) fn record_signed(stamp_path: &Utf8PathBuf, module: &Utf8PathBuf, bytes: &[u8]) {
        let Some(mut stamp) = std::fs::read(stamp_path)
            .ok()
            .and_then(|json| serde_json::from_slice::<Stamp>(&json).ok())
        else {
            return;
        };
        let Some(output) = identity(module) else {
            return;
        };
        stamp.output = output;
        stamp.kept_output = keep_output(module, bytes).then(|| hash(bytes));
        stamp.save(stamp_path);
    }

    /// Best effort: without a stamp the next build just does the work again.
    pub(super) fn save(&self, stamp_path: &Utf8PathBuf) {
        if let Ok(json) = serde_json::to_vec(self) {
            let _ = std::fs::write(stamp_path, json);
        }
    }
}
