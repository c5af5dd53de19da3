//! Test results of `cargo otai-plugin test`: one line per test, the closing count, and
//! the JSON and JUnit forms; plus reading libtest's output of `cargo test`.

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use crate::term::{GREEN, RED, YELLOW};

/// Where a test came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TestKind {
    /// A declarative fixture (`tests/fixtures/*.toml`).
    Fixture,
    /// A test of the crate's own `cargo test`.
    Rust,
    /// A case of the ABI conformance kit (`cargo otai-plugin conformance`).
    Conformance,
}

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    /// It passed.
    Passed,
    /// It failed.
    Failed,
    /// It was not run (`#[ignore]`).
    Skipped,
}

/// One test.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TestResult {
    /// The package.
    pub package: String,
    /// `fixtures/critical`, `tests::formats_message` (libtest's name), a conformance
    /// case's name.
    pub name: String,
    /// Fixture or Rust test.
    pub kind: TestKind,
    /// Passed, failed, skipped.
    pub status: Status,
    /// Why it failed (expectation mismatches, snapshot diff, test output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Time taken, when measured (fixtures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// The fuel the delivery consumed (fixtures): its cost, the same on every machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// The fixture's budget, `[expect] max_fuel`, when it has one (as written after
    /// `--bless`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_fuel: Option<u64>,
}

/// Every test of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Summary {
    /// How many passed.
    pub passed: usize,
    /// How many failed.
    pub failed: usize,
    /// How many were skipped.
    pub skipped: usize,
    /// Each test, in the order run.
    pub tests: Vec<TestResult>,
}

impl Summary {
    /// Adds a result.
    pub(crate) fn push(&mut self, result: TestResult) {
        match result.status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Skipped => self.skipped += 1,
        }
        self.tests.push(result);
    }

    /// `N passed, N failed` (and `, N skipped` when some were).
    pub(crate) fn closing_line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            let _ = write!(line, ", {} skipped", self.skipped);
        }
        line
    }

    /// The JUnit XML of the run: a `<testsuite>` per package.
    pub(crate) fn junit(&self) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"cargo otai-plugin test\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            self.tests.len(),
            self.failed,
            self.skipped
        );
        let mut packages: Vec<&str> = self.tests.iter().map(|t| t.package.as_str()).collect();
        packages.dedup();
        for package in packages {
            let tests: Vec<&TestResult> =
                self.tests.iter().filter(|t| t.package == package).collect();
            let count = |s: Status| tests.iter().filter(|t| t.status == s).count();
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
                escape(package),
                tests.len(),
                count(Status::Failed),
                count(Status::Skipped)
            );
            for test in tests {
                let (class, name) = match test.kind {
                    TestKind::Fixture => (
                        format!("{package}.fixtures"),
                        test.name
                            .strip_prefix("fixtures/")
                            .unwrap_or(&test.name)
                            .to_owned(),
                    ),
                    TestKind::Rust => (format!("{package}.rust"), test.name.clone()),
                    TestKind::Conformance => (package.to_owned(), test.name.clone()),
                };
                let time = test
                    .duration_ms
                    .map(|ms| format!(" time=\"{:.3}\"", ms / 1000.0))
                    .unwrap_or_default();
                let open = format!(
                    "    <testcase classname=\"{}\" name=\"{}\"{time}",
                    escape(&class),
                    escape(&name)
                );
                match test.status {
                    Status::Passed => {
                        let _ = writeln!(xml, "{open}/>");
                    }
                    Status::Skipped => {
                        let _ = writeln!(xml, "{open}>\n      <skipped/>\n    </testcase>");
                    }
                    Status::Failed => {
                        let message = test.message.clone().unwrap_or_default();
                        let first = message.lines().next().unwrap_or("failed");
                        let _ = writeln!(
                            xml,
                            "{open}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                            escape(first),
                            escape(&message)
                        );
                    }
                }
            }
            xml.push_str("  </testsuite>\n");
        }
        xml.push_str("</testsuites>\n");
        xml
    }
}

