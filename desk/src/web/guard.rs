//! What the desk's pages accept and what every answer carries. The desk listens on the
//! loopback interface, where every web page open in the same browser can reach it:
//!
//! - a request must be addressed to the desk by a loopback name at the port it is
//!   served on (`127.0.0.1`, `localhost` or `[::1]`); any other `Host` is a page that
//!   reached it under a name of its own (DNS rebinding) and gets 421;
//! - a request that changes something (any method but `GET` and `HEAD`) must come from
//!   the desk's own pages: an `Origin` of the desk's own origin or, with no `Origin` or
//!   `Origin: null`, `Sec-Fetch-Site: same-origin`; otherwise 403;
//! - every answer, refusals and error pages included, forbids framing, sniffing and
//!   referrers, and runs only the desk's own inline script and style (by hash), with
//!   frames only from the panel origins the page shows; a script may connect only to
//!   the desk itself (the live reload's stream, `live.rs`); a flame graph's SVG, a
//!   document the desk did not write, runs no script at all ([`NoScript`]).

use std::sync::LazyLock;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use sha2::Digest as _;

use super::render::message_page;

/// The port the desk is served on, which a request's `Host` must name.
#[derive(Debug, Clone, Copy)]
pub(super) struct Served {
    pub(super) port: u16,
}

impl Served {
    /// The authorities (host and port) the desk answers to. Browsers leave out port 80.
    fn authorities(self) -> Vec<String> {
        let port = self.port;
        let mut names = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        if port == 80 {
            names.extend(["127.0.0.1", "localhost", "[::1]"].map(String::from));
        }
        names
    }
}

/// Refuses a request addressed to anything but the desk's loopback names at its port.
pub(super) async fn loopback_host(
    State(served): State<Served>,
    request: Request,
    next: Next,
) -> Response {
    let hosts: Vec<&HeaderValue> = request.headers().get_all(header::HOST).iter().collect();
    // An absolute request target (`GET http://name/ HTTP/1.1`) takes precedence over
    // `Host` in HTTP/1.1: both must be ours.
    let target = request.uri().authority().map(|a| a.as_str().to_owned());
    let named: Vec<String> = hosts
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .chain(target)
        .collect();
    let ours = served.authorities();
    let accepted = hosts.len() == 1
        && named
            .iter()
            .all(|n| ours.iter().any(|o| o.eq_ignore_ascii_case(n)));
    if accepted {
        return next.run(request).await;
    }
    let shown: Vec<String> = named.iter().map(|n| format!("`{}`", cut(n))).collect();
    let found = match shown.as_slice() {
        [] => "named no host (it has no `Host` header)".to_owned(),
        [one] => format!("was addressed to {one}"),
        many => format!("was addressed to {}", many.join(" and ")),
    };
    message_page(
        StatusCode::MISDIRECTED_REQUEST,
        "Refused: not addressed to the desk",
        &format!(
            "This local help desk answers only requests addressed to {}. This request \
             {found}: a web page that reaches the desk under a name of its own (DNS \
             rebinding) is refused. Open the desk at http://127.0.0.1:{}/ instead.",
            ours[..3].join(", "),
            served.port,
        ),
    )
}

/// At most 100 bytes of a name a request gave, for a message.
fn cut(name: &str) -> String {
    if name.len() <= 100 {
        return name.to_owned();
    }
    let mut end = 100;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &name[..end])
}

/// Refuses a request that changes something unless it comes from the desk's own pages.
/// Browsers send `Origin` with every `POST` (and `Sec-Fetch-Site`, which a page cannot
/// set); a form on any other site, or a sandboxed frame (`Origin: null`), is refused.
pub(super) async fn same_origin_changes(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    // A block: nothing that borrows the request (whose body is not `Sync`) may live
    // across the `.await` below.
    let (own, origin, site) = {
        let text = |name: HeaderName| {
            request
                .headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        // `loopback_host` ran first: the `Host` is one of the desk's own names.
        (
            text(header::HOST).map(|host| format!("http://{host}")),
            text(header::ORIGIN).map(|o| cut(&o)),
            text(HeaderName::from_static("sec-fetch-site")).map(|s| cut(&s)),
        )
    };
    let same_origin = site.as_deref() == Some("same-origin");
    let refusal = match origin.as_deref() {
        Some(origin) if own.as_ref().is_some_and(|o| o.eq_ignore_ascii_case(origin)) => None,
        // The pages' `Referrer-Policy: no-referrer` has browsers send `Origin: null` with
        // the desk's own forms; `Sec-Fetch-Site`, which no page can set, says where
        // they come from. A sandboxed frame elsewhere is `cross-site`.
        None | Some("null") if same_origin => None,
        Some("null") => Some(format!(
            "a form from an origin its browser does not name (`Origin: null`) cannot change \
             the local desk unless the browser marks it `Sec-Fetch-Site: same-origin`{}",
            site.map(|s| format!(", and it says `{s}`"))
                .unwrap_or_default()
        )),
        Some(origin) => Some(format!(
            "a form from {origin} cannot change the local desk: only the desk's own pages \
             ({}) can",
            own.as_deref().unwrap_or("its own origin")
        )),
        None => Some(format!(
            "a `{}` without an `Origin` header{} cannot change the local desk: the desk's \
             own pages send their origin or `Sec-Fetch-Site: same-origin`",
            request.method(),
            site.map(|s| format!(" (and with `Sec-Fetch-Site: {s}`)"))
                .unwrap_or_default()
        )),
    };
    match refusal {
        None => next.run(request).await,
        Some(why) => message_page(StatusCode::FORBIDDEN, "Refused", &format!("refused: {why}")),
    }
}

/// The origins of the panels a page shows in iframes: the one place the page may frame
/// from. Set on the response by the page; read by [`security_headers`].
#[derive(Debug, Clone, Default)]
pub(super) struct FrameSources(pub(super) Vec<String>);

impl FrameSources {
    /// The origin of each URL, as a CSP source (`https://panel.example.com:8443`). A URL
    /// that is not http(s), or whose origin holds a character a source cannot, is left
    /// out: its frame does not load, and no header is ever made of it.
    pub(super) fn of<'a>(urls: impl IntoIterator<Item = &'a str>) -> FrameSources {
        let mut origins: Vec<String> = urls
            .into_iter()
            .filter_map(|u| url::Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| {
                o.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:/[]_".contains(&b))
            })
            .collect();
        origins.sort();
        origins.dedup();
        FrameSources(origins)
    }
}

