//! `desk install` and `desk upgrade`: a module from a file or a registry, and what it may do.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use otai_plugin_desk::registry::{Pulled, Reference, SCHEME};
use otai_plugin_desk::{Desk, DeskError, PluginInfo};

use super::plugins::{from_source, print_state, signed_by};
use super::review::{Confirmed, confirm, write_permissions};
use super::{ModuleArgs, Output, Printed, print_json, read};
use crate::commands::RegistryArgs;
use crate::term::Shell;

/// The module of `wasm`: a file, or pulled from a registry for an `oci://` reference
/// (the pull, with its pinned reference, is returned too).
fn module(
    out: &Output<'_>,
    wasm: &Path,
    registry: &RegistryArgs,
) -> Result<(Vec<u8>, Option<Pulled>)> {
    let Some(text) = wasm.to_str().filter(|t| t.starts_with(SCHEME)) else {
        return Ok((read(wasm)?, None));
    };
    let reference = Reference::parse(text)?;
    let pulled = registry.client(&reference)?.pull(&reference)?;
    if !out.json {
        out.shell.status("Pulled", &pulled.reference);
    }
    Ok((pulled.module.clone(), Some(pulled)))
}

pub(super) fn install(desk: &Desk, out: Output<'_>, args: &ModuleArgs) -> Result<Printed> {
    let options = args.install_options();
    let info = match module(&out, &args.wasm, &args.registry)? {
        (_, Some(pulled)) => {
            match confirm(out.shell, desk, &pulled, options, args.yes, out.json)? {
                Confirmed::Yes { .. } => desk.install_pulled(&pulled, options)?,
                Confirmed::No => return Ok(Printed::Failure),
            }
        }
        (bytes, None) => desk.install_with(&bytes, options)?,
    };
    out.success(&info, |shell| {
        shell.status(
            "Installed",
            format!("{} {}", info.id, info.manifest.version),
        );
        print_permissions(shell, &info)?;
        print_state(shell, &info);
        Ok(())
    })
}

/// An upgrade that asks for more permissions without `approve` is a failure: the diff
/// is printed, nothing changes.
pub(super) fn upgrade(
    desk: &Desk,
    out: Output<'_>,
    args: &ModuleArgs,
    approve: bool,
) -> Result<Printed> {
    let options = args.install_options();
    let upgraded = match module(&out, &args.wasm, &args.registry)? {
        (_, Some(pulled)) => {
            match confirm(out.shell, desk, &pulled, options, args.yes, out.json)? {
                Confirmed::Yes { approved } => {
                    desk.upgrade_pulled(&pulled, approve || approved, options)
                }
                Confirmed::No => return Ok(Printed::Failure),
            }
        }
        (bytes, None) => desk.upgrade_with(&bytes, approve, options),
    };
    match upgraded {
        Ok(up) => out.success(&up, |shell| {
            shell.status(
                "Upgraded",
                format!("{} {} -> {}", up.plugin.id, up.from, up.to),
            );
            writeln!(shell.out(), "{}", up.diff)?;
            writeln!(
                shell.out(),
                "  {}{}",
                signed_by(&up.plugin),
                from_source(&up.plugin)
            )?;
            print_state(shell, &up.plugin);
            Ok(())
        }),
        Err(DeskError::NeedsApproval { plugin_id, diff }) => {
            let shell = out.shell;
            if out.json {
                print_json(
                    shell,
                    &serde_json::json!({"ok": false, "needs_approval": true, "plugin_id": plugin_id, "diff": diff}),
                )?;
            } else {
                writeln!(shell.out(), "{}", diff)?;
                shell.warn(format!(
                    "upgrading `{plugin_id}` asks for more permissions (above); nothing was changed. \
                     Run again with `--approve` to accept them"
                ));
            }
            Ok(Printed::Failure)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) fn print_permissions(shell: &Shell, info: &PluginInfo) -> std::io::Result<()> {
    let mut out = shell.out();
    write_permissions(&mut out, &info.manifest)?;
    writeln!(out, "  signature:     {}", signed_by(info))?;
    if let Some(source) = &info.source {
        writeln!(out, "  source:        {source}")?;
    }
    Ok(())
}
