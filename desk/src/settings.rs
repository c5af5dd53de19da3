//! The administrator's health settings (the help desk's "auto-disable" settings): when a
//! failing plugin is disabled. Read from text one way for the web UI's settings page and
//! the CLI's `desk settings --set`, checked before they are saved, saved in the
//! database, and given to the host, which judges the next outcome by them.

use std::time::Duration;

use otai_plugin_host::HealthPolicy;
use rusqlite::{Connection, OptionalExtension, params};

/// The longest window: each plugin's outcomes in its window are kept in memory and in
/// the database, so a window of days would keep a busy plugin's millions.
pub const MAX_WINDOW_MINUTES: u32 = 24 * 60;

/// The most deliveries a window may need before it is judged.
pub const MAX_MIN_DELIVERIES: u32 = 100_000;

/// The settings' names, as the form and `--set` give them, and what each is.
pub const SETTINGS: [(&str, &str); 3] = [
    (
        "failure_percent",
        "a plugin is disabled when more than this percentage of its deliveries in the window failed",
    ),
    (
        "min_deliveries",
        "no plugin is judged before its window holds this many deliveries",
    ),
    (
        "window_minutes",
        "how far back the window reaches, in minutes (it starts again when a plugin is enabled)",
    ),
];

/// When a failing plugin is disabled, as an administrator sets it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthSettings {
    /// Disabled when more than this percentage of the window's deliveries failed (0 to
    /// 100; 100 never disables).
    pub failure_percent: f64,
    /// Not judged before the window holds this many deliveries (1 to
    /// [`MAX_MIN_DELIVERIES`]).
    pub min_deliveries: u32,
    /// The window's length in minutes (1 to [`MAX_WINDOW_MINUTES`]).
    pub window_minutes: u32,
}

/// One refused setting: its name and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// The setting (one of [`SETTINGS`]), or the unknown name given.
    pub key: String,
    /// What was found and what is expected.
    pub message: String,
}

impl std::fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The longest text quoted back in a problem.
const QUOTED: usize = 40;

fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(QUOTED).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

impl HealthSettings {
    /// The settings of `policy` (its window rounded to whole minutes, at least one).
    pub fn of(policy: &HealthPolicy) -> HealthSettings {
        HealthSettings {
            failure_percent: policy.failure_threshold * 100.0,
            min_deliveries: policy.min_deliveries,
            window_minutes: u32::try_from(policy.window.as_secs().div_ceil(60))
                .unwrap_or(u32::MAX)
                .max(1),
        }
    }

    /// `policy` with these settings (whether to disable at all stays `policy`'s).
    pub fn apply(&self, policy: HealthPolicy) -> HealthPolicy {
        HealthPolicy {
            failure_threshold: self.failure_percent / 100.0,
            min_deliveries: self.min_deliveries,
            window: Duration::from_secs(u64::from(self.window_minutes) * 60),
            ..policy
        }
    }

    /// Every setting out of its range.
    pub fn problems(&self) -> Vec<SettingProblem> {
        let mut problems = Vec::new();
        if !(self.failure_percent.is_finite() && (0.0..=100.0).contains(&self.failure_percent)) {
            problems.push(percent_problem(&self.failure_percent.to_string()));
        }
        if !(1..=MAX_MIN_DELIVERIES).contains(&self.min_deliveries) {
            problems.push(count_problem(&self.min_deliveries.to_string()));
        }
        if !(1..=MAX_WINDOW_MINUTES).contains(&self.window_minutes) {
            problems.push(window_problem(&self.window_minutes.to_string()));
        }
        problems
    }

    /// These settings, if every one is in its range: the one check of settings the
    /// desk saves or reads back; else every problem.
    pub(crate) fn checked(self) -> Result<Checked, Vec<SettingProblem>> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(Checked(self))
        } else {
            Err(problems)
        }
    }

    /// These settings with the `(name, text)` pairs given changed (a name not given
    /// keeps its value), as the settings form and `--set name=value` give them.
    ///
    /// # Errors
    /// Every problem: an unknown name, a text that is not a number, a number out of
    /// its range, each naming what was found and what is expected.
    pub fn with_text<'a>(
        &self,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<HealthSettings, Vec<SettingProblem>> {
        let mut changed = *self;
        let mut problems = Vec::new();
        for (key, text) in pairs {
            let text = text.trim();
            match key {
                "failure_percent" => {
                    let number = text.strip_suffix('%').unwrap_or(text).trim();
                    match number.parse::<f64>() {
                        Ok(p) if p.is_finite() && (0.0..=100.0).contains(&p) => {
                            changed.failure_percent = p;
                        }
                        _ => problems.push(percent_problem(text)),
                    }
                }
                "min_deliveries" => match text.parse::<u32>() {
                    Ok(n) if (1..=MAX_MIN_DELIVERIES).contains(&n) => changed.min_deliveries = n,
                    _ => problems.push(count_problem(text)),
                },
                "window_minutes" => match text.parse::<u32>() {
                    Ok(n) if (1..=MAX_WINDOW_MINUTES).contains(&n) => changed.window_minutes = n,
                    _ => problems.push(window_problem(text)),
                },
                other => problems.push(SettingProblem {
                    key: quoted(other),
                    message: format!(
                        "no such setting; the settings are {}",
                        SETTINGS.map(|(k, _)| k).join(", ")
                    ),
                }),
            }
        }
        if problems.is_empty() {
            Ok(changed)
        } else {
            Err(problems)
        }
    }
}