/// `'sha256-…'` of each inline block the templates hold: the scripts and styles the
/// pages may run, and nothing else.
static INLINE_HASHES: LazyLock<(String, String)> = LazyLock::new(|| {
    let hashes = |tag: &str| {
        super::render::inline_blocks(tag)
            .iter()
            .map(|block| format!("'sha256-{}'", hash(block)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    (hashes("script"), hashes("style"))
});

/// The base64 SHA-256 of a block, as CSP writes it.
pub(super) fn hash(block: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(block.as_bytes()))
}

/// The Content-Security-Policy of a page framing `frames`.
pub(super) fn content_security_policy(frames: &FrameSources) -> String {
    let (scripts, styles) = &*INLINE_HASHES;
    let frame_src = if frames.0.is_empty() {
        "'none'".to_owned()
    } else {
        frames.0.join(" ")
    };
    format!(
        "default-src 'none'; script-src {scripts}; style-src {styles}; img-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; frame-src {frame_src}"
    )
}

/// Marks a response that is a document of the plugin's, not a page of the desk's (a
/// flame graph's SVG, which can hold script): its policy runs no script, loads nothing,
/// and allows only the document's own inline style.
#[derive(Debug, Clone, Copy)]
pub(super) struct NoScript;

/// The policy of a [`NoScript`] response.
pub(super) const NO_SCRIPT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Adds the headers of the module's doc to every response.
pub(super) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.extensions().get::<NoScript>().is_some() {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NO_SCRIPT_POLICY),
        );
        return with_common_headers(response);
    }
    let frames = response
        .extensions()
        .get::<FrameSources>()
        .cloned()
        .unwrap_or_default();
    let headers = response.headers_mut();
    // Only characters `FrameSources::of` let through, and ours: always a valid value.
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&frames)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    with_common_headers(response)
}

/// The headers every answer carries besides its policy.
fn with_common_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sources_are_origins_and_never_anything_else() {
        let frames = FrameSources::of([
            "http://127.0.0.1:9/p?t=1",
            "https://panel.example.com/x",
            "https://panel.example.com/y",
            "https://[::1]:8443/",
            "javascript:alert(1)",
            "data:text/html,x",
            "not a url",
        ]);
        assert_eq!(
            frames.0,
            [
                "http://127.0.0.1:9",
                "https://[::1]:8443",
                "https://panel.example.com"
            ]
        );
        // A host the URL Standard lets through but a CSP source cannot hold.
        assert!(FrameSources::of(["https://a;b.example/"]).0.is_empty());
    }

    #[test]
    fn the_policy_frames_nothing_by_default_and_only_the_panels_when_told() {
        let none = content_security_policy(&FrameSources::default());
        assert!(none.contains("frame-src 'none'"), "{none}");
        assert!(none.contains("frame-ancestors 'none'"), "{none}");
        assert!(!none.contains("unsafe"), "{none}");
        let some = content_security_policy(&FrameSources(vec!["http://127.0.0.1:9".into()]));
        assert!(some.ends_with("frame-src http://127.0.0.1:9"), "{some}");
    }

    #[test]
    fn only_the_loopback_names_at_the_port_are_ours() {
        let ours = Served { port: 8099 }.authorities();
        assert_eq!(ours, ["127.0.0.1:8099", "localhost:8099", "[::1]:8099"]);
        assert!(
            Served { port: 80 }
                .authorities()
                .contains(&"localhost".to_owned())
        );
    }
}
