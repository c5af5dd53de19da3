//! The committed snapshot of a crate's public API, and the verdict on the API built now.
//!
//! A snapshot holds the version last released and every line of the API since:
//!
//! ```text
//! released = 0.1.0
//!   pub fn otai_plugin_sdk::ticket::add_reply(&str, &str) -> …     released, still there
//! + pub fn otai_plugin_sdk::ticket::add_note(&str, &str) -> …      added since 0.1.0
//! - pub fn otai_plugin_sdk::ticket::old(&str) -> …                 released, gone
//! ```
//!
//! A released line that is gone is an incompatible change: it needs a version that
//! cargo does not take for a compatible one (0.1.x to 0.2.0, 1.x to 2.0.0). A line
//! added since the release may go again freely: no user has had it.

use std::collections::BTreeSet;
use std::fmt;

/// A version as cargo compares them (pre-release and build metadata left out: this
/// workspace uses neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
}

impl Version {
    pub(crate) fn parse(text: &str) -> Result<Version, String> {
        let core = text.split(['-', '+']).next().unwrap_or_default();
        let parts: Vec<Option<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
        match parts.as_slice() {
            [Some(major), Some(minor), Some(patch)] => Ok(Version {
                major: *major,
                minor: *minor,
                patch: *patch,
            }),
            _ => Err(format!("`{text}` is not a version (MAJOR.MINOR.PATCH)")),
        }
    }

    /// Whether cargo takes `other` for a compatible upgrade of `self` (the caret rule:
    /// the first non-zero part is the same).
    pub(crate) fn compatible(self, other: Version) -> bool {
        if self.major != other.major {
            false
        } else if self.major > 0 {
            true
        } else if self.minor != other.minor {
            false
        } else {
            self.minor > 0 || self.patch == other.patch
        }
    }

    /// The first version cargo does not take for a compatible upgrade of `self`.
    pub(crate) fn next_incompatible(self) -> Version {
        let (major, minor, patch) = match self {
            Version { major: m, .. } if m > 0 => (m + 1, 0, 0),
            Version { minor: m, .. } if m > 0 => (0, m + 1, 0),
            Version { patch, .. } => (0, 0, patch + 1),
        };
        Version {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A snapshot as committed.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) released: Version,
    /// Released, still there (`  LINE`).
    kept: BTreeSet<String>,
    /// Added since the release (`+ LINE`).
    added: BTreeSet<String>,
    /// Released, gone (`- LINE`).
    removed: BTreeSet<String>,
}

impl Snapshot {
    pub(crate) fn parse(text: &str) -> Result<Snapshot, String> {
        let mut released = None;
        let (mut kept, mut added, mut removed) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for (n, line) in text.lines().enumerate() {
            let n = n + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let set = match line.get(..2) {
                Some("  ") => &mut kept,
                Some("+ ") => &mut added,
                Some("- ") => &mut removed,
                _ => {
                    if let Some(v) = line.strip_prefix("released = ") {
                        released =
                            Some(Version::parse(v.trim()).map_err(|e| format!("line {n}: {e}"))?);
                        continue;
                    }
                    return Err(format!(
                        "line {n}: `{line}` is none of `released = VERSION`, `  LINE` (released), \
                         `+ LINE` (added since) and `- LINE` (removed since)"
                    ));
                }
            };
            set.insert(line[2..].to_owned());
        }
        let released = released.ok_or("no `released = VERSION` line")?;
        Ok(Snapshot {
            released,
            kept,
            added,
            removed,
        })
    }

    /// The lines of the released API.
    pub(crate) fn released_lines(&self) -> BTreeSet<String> {
        self.kept.union(&self.removed).cloned().collect()
    }

