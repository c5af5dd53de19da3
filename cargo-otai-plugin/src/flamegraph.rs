//! `run --flamegraph FILE.svg` and `test --flamegraph DIR`: a delivery's profile
//! written as an SVG flame graph (drawn by `inferno` from the host's folded stacks) and,
//! beside it, the Firefox Profiler JSON wasmtime's guest profiler wrote, as it is; and
//! the drawing the local desk is given for `dev --flamegraph` (the desk library stays
//! without an SVG renderer).

use std::path::Path;

use anyhow::{Context, Result};
use otai_plugin_host::Profile;

use crate::term::Shell;

/// Writes `profile` to `svg` and to the same path with the extension `.json`, creating
/// the folder, and says where in two status lines. `title` heads the graph.
///
/// # Errors
/// A folder or file cannot be written, or the profile has no sample to draw.
pub(crate) fn write(shell: &Shell, profile: &Profile, svg: &Path, title: &str) -> Result<()> {
    let json = svg.with_extension("json");
    if json == svg {
        anyhow::bail!(
            "`--flamegraph {}`: the flame graph would overwrite its own profile, which is \
             written beside it as `.json`; name it `.svg`",
            svg.display()
        );
    }
    if let Some(dir) = svg.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create `{}`", dir.display()))?;
    }
    let drawn = draw(profile, title)?;
    std::fs::write(svg, drawn).with_context(|| format!("failed to write `{}`", svg.display()))?;
    std::fs::write(&json, profile.firefox_json())
        .with_context(|| format!("failed to write `{}`", json.display()))?;
    if !names_functions(profile) {
        shell.warn(format_args!(
            "`{}` shows no function names: the module has no `name` section (a release \
             build strips it: `strip = true` in its profile, and `wasm-opt` drops it without \
             `-g`); profile the debug build, or a profile with `strip = \"debuginfo\"` and \
             `wasm-opt = false`",
            svg.display()
        ));
    }
    shell.status("Flamegraph", svg.display());
    shell.status(
        "Profile",
        format_args!(
            "{} (open it at https://profiler.firefox.com/)",
            json.display()
        ),
    );
    Ok(())
}

/// Whether any frame of the plugin has a name from the module's `name` section, rather
/// than wasmtime's `<wasm function N>` for a function without one.
fn names_functions(profile: &Profile) -> bool {
    profile
        .folded()
        .lines()
        .filter_map(|line| line.rsplit_once(' ').map(|(stack, _)| stack))
        .flat_map(|stack| stack.split(';'))
        .any(|frame| !frame.starts_with("<wasm function ") && !frame.starts_with("ohd_"))
}

/// The SVG of `profile`'s folded stacks (also the local desk's, for `dev --flamegraph`).
pub(crate) fn draw(profile: &Profile, title: &str) -> Result<Vec<u8>> {
    let lines: Vec<&str> = profile.folded().lines().collect();
    if lines.is_empty() {
        // inferno refuses an empty input with an error that names none of this.
        anyhow::bail!(
            "the profile has no samples to draw: the plugin's code did not run (it trapped \
             at instantiation, or the module has no function the profiler can name)"
        );
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = title.to_owned();
    // Widths are nanoseconds between samples (the host's `Profile::folded`).
    options.count_name = "ns".to_owned();
    options.subtitle = Some(subtitle(profile));
    // Colours from the names, not random: the same plugin draws the same picture.
    options.hash = true;
    options.deterministic = true;
    let mut svg = Vec::new();
    inferno::flamegraph::from_lines(&mut options, lines, &mut svg)
        .context("failed to draw the flame graph")?;
    Ok(svg)
}

/// What the widths are, and the host calls' time: `…; ohd_http_request 1× 0.21 ms, …`.
fn subtitle(profile: &Profile) -> String {
    let calls: Vec<String> = profile
        .host_calls()
        .iter()
        .map(|c| {
            format!(
                "{} {}× {:.2} ms",
                c.function,
                c.calls,
                c.time.as_secs_f64() * 1000.0
            )
        })
        .collect();
    let calls = if calls.is_empty() {
        "none".to_owned()
    } else {
        calls.join(", ")
    };
    format!(
        "widths: wall time while recorded, which sampling slows (compare shares, not times); \
         host calls: {calls}"
    )
}

/// A file name for `name` (a fixture's): its characters other than letters, digits,
/// `-`, `_` and `.` become `_`.
pub(crate) fn file_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}.svg", safe.trim_start_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn fixture_names_make_file_names_inside_the_folder() {
        assert_eq!(file_name("created"), "created.svg");
        assert_eq!(file_name("../../etc/x"), "_.._etc_x.svg");
        assert_eq!(file_name("a b"), "a_b.svg");
    }
}
