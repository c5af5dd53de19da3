//! Request checks done before any transport is involved: URL shape and
//! `allowed_hosts`.

use otai_plugin_abi::calls::{HTTP_METHODS, HostErrorKind, HttpRequest};
use url::{Host, Url};

/// The result of checking a URL against `allowed_hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlCheck {
    /// The URL may be requested.
    Allowed(Url),
    /// The URL is malformed, not http(s), or carries credentials.
    Invalid(String),
    /// The URL's host is not in `allowed_hosts`.
    HostNotAllowed {
        /// The URL's host, normalised as it was compared.
        host: String,
    },
}

/// Lowercases an `allowed_hosts` entry and drops one trailing dot and IPv6 brackets,
/// the form URL hosts are compared in.
pub(crate) fn normalize_allowed_host(entry: &str) -> String {
    let mut host = entry.trim().to_ascii_lowercase();
    if host.ends_with('.') {
        host.pop();
    }
    if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
        host = host[1..host.len() - 1].to_owned();
    }
    host
}

/// Checks `url` against `allowed_hosts` (entries as in the manifest).
///
/// The URL is parsed with the `url` crate (WHATWG rules); its scheme must be `http`
/// or `https` and it must not carry a user name or password. Its host, lowercased and
/// without one trailing dot, must equal an entry exactly; IP literals match only an
/// entry with the same address (`[::1]` and `::1` are the same entry). Ports are not
/// part of the match.
///
/// ```
/// use otai_plugin_host::http::{check_url, UrlCheck};
///
/// let allowed = ["hooks.slack.com".to_string()];
/// assert!(matches!(check_url("HTTPS://HOOKS.SLACK.COM./x", &allowed), UrlCheck::Allowed(_)));
/// assert_eq!(
///     check_url("https://hooks.slack.com.evil.example/", &allowed),
///     UrlCheck::HostNotAllowed { host: "hooks.slack.com.evil.example".into() },
/// );
/// ```
pub fn check_url(url: &str, allowed_hosts: &[String]) -> UrlCheck {
    let normalized: Vec<String> = allowed_hosts
        .iter()
        .map(|h| normalize_allowed_host(h))
        .collect();
    check_url_normalized(url, &normalized)
}

pub(crate) fn check_url_normalized(url: &str, allowed_hosts: &[String]) -> UrlCheck {
    let parsed = match Url::parse(url) {
        Ok(u) => u,
        Err(e) => return UrlCheck::Invalid(format!("`{url}` is not a valid absolute URL: {e}")),
    };
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return UrlCheck::Invalid(format!(
            "scheme `{}` is not supported: use an `http` or `https` URL",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return UrlCheck::Invalid(
            "URLs with credentials (`user@host`) are not allowed: send credentials in a header"
                .into(),
        );
    }
    let host = match parsed.host() {
        Some(Host::Domain(d)) => {
            let mut d = d.to_ascii_lowercase();
            if d.ends_with('.') {
                d.pop();
            }
            d
        }
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        None => return UrlCheck::Invalid(format!("`{url}` has no host")),
    };
    if allowed_hosts.contains(&host) {
        UrlCheck::Allowed(parsed)
    } else {
        UrlCheck::HostNotAllowed { host }
    }
}

/// A request the host refuses before sending it.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) kind: HostErrorKind,
    pub(crate) message: String,
    pub(crate) host: Option<String>,
}

