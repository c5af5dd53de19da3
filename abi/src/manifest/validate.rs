//! `Manifest::validate`: every rule of `docs/ABI.md`, all problems at once.
//!
//! Messages say what is wrong and what to write instead. Paths are JSON paths
//! (`permissions.http.allowed_hosts[0]`); `manifest::cargo` maps them to `Cargo.toml`
//! keys.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::suggest::{nearest, quoted_list};
use super::{ConfigField, ConfigType, Diagnostic, Diagnostics, MAX_PANEL_HEIGHT, Manifest};
use crate::event::EventKind;

const ID_EXAMPLE: &str = "\"com.example.slack-notifications\"";
const HOST_EXAMPLE: &str = "\"hooks.slack.com\"";

impl Manifest {
    /// Checks every rule of the manifest and returns all problems at once, each with
    /// its JSON path. The manifest is usable only when there are no errors; warnings
    /// (unknown fields, hosts in uppercase, …) do not stop it from loading.
    ///
    /// ```
    /// use otai_plugin_abi::manifest::Manifest;
    ///
    /// let m = Manifest::from_json(br#"{"id":"com.example.x","name":"X","version":"1.0",
    ///     "description":"d","events":["ticket.create"]}"#).unwrap();
    /// let report = m.validate().to_string();
    /// assert!(report.contains(r#"error: version: "1.0" is not a semantic version"#), "{report}");
    /// assert!(report.contains(r#"error: events[0]: unknown event "ticket.create"; did you mean "ticket.created"?"#));
    /// ```
    pub fn validate(&self) -> Diagnostics {
        let mut out = Diagnostics::default();
        check_id(&self.id, &mut out);
        check_non_empty("name", &self.name, "\"Slack Notifications\"", &mut out);
        check_version(&self.version, &mut out);
        check_non_empty(
            "description",
            &self.description,
            "\"Posts a Slack message when a ticket is created.\"",
            &mut out,
        );
        for (path, value) in [("author", &self.author), ("license", &self.license)] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                out.push(Diagnostic::warning(
                    path,
                    format!("`{path}` is empty; remove it or fill it in"),
                ));
            }
        }
        if let Some(license) = self.license.as_deref().filter(|l| !l.trim().is_empty()) {
            check_license(license, &mut out);
        }
        if let Some(homepage) = &self.homepage {
            check_homepage(homepage, &mut out);
        }
        check_events(&self.events, &mut out);
        check_hosts(self.allowed_hosts(), &mut out);
        for (key, field) in &self.config_schema {
            check_config_field(key, field, &mut out);
        }
        if let Some(panel) = &self.ui_panel {
            if panel.title.trim().is_empty() {
                out.push(Diagnostic::error(
                    "ui_panel.title",
                    "the panel title is empty; write the heading shown above the panel, e.g. \"JIRA Issue\"",
                ));
            }
            if !(1..=MAX_PANEL_HEIGHT).contains(&panel.height) {
                out.push(Diagnostic::error(
                    "ui_panel.height",
                    format!(
                        "height {} is out of range; use 1 to {MAX_PANEL_HEIGHT} (pixels), e.g. 140",
                        panel.height
                    ),
                ));
            }
        }
        for path in &self.unknown_fields {
            let name = path.rsplit(['.', '[']).next().unwrap_or(path);
            out.push(Diagnostic::warning(
                path.clone(),
                format!("unknown field `{name}` is ignored (not part of the ABI v1 manifest)"),
            ));
        }
        out
    }
}

fn check_non_empty(path: &str, value: &str, example: &str, out: &mut Diagnostics) {
    if value.trim().is_empty() {
        out.push(Diagnostic::error(
            path,
            format!("`{path}` is empty; write one, e.g. {example}"),
        ));
    }
}

/// Why `id` is not `label(.label)+` with labels of `[a-z0-9-]`, not starting or ending
/// with a hyphen.
fn id_problem(id: &str) -> Option<String> {
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Some(if c.is_ascii_uppercase() {
            "it contains uppercase letters".to_owned()
        } else {
            format!(
                "it contains {c:?}; only lowercase letters, digits, hyphens and dots are allowed"
            )
        });
    }
    let labels: Vec<&str> = id.split('.').collect();
    if labels.len() < 2 {
        return Some("it needs at least two dot-separated labels".to_owned());
    }
    if labels.iter().any(|l| l.is_empty()) {
        return Some("it has an empty label (a leading, trailing or double dot)".to_owned());
    }
    if let Some(l) = labels
        .iter()
        .find(|l| l.starts_with('-') || l.ends_with('-'))
    {
        return Some(format!("label {l:?} starts or ends with a hyphen"));
    }
    None
}