    /// The snapshot of `current` (in the order given), measured against the lines
    /// released as `released`.
    pub(crate) fn write(
        released: Version,
        released_lines: &BTreeSet<String>,
        current: &[String],
    ) -> String {
        let mut out = format!("released = {released}\n\n");
        for line in current {
            let mark = if released_lines.contains(line) {
                ' '
            } else {
                '+'
            };
            out.push_str(&format!("{mark} {line}\n"));
        }
        let now: BTreeSet<&String> = current.iter().collect();
        let gone: Vec<&String> = released_lines.iter().filter(|l| !now.contains(l)).collect();
        if !gone.is_empty() {
            out.push_str(&format!(
                "\n# Released in {released} and removed since: an incompatible change.\n"
            ));
            for line in gone {
                out.push_str(&format!("- {line}\n"));
            }
        }
        out
    }
}

/// What the API built now means against the snapshot.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The snapshot is the API, marked as `write` would mark it.
    Same,
    /// Released lines are gone, and the version is still compatible with the release.
    Incompatible {
        removed: Vec<String>,
        added: Vec<String>,
        needs: Version,
    },
    /// The API differs from the snapshot in a way the version allows: the snapshot is
    /// to be written again. `removed` and `added` are against the lines it shows as
    /// present.
    Changed {
        removed: Vec<String>,
        added: Vec<String>,
    },
}

