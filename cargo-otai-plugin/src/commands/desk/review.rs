//! What `desk install|upgrade oci://…` shows before it installs: the module pulled
//! (pinned to its digest), its permissions, its signatures and, for an upgrade, the
//! permission diff and the same-signer verdict; then the confirmation, as apt and
//! `spin plugins install` ask for one: `--yes`, or `y` on a terminal.
//!
//! A module the desk would refuse anyway (no trusted signature without
//! `--allow-unsigned`, another signer than the installed version's) is not asked about:
//! the desk's refusal says why.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use otai_plugin_abi::manifest::Manifest;
use otai_plugin_desk::registry::Pulled;
use otai_plugin_desk::{Desk, InstallOptions, Review};

use crate::term::{BOLD, GREEN, RED, Shell, YELLOW};

/// Whether to go on with an install or upgrade from a registry.
pub(super) enum Confirmed {
    /// Go on; `approved`: the answer on a terminal, given with the diff in sight,
    /// approves an upgrade's new permissions as `--approve` does.
    Yes { approved: bool },
    /// Not confirmed: nothing was installed; the review (with `--format json`, one
    /// document with it) has been printed.
    No,
}

/// Shows the review of `pulled` on stderr (`json`: nothing, unless it is not confirmed)
/// and asks for confirmation.
///
/// # Errors
/// The module does not load; stderr or stdin fail.
pub(super) fn confirm(
    shell: &Shell,
    desk: &Desk,
    pulled: &Pulled,
    options: InstallOptions,
    yes: bool,
    json: bool,
) -> Result<Confirmed> {
    let review = desk.review(&pulled.module)?;
    let refused = review.signer_refusal.is_some()
        || (review.signature_refusal.is_some() && !options.allow_unsigned);
    if refused {
        // The desk refuses it with its own words; nothing to confirm.
        return Ok(Confirmed::Yes { approved: false });
    }
    if !json {
        print_review(shell, pulled, &review)?;
    }
    if yes {
        return Ok(Confirmed::Yes { approved: false });
    }
    let verb = if review.installed_version.is_some() {
        "Upgrade to"
    } else {
        "Install"
    };
    if !json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        write!(
            shell.err(),
            "{verb} {} {}? [y/N] ",
            review.manifest.id,
            review.manifest.version
        )?;
        shell.err().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
            return Ok(Confirmed::Yes { approved: true });
        }
        shell.warn("nothing was installed");
        return Ok(Confirmed::No);
    }
    if json {
        let document = serde_json::json!({
            "ok": false,
            "needs_confirmation": true,
            "reference": pulled.reference.to_string(),
            "digest": pulled.digest,
            "review": review,
        });
        writeln!(shell.out(), "{}", serde_json::to_string_pretty(&document)?)?;
    } else {
        shell.warn(format!(
            "nothing was installed: review the module above and run again with `--yes` to \
             {} it (on a terminal, the command asks)",
            verb.to_lowercase()
        ));
    }
    Ok(Confirmed::No)
}

fn print_review(shell: &Shell, pulled: &Pulled, review: &Review) -> std::io::Result<()> {
    let m = &review.manifest;
    let mut err = shell.err();
    writeln!(
        err,
        "{BOLD}{}{BOLD:#} {} ({}){}",
        m.id,
        m.version,
        m.name,
        review
            .installed_version
            .as_ref()
            .map(|v| format!(", replacing {v}"))
            .unwrap_or_default()
    )?;
    writeln!(err, "  from:          {}", pulled.reference)?;
    write_permissions(&mut err, m)?;
    let signatures: Vec<String> = review
        .signatures
        .signatures
        .iter()
        .map(|s| {
            let key = s
                .key
                .map(|k| k.to_string())
                .or_else(|| s.key_id.as_ref().map(|id| format!("key id {id}")))
                .unwrap_or_else(|| "a key without a key id".to_owned());
            format!("{key} ({})", s.state)
        })
        .collect();
    writeln!(
        err,
        "  signatures:    {}",
        if signatures.is_empty() {
            "none".to_owned()
        } else {
            signatures.join(", ")
        }
    )?;
    if !review.signers.is_empty() && review.signature_refusal.is_none() {
        writeln!(
            err,
            "  signer:        {GREEN}{}{GREEN:#}{}",
            review.signers.join(", "),
            if review.trusted_keys > 0 {
                " (trusted)"
            } else {
                " (signed the installed version)"
            }
        )?;
    } else if review.trusted_keys == 0 {
        writeln!(
            err,
            "  signer:        {YELLOW}none this desk knows{YELLOW:#} (it trusts no key: \
             `desk trust add KEY.pub`)"
        )?;
    } else {
        writeln!(
            err,
            "  signer:        {RED}no trusted key{RED:#} (installed with --allow-unsigned)"
        )?;
    }
    if let Some(diff) = &review.diff {
        writeln!(err, "{diff}")?;
        if !review.installed_signers.is_empty() {
            writeln!(
                err,
                "  same signer:   {}, which signed {}",
                review.installed_signers.join(", "),
                review.installed_version.as_deref().unwrap_or_default()
            )?;
        }
    }
    for warning in &review.warnings {
        writeln!(err, "  warning:       {warning}")?;
    }
    Ok(())
}

/// What a plugin may do: the events it gets, the hosts it may send requests to, its
/// ticket panel; one line each, as the install and the review before it show them.
pub(super) fn write_permissions(out: &mut impl Write, m: &Manifest) -> std::io::Result<()> {
    let events: Vec<String> = m.events.iter().map(ToString::to_string).collect();
    writeln!(out, "  events:        {}", events.join(", "))?;
    let hosts = m.allowed_hosts();
    writeln!(
        out,
        "  allowed hosts: {}",
        if hosts.is_empty() {
            "none".to_owned()
        } else {
            hosts.join(", ")
        }
    )?;
    match &m.ui_panel {
        Some(panel) => writeln!(
            out,
            "  ticket panel:  \"{}\" ({} px)",
            panel.title, panel.height
        ),
        None => writeln!(out, "  ticket panel:  none"),
    }
}
