//! `desk deliver` and `desk log`: events delivered to the plugins, and what each delivery did.

use std::io::Write;

use anyhow::Result;
use otai_plugin_desk::Desk;
use otai_plugin_host::DeliveryReport;

use super::{Output, Printed, print_json};
use crate::term::{BOLD, GREEN, RED, Shell, YELLOW};

/// A delivery that did not end `ok` in any plugin is a failure, after every report is
/// printed.
pub(super) fn deliver(desk: &Desk, out: Output<'_>, event: &str, ticket: &str) -> Result<Printed> {
    let reports = desk.deliver(event, ticket)?;
    // The desk commits deliveries in groups; this one is recorded before anything is
    // printed, or the command fails.
    desk.flush()?;
    let shell = out.shell;
    if out.json {
        print_json(shell, &reports)?;
    } else {
        if reports.is_empty() {
            shell.note(format!("no enabled plugin subscribes to `{event}`"));
        }
        for report in &reports {
            print_report(shell, report)?;
        }
    }
    if reports.iter().any(|r| !r.outcome.is_ok()) {
        return Ok(Printed::Failure);
    }
    Ok(Printed::Success)
}

pub(super) fn print_report(shell: &Shell, report: &DeliveryReport) -> Result<()> {
    let word = if report.outcome.is_ok() {
        format!("{GREEN}ok{GREEN:#}")
    } else {
        format!("{RED}{}{RED:#}", report.outcome)
    };
    writeln!(shell.out(), "{BOLD}{}{BOLD:#}: {word}", report.plugin_id)?;
    for warning in crate::harness::unmatched_warnings(&report.http) {
        writeln!(shell.out(), "  {YELLOW}warning{YELLOW:#}: {warning}")?;
    }
    for line in &report.logs {
        writeln!(shell.out(), "  [{}] {}", line.level, line.message)?;
    }
    for x in &report.http {
        writeln!(
            shell.out(),
            "  {} {} -> {}",
            x.request.method,
            x.request.url,
            x.status
        )?;
    }
    for r in &report.replies {
        writeln!(
            shell.out(),
            "  reply{}: {}",
            if r.is_internal { " (internal)" } else { "" },
            r.body
        )?;
    }
    for f in &report.custom_fields {
        writeln!(shell.out(), "  custom field {} = {}", f.key, f.value)?;
    }
    Ok(())
}

pub(super) fn log(desk: &Desk, out: Output<'_>, id: &str, limit: u32) -> Result<Printed> {
    let log = desk.deliveries(id, limit)?;
    out.success(&log, |shell| {
        for d in &log {
            // Recorded by a desk that counts (`dev`): the cost, as `run` prints it.
            let cost = d
                .report
                .fuel
                .map(|fuel| format!(" ({} fuel)", crate::commands::run::thousands(fuel)))
                .unwrap_or_default();
            writeln!(
                shell.out(),
                "#{} {} {} ticket {}: {}{cost}",
                d.seq,
                d.version,
                d.report.event,
                d.ticket_id,
                d.report.outcome
            )?;
        }
        Ok(())
    })
}
