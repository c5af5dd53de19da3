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
    writeln!(
        shell.out(),
        "{BOLD}{}{BOLD:#}: {}",
        report.plugin_id,
        outcome_word(report)
    )?;
    print_details(shell, report)
}

/// `ok` in green, or the outcome in red.
fn outcome_word(report: &DeliveryReport) -> String {
    if report.outcome.is_ok() {
        format!("{GREEN}ok{GREEN:#}")
    } else {
        format!("{RED}{}{RED:#}", report.outcome)
    }
}

/// What a delivery did, one indented line each: its log lines, requests with their
/// status (and the host's error), replies and custom fields.
fn print_details(shell: &Shell, report: &DeliveryReport) -> Result<()> {
    for warning in crate::harness::unmatched_warnings(&report.http) {
        writeln!(shell.out(), "  {YELLOW}warning{YELLOW:#}: {warning}")?;
    }
    for line in &report.logs {
        writeln!(shell.out(), "  [{}] {}", line.level, line.message)?;
    }
    for x in &report.http {
        let why = match (&x.error, x.blocked) {
            (Some(e), _) => format!(" ({})", e.message),
            (None, true) => " (blocked: not in allowed_hosts)".to_owned(),
            (None, false) => String::new(),
        };
        writeln!(
            shell.out(),
            "  {} {} -> {}{why}",
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

/// `desk log`: with `failed`, the last `limit` deliveries that did not end `ok` (the
/// log keeps a plugin's last deliveries, 50 by default, and those are searched).
pub(super) fn log(
    desk: &Desk,
    out: Output<'_>,
    id: &str,
    limit: u32,
    failed: bool,
) -> Result<Printed> {
    let log: Vec<_> = if failed {
        desk.deliveries(id, u32::MAX)?
            .into_iter()
            .filter(|d| !d.report.outcome.is_ok())
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
    } else {
        desk.deliveries(id, limit)?
    };
    out.success(&log, |shell| {
        if log.is_empty() {
            shell.note(if failed {
                format!("no delivery of `{id}` in its log failed")
            } else {
                format!("no delivery of `{id}` yet")
            });
        }
        for d in &log {
            // As the plugin's page shows it: the time in UTC, the duration, and the
            // cost when recorded by a desk that counts (`dev`), as `run` prints it.
            let fuel = d
                .report
                .fuel
                .map(|fuel| format!(", {} fuel", crate::commands::run::thousands(fuel)))
                .unwrap_or_default();
            writeln!(
                shell.out(),
                "{BOLD}#{}{BOLD:#} {} {} ticket {}: {}",
                d.seq,
                d.version,
                d.report.event,
                d.ticket_id,
                outcome_word(&d.report)
            )?;
            writeln!(
                shell.out(),
                "  at {}, took {}{fuel}",
                d.at_utc(),
                duration(d.report.timings.total_us)
            )?;
            print_details(shell, &d.report)?;
        }
        Ok(())
    })
}

/// Microseconds for people: `850 µs`, `12.3 ms`, `1.20 s`.
fn duration(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_at_their_scale() {
        assert_eq!(super::duration(850), "850 µs");
        assert_eq!(super::duration(12_345), "12.3 ms");
        assert_eq!(super::duration(1_204_000), "1.20 s");
    }
}
