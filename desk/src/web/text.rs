//! Text from a manifest or a URL as the pages put it.

/// Markdown from a manifest (`description`, a field's help) as plain text without its
/// marks: the pages render no Markdown, since docs/ABI.md promises none, and literal
/// backticks and asterisks read as noise. Code spans (`` `x` ``) and strong emphasis
/// (`**x**`, `__x__`) lose their marks; a link `[text](url)` becomes `text (url)`. A
/// single `*` or `_` stays (`snake_case`, `2 * 3`). The result is escaped by the template
/// as any text is.
pub(crate) fn plain_text(markdown: &str) -> String {
    let without_marks = markdown
        .replace("**", "")
        .replace("__", "")
        .replace('`', "");
    let mut out = String::with_capacity(without_marks.len());
    let mut rest = without_marks.as_str();
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after.find("](").and_then(|close| {
            let url = &after[close + 2..];
            url.find(')')
                .map(|end| (close, &url[..end], close + 2 + end + 1))
        });
        match link {
            Some((close, url, consumed)) if !after[..close].contains('[') => {
                out.push_str(&rest[..open]);
                out.push_str(&after[..close]);
                out.push_str(" (");
                out.push_str(url);
                out.push(')');
                rest = &after[consumed..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Text as one segment of a URL path: every byte but the unreserved ones of RFC 3986
/// percent-encoded, so an id with `/`, `?` or `#` comes back as itself.
pub(crate) fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_loses_its_marks() {
        assert_eq!(
            plain_text(
                "Posts to **Slack** via `chat.postMessage`; see [the docs](https://x.example/d)."
            ),
            "Posts to Slack via chat.postMessage; see the docs (https://x.example/d)."
        );
        assert_eq!(plain_text("a_b * c [x] [y](z"), "a_b * c [x] [y](z");
        assert_eq!(plain_text("[[a](b)"), "[a (b)");
    }

    #[test]
    fn a_path_segment_keeps_its_text() {
        assert_eq!(path_segment("T-1"), "T-1");
        assert_eq!(path_segment("a/b?c#d é"), "a%2Fb%3Fc%23d%20%C3%A9");
    }
}
