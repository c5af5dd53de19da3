//! What `ohd_http_request` refuses before anything is sent: the request JSON, the
//! method, the URL, the headers, and `permissions.http.allowed_hosts`.
//!
//! A refusal is a [`RequestRefusal`]: the host answers it with its status (0, or 403
//! for a host that is not allowed) and the [`HostErrorBody`] that
//! [`RequestRefusal::body`] writes. The reference host and the SDK's native stand-in
//! both call these functions, and `render_panel`'s URL is judged by [`AllowedHosts`] too.
//!
//! ```
//! use otai_plugin_abi::calls::HostErrorKind;
//! use otai_plugin_abi::rules::http::{AllowedHosts, check_request, decode_request};
//!
//! let allowed = AllowedHosts::new(["hooks.slack.com"]);
//! let request = decode_request(br#"{"method":"POST","url":"https://evil.example/x"}"#).unwrap();
//! let refusal = check_request(&request, &allowed).unwrap_err();
//! assert_eq!(refusal.kind, HostErrorKind::HostNotAllowed);
//! assert_eq!(refusal.status(), 403);
//! assert_eq!(refusal.host.as_deref(), Some("evil.example"));
//! ```

use url::{Host, Url};

use crate::calls::{
    HTTP_METHODS, HostError, HostErrorBody, HostErrorKind, HttpRequest, is_refused_header,
};
use crate::limits::MAX_HTTP_REQUEST;

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

/// Lowercases an `allowed_hosts` entry, drops one trailing dot and IPv6 brackets, and
/// writes an IPv6 address in its canonical form: the form URL hosts are compared in.
pub fn normalize_allowed_host(entry: &str) -> String {
    let mut host = entry.trim().to_ascii_lowercase();
    if host.ends_with('.') {
        host.pop();
    }
    if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
        host = host[1..host.len() - 1].to_owned();
    }
    // An IPv6 entry in another form than the canonical one (a warning in the manifest)
    // still names the address, and URLs are compared in the canonical form.
    if let Ok(addr) = host.parse::<std::net::Ipv6Addr>() {
        host = addr.to_string();
    }
    host
}

/// A plugin's `permissions.http.allowed_hosts`, normalised once for matching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    hosts: Vec<String>,
}

impl AllowedHosts {
    /// The allow-list of these manifest entries (as written in the manifest).
    pub fn new<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Self {
        AllowedHosts {
            hosts: entries
                .into_iter()
                .map(|h| normalize_allowed_host(h.as_ref()))
                .collect(),
        }
    }

    /// The normalised entries.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// Checks `url` against the list.
    ///
    /// The URL is parsed with the `url` crate (WHATWG rules); its scheme must be `http`
    /// or `https` and it must not carry a user name or password. Its host, lowercased
    /// and without one trailing dot, must equal an entry exactly; IP literals match only
    /// an entry with the same address (`[::1]` and `::1` are the same entry). Ports are
    /// not part of the match.
    ///
    /// ```
    /// use otai_plugin_abi::rules::http::{AllowedHosts, UrlCheck};
    ///
    /// let allowed = AllowedHosts::new(["hooks.slack.com"]);
    /// assert!(matches!(allowed.check_url("HTTPS://HOOKS.SLACK.COM./x"), UrlCheck::Allowed(_)));
    /// assert_eq!(
    ///     allowed.check_url("https://hooks.slack.com.evil.example/"),
    ///     UrlCheck::HostNotAllowed { host: "hooks.slack.com.evil.example".into() },
    /// );
    /// ```
    pub fn check_url(&self, url: &str) -> UrlCheck {
        match parse_url(url) {
            Err(message) => UrlCheck::Invalid(message),
            Ok((parsed, host)) if self.hosts.contains(&host) => UrlCheck::Allowed(parsed),
            Ok((_, host)) => UrlCheck::HostNotAllowed { host },
        }
    }
}

