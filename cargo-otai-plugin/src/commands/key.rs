//! `cargo otai-plugin key new`: an ed25519 key pair to sign plugins with.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::CommonOptions;
use crate::signing::SigningKey;

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
        }
    }
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
