//! `desk settings`: the health settings (when a failing plugin is disabled), shown, or
//! changed with `--set KEY=VALUE` as the web UI's settings page changes them.

use std::io::Write;

use anyhow::{Result, bail};
use otai_plugin_desk::{Desk, HealthSettings, SETTINGS};
use serde_json::json;

use super::{Output, Printed, split_pair};
use crate::term::BOLD;

pub(super) fn settings(desk: &Desk, out: Output<'_>, set: &[String]) -> Result<Printed> {
    let mut pairs = Vec::new();
    for pair in set {
        pairs.push(split_pair(pair, "--set")?);
    }
    let current = desk.health_settings();
    let shown = if pairs.is_empty() {
        current
    } else {
        let changed = match current.with_text(pairs.iter().copied()) {
            Ok(changed) => changed,
            Err(problems) => {
                let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
                bail!("the health settings were not saved:\n{}", lines.join("\n"));
            }
        };
        desk.set_health_settings(changed)?;
        changed
    };
    let value = json!({
        "failure_percent": shown.failure_percent,
        "min_deliveries": shown.min_deliveries,
        "window_minutes": shown.window_minutes,
    });
    out.success(&value, |shell| {
        if !pairs.is_empty() {
            shell.status(
                "Saved",
                "the health settings; the next delivery is judged by them",
            );
        }
        print_settings(shell, &shown)
    })
}

fn print_settings(shell: &crate::term::Shell, shown: &HealthSettings) -> Result<()> {
    let mut out = shell.out();
    for (key, what) in SETTINGS {
        let value = match key {
            "failure_percent" => shown.failure_percent.to_string(),
            "min_deliveries" => shown.min_deliveries.to_string(),
            _ => shown.window_minutes.to_string(),
        };
        writeln!(out, "{BOLD}{key}{BOLD:#} = {value}  ({what})")?;
    }
    Ok(())
}