fn percent_problem(found: &str) -> SettingProblem {
    SettingProblem {
        key: "failure_percent".into(),
        message: format!(
            "found {}, expected a percentage from 0 to 100 (e.g. 50 or 33.5; 100 never disables)",
            quoted(found)
        ),
    }
}

fn count_problem(found: &str) -> SettingProblem {
    SettingProblem {
        key: "min_deliveries".into(),
        message: format!(
            "found {}, expected a whole number of deliveries from 1 to {MAX_MIN_DELIVERIES}",
            quoted(found)
        ),
    }
}

fn window_problem(found: &str) -> SettingProblem {
    SettingProblem {
        key: "window_minutes".into(),
        message: format!(
            "found {}, expected a whole number of minutes from 1 to {MAX_WINDOW_MINUTES} (a day)",
            quoted(found)
        ),
    }
}

/// Health settings each in its range, as [`HealthSettings::checked`] alone makes them:
/// what the desk saves and what it reads back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Checked(HealthSettings);

impl Checked {
    /// The settings.
    pub(crate) fn get(&self) -> &HealthSettings {
        &self.0
    }
}

/// Why the saved settings were not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SavedError {
    /// The database could not be read.
    #[error(transparent)]
    Database(#[from] rusqlite::Error),
    /// A saved setting out of range: the desk saves only checked ones.
    #[error(
        "the saved health settings are out of range ({}); the desk saves only checked ones, \
         so the file was changed by another program",
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    OutOfRange(Vec<SettingProblem>),
}

/// The settings saved in the database, checked, if an administrator saved any.
pub(crate) fn saved(conn: &Connection) -> Result<Option<Checked>, SavedError> {
    let saved = conn
        .query_row(
            "SELECT failure_percent, min_deliveries, window_minutes FROM health_settings WHERE id = 1",
            [],
            |r| {
                Ok(HealthSettings {
                    failure_percent: r.get(0)?,
                    min_deliveries: r.get(1)?,
                    window_minutes: r.get(2)?,
                })
            },
        )
        .optional()?;
    match saved {
        Some(settings) => settings.checked().map(Some).map_err(SavedError::OutOfRange),
        None => Ok(None),
    }
}

/// Saves `settings`.
pub(crate) fn save(conn: &Connection, settings: &Checked, now: i64) -> rusqlite::Result<()> {
    let settings = settings.get();
    conn.execute(
        "INSERT INTO health_settings (id, failure_percent, min_deliveries, window_minutes, changed_at)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET failure_percent = ?1, min_deliveries = ?2,
             window_minutes = ?3, changed_at = ?4",
        params![
            settings.failure_percent,
            settings.min_deliveries,
            settings.window_minutes,
            now
        ],
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> HealthSettings {
        HealthSettings::of(&HealthPolicy::default())
    }

    #[test]
    fn the_defaults_are_the_help_desks_and_round_trip() {
        let d = defaults();
        assert_eq!(
            (d.failure_percent, d.min_deliveries, d.window_minutes),
            (50.0, 10, 10)
        );
        assert_eq!(d.apply(HealthPolicy::default()), HealthPolicy::default());
        assert!(d.problems().is_empty());
    }

    #[test]
    fn text_is_read_and_every_hostile_value_is_named() {
        let changed = defaults()
            .with_text([
                ("failure_percent", " 20% "),
                ("min_deliveries", "2"),
                ("window_minutes", "1440"),
            ])
            .unwrap();
        assert_eq!(
            (
                changed.failure_percent,
                changed.min_deliveries,
                changed.window_minutes
            ),
            (20.0, 2, 1440)
        );
        for (key, text) in [
            ("failure_percent", "-1"),
            ("failure_percent", "100.01"),
            ("failure_percent", "NaN"),
            ("failure_percent", "inf"),
            ("failure_percent", "1e999"),
            ("failure_percent", "fifty"),
            ("failure_percent", ""),
            ("min_deliveries", "0"),
            ("min_deliveries", "-3"),
            ("min_deliveries", "2.5"),
            ("min_deliveries", "99999999999999999999"),
            ("window_minutes", "0"),
            ("window_minutes", "1441"),
            ("window_minutes", "ten"),
        ] {
            let problems = defaults().with_text([(key, text)]).unwrap_err();
            assert_eq!(problems.len(), 1, "{key}={text}: {problems:?}");
            assert_eq!(problems[0].key, key);
            assert!(
                problems[0].message.contains(&format!("found {text:?}"))
                    && problems[0].message.contains("expected"),
                "{}",
                problems[0]
            );
        }
        let all = defaults()
            .with_text([
                ("failure_percent", "x"),
                ("window_minutes", "0"),
                ("<script>", "1"),
            ])
            .unwrap_err();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(
            all[2]
                .message
                .contains("failure_percent, min_deliveries, window_minutes")
        );
        // A long text is cut when quoted back.
        let long = "9".repeat(10_000);
        let cut = defaults()
            .with_text([("window_minutes", long.as_str())])
            .unwrap_err();
        assert!(cut[0].message.len() < 200, "{}", cut[0]);
    }
}
