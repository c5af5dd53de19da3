//! Terminal output styled like cargo's: right-aligned status words, `warning:` and
//! `error:` prefixes, colour only where the user and the terminal want it.
//!
//! Status lines, warnings and errors go to stderr, as cargo's do, so that stdout
//! carries only results (`check`'s listing, `--format json`, test lines).

use std::fmt::Display;
use std::io::Write;

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};
use clap::ValueEnum;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Color {
    /// Colour when the stream is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl Color {
    fn choice(self) -> ColorChoice {
        match self {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::AlwaysAnsi,
            Color::Never => ColorChoice::Never,
        }
    }

    /// The value of cargo's own `--color` flag for this choice.
    pub fn as_cargo_arg(self) -> &'static str {
        match self {
            Color::Auto => "auto",
            Color::Always => "always",
            Color::Never => "never",
        }
    }
}

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors and warnings only.
    Quiet,
    /// The default.
    Normal,
    /// `-v`: also the commands run.
    Verbose,
}

pub(crate) const GREEN: Style = AnsiColor::Green.on_default().bold();
pub(crate) const CYAN: Style = AnsiColor::Cyan.on_default().bold();
pub(crate) const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
pub(crate) const RED: Style = AnsiColor::Red.on_default().bold();
pub(crate) const BOLD: Style = Style::new().bold();
pub(crate) const DIM: Style = Style::new().dimmed();

/// Where the CLI writes for the user.
#[derive(Debug, Clone, Copy)]
pub struct Shell {
    color: Color,
    verbosity: Verbosity,
}

impl Shell {
    /// A shell with the given colour choice and verbosity.
    pub fn new(color: Color, verbosity: Verbosity) -> Shell {
        Shell { color, verbosity }
    }

    /// The `--color` choice.
    pub fn color(&self) -> Color {
        self.color
    }

    /// The verbosity.
    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// stderr, coloured or stripped as chosen.
    pub fn err(&self) -> AutoStream<std::io::Stderr> {
        AutoStream::new(std::io::stderr(), self.color.choice())
    }

    /// stdout, coloured or stripped as chosen.
    pub fn out(&self) -> AutoStream<std::io::Stdout> {
        AutoStream::new(std::io::stdout(), self.color.choice())
    }

    /// Whether stderr gets colour (to tell cargo when we pipe its output).
    pub fn err_has_color(&self) -> bool {
        self.err().current_choice() != ColorChoice::Never
    }

    /// `   Compiling foo`: a green, bold, right-aligned status word and a message.
    pub fn status(&self, status: &str, message: impl Display) {
        self.status_styled(status, GREEN, message);
    }

    /// A status line in another colour (cyan for notes such as `Installing`).
    pub fn status_styled(&self, status: &str, style: Style, message: impl Display) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        // A failed write to stderr leaves nothing better to do than carry on.
        let _ = writeln!(self.err(), "{style}{status:>12}{style:#} {message}");
    }

    /// Prints a status line only with `-v`.
    pub fn verbose_status(&self, status: &str, message: impl Display) {
        if self.verbosity == Verbosity::Verbose {
            self.status_styled(status, CYAN, message);
        }
    }

    /// `warning: …` in bold yellow. Shown even with `-q`, as cargo does.
    pub fn warn(&self, message: impl Display) {
        let _ = writeln!(
            self.err(),
            "{YELLOW}warning{YELLOW:#}{BOLD}:{BOLD:#} {message}"
        );
    }

    /// `note: …`, hidden with `-q`.
    pub fn note(&self, message: impl Display) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let _ = writeln!(self.err(), "{CYAN}note{CYAN:#}{BOLD}:{BOLD:#} {message}");
    }

    /// `error: …` in bold red, then the cause chain as cargo prints it, each cause
    /// once ([`distinct_causes`]).
    pub fn error(&self, error: &anyhow::Error) {
        let mut err = self.err();
        let _ = writeln!(err, "{RED}error{RED:#}{BOLD}:{BOLD:#} {error}");
        let causes = distinct_causes(error);
        if !causes.is_empty() {
            let _ = writeln!(err, "\nCaused by:");
            for cause in causes {
                for line in cause.lines() {
                    let _ = writeln!(err, "  {line}");
                }
            }
        }
    }
}

/// The causes of `error` that say something its message and the causes before them did
/// not: an error that shows its source in its own message (`… cannot be installed:
/// {source}`, or only `{source}`) would otherwise print the same text twice.
pub fn distinct_causes(error: &anyhow::Error) -> Vec<String> {
    let mut said = error.to_string();
    let mut causes = Vec::new();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if text.trim().is_empty() || said.contains(text.trim()) {
            continue;
        }
        said.push('\n');
        said.push_str(&text);
        causes.push(text);
    }
    causes
}

/// Formats a byte count as cargo-like human text: `812 B`, `64.6 KiB`, `1.2 MiB`.
pub fn human_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KIB {
        format!("{bytes} B")
    } else if b < KIB * KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{:.1} MiB", b / (KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_said_is_not_said_again() {
        /// An error that shows its source in its own message, as the desk's do.
        #[derive(Debug)]
        struct Showing(String, std::io::Error);
        impl std::fmt::Display for Showing {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::error::Error for Showing {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.1)
            }
        }
        let io = || std::io::Error::other("disk full");
        for text in ["disk full", "the module cannot be installed: disk full"] {
            let error =
                anyhow::Error::new(Showing(text.into(), io())).context("cannot install `x.wasm`");
            // The context says something new; "disk full" is said once, in its cause.
            assert_eq!(distinct_causes(&error), [text], "{error:?}");
        }
        let error = anyhow::Error::new(io()).context("cannot install `x.wasm`");
        assert_eq!(distinct_causes(&error), ["disk full"]);
        let error = anyhow::Error::new(io()).context("disk full");
        assert!(distinct_causes(&error).is_empty());
    }

    #[test]
    fn sizes_read_like_cargo() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(66_150), "64.6 KiB");
        assert_eq!(human_size(3 << 20), "3.0 MiB");
    }
}
