//! `desk trust`: the keys whose signatures the desk accepts.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use otai_plugin_desk::Desk;

use super::{Output, Printed, TrustAction};
use crate::term::BOLD;

/// `trust add` reads a file when `key` names one, else takes `key` as the key's text.
pub(super) fn trust(desk: &Desk, out: Output<'_>, action: TrustAction) -> Result<Printed> {
    match action {
        TrustAction::Add { key } => {
            let path = Path::new(&key);
            let text = if path.is_file() {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the key file `{}`", path.display()))?
            } else if !key.trim().contains(char::is_whitespace) {
                bail!(
                    "there is no key file `{key}` (and it is not a key's text either, \
                     `ssh-ed25519 AAAA… comment`)"
                );
            } else {
                key.clone()
            };
            let trusted = desk.trust_add(&text).map_err(|e| {
                let named = if text == key {
                    String::new()
                } else {
                    format!("`{}`: ", path.display())
                };
                anyhow::anyhow!("{named}{e}")
            })?;
            out.success(&trusted, |shell| {
                shell.status("Trusted", &trusted.fingerprint);
                Ok(())
            })
        }
        TrustAction::List => {
            let keys = desk.trust_list()?;
            out.success(&keys, |shell| {
                let mut out = shell.out();
                if keys.is_empty() {
                    writeln!(
                        out,
                        "no trusted keys: the desk installs modules signed or not"
                    )?;
                }
                for key in &keys {
                    writeln!(out, "{BOLD}{}{BOLD:#}  {}", key.fingerprint, key.comment)?;
                }
                Ok(())
            })
        }
        TrustAction::Remove { fingerprint } => {
            let removed = desk.trust_remove(&fingerprint)?;
            out.success(&removed, |shell| {
                shell.status("Removed", &removed.fingerprint);
                Ok(())
            })
        }
    }
}
