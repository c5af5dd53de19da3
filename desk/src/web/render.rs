//! The templates, and the pages every route shares: errors, refusals, 404 and 405.

use std::sync::LazyLock;

use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use otai_plugin_abi::limits;
use serde::Serialize;

const TEMPLATE_SOURCES: [(&str, &str); 9] = [
    ("base.html", include_str!("templates/base.html")),
    ("plugins.html", include_str!("templates/plugins.html")),
    ("plugin.html", include_str!("templates/plugin.html")),
    ("ticket.html", include_str!("templates/ticket.html")),
    ("tickets.html", include_str!("templates/tickets.html")),
    ("notices.html", include_str!("templates/notices.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("install.html", include_str!("templates/install.html")),
    ("review.html", include_str!("templates/review.html")),
];

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Whether the pages link "Install from registry".
    env.add_global("registry", cfg!(feature = "registry"));
    for (name, source) in TEMPLATE_SOURCES {
        // The templates are compiled into the binary and rendered by the tests: a
        // syntax error cannot reach a user.
        if let Err(e) = env.add_template(name, source) {
            panic!("template `{name}` does not parse: {e}");
        }
    }
    env
});

/// The text of each inline `<script>` or `<style>` block (`tag`, written without
/// attributes) of the templates: what the pages' Content-Security-Policy allows, by hash.
/// Such a block holds no template code, so the page sends it as written here; a JSON
/// data block (`<script type="application/json">`) is not run and is not listed.
pub(super) fn inline_blocks(tag: &str) -> Vec<&'static str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut blocks = Vec::new();
    for (_, source) in TEMPLATE_SOURCES {
        let mut rest = source;
        while let Some(start) = rest.find(&open) {
            let body = &rest[start + open.len()..];
            let Some(end) = body.find(&close) else { break };
            blocks.push(&body[..end]);
            rest = &body[end..];
        }
    }
    blocks
}

/// A page with a heading and a message (escaped here), for errors and refusals.
pub(super) fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let (title, message) = (escape(title), escape(message));
    (status, Html(format!("<!doctype html><meta charset=\"utf-8\"><title>{title}</title><h1>{title}</h1><pre id=\"error\">{message}</pre><p><a href=\"/\">Plugins</a></p>"))).into_response()
}

/// An error page: the desk's message, which names what is wrong.
pub(super) fn error_page(status: StatusCode, message: &str) -> Response {
    message_page(status, "Error", message)
}

/// The page of a path the desk has none for.
pub(super) async fn not_found(uri: axum::http::Uri) -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!(
            "The desk has no page at `{}`. Its pages are the plugin list (/), a plugin's \
             page (/plugins/ID), the notices (/notices), the settings (/settings), the tickets (/tickets), a ticket's (/tickets/ID) and, in a desk built with \
             registries, Install from registry (/install).",
            uri.path()
        ),
    )
}

/// The page of a path the desk has, asked with a method it does not take there.
pub(super) async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    message_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        &format!(
            "`{method}` is not accepted at `{}`: its page is read with GET and its forms \
             are sent with POST.",
            uri.path()
        ),
    )
}

/// A form that could not be read: too large, or not a form.
pub(super) fn form_refused(rejection: &FormRejection) -> Response {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => form_too_large(),
        status => error_page(
            status,
            &format!("the form could not be read: {}", rejection.body_text()),
        ),
    }
}

/// The page of a form longer than the desk reads.
pub(super) fn form_too_large() -> Response {
    error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "the form is larger than the {} KiB the desk reads; a config value may be at most \
             {} KiB and a whole config {} KiB",
            super::MAX_FORM / 1024,
            limits::MAX_CONFIG_VALUE / 1024,
            limits::MAX_CONFIG / 1024,
        ),
    )
}

/// A value for a template.
pub(super) fn ser(value: &impl Serialize) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

pub(super) fn render(name: &str, ctx: minijinja::Value) -> Response {
    match TEMPLATES.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("rendering `{name}` failed: {e:#}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    use super::*;
    use crate::web::guard::{self, FrameSources};

    #[test]
    fn the_inline_script_and_style_are_sent_as_the_policy_hashes_them() {
        let (scripts, styles) = (inline_blocks("script"), inline_blocks("style"));
        // The base page's live reload, the ticket page's event form and its panel
        // bridge; the base page's style.
        assert_eq!((scripts.len(), styles.len()), (3, 1));
        for block in scripts.iter().chain(&styles) {
            assert!(
                !["{{", "{%", "{#"].iter().any(|t| block.contains(t)),
                "template code in an inline block changes its hash: {block}"
            );
        }
        let page = TEMPLATES
            .get_template("ticket.html")
            .and_then(|t| {
                t.render(context! {
                    ticket => context! { id => "T-1", subject => "</script><script>alert(1)" },
                    bridge => context! { ticket => context! { subject => "</script><script>alert(1)" } },
                    panels => Vec::<String>::new(),
                    events => vec!["ticket.created"],
                    form => context! {},
                    errors => context! {},
                })
            })
            .unwrap();
        let policy = guard::content_security_policy(&FrameSources::default());
        for (tag, blocks) in [("script", &scripts), ("style", &styles)] {
            let mut rendered: Vec<&str> = page
                .split(&format!("<{tag}>"))
                .skip(1)
                .filter_map(|rest| rest.split(&format!("</{tag}>")).next())
                .collect();
            // The base page's blocks come after the content's on the page.
            let mut expected = (*blocks).clone();
            rendered.sort_unstable();
            expected.sort_unstable();
            assert_eq!(rendered, expected);
            for block in rendered {
                let hash = guard::hash(block);
                assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
            }
        }
        // The only other script element is the bridge's data, which does not run, and
        // text in it cannot close it.
        assert_eq!(page.matches("<script").count(), 4, "{page}");
        assert!(page.contains(r#"<script type="application/json" id="ohd-bridge">{"#));
        assert_eq!(page.matches("</script>").count(), 4, "{page}");
    }

    #[test]
    fn every_template_renders() {
        for name in [
            "plugins.html",
            "plugin.html",
            "ticket.html",
            "tickets.html",
            "notices.html",
            "settings.html",
            "install.html",
            "review.html",
        ] {
            assert!(TEMPLATES.get_template(name).is_ok(), "{name}");
        }
    }
}
