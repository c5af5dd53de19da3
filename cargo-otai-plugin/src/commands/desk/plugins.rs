//! `desk list`, `configure`, `rollback`, `enable`, `disable` and `remove`: the installed plugins and their state.

use std::io::Write;

use anyhow::{Context, Result};
use otai_plugin_desk::{ConfigEntry, Desk, PluginInfo};

use super::{Output, Printed, split_pair};
use crate::term::{BOLD, GREEN, RED, Shell, YELLOW};

pub(super) fn list(desk: &Desk, out: Output<'_>) -> Result<Printed> {
    let list = desk.list()?;
    out.success(&list, |shell| {
        let mut out = shell.out();
        if list.is_empty() {
            writeln!(out, "no plugins installed")?;
        }
        for info in &list {
            writeln!(
                out,
                "{BOLD}{}{BOLD:#} {}  {}  {}/{} failed ({:.0}%)  last delivery: {}  {}{}",
                info.id,
                info.manifest.version,
                state_word(info),
                info.failures,
                info.deliveries,
                info.error_rate() * 100.0,
                info.last_delivery_ago().unwrap_or_else(|| "never".into()),
                signed_by(info),
                from_source(info)
            )?;
        }
        Ok(())
    })
}

/// Shows the config form without values to set; sets them otherwise.
pub(super) fn configure(
    desk: &Desk,
    out: Output<'_>,
    id: &str,
    set: &[String],
    set_from_env: &[String],
) -> Result<Printed> {
    let form = desk.config_form(id)?;
    if set.is_empty() && set_from_env.is_empty() {
        return out.success(&form, |shell| print_form(shell, &form));
    }
    let mut texts = Vec::new();
    for pair in set {
        let (key, text) = split_pair(pair, "--set")?;
        texts.push((key.to_owned(), text.to_owned()));
    }
    for pair in set_from_env {
        let (key, var) = split_pair(pair, "--set-from-env")?;
        let text = std::env::var(var)
            .with_context(|| format!("`--set-from-env {key}={var}`: `{var}` is not set"))?;
        texts.push((key.to_owned(), text));
    }
    let info = desk.configure_text(id, texts)?;
    out.success(&info, |shell| {
        shell.status("Configured", &info.id);
        print_state(shell, &info);
        Ok(())
    })
}

pub(super) fn rollback(desk: &Desk, out: Output<'_>, id: &str) -> Result<Printed> {
    let info = desk.rollback(id)?;
    out.success(&info, |shell| {
        shell.status(
            "Rolled back",
            format!("{} to {}", info.id, info.manifest.version),
        );
        print_state(shell, &info);
        Ok(())
    })
}

pub(super) fn enable(desk: &Desk, out: Output<'_>, id: &str) -> Result<Printed> {
    let info = desk.enable(id)?;
    out.success(&info, |shell| {
        shell.status("Enabled", &info.id);
        Ok(())
    })
}

pub(super) fn disable(desk: &Desk, out: Output<'_>, id: &str) -> Result<Printed> {
    let info = desk.disable(id)?;
    out.success(&info, |shell| {
        shell.status("Disabled", &info.id);
        Ok(())
    })
}

pub(super) fn remove(desk: &Desk, out: Output<'_>, id: &str) -> Result<Printed> {
    desk.remove(id)?;
    out.success(&serde_json::json!({"ok": true, "removed": id}), |shell| {
        shell.status("Removed", id);
        Ok(())
    })
}

pub(super) fn state_word(info: &PluginInfo) -> String {
    if let Some(e) = &info.load_error {
        return format!("{RED}not loaded{RED:#} ({e})");
    }
    match &info.disabled {
        None => format!("{GREEN}enabled{GREEN:#}"),
        Some(d) => format!("{YELLOW}disabled{YELLOW:#} ({})", d.detail),
    }
}

/// `signed by SHA256:…` or `unsigned`.
pub(super) fn signed_by(info: &PluginInfo) -> String {
    if info.signers.is_empty() {
        "unsigned".to_owned()
    } else {
        format!("signed by {}", info.signers.join(", "))
    }
}

/// `  from oci://…@sha256:…` for a version pulled from a registry, else nothing.
pub(super) fn from_source(info: &PluginInfo) -> String {
    info.source
        .as_ref()
        .map(|source| format!("  from {source}"))
        .unwrap_or_default()
}

pub(super) fn print_state(shell: &Shell, info: &PluginInfo) {
    if let Some(d) = &info.disabled {
        shell.warn(format!("`{}` is disabled: {}", info.id, d.detail));
    }
}

pub(super) fn print_form(shell: &Shell, form: &[ConfigEntry]) -> Result<()> {
    let mut out = shell.out();
    if form.is_empty() {
        writeln!(out, "the plugin has no config fields")?;
    }
    for f in form {
        let value = if f.secret {
            if f.is_set {
                "(secret, set)".to_owned()
            } else {
                "(secret, not set)".to_owned()
            }
        } else {
            match (&f.value, &f.default) {
                (Some(v), _) => v.to_string(),
                (None, Some(d)) => format!("{d} (default)"),
                (None, None) => "(not set)".to_owned(),
            }
        };
        let required = if f.required { " required" } else { "" };
        writeln!(
            out,
            "{BOLD}{}{BOLD:#} ({}{required}): {value}",
            f.key,
            f.ty.as_str()
        )?;
    }
    Ok(())
}
