//! `cargo otai-plugin sign WASM --key KEY`: embeds a signature in a built module.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use otai_plugin_abi::module::{AcceptOptions, accept};

use crate::CommonOptions;
use crate::signing::{self, Signed, SigningKey};
use crate::term::Shell;
use otai_plugin_abi::module::rotation::Rotation;

/// Sign a built plugin (a core module or a component) with an ed25519 key: the
/// signature goes into the module's first section, a `signature` custom section in the
/// format of the WebAssembly module-signatures design, and covers every byte after it.
/// Signatures of other keys that still cover the module are kept (co-signing); those
/// made before the module last changed are dropped. Sign last: any later change (even
/// `wasm-opt`) breaks the signature.
#[derive(Debug, Args)]
pub struct SignCommand {
    /// The module to sign, in place.
    #[arg(value_name = "WASM")]
    pub wasm: PathBuf,
    /// The private key (OpenSSH ed25519, without a passphrase).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Write the signed module here instead of replacing WASM.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Embed this rotation statement (`key rotate` writes it) before signing, so that a
    /// desk where the old key signed the installed version accepts an upgrade signed by
    /// KEY. Repeat it for a chain of rotations.
    #[arg(long, value_name = "FILE")]
    pub rotation: Vec<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

impl SignCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The key or the module cannot be read, the module is not one a host loads, or the
    /// output cannot be written.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let key = SigningKey::read(&self.key)?;
        let rotations = self
            .rotation
            .iter()
            .map(|path| signing::read_rotation(path))
            .collect::<Result<Vec<_>>>()?;
        let bytes = std::fs::read(&self.wasm)
            .with_context(|| format!("failed to read `{}`", self.wasm.display()))?;
        let verdict = accept(&bytes, &AcceptOptions::default());
        if verdict.has_errors() {
            let mut message = format!(
                "`{}` is not a module a host loads, so it is not signed (`cargo otai-plugin \
                 check` explains):",
                self.wasm.display()
            );
            for problem in verdict.errors() {
                message.push_str(&format!("\n  - error[{}]: {problem}", problem.kind));
            }
            bail!(message);
        }
        let output = self.output.as_deref().unwrap_or(&self.wasm);
        sign_file(&shell, &bytes, &self.wasm, output, &key, &rotations)
    }
}

/// Signs `bytes` (read from `input`) with `key` into `output`, with the status lines of
/// what happened; `rotations`, when there are any, go into the module first.
///
/// # Errors
/// The module's signatures cannot be read, a rotation statement does not fit the module
/// or the key, or `output` cannot be written.
pub(crate) fn sign_file(
    shell: &Shell,
    bytes: &[u8],
    input: &Path,
    output: &Path,
    key: &SigningKey,
    rotations: &[Rotation],
) -> Result<()> {
    let fingerprint = key.public.fingerprint();
    let rotated;
    let bytes = if rotations.is_empty() {
        bytes
    } else {
        let verdict = accept(bytes, &AcceptOptions::default());
        let Some(manifest) = verdict.manifest else {
            bail!(
                "`{}` has no manifest a host reads, so it cannot carry a rotation statement",
                input.display()
            );
        };
        let embedded = signing::embed_rotations(bytes, rotations, &manifest.id, &key.public)
            .with_context(|| format!("`{}` cannot carry the rotation", input.display()))?;
        match embedded {
            Some(with) => {
                rotated = with;
                for rotation in rotations {
                    shell.status("Rotation", format!("{rotation} in `{}`", input.display()));
                }
                &rotated[..]
            }
            None => bytes,
        }
    };
    let signed = signing::sign(bytes, key)
        .with_context(|| format!("`{}` cannot be signed", input.display()))?;
    match signed {
        Signed::AlreadySigned => {
            if input != output {
                write_atomically(output, bytes)?;
            }
            shell.status(
                "Signed",
                format!("`{}` already by {fingerprint}", output.display()),
            );
        }
        Signed::Signed {
            bytes,
            kept,
            dropped,
        } => {
            if dropped > 0 {
                shell.warn(format!(
                    "dropped {dropped} signature{} of `{}` made before the module last \
                     changed (they no longer cover it)",
                    if dropped == 1 { "" } else { "s" },
                    input.display()
                ));
            }
            write_atomically(output, &bytes)?;
            let cosigned = match kept {
                0 => String::new(),
                1 => " (beside 1 other signature)".to_owned(),
                n => format!(" (beside {n} other signatures)"),
            };
            shell.status(
                "Signed",
                format!("`{}` with {fingerprint}{cosigned}", output.display()),
            );
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".otai-sign-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("failed to write `{}`", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("failed to replace `{}`", path.display()))
}