fn check_id(id: &str, out: &mut Diagnostics) {
    if id.is_empty() {
        out.push(Diagnostic::error(
            "id",
            format!("`id` is empty; write a reverse-domain identifier, e.g. {ID_EXAMPLE}"),
        ));
        return;
    }
    let Some(problem) = id_problem(id) else {
        return;
    };
    let fixed: String = id
        .trim()
        .chars()
        .map(|c| match c {
            '_' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let fix = if fixed != id && id_problem(&fixed).is_none() {
        format!("write {fixed:?}")
    } else {
        format!(
            "use a reverse-domain identifier: two or more dot-separated labels of lowercase letters, digits and hyphens, e.g. {ID_EXAMPLE}"
        )
    };
    out.push(Diagnostic::error(
        "id",
        format!("{id:?} is not a valid id: {problem}; {fix}"),
    ));
}

fn check_version(version: &str, out: &mut Diagnostics) {
    let Err(err) = semver::Version::parse(version) else {
        return;
    };
    let trimmed = version.trim().trim_start_matches(['v', 'V']);
    let candidates = [
        trimmed.to_owned(),
        format!("{trimmed}.0"),
        format!("{trimmed}.0.0"),
    ];
    let fix = match candidates
        .iter()
        .find(|c| semver::Version::parse(c).is_ok())
    {
        Some(c) => format!("write {c:?}"),
        None => "use MAJOR.MINOR.PATCH, e.g. \"1.0.0\"".to_owned(),
    };
    out.push(Diagnostic::error(
        "version",
        format!("{version:?} is not a semantic version ({err}); {fix}"),
    ));
}

/// `license` is an SPDX license expression, as crates.io wants: strictly (`MIT OR
/// Apache-2.0`), or in the older forms cargo still takes (`MIT/Apache-2.0`, `GPL-3.0+`),
/// which are a warning with the strict form to write instead.
fn check_license(license: &str, out: &mut Diagnostics) {
    if spdx::Expression::parse(license).is_ok() {
        return;
    }
    match spdx::Expression::parse_mode(license, spdx::ParseMode::LAX) {
        Ok(_) => {
            let strict = spdx::Expression::canonicalize(license)
                .ok()
                .flatten()
                .map_or(String::new(), |s| format!("; write \"{s}\""));
            out.push(Diagnostic::warning(
                "license",
                format!("\"{license}\" is an outdated form of SPDX license expression{strict}"),
            ));
        }
        Err(err) => {
            let term = license.get(err.span.clone()).unwrap_or(license);
            out.push(Diagnostic::error(
                "license",
                format!(
                    "\"{license}\" is not an SPDX license expression ({} at \"{term}\"); write \
                     an SPDX identifier or expression, e.g. \"MIT\" or \"MIT OR Apache-2.0\" \
                     (https://spdx.org/licenses/), or \"LicenseRef-…\" for your own",
                    err.reason
                ),
            ));
        }
    }
}

fn check_homepage(homepage: &str, out: &mut Diagnostics) {
    // The admin panel renders it as a link: anything but http(s) (`javascript:`, …) is
    // refused rather than warned about.
    let lower = homepage.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with(['/', '?', '#']));
    if !host_ok
        || homepage
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        out.push(Diagnostic::error(
            "homepage",
            format!(
                "{homepage:?} is not an http(s) URL; the admin panel shows it as a link, so write an absolute URL such as \"https://github.com/example/ohd-slack-plugin\""
            ),
        ));
    }
}

fn check_events(events: &[EventKind], out: &mut Diagnostics) {
    let known = || EventKind::ALL.iter().map(|e| e.as_str());
    if events.is_empty() {
        out.push(Diagnostic::error(
            "events",
            format!(
                "no events: subscribe to at least one of {}",
                quoted_list(known())
            ),
        ));
    }
    let mut seen: HashMap<&EventKind, usize> = HashMap::new();
    for (i, event) in events.iter().enumerate() {
        let path = format!("events[{i}]");
        if let EventKind::Other(name) = event {
            let hint = match nearest(name, known()) {
                Some(s) => format!("did you mean {s:?}?"),
                None => format!("the events are {}", quoted_list(known())),
            };
            out.push(Diagnostic::error(
                path,
                format!("unknown event {name:?}; {hint}"),
            ));
        } else if let Some(first) = seen.get(event) {
            out.push(Diagnostic::error(
                path,
                format!(
                    "{:?} is listed twice (also at events[{first}]); remove one",
                    event.as_str()
                ),
            ));
        } else {
            seen.insert(event, i);
        }
    }
}