/// Parses a request URL and returns it with its host in the form allow-list entries are
/// compared in, or why it cannot be requested at all.
fn parse_url(url: &str) -> Result<(Url, String), String> {
    let parsed =
        Url::parse(url).map_err(|e| format!("`{url}` is not a valid absolute URL: {e}"))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(format!(
            "scheme `{}` is not supported: use an `http` or `https` URL",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(
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
        None => return Err(format!("`{url}` has no host")),
    };
    Ok((parsed, host))
}

/// Checks `url` against `allowed_hosts` entries as written in a manifest; see
/// [`AllowedHosts::check_url`].
pub fn check_url(url: &str, allowed_hosts: &[String]) -> UrlCheck {
    AllowedHosts::new(allowed_hosts).check_url(url)
}

/// A request the host refuses before sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRefusal {
    /// [`HostErrorKind::InvalidRequest`], [`HostErrorKind::HostNotAllowed`], or
    /// [`HostErrorKind::AddressNotAllowed`] (from [`super::address`]).
    pub kind: HostErrorKind,
    /// What is wrong, for the plugin's logs.
    pub message: String,
    /// The URL's host, for [`HostErrorKind::HostNotAllowed`] and
    /// [`HostErrorKind::AddressNotAllowed`].
    pub host: Option<String>,
}

impl RequestRefusal {
    fn invalid(message: String) -> Self {
        RequestRefusal {
            kind: HostErrorKind::InvalidRequest,
            message,
            host: None,
        }
    }

    /// The status `ohd_http_request` returns: 0, or 403 for a host not allowed.
    pub fn status(&self) -> u32 {
        self.kind.status()
    }

    /// The response body the plugin receives: a [`HostErrorBody`] as JSON.
    pub fn body(&self) -> Vec<u8> {
        error_body(self.kind, &self.message, self.host.as_deref())
    }
}

impl std::fmt::Display for RequestRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RequestRefusal {}

/// The JSON of a [`HostErrorBody`], the body of every answer that did not come from a
/// server.
pub fn error_body(kind: HostErrorKind, message: &str, host: Option<&str>) -> Vec<u8> {
    let body = HostErrorBody {
        ohd_error: HostError {
            kind,
            message: message.to_owned(),
            host: host.map(str::to_owned),
        },
    };
    // Strings and an enum: serializing cannot fail.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Decodes the request JSON of `ohd_http_request`: at most [`MAX_HTTP_REQUEST`] bytes,
/// of the shape of [`HttpRequest`] (no unknown or duplicate field, no header twice).
///
/// # Errors
/// An `invalid_request` refusal saying what is wrong.
pub fn decode_request(bytes: &[u8]) -> Result<HttpRequest, RequestRefusal> {
    if bytes.len() > MAX_HTTP_REQUEST {
        return Err(RequestRefusal::invalid(format!(
            "the request JSON is {} bytes, over the limit of {MAX_HTTP_REQUEST}",
            bytes.len()
        )));
    }
    super::decode_object(bytes)
        .map_err(|e| RequestRefusal::invalid(format!("invalid request JSON: {e}")))
}

/// The request of a component's `http-request`, judged as [`decode_request`] judges the
/// core flavour's JSON: at most [`MAX_HTTP_REQUEST`] bytes as that JSON (what serde_json
/// writes for it), and no header name twice in any letter case. The method is one of
/// the WIT's, so it needs no decoding; [`check_request`] judges the rest.
///
/// ```
/// use otai_plugin_abi::rules::http::request_from_parts;
///
/// let headers = vec![("X-A".to_owned(), "1".to_owned()), ("x-a".to_owned(), "2".to_owned())];
/// let refusal = request_from_parts("GET", "https://a.example/".into(), headers, None).unwrap_err();
/// assert_eq!(refusal.message, "invalid request: header `x-a` is given more than once");
/// ```
///
/// # Errors
/// An `invalid_request` refusal saying what is wrong.
pub fn request_from_parts(
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
) -> Result<HttpRequest, RequestRefusal> {
    struct Headers<'a>(&'a [(String, String)]);
    impl Headers<'_> {
        fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }
    impl serde::Serialize for Headers<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(name, value)| (name, value)))
        }
    }
    #[derive(serde::Serialize)]
    struct AsJson<'a> {
        method: &'a str,
        url: &'a str,
        #[serde(skip_serializing_if = "Headers::is_empty")]
        headers: Headers<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        body: Option<&'a str>,
    }
    let json = AsJson {
        method,
        url: &url,
        headers: Headers(&headers),
        body: body.as_deref(),
    };
    // Strings only: serializing cannot fail.
    let len = serde_json::to_vec(&json).map_or(usize::MAX, |v| v.len());
    if len > MAX_HTTP_REQUEST {
        return Err(RequestRefusal::invalid(format!(
            "the request JSON is {len} bytes, over the limit of {MAX_HTTP_REQUEST}"
        )));
    }
    let mut unique = std::collections::BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for (name, value) in headers {
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(RequestRefusal::invalid(format!(
                "invalid request: header `{name}` is given more than once"
            )));
        }
        unique.insert(name, value);
    }
    Ok(HttpRequest {
        method: method.to_owned(),
        url,
        headers: unique,
        body,
    })
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks a decoded request: the method, the URL (and its host against `allowed`),
/// the header names and values. Returns the parsed URL.
///
/// # Errors
/// The first refusal: `invalid_request` (method, URL, header), or `host_not_allowed`.
pub fn check_request(request: &HttpRequest, allowed: &AllowedHosts) -> Result<Url, RequestRefusal> {
    check(request, Some(allowed))
}

