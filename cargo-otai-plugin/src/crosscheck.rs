//! Warnings from reading a plugin's source next to its manifest. Both checks are
//! heuristics over the text of `src/**/*.rs`; they never fail a build.
//!
//! - **Subscribed but unhandled events.** An event in `events` that no source file
//!   mentions is probably delivered for nothing. "Mentions" means any of: the wire name
//!   (`ticket.status_changed`), the `EventKind` variant (`TicketStatusChanged`), its
//!   snake-case form (`ticket_status_changed`), or the `EventData` variant as a path
//!   (`::StatusChanged`). A source that mentions no event at all is taken to handle
//!   every event alike (a logger, a forwarder) and gets no warning.
//! - **Handlers of events not subscribed to.** An `EventKind::TicketResolved` path or a
//!   `"ticket.resolved"` string in the code while `events` lacks `ticket.resolved`: the
//!   host never delivers it, so the handler never runs. Only these two unmistakable
//!   forms count here.
//! - **URLs outside `allowed_hosts`.** An `http://` or `https://` URL in the code whose
//!   host is not allowed will be refused by the host with a 403. URLs in comments and
//!   after a `#[cfg(test)]` line are ignored; URLs whose host is computed (`{}`) are
//!   skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::manifest::Manifest;
use otai_plugin_abi::rules::http::{AllowedHosts, UrlCheck};

/// One source file, with the lines the checks look at.
struct Source {
    path: PathBuf,
    /// (1-based line number, text) of code lines: no comments, nothing after `#[cfg(test)]`.
    lines: Vec<(usize, String)>,
}

/// Reads `src/**/*.rs` under `root` and returns a warning per finding, each naming
/// the file (relative to `root`) and the manifest key.
pub(crate) fn crosscheck(root: &Path, manifest: &Manifest) -> Vec<String> {
    let mut files = Vec::new();
    collect_rs(&root.join("src"), &mut files);
    files.sort();
    let mut test_modules = Vec::new();
    let mut sources: Vec<Source> = files
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let (lines, tests) = code_lines(&text);
            test_modules.extend(tests);
            let rel = path
                .strip_prefix(root)
                .map(Path::to_path_buf)
                .unwrap_or(path);
            Some(Source { path: rel, lines })
        })
        .collect();
    // Files of `#[cfg(test)] mod name;` modules are test code too.
    sources.retain(|s| !is_test_module_file(&s.path, &test_modules));
    let mut warnings = unhandled_events(&sources, manifest);
    warnings.extend(unsubscribed_events(&sources, manifest));
    warnings.extend(foreign_urls(&sources, manifest));
    warnings
}