pub(crate) fn verdict(
    snapshot: &Snapshot,
    version: Version,
    current: &BTreeSet<String>,
) -> Verdict {
    let released = snapshot.released_lines();
    let present: BTreeSet<&String> = snapshot.kept.union(&snapshot.added).collect();
    let removed_now: Vec<String> = present
        .iter()
        .filter(|l| !current.contains(**l))
        .map(|l| (*l).clone())
        .collect();
    let added_now: Vec<String> = current
        .iter()
        .filter(|l| !present.contains(l))
        .cloned()
        .collect();
    let gone: Vec<String> = released
        .iter()
        .filter(|l| !current.contains(*l))
        .cloned()
        .collect();
    if !gone.is_empty() && snapshot.released.compatible(version) {
        return Verdict::Incompatible {
            removed: gone,
            added: added_now,
            needs: snapshot.released.next_incompatible(),
        };
    }
    // The marks `write` would give each line now.
    let kept: BTreeSet<String> = released
        .iter()
        .filter(|l| current.contains(*l))
        .cloned()
        .collect();
    let added: BTreeSet<String> = current
        .iter()
        .filter(|l| !released.contains(*l))
        .cloned()
        .collect();
    let removed: BTreeSet<String> = gone.into_iter().collect();
    if (kept, added, removed)
        == (
            snapshot.kept.clone(),
            snapshot.added.clone(),
            snapshot.removed.clone(),
        )
    {
        Verdict::Same
    } else {
        Verdict::Changed {
            removed: removed_now,
            added: added_now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn set(lines: &[&str]) -> BTreeSet<String> {
        lines.iter().map(|l| (*l).to_owned()).collect()
    }

    fn snapshot(text: &str) -> Snapshot {
        Snapshot::parse(text).unwrap()
    }

    #[test]
    fn cargo_compatibility() {
        assert!(v("0.1.0").compatible(v("0.1.7")));
        assert!(!v("0.1.0").compatible(v("0.2.0")));
        assert!(v("1.2.0").compatible(v("1.9.0")));
        assert!(!v("1.2.0").compatible(v("2.0.0")));
        assert!(!v("0.0.1").compatible(v("0.0.2")));
        assert_eq!(v("0.1.3").next_incompatible(), v("0.2.0"));
        assert_eq!(v("1.4.2").next_incompatible(), v("2.0.0"));
        assert_eq!(v("0.0.4").next_incompatible(), v("0.0.5"));
    }

    const RELEASED: &str = "released = 0.1.0\n\n  pub fn a()\n  pub fn b(u8)\n";

    #[test]
    fn the_released_api_unchanged_is_the_same() {
        let s = snapshot(RELEASED);
        assert_eq!(
            verdict(&s, v("0.1.0"), &set(&["pub fn a()", "pub fn b(u8)"])),
            Verdict::Same
        );
        // A patch release with the same API.
        assert_eq!(
            verdict(&s, v("0.1.1"), &set(&["pub fn a()", "pub fn b(u8)"])),
            Verdict::Same
        );
    }

    #[test]
    fn a_changed_signature_without_a_bump_is_incompatible() {
        let s = snapshot(RELEASED);
        let now = set(&["pub fn a()", "pub fn b(u16)"]);
        assert_eq!(
            verdict(&s, v("0.1.0"), &now),
            Verdict::Incompatible {
                removed: vec!["pub fn b(u8)".to_owned()],
                added: vec!["pub fn b(u16)".to_owned()],
                needs: v("0.2.0"),
            }
        );
        // Updating the snapshot does not make it compatible: the line stays, as removed.
        let written = Snapshot::write(
            v("0.1.0"),
            &s.released_lines(),
            &["pub fn a()".to_owned(), "pub fn b(u16)".to_owned()],
        );
        assert!(written.contains("\n- pub fn b(u8)\n"), "{written}");
        assert!(matches!(
            verdict(&snapshot(&written), v("0.1.1"), &now),
            Verdict::Incompatible { .. }
        ));
        // A bump past the release allows it; the snapshot as written is then current.
        assert_eq!(
            verdict(&snapshot(&written), v("0.2.0"), &now),
            Verdict::Same
        );
    }

    #[test]
    fn an_addition_is_compatible_but_updates_the_snapshot() {
        let s = snapshot(RELEASED);
        let now = set(&["pub fn a()", "pub fn b(u8)", "pub fn c()"]);
        assert_eq!(
            verdict(&s, v("0.1.0"), &now),
            Verdict::Changed {
                removed: vec![],
                added: vec!["pub fn c()".to_owned()],
            }
        );
        let written = Snapshot::write(
            v("0.1.0"),
            &s.released_lines(),
            &[
                "pub fn a()".to_owned(),
                "pub fn b(u8)".to_owned(),
                "pub fn c()".to_owned(),
            ],
        );
        assert!(written.contains("\n+ pub fn c()\n"), "{written}");
        let s = snapshot(&written);
        assert_eq!(verdict(&s, v("0.1.0"), &now), Verdict::Same);
        // What was added since the release may go again without a bump.
        let without_c = set(&["pub fn a()", "pub fn b(u8)"]);
        assert_eq!(
            verdict(&s, v("0.1.0"), &without_c),
            Verdict::Changed {
                removed: vec!["pub fn c()".to_owned()],
                added: vec![],
            }
        );
    }

    #[test]
    fn a_removal_after_the_bump_updates_the_snapshot() {
        let s = snapshot(RELEASED);
        let now = set(&["pub fn a()"]);
        assert_eq!(
            verdict(&s, v("0.2.0"), &now),
            Verdict::Changed {
                removed: vec!["pub fn b(u8)".to_owned()],
                added: vec![],
            }
        );
        let written = Snapshot::write(v("0.1.0"), &s.released_lines(), &["pub fn a()".to_owned()]);
        assert_eq!(
            verdict(&snapshot(&written), v("0.2.0"), &now),
            Verdict::Same
        );
        // A line marked removed that is back is a stale mark.
        assert!(matches!(
            verdict(
                &snapshot(&written),
                v("0.2.0"),
                &set(&["pub fn a()", "pub fn b(u8)"])
            ),
            Verdict::Changed { .. }
        ));
    }

    #[test]
    fn a_malformed_snapshot_is_refused_with_its_line() {
        let err = Snapshot::parse("released = 0.1.0\npub fn a()\n").unwrap_err();
        assert!(err.starts_with("line 2: `pub fn a()`"), "{err}");
        assert_eq!(
            Snapshot::parse("  pub fn a()\n").unwrap_err(),
            "no `released = VERSION` line"
        );
    }
}