fn check_hosts(hosts: &[String], out: &mut Diagnostics) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, host) in hosts.iter().enumerate() {
        let path = format!("permissions.http.allowed_hosts[{i}]");
        match check_host(host) {
            Err(message) => out.push(Diagnostic::error(path, message)),
            Ok((key, warning)) => {
                if let Some(message) = warning {
                    out.push(Diagnostic::warning(path.clone(), message));
                }
                if let Some(first) = seen.get(&key) {
                    out.push(Diagnostic::error(
                        path,
                        format!("{host:?} is listed twice (also at allowed_hosts[{first}], hosts are compared case-insensitively); remove one"),
                    ));
                } else {
                    seen.insert(key, i);
                }
            }
        }
    }
}

/// Checks one `allowed_hosts` entry. `Ok` carries the key it matches under (lowercase;
/// IPv6 canonical without brackets) and an optional warning; `Err` the error message.
fn check_host(entry: &str) -> Result<(String, Option<String>), String> {
    if entry.is_empty() {
        return Err(format!(
            "the host is empty; write a hostname such as {HOST_EXAMPLE}"
        ));
    }
    if entry.chars().any(char::is_whitespace) {
        let trimmed = entry.trim();
        return Err(if !trimmed.is_empty() && check_bare(trimmed).is_ok() {
            format!("{entry:?} has whitespace around it; write {trimmed:?}")
        } else {
            format!("{entry:?} contains whitespace; write one hostname, e.g. {HOST_EXAMPLE}")
        });
    }
    if let Some((host, port)) = authority_host(entry) {
        let suggestion = host.trim_end_matches('.').to_ascii_lowercase();
        return Err(
            if !suggestion.is_empty() && check_bare(&suggestion).is_ok() {
                let why = if port {
                    " (ports are not part of the match: every port of an allowed host is allowed)"
                } else {
                    ""
                };
                format!("{entry:?} is not a bare hostname; write {suggestion:?}{why}")
            } else {
                format!(
                    "{entry:?} is not a bare hostname; write only the host, e.g. {HOST_EXAMPLE}"
                )
            },
        );
    }
    check_bare(entry)
}

/// If `entry` is more than a host (scheme, userinfo, port, path, query, fragment),
/// the host in it and whether a port was what was extra.
fn authority_host(entry: &str) -> Option<(&str, bool)> {
    let mut rest = entry;
    let mut extra = false;
    if let Some((_, after)) = rest.split_once("://") {
        rest = after;
        extra = true;
    }
    if let Some(end) = rest.find(['/', '?', '#']) {
        rest = &rest[..end];
        extra = true;
    }
    if let Some((_, after)) = rest.rsplit_once('@') {
        rest = after;
        extra = true;
    }
    let mut port = false;
    if let Some(inner_end) = rest.strip_prefix('[').and_then(|r| r.find(']')) {
        if rest.len() > inner_end + 2 {
            rest = &rest[..inner_end + 2];
            port = true;
        }
    } else if let Some((host, p)) = rest.split_once(':')
        && !p.contains(':')
        && p.chars().all(|c| c.is_ascii_digit())
    {
        rest = host;
        port = true;
    }
    (extra || port).then_some((rest, port))
}

