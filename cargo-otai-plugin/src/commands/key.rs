//! `cargo otai-plugin key new`: an ed25519 key pair to sign plugins with.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use otai_plugin_abi::module::signature::PublicKey;

use crate::CommonOptions;
use crate::signing::{self, SigningKey};

/// Manage the keys that sign plugins (`sign`, `build --sign`). Keys are OpenSSH ed25519
/// keys: one from `ssh-keygen -t ed25519` works as it is.
#[derive(Debug, Args)]
pub struct KeyCommand {
    /// What to do.
    #[command(subcommand)]
    pub action: KeyAction,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// `key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Write a new ed25519 key pair: the private key (OpenSSH format, readable only by
    /// you) and its public key beside it (`.pub`), then print the public key and its
    /// fingerprint. An existing file is never replaced.
    New {
        /// Where to write the private key (the public key goes to FILE.pub). Default:
        /// `otai-plugin/signing_ed25519` in the user's config directory
        /// (`$XDG_CONFIG_HOME`, else `~/.config`), out of any project, so that it is not
        /// committed with one.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The comment stored with the key and shown after the public key.
        #[arg(long, value_name = "TEXT", default_value = "otai-plugin signing key")]
        comment: String,
    },
    /// Write a rotation statement: the old key hands the signing of one plugin to a new
    /// key. A desk where the old key signed the installed version then accepts an
    /// upgrade signed by the new key that carries the statement (`sign --rotation`,
    /// `build --sign NEW --rotation`). The statement is public: commit it beside the
    /// plugin.
    Rotate {
        /// The old private key, which signed the plugin until now.
        #[arg(long, value_name = "KEY")]
        from: PathBuf,
        /// The new key: its public key (`.pub`, or a public key line), or its private key.
        #[arg(long, value_name = "KEY")]
        to: PathBuf,
        /// The plugin's id, as in its manifest: the statement moves this plugin only.
        #[arg(long, value_name = "ID")]
        plugin: String,
        /// Where to write the statement. Default: `ID.rotation.json` here.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

impl KeyCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The file exists already, or cannot be written.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        match self.action {
            KeyAction::New { out, comment } => {
                let path = match out {
                    Some(path) => path,
                    None => default_key_path()?,
                };
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                    && !dir.exists()
                {
                    create_private_dir(dir)?;
                }
                let key = SigningKey::generate(&comment);
                let public_path = key.write_new(&path)?;
                shell.status("Created", format!("signing key `{}`", path.display()));
                let mut out = shell.out();
                writeln!(out, "private key: {}", path.display())
                    .and_then(|()| writeln!(out, "public key:  {}", public_path.display()))
                    .and_then(|()| writeln!(out, "fingerprint: {}", key.public.fingerprint()))
                    .and_then(|()| writeln!(out, "{}", key.public.to_openssh(&comment)))
                    .context("failed to write to stdout")?;
                Ok(())
            }
            KeyAction::Rotate {
                from,
                to,
                plugin,
                out,
            } => {
                if plugin.trim().is_empty() || plugin.contains('\0') {
                    bail!("`--plugin` needs the plugin's id, as in its manifest");
                }
                let from_key = SigningKey::read(&from)?;
                let to_key = read_public(&to)?;
                if to_key == from_key.public {
                    bail!(
                        "`--from` and `--to` are the same key ({}): a rotation hands a plugin \
                         to another key",
                        to_key.fingerprint()
                    );
                }
                let rotation = signing::rotation(&from_key, &to_key, &plugin);
                let path = out.unwrap_or_else(|| PathBuf::from(format!("{plugin}.rotation.json")));
                let text = serde_json::to_string_pretty(&rotation.to_json())
                    .context("failed to encode the statement")?;
                std::fs::write(&path, text + "\n")
                    .with_context(|| format!("failed to write `{}`", path.display()))?;
                shell.status(
                    "Created",
                    format!("rotation statement `{}`: {rotation}", path.display()),
                );
                shell.note(format!(
                    "sign the next version with the new key and this statement: `cargo \
                     otai-plugin sign WASM --key NEW_KEY --rotation {}`",
                    path.display()
                ));
                Ok(())
            }
        }
    }
}

/// A public key from a `.pub` file or a public key line, else a private key's public half.
fn read_public(path: &std::path::Path) -> Result<PublicKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the key `{}`", path.display()))?;
    if let Ok(key) = PublicKey::from_openssh(&text) {
        return Ok(key);
    }
    SigningKey::from_openssh(&text)
        .map(|key| key.public)
        .with_context(|| {
            format!(
                "`{}` is neither an OpenSSH ed25519 public key nor a private key",
                path.display()
            )
        })
}

fn default_key_path() -> Result<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    let Some(config) = config else {
        bail!("neither `XDG_CONFIG_HOME` nor `HOME` is set: give the key's path with `--out`");
    };
    Ok(config.join("otai-plugin").join("signing_ed25519"))
}

fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))
}