fn invalid(message: String) -> Refusal {
    Refusal {
        kind: HostErrorKind::InvalidRequest,
        message,
        host: None,
    }
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks method, URL, `allowed_hosts` and headers. `allowed_hosts` is normalised.
pub(crate) fn check_request(
    request: &HttpRequest,
    allowed_hosts: &[String],
) -> Result<(), Refusal> {
    if !HTTP_METHODS.contains(&request.method.as_str()) {
        return Err(invalid(format!(
            "method `{}` is not supported: use one of {}",
            request.method,
            HTTP_METHODS.join(", ")
        )));
    }
    match check_url_normalized(&request.url, allowed_hosts) {
        UrlCheck::Allowed(_) => {}
        UrlCheck::Invalid(message) => return Err(invalid(message)),
        UrlCheck::HostNotAllowed { host } => {
            return Err(Refusal {
                kind: HostErrorKind::HostNotAllowed,
                message: format!(
                    "host `{host}` is not in the plugin's `permissions.http.allowed_hosts`; nothing was sent"
                ),
                host: Some(host),
            });
        }
    }
    for (name, value) in &request.headers {
        if !is_token(name) {
            return Err(invalid(format!(
                "header name `{name}` is not a valid HTTP header name"
            )));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(invalid(format!(
                "header `{name}` has a value with CR, LF or NUL"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, allowed: &[&str]) -> UrlCheck {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        check_url(url, &allowed)
    }

    fn denied(host: &str) -> UrlCheck {
        UrlCheck::HostNotAllowed { host: host.into() }
    }

    #[test]
    fn userinfo_is_refused_and_the_real_host_is_not_the_userinfo() {
        assert!(
            matches!(check("https://hooks.slack.com@evil.example/", &["hooks.slack.com"]), UrlCheck::Invalid(m) if m.contains("credentials"))
        );
        assert!(matches!(
            check("https://u:p@hooks.slack.com/", &["hooks.slack.com"]),
            UrlCheck::Invalid(_)
        ));
    }

    #[test]
    fn suffixes_and_prefixes_do_not_match() {
        let a = &["hooks.slack.com"];
        assert_eq!(
            check("https://hooks.slack.com.evil.example/", a),
            denied("hooks.slack.com.evil.example")
        );
        assert_eq!(
            check("https://evilhooks.slack.com/", a),
            denied("evilhooks.slack.com")
        );
        assert_eq!(check("https://slack.com/", a), denied("slack.com"));
    }

    #[test]
    fn case_trailing_dot_and_ports_are_normalised() {
        let a = &["hooks.slack.com"];
        assert!(matches!(
            check("HTTPS://HOOKS.SLACK.COM/", a),
            UrlCheck::Allowed(_)
        ));
        assert!(matches!(
            check("https://hooks.slack.com./x", a),
            UrlCheck::Allowed(_)
        ));
        assert!(matches!(
            check("https://hooks.slack.com:8443/x", a),
            UrlCheck::Allowed(_)
        ));
        assert!(matches!(
            check("https://hooks.slack.com/", &["Hooks.Slack.Com"]),
            UrlCheck::Allowed(_)
        ));
        assert_eq!(
            check("https://hooks.slack.com../", a),
            denied("hooks.slack.com.")
        );
    }

    #[test]
    fn ip_literals_match_only_when_listed() {
        assert_eq!(
            check("http://127.0.0.1:8080/", &["localhost"]),
            denied("127.0.0.1")
        );
        assert!(matches!(
            check("http://127.0.0.1:8080/", &["127.0.0.1"]),
            UrlCheck::Allowed(_)
        ));
        assert_eq!(check("http://[::1]/", &["127.0.0.1"]), denied("::1"));
        assert!(matches!(
            check("http://[::1]:9/", &["::1"]),
            UrlCheck::Allowed(_)
        ));
        assert!(matches!(
            check("http://[0:0::1]/", &["[::1]"]),
            UrlCheck::Allowed(_)
        ));
        // WHATWG parsing: `2130706433` is 127.0.0.1, and is compared as such.
        assert_eq!(
            check("http://2130706433/", &["hooks.slack.com"]),
            denied("127.0.0.1")
        );
    }

    #[test]
    fn only_http_and_https() {
        for url in [
            "ftp://hooks.slack.com/x",
            "file:///etc/passwd",
            "data:text/plain,hi",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(check(url, &["hooks.slack.com"]), UrlCheck::Invalid(_)),
                "{url}"
            );
        }
        assert!(matches!(
            check("not a url", &["hooks.slack.com"]),
            UrlCheck::Invalid(_)
        ));
        assert!(matches!(
            check("/relative", &["hooks.slack.com"]),
            UrlCheck::Invalid(_)
        ));
    }

    #[test]
    fn methods_and_headers_are_checked() {
        let allowed = vec!["a.example".to_string()];
        let mut req = HttpRequest {
            method: "get".into(),
            url: "https://a.example/".into(),
            headers: Default::default(),
            body: None,
        };
        assert_eq!(
            check_request(&req, &allowed).unwrap_err().kind,
            HostErrorKind::InvalidRequest
        );
        req.method = "GET".into();
        assert!(check_request(&req, &allowed).is_ok());
        req.headers.insert("X-Evil".into(), "a\r\nHost: b".into());
        assert_eq!(
            check_request(&req, &allowed).unwrap_err().kind,
            HostErrorKind::InvalidRequest
        );
    }
}