/// Prints `test NAME ... ok` as libtest does.
///
/// # Errors
/// Writing fails.
pub(crate) fn print_line(out: &mut impl Write, result: &TestResult) -> std::io::Result<()> {
    let status = match result.status {
        Status::Passed => format!("{GREEN}ok{GREEN:#}"),
        Status::Failed => format!("{RED}FAILED{RED:#}"),
        Status::Skipped => format!("{YELLOW}ignored{YELLOW:#}"),
    };
    writeln!(out, "test {} ... {status}", result.name)
}

/// XML text and attribute escaping; characters XML 1.0 cannot hold (ANSI escapes and
/// other control characters) are dropped.
fn escape(text: &str) -> String {
    let text = strip_ansi(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One test line of libtest's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LibtestLine {
    /// The test's name.
    pub name: String,
    /// Passed, failed, skipped.
    pub status: Status,
}

/// Reads `test NAME ... ok|FAILED|ignored` lines from libtest's output, and the
/// captured output of each failed test (`---- NAME stdout ----` blocks).
pub(crate) fn parse_libtest(output: &str) -> (Vec<LibtestLine>, Vec<(String, String)>) {
    let mut lines = Vec::new();
    for line in output.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, status)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        let status = match status.trim() {
            "ok" => Status::Passed,
            "FAILED" => Status::Failed,
            s if s.starts_with("ignored") => Status::Skipped,
            _ => continue,
        };
        lines.push(LibtestLine {
            name: name.trim().to_owned(),
            status,
        });
    }
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in output.lines() {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            outputs.extend(current.take());
            current = Some((name.to_owned(), String::new()));
        } else if line == "failures:" || line.starts_with("test result:") {
            outputs.extend(current.take());
        } else if let Some((_, text)) = &mut current {
            text.push_str(line);
            text.push('\n');
        }
    }
    outputs.extend(current);
    (lines, outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIBTEST: &str = "\nrunning 3 tests\ntest tests::a ... ok\ntest tests::b ... FAILED\n\
        test tests::c ... ignored, slow\n\nfailures:\n\n---- tests::b stdout ----\n\
        thread 'tests::b' panicked at src/lib.rs:9:5:\nassertion failed\n\n\nfailures:\n    tests::b\n\n\
        test result: FAILED. 1 passed; 1 failed; 1 ignored\n";

    #[test]
    fn reads_libtest_lines_and_failure_output() {
        let (lines, outputs) = parse_libtest(LIBTEST);
        let statuses: Vec<_> = lines.iter().map(|l| (l.name.as_str(), l.status)).collect();
        assert_eq!(
            statuses,
            [
                ("tests::a", Status::Passed),
                ("tests::b", Status::Failed),
                ("tests::c", Status::Skipped)
            ]
        );
        assert_eq!(outputs.len(), 1);
        assert!(
            outputs[0].1.contains("panicked at src/lib.rs:9:5"),
            "{outputs:?}"
        );
    }

    #[test]
    fn closing_line_and_xml_escaping() {
        let mut summary = Summary::default();
        for (name, kind, status) in [
            ("fixtures/a", TestKind::Fixture, Status::Passed),
            ("tests::b", TestKind::Rust, Status::Skipped),
        ] {
            summary.push(TestResult {
                package: "p".into(),
                name: name.into(),
                kind,
                status,
                message: None,
                duration_ms: None,
                fuel: None,
                max_fuel: None,
            });
        }
        assert_eq!(summary.closing_line(), "1 passed, 0 failed, 1 skipped");
        assert_eq!(
            escape("a<b & \"c\"\u{1b}[31m!\u{1b}[0m\u{7}"),
            "a&lt;b &amp; &quot;c&quot;!"
        );
        let junit = summary.junit();
        assert!(
            junit.contains("<testcase classname=\"p.fixtures\" name=\"a\"/>"),
            "{junit}"
        );
        assert!(
            junit.contains("<testcase classname=\"p.rust\" name=\"tests::b\">"),
            "{junit}"
        );
    }
}