/// `src/name.rs` or `src/…/name/…` for a test module `name`.
fn is_test_module_file(path: &Path, test_modules: &[String]) -> bool {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let in_dir = path
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .any(|c| test_modules.iter().any(|m| c.as_os_str() == m.as_str()));
    test_modules.iter().any(|m| m == stem) || in_dir
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code lines of a file (no comments, nothing after an inline `#[cfg(test)]`
/// item), and the names of the out-of-line test modules it declares.
fn code_lines(text: &str) -> (Vec<(usize, String)>, Vec<String>) {
    let mut lines = Vec::new();
    let mut test_modules = Vec::new();
    let mut after_cfg_test = false;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("#[cfg(test)]") {
            match out_of_line_module(rest) {
                Some(name) => test_modules.push(name),
                None if rest.trim().is_empty() => after_cfg_test = true,
                None => break,
            }
            continue;
        }
        if after_cfg_test && !trimmed.is_empty() {
            match out_of_line_module(trimmed) {
                Some(name) => {
                    test_modules.push(name);
                    after_cfg_test = false;
                    continue;
                }
                // Test code is at the end of a file, by convention.
                None => break,
            }
        }
        if trimmed.starts_with("//") {
            continue;
        }
        // A trailing `// comment` is dropped unless `//` is part of a URL.
        let code = match find_comment(line) {
            Some(at) => &line[..at],
            None => line,
        };
        lines.push((i + 1, code.to_owned()));
    }
    (lines, test_modules)
}

/// `mod name;` (or `pub mod name;`) → `name`.
fn out_of_line_module(text: &str) -> Option<String> {
    let text = text.trim();
    let text = text.strip_prefix("pub ").unwrap_or(text);
    let name = text.strip_prefix("mod ")?.strip_suffix(';')?.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

fn find_comment(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes[i + 1] == b'/' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn forms(kind: &EventKind) -> Vec<String> {
    let wire = kind.as_str().to_owned();
    let snake = wire.replace('.', "_");
    let camel: String = snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let mut forms = vec![wire, camel.clone(), snake];
    if let Some(data) = camel.strip_prefix("Ticket")
        && !matches!(data, "Created" | "Closed")
    {
        forms.push(format!("::{data}"));
    }
    forms
}

fn mentions(sources: &[Source], kind: &EventKind) -> bool {
    let forms = forms(kind);
    sources
        .iter()
        .flat_map(|s| &s.lines)
        .any(|(_, line)| forms.iter().any(|f| line.contains(f.as_str())))
}

fn unhandled_events(sources: &[Source], manifest: &Manifest) -> Vec<String> {
    if !EventKind::ALL.iter().any(|k| mentions(sources, k)) {
        return Vec::new();
    }
    manifest
        .events
        .iter()
        .enumerate()
        .filter(|(_, kind)| kind.is_known() && !mentions(sources, kind))
        .map(|(i, kind)| {
            let f = forms(kind);
            format!(
                "`package.metadata.ohd.events[{i}]` subscribes to `{kind}`, but no file under `src/` \
                 mentions it (`{}`, `{}` or `{}`): the plugin receives these events and probably \
                 ignores them; remove it from `events` or handle it",
                f[0], f[1], f[2]
            )
        })
        .collect()
}

/// The first code line that names `kind` unmistakably: the `EventKind` variant as a
/// path (`EventKind::TicketResolved`) or the wire name as a string (`"ticket.resolved"`).
/// Weaker forms (a bare `Resolved`) are not evidence of a handler.
fn handles(sources: &[Source], kind: &EventKind) -> Option<(String, usize)> {
    let camel = forms(kind).swap_remove(1);
    let strong = [format!("EventKind::{camel}"), format!("\"{kind}\"")];
    sources.iter().find_map(|s| {
        s.lines
            .iter()
            .find(|(_, line)| strong.iter().any(|f| line.contains(f.as_str())))
            .map(|(n, _)| (s.path.display().to_string(), *n))
    })
}

fn unsubscribed_events(sources: &[Source], manifest: &Manifest) -> Vec<String> {
    EventKind::ALL
        .iter()
        .filter(|kind| !manifest.subscribes_to(kind))
        .filter_map(|kind| {
            let (file, line) = handles(sources, kind)?;
            Some(format!(
                "`{file}:{line}` handles `{kind}`, but `package.metadata.ohd.events` does not \
                 subscribe to it: the host never delivers it; add `\"{kind}\"` to `events` or \
                 remove the handler"
            ))
        })
        .collect()
}

fn foreign_urls(sources: &[Source], manifest: &Manifest) -> Vec<String> {
    let allowed = AllowedHosts::new(manifest.allowed_hosts());
    let mut seen = BTreeSet::new();
    let mut warnings = Vec::new();
    for source in sources {
        for (line_no, line) in &source.lines {
            for url in urls_in(line) {
                // The host's own check: a URL it would refuse as invalid is not this
                // warning's business.
                let UrlCheck::HostNotAllowed { host } = allowed.check_url(&url) else {
                    continue;
                };
                if !seen.insert(host.clone()) {
                    continue;
                }
                warnings.push(format!(
                    "`{}:{line_no}`: `{url}` is on host `{host}`, which is not in \
                     `package.metadata.ohd.allowed_hosts`: the help desk refuses requests to it (403)",
                    source.path.display()
                ));
            }
        }
    }
    warnings
}

/// URLs starting `http://` or `https://` in a line, cut at the first character that
/// cannot be part of a literal URL; URLs with a `{` before their path are skipped
/// because their host is computed.
fn urls_in(line: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("http") {
        let candidate = &rest[at..];
        let scheme_len = if candidate.starts_with("https://") {
            8
        } else if candidate.starts_with("http://") {
            7
        } else {
            rest = &rest[at + 4..];
            continue;
        };
        let end = candidate
            .find(|c: char| {
                c == '"' || c == '\'' || c == '`' || c.is_whitespace() || c == ')' || c == '>'
            })
            .unwrap_or(candidate.len());
        let url = candidate[..end].trim_end_matches(['.', ',', ';', ':', ']', '}']);
        let authority = &url[scheme_len..];
        let authority_end = authority.find('/').unwrap_or(authority.len());
        if !authority[..authority_end].contains('{') && authority_end > 0 {
            urls.push(url.to_owned());
        }
        rest = &candidate[end..];
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(events: &[&str], hosts: &[&str]) -> Manifest {
        let json = serde_json::json!({
            "id": "com.example.t", "name": "t", "version": "1.0.0", "description": "d",
            "events": events,
            "permissions": { "http": { "allowed_hosts": hosts } },
        });
        Manifest::from_json(json.to_string().as_bytes()).unwrap()
    }

    fn sources(text: &str) -> Vec<Source> {
        vec![Source {
            path: "src/lib.rs".into(),
            lines: code_lines(text).0,
        }]
    }

    #[test]
    fn an_event_nobody_mentions_is_reported() {
        let src = sources("match e { EventKind::TicketCreated => {} _ => {} }");
        let w = unhandled_events(&src, &manifest(&["ticket.created", "ticket.resolved"], &[]));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("`package.metadata.ohd.events[1]` subscribes to `ticket.resolved`"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn a_handler_for_an_event_not_subscribed_to_is_reported() {
        let src = sources(
            "match e.kind {\n  EventKind::TicketCreated => a(),\n  EventKind::TicketResolved => b(),\n  _ => {}\n}\nif name == \"ticket.reopened\" {}\nlet Resolved = 1;",
        );
        let w = unsubscribed_events(&src, &manifest(&["ticket.created"], &[]));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(
            w[0].starts_with("`src/lib.rs:3` handles `ticket.resolved`, but `package.metadata.ohd.events` does not subscribe to it"),
            "{}",
            w[0]
        );
        assert!(
            w[1].starts_with("`src/lib.rs:6` handles `ticket.reopened`"),
            "{}",
            w[1]
        );
        let all = manifest(
            &["ticket.created", "ticket.resolved", "ticket.reopened"],
            &[],
        );
        assert!(unsubscribed_events(&src, &all).is_empty());
    }

    #[test]
    fn a_generic_handler_gets_no_event_warnings() {
        let src = sources("fn on_event(e: Event) { log(e.name()) }");
        assert!(unhandled_events(&src, &manifest(&["ticket.created"], &[])).is_empty());
    }

    #[test]
    fn urls_outside_allowed_hosts_are_reported_once_with_their_line() {
        let text = "// see https://docs.example.org/\nconst A: &str = \"https://hooks.slack.com/x\";\n\
                    const B: &str = \"https://api.pagerduty.com/v2\"; // https://c.example\n\
                    let u = format!(\"https://{host}/x\");\nconst C: &str = \"https://API.pagerduty.com./y\";";
        let w = foreign_urls(&sources(text), &manifest(&[], &["hooks.slack.com"]));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with(
                "`src/lib.rs:3`: `https://api.pagerduty.com/v2` is on host `api.pagerduty.com`"
            ),
            "{}",
            w[0]
        );
    }

    #[test]
    fn out_of_line_test_modules_are_skipped_and_code_after_them_kept() {
        let (lines, tests) =
            code_lines("#[cfg(test)]\nmod tests;\nconst A: &str = \"https://a.example\";\n");
        assert_eq!(tests, ["tests"]);
        assert!(
            lines
                .iter()
                .any(|(n, l)| *n == 3 && l.contains("a.example")),
            "{lines:?}"
        );
        assert!(is_test_module_file(Path::new("src/tests.rs"), &tests));
        assert!(is_test_module_file(
            Path::new("src/tests/fixtures.rs"),
            &tests
        ));
        assert!(!is_test_module_file(Path::new("src/lib.rs"), &tests));
        let (lines, _) = code_lines(
            "fn a() {}\n#[cfg(test)]\nmod tests {\n    const U: &str = \"https://b.example\";\n}\n",
        );
        assert_eq!(lines.len(), 1);
    }
}