/// Checks a string that has no scheme, path or port.
fn check_bare(host: &str) -> Result<(String, Option<String>), String> {
    if host.contains('*') {
        let example = host.trim_start_matches(['*', '.']);
        let example = if example.is_empty() {
            "hooks.slack.com"
        } else {
            example
        };
        return Err(format!(
            "{host:?}: wildcards are not supported; list every host the plugin calls exactly, e.g. {example:?}"
        ));
    }
    let inner = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    if inner.is_some() || host.contains(':') {
        let literal = inner.unwrap_or(host);
        let Ok(addr) = literal.parse::<Ipv6Addr>() else {
            return Err(format!(
                "{host:?} is not a valid IPv6 address (write it like \"::1\" or \"[2001:db8::1]\")"
            ));
        };
        let canonical = addr.to_string();
        let warning = (canonical != literal).then(|| {
            format!("write the IPv6 address in its canonical form {canonical:?}, the form URLs are compared in")
        });
        return Ok((canonical, warning));
    }
    if !host.is_ascii() {
        return Err(format!(
            "{host:?} contains non-ASCII characters; write the ASCII (punycode, \"xn--…\") form of the name, which is what URLs are compared in"
        ));
    }
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{host:?} contains {c:?}, which a hostname cannot contain; write a hostname such as {HOST_EXAMPLE}"
        ));
    }
    if let Some(stripped) = host.strip_suffix('.')
        && check_bare(stripped).is_ok()
    {
        return Err(format!(
            "{host:?} ends with a dot; write {:?} (URLs with a trailing dot match it too)",
            stripped.to_ascii_lowercase()
        ));
    }
    if host.split('.').any(str::is_empty) {
        return Err(format!(
            "{host:?} has an empty label (a leading or double dot); write a hostname such as {HOST_EXAMPLE}"
        ));
    }
    if host.len() > 253 {
        return Err(format!(
            "the host is {} bytes long; a hostname has at most 253",
            host.len()
        ));
    }
    if let Some(label) = host.split('.').find(|l| l.len() > 63) {
        return Err(format!(
            "label {label:?} is {} bytes long; a label has at most 63",
            label.len()
        ));
    }
    if let Some(label) = host
        .split('.')
        .find(|l| l.starts_with('-') || l.ends_with('-'))
    {
        return Err(format!(
            "{host:?}: label {label:?} starts or ends with a hyphen, which a hostname cannot"
        ));
    }
    // URL parsers read a host whose last label is a number as an IPv4 address
    // (`127.1` is 127.0.0.1, `example.0x10` is no host at all), so only the
    // dotted-quad form can ever match. "A number" is the URL Standard's: decimal
    // digits, or `0x` and hexadecimal digits.
    let last = host.rsplit('.').next().unwrap_or(host);
    let hex = last
        .strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()));
    let number = hex || last.chars().all(|c| c.is_ascii_digit());
    if number && host.parse::<Ipv4Addr>().is_err() {
        return Err(format!(
            "{host:?} looks like an IPv4 address but is not a dotted quad; write it like \"192.0.2.10\""
        ));
    }
    let lower = host.to_ascii_lowercase();
    let warning = (lower != host)
        .then(|| format!("hosts are matched case-insensitively; write it in lowercase: {lower:?}"));
    Ok((lower, warning))
}

fn is_config_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_config_field(key: &str, field: &ConfigField, out: &mut Diagnostics) {
    let path = format!("config_schema.{key}");
    if !is_config_key(key) {
        let mut fixed: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        if !fixed.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') {
            fixed.insert(0, '_');
        }
        out.push(Diagnostic::error(
            path.clone(),
            format!(
                "config key {key:?} is not an identifier: use lowercase letters, digits and underscores, not starting with a digit ([a-z_][a-z0-9_]*); write {fixed:?}"
            ),
        ));
    }
    let ty = field.ty.as_str();
    if field.secret && field.ty != ConfigType::String {
        out.push(Diagnostic::error(
            format!("{path}.secret"),
            format!(
                "`secret` applies only to `string` fields, and this one is `{ty}`; remove `secret`"
            ),
        ));
    }
    match (&field.options, field.ty) {
        (None, ConfigType::Select) => out.push(Diagnostic::error(
            path.clone(),
            "a `select` field needs `options`, the list of choices, e.g. \"options\": [\"low\", \"high\"]",
        )),
        (Some(options), ConfigType::Select) => {
            if options.is_empty() {
                out.push(Diagnostic::error(
                    format!("{path}.options"),
                    "`options` is empty; list the choices, e.g. [\"low\", \"high\"]",
                ));
            }
            for (i, option) in options.iter().enumerate() {
                if let Some(first) = options[..i].iter().position(|o| o == option) {
                    out.push(Diagnostic::error(
                        format!("{path}.options[{i}]"),
                        format!("option {option:?} is listed twice (also at options[{first}]); remove one"),
                    ));
                }
            }
        }
        (Some(_), _) => out.push(Diagnostic::error(
            format!("{path}.options"),
            format!("`options` applies only to `select` fields, and this one is `{ty}`; remove `options` or make it a `select`"),
        )),
        (None, _) => {}
    }
    let Some(default) = &field.default else {
        return;
    };
    let default_path = format!("{path}.default");
    if field.secret {
        // Never echo the value: it was meant to be secret.
        out.push(Diagnostic::error(
            default_path,
            "a secret field cannot have a `default`: anyone with the module can read the manifest, so the value would not be secret; remove `default` and set the value when installing",
        ));
        return;
    }
    if let Err(problem) = super::config::check_value(field, default) {
        out.push(Diagnostic::error(
            default_path,
            format!("the default {problem}"),
        ));
    }
    if field.required {
        out.push(Diagnostic::warning(
            format!("{path}.required"),
            "`required` has no effect on a field with a `default` (the default fills it in); remove one of them",
        ));
    }
}
