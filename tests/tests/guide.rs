//! docs/SDK.md held to what compiles it: every `rust` block is a doc test of this crate
//! (`src/lib.rs` includes the guide), none of them switched off, the manifest the guide
//! shows is the one its `#[plugin]` snippet compiles against (this crate's
//! `[package.metadata.ohd]`), and its links within the docs lead somewhere.

const GUIDE: &str = include_str!("../../docs/SDK.md");
const ABI: &str = include_str!("../../docs/ABI.md");
const README: &str = include_str!("../../README.md");
const CARGO_TOML: &str = include_str!("../Cargo.toml");
const LIB_RS: &str = include_str!("../src/lib.rs");

/// A fenced block: its info string, the line of its fence, and its text.
struct Block {
    info: &'static str,
    line: usize,
    text: String,
}

fn blocks(markdown: &'static str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((at, line)) = lines.next() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            let body: Vec<&str> = lines
                .by_ref()
                .map(|(_, l)| l)
                .take_while(|l| l.trim_start() != "```")
                .collect();
            blocks.push(Block {
                info: info.trim(),
                line: at + 1,
                text: body.join("\n") + "\n",
            });
        }
    }
    blocks
}

/// The headings of `markdown` with their byte offsets: lines starting with `#`, outside
/// fenced blocks (where `#` starts a TOML or shell comment).
fn headings(markdown: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let (mut offset, mut fenced) = (0, false);
    for line in markdown.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            let level = line.len() - line.trim_start_matches('#').len();
            out.push((offset, level, line[level..].trim()));
        }
        offset += line.len();
    }
    out
}

/// The section of `markdown` under `heading` (`## Title`), up to the next heading of
/// the same or a higher level.
fn section(markdown: &'static str, heading: &str) -> &'static str {
    let all = headings(markdown);
    let level = heading.len() - heading.trim_start_matches('#').len();
    let title = heading[level..].trim();
    let at = all
        .iter()
        .position(|&(_, l, t)| l == level && t == title)
        .unwrap_or_else(|| panic!("no heading {heading:?}"));
    let start = all[at].0;
    let end = all[at + 1..]
        .iter()
        .find(|&&(_, l, _)| l <= level)
        .map_or(markdown.len(), |&(offset, _, _)| offset);
    &markdown[start..end]
}

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> Vec<String> {
    headings(markdown)
        .into_iter()
        .map(|(_, _, title)| anchor(title))
        .collect()
}

#[test]
fn every_rust_block_of_the_guide_is_a_doc_test() {
    assert!(
        LIB_RS.contains("#[doc = include_str!(\"../../docs/SDK.md\")]"),
        "src/lib.rs no longer includes the guide: its snippets are not compiled"
    );
    let blocks = blocks(GUIDE);
    let mut rust = 0;
    for block in &blocks {
        // An untagged block is Rust to rustdoc; `ignore`, `no_run`, `text` and the like
        // would let a snippet stop compiling unnoticed.
        assert!(
            ["rust", "toml", "sh", "json"].contains(&block.info),
            "docs/SDK.md:{}: a block tagged {:?}: tag Rust `rust` (compiled as it is), \
             anything else `toml`, `sh` or `json`",
            block.line,
            block.info
        );
        if block.info == "rust" {
            rust += 1;
        }
    }
    assert!(
        rust >= 10,
        "docs/SDK.md has {rust} rust blocks: every topic shows code"
    );
}

#[test]
fn the_manifest_the_guide_shows_is_the_one_its_snippets_compile_against() {
    let shown = blocks(section(GUIDE, "## A whole plugin"))
        .into_iter()
        .find(|b| b.info == "toml" && b.text.starts_with("# Cargo.toml (excerpt)\n"))
        .expect("\"A whole plugin\" shows the plugin's `[package.metadata.ohd]`");
    let shown: toml::Table = shown.text.parse().expect("the guide's manifest is TOML");
    let ours: toml::Table = CARGO_TOML.parse().expect("tests/Cargo.toml is TOML");
    let ohd = |t: &toml::Table| t["package"]["metadata"]["ohd"].clone();
    assert_eq!(
        ohd(&shown),
        ohd(&ours),
        "the `[package.metadata.ohd]` of docs/SDK.md and of tests/Cargo.toml differ: the \
         guide's `#[plugin]` snippet compiles against the latter"
    );
    let plugin = blocks(section(GUIDE, "## A whole plugin"))
        .into_iter()
        .find(|b| b.info == "rust")
        .expect("\"A whole plugin\" shows src/lib.rs");
    assert!(
        plugin.text.starts_with("// src/lib.rs\n") && plugin.text.contains("#[plugin]\n"),
        "{}",
        plugin.text
    );
}

#[test]
fn the_guides_links_lead_to_headings_and_the_readme_links_the_guide() {
    let own = anchors(GUIDE);
    let abi = anchors(ABI);
    let mut checked = 0;
    for target in GUIDE
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
    {
        let (file, fragment) = match target.split_once('#') {
            Some((file, fragment)) => (file, fragment),
            None => continue,
        };
        let known = match file {
            "" => &own,
            "ABI.md" => &abi,
            other => {
                panic!("docs/SDK.md links to a heading of `{other}`, which this test does not read")
            }
        };
        assert!(
            known.iter().any(|a| a == fragment),
            "docs/SDK.md links to `{target}`, which is no heading there"
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} links to headings checked");
    assert!(
        README.contains("(docs/SDK.md)"),
        "README.md does not link the guide"
    );
}