/// What [`check_request`] checks, but the allow-list: for a tool that does not know the
/// plugin's `allowed_hosts` (the SDK's native stand-in outside `testing::deliver`).
///
/// # Errors
/// The first `invalid_request` refusal (method, URL, header).
pub fn check_request_shape(request: &HttpRequest) -> Result<Url, RequestRefusal> {
    check(request, None)
}

fn check(request: &HttpRequest, allowed: Option<&AllowedHosts>) -> Result<Url, RequestRefusal> {
    if !HTTP_METHODS.contains(&request.method.as_str()) {
        return Err(RequestRefusal::invalid(format!(
            "method `{}` is not supported: use one of {}",
            request.method,
            HTTP_METHODS.join(", ")
        )));
    }
    let (url, host) = parse_url(&request.url).map_err(RequestRefusal::invalid)?;
    if let Some(allowed) = allowed
        && !allowed.hosts.contains(&host)
    {
        return Err(RequestRefusal {
            kind: HostErrorKind::HostNotAllowed,
            message: format!(
                "host `{host}` is not in the plugin's `permissions.http.allowed_hosts`; nothing was sent"
            ),
            host: Some(host),
        });
    }
    for (name, value) in &request.headers {
        if !is_token(name) {
            return Err(RequestRefusal::invalid(format!(
                "header name `{name}` is not a valid HTTP header name"
            )));
        }
        if is_refused_header(name) {
            return Err(RequestRefusal::invalid(format!(
                "header `{name}` may not be set by a plugin: the host decides where and how a \
                 request travels (docs/ABI.md lists the refused headers with `ohd_http_request`)"
            )));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(RequestRefusal::invalid(format!(
                "header `{name}` has a value with CR, LF or NUL"
            )));
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, allowed: &[&str]) -> UrlCheck {
        AllowedHosts::new(allowed).check_url(url)
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
    fn an_ipv6_entry_in_another_form_still_names_its_address() {
        for entry in ["0:0:0:0:0:0:0:1", "[0:0::1]", "::1"] {
            assert_eq!(
                check("http://[::1]:8080/x", &[entry]),
                UrlCheck::Allowed("http://[::1]:8080/x".parse().unwrap()),
                "{entry}"
            );
        }
        assert_eq!(check("http://[::2]/", &["0:0:0:0:0:0:0:1"]), denied("::2"));
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
            "not a url",
            "/relative",
        ] {
            assert!(
                matches!(check(url, &["hooks.slack.com"]), UrlCheck::Invalid(_)),
                "{url}"
            );
        }
    }

    #[test]
    fn methods_and_headers_are_checked() {
        let allowed = AllowedHosts::new(["a.example"]);
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
        assert_eq!(
            check_request(&req, &allowed).unwrap().as_str(),
            "https://a.example/"
        );
        req.headers.insert("X-Evil".into(), "a\r\nHost: b".into());
        assert_eq!(
            check_request(&req, &allowed).unwrap_err().kind,
            HostErrorKind::InvalidRequest
        );
        req.headers.clear();
        req.url = "https://elsewhere.example/".into();
        assert_eq!(
            check_request(&req, &allowed).unwrap_err().kind,
            HostErrorKind::HostNotAllowed
        );
        assert!(check_request_shape(&req).is_ok());
        req.headers.insert("Bad Name".into(), "x".into());
        assert!(
            check_request_shape(&req)
                .unwrap_err()
                .message
                .contains("`Bad Name`")
        );
    }

    #[test]
    fn headers_that_steer_the_request_are_refused_by_name() {
        let allowed = AllowedHosts::new(["a.example"]);
        for name in [
            "Host",
            "connection",
            "Content-Length",
            "Transfer-Encoding",
            "Proxy-Authorization",
        ] {
            let request = HttpRequest {
                method: "POST".into(),
                url: "https://a.example/".into(),
                headers: [(name.to_owned(), "x".to_owned())].into(),
                body: None,
            };
            let refusal = check_request(&request, &allowed).unwrap_err();
            assert_eq!(refusal.kind, HostErrorKind::InvalidRequest, "{name}");
            assert!(
                refusal
                    .message
                    .contains(&format!("header `{name}` may not be set")),
                "{}",
                refusal.message
            );
        }
    }

    #[test]
    fn request_size_limit_is_inclusive_and_errors_have_bodies() {
        let base = r#"{"method":"GET","url":"https://a.example/","body":""}"#;
        let json = |len: usize| {
            let body = "x".repeat(len - base.len());
            base.replace(r#""body":"""#, &format!(r#""body":"{body}""#))
        };
        assert!(decode_request(json(MAX_HTTP_REQUEST).as_bytes()).is_ok());
        let refusal = decode_request(json(MAX_HTTP_REQUEST + 1).as_bytes()).unwrap_err();
        assert_eq!(refusal.kind, HostErrorKind::InvalidRequest);
        assert_eq!(refusal.status(), 0);
        let body: HostErrorBody = serde_json::from_slice(&refusal.body()).unwrap();
        assert_eq!(body.ohd_error.kind, HostErrorKind::InvalidRequest);
        assert!(body.ohd_error.message.contains("over the limit"));
    }

    #[test]
    fn a_components_request_is_measured_as_the_core_flavours_json() {
        let parts = |body: &str, headers: &[(&str, &str)]| {
            let headers = headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
            request_from_parts(
                "POST",
                "https://a.example/".into(),
                headers,
                Some(body.into()),
            )
        };
        // The same size as the JSON `decode_request` judges, at the limit and one over.
        let base = serde_json::to_vec(&parts("", &[("A", "1")]).unwrap())
            .unwrap()
            .len();
        let at_limit = "x".repeat(MAX_HTTP_REQUEST - base);
        let request = parts(&at_limit, &[("A", "1")]).unwrap();
        assert_eq!(
            serde_json::to_vec(&request).unwrap().len(),
            MAX_HTTP_REQUEST
        );
        let over = parts(&format!("{at_limit}x"), &[("A", "1")]).unwrap_err();
        assert_eq!(
            over.message,
            format!(
                "the request JSON is {} bytes, over the limit of {MAX_HTTP_REQUEST}",
                MAX_HTTP_REQUEST + 1
            )
        );
        // Without headers the object has no `headers` member, as the core JSON has not.
        let plain = parts("", &[]).unwrap();
        assert!(plain.headers.is_empty());
        // A name twice, in any case, as the JSON decoder refuses it; the exact same name
        // too, which a JSON object would have lost.
        for twice in [[("X-A", "1"), ("x-a", "2")], [("X-A", "1"), ("X-A", "1")]] {
            let refusal = parts("", &twice).unwrap_err();
            assert_eq!(refusal.kind, HostErrorKind::InvalidRequest);
            assert!(
                refusal.message.contains("is given more than once"),
                "{refusal}"
            );
        }
    }

    fn get(url: &str, headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: None,
        }
    }

    #[test]
    fn a_refusal_says_its_status_and_message() {
        let allowed = AllowedHosts::new(["api.example.com"]);
        let denied = check_request(&get("https://evil.example/", &[]), &allowed).unwrap_err();
        assert_eq!(denied.kind, HostErrorKind::HostNotAllowed);
        assert_eq!(denied.status(), 403);
        assert_eq!(denied.to_string(), denied.message);
        assert!(denied.to_string().contains("evil.example"), "{denied}");
        let invalid = check_request(&get("ftp://api.example.com/", &[]), &allowed).unwrap_err();
        assert_eq!(invalid.status(), 0);
    }

    #[test]
    fn header_values_with_cr_lf_or_nul_are_refused_each() {
        let allowed = AllowedHosts::new(["api.example.com"]);
        for value in ["a\rb", "a\nb", "a\0b"] {
            let request = get("https://api.example.com/", &[("X-Note", value)]);
            let refusal = check_request(&request, &allowed).unwrap_err();
            assert!(
                refusal.message.contains("CR, LF or NUL"),
                "{value:?}: {refusal}"
            );
        }
        let fine = get("https://api.example.com/", &[("X-Note", "a b\tc")]);
        assert!(check_request(&fine, &allowed).is_ok());
    }

    #[test]
    fn allowed_hosts_are_normalised_once_and_malformed_brackets_kept() {
        let allowed = AllowedHosts::new(["Hooks.Slack.com.", "[::1]", "[::2", "::3]"]);
        assert_eq!(allowed.hosts(), ["hooks.slack.com", "::1", "[::2", "::3]"]);
    }
}
