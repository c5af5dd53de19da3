//! Flame graphs of deliveries, for a desk that records profiles
//! ([`DeskOptions::flamegraphs`](crate::DeskOptions::flamegraphs), `cargo otai-plugin dev
//! --flamegraph`): each profiled delivery's SVG and Firefox Profiler JSON, written as
//! `flamegraphs/PLUGIN/SEQ.svg` and `SEQ.json` in the data directory once the delivery is
//! committed (its number is the log's), the last few of each plugin kept.
//!
//! The desk does not draw: the graph is drawn by the function it is given (the CLI's,
//! with `inferno`), so that the library does not carry an SVG renderer that only a
//! development tool uses.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use otai_plugin_host::Profile;

use crate::error::DeskError;

/// The directory, in the data directory, that holds the flame graphs: deleting it
/// loses only them.
pub const FLAMEGRAPH_DIR: &str = "flamegraphs";

/// Draws a profile as an SVG flame graph headed by a title, or says why it cannot.
pub type DrawFlameGraph = dyn Fn(&Profile, &str) -> Result<Vec<u8>, String> + Send + Sync;

/// How a desk records the profiles of its deliveries: the host profiles every delivery
/// (hundreds of times slower: for development only), and each is drawn with `draw` and
/// written in [`FLAMEGRAPH_DIR`], the last [`FlameGraphs::keep`] of each plugin kept.
#[derive(Clone)]
pub struct FlameGraphs {
    pub(crate) draw: Arc<DrawFlameGraph>,
    pub(crate) keep: u32,
}

impl fmt::Debug for FlameGraphs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlameGraphs")
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

impl FlameGraphs {
    /// How many graphs of each plugin are kept by default.
    pub const DEFAULT_KEEP: u32 = 20;

    /// Profiles drawn with `draw`, the last [`FlameGraphs::DEFAULT_KEEP`] of each plugin
    /// kept.
    pub fn new(
        draw: impl Fn(&Profile, &str) -> Result<Vec<u8>, String> + Send + Sync + 'static,
    ) -> FlameGraphs {
        FlameGraphs {
            draw: Arc::new(draw),
            keep: Self::DEFAULT_KEEP,
        }
    }

    /// Keeps the last `n` graphs of each plugin (at least one), deleting the older ones
    /// after each delivery that writes one.
    pub fn keep(mut self, n: u32) -> FlameGraphs {
        self.keep = n.max(1);
        self
    }

    /// The graph and the profile of one delivery to `plugin_id`, ready to write; `None`
    /// when it has no profile or nothing to draw (the plugin's code did not run).
    pub(crate) fn draw(&self, plugin_id: &str, event: &str, profile: &Profile) -> Option<Drawn> {
        let title = format!("{plugin_id}: {event}");
        let svg = (self.draw)(profile, &title).ok()?;
        Some(Drawn {
            svg,
            json: profile.firefox_json().to_owned(),
        })
    }
}

/// A delivery's graph, drawn before its number is known.
pub(crate) struct Drawn {
    svg: Vec<u8>,
    json: String,
}

/// Where the graphs of a desk that writes them go, and how many of each plugin stay.
pub(crate) struct GraphFiles {
    pub(crate) root: PathBuf,
    pub(crate) keep: u32,
}

/// The folder of `plugin_id`'s graphs under `root`, `None` for an id that is not one
/// plain name (the desk's ids are checked at install; this holds even if one were not).
fn plugin_dir(root: &Path, plugin_id: &str) -> Option<PathBuf> {
    let plain = !plugin_id.is_empty()
        && plugin_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && plugin_id.as_bytes()[0].is_ascii_alphanumeric();
    let mut parts = Path::new(plugin_id).components();
    let one = matches!(parts.next(), Some(Component::Normal(_))) && parts.next().is_none();
    (plain && one).then(|| root.join(plugin_id))
}

/// The SVG of delivery `seq` of `plugin_id` under `root`; `None` for an id that cannot
/// name a folder there, or a number no delivery has.
pub(crate) fn svg_path(root: &Path, plugin_id: &str, seq: i64) -> Option<PathBuf> {
    (seq > 0).then_some(())?;
    Some(plugin_dir(root, plugin_id)?.join(format!("{seq}.svg")))
}

/// The number of one of our files, `SEQ.svg` or `SEQ.json`: no other name is ours to
/// delete.
fn seq_of(name: &str) -> Option<i64> {
    let stem = name
        .strip_suffix(".svg")
        .or_else(|| name.strip_suffix(".json"))?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok().filter(|&n| n > 0)
}

impl GraphFiles {
    /// Writes delivery `seq`'s graph and profile, then deletes `plugin_id`'s graphs past
    /// the last [`GraphFiles::keep`].
    pub(crate) fn write(&self, plugin_id: &str, seq: i64, drawn: &Drawn) -> Result<(), DeskError> {
        let io = |what, path: &Path| {
            let path = path.to_owned();
            move |source| DeskError::Io { what, path, source }
        };
        // An id that names no folder of ours gets no graph, rather than one elsewhere.
        let (Some(dir), Some(svg)) = (
            plugin_dir(&self.root, plugin_id),
            svg_path(&self.root, plugin_id, seq),
        ) else {
            return Ok(());
        };
        std::fs::create_dir_all(&dir)
            .map_err(io("failed to create the flame graphs' folder", &dir))?;
        std::fs::write(&svg, &drawn.svg).map_err(io(
            "failed to write a delivery's flame graph (the delivery is recorded)",
            &svg,
        ))?;
        let json = svg.with_extension("json");
        std::fs::write(&json, &drawn.json).map_err(io(
            "failed to write a delivery's profile (the delivery is recorded)",
            &json,
        ))?;
        self.trim(&dir)
    }

    /// Deletes the files of the graphs in `dir` past the newest `keep`.
    fn trim(&self, dir: &Path) -> Result<(), DeskError> {
        let entries = std::fs::read_dir(dir).map_err(|source| DeskError::Io {
            what: "failed to read the flame graphs' folder",
            path: dir.to_owned(),
            source,
        })?;
        let mut files: Vec<(i64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| Some((seq_of(e.file_name().to_str()?)?, e.path())))
            .collect();
        let mut seqs: Vec<i64> = files.iter().map(|(seq, _)| *seq).collect();
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        seqs.dedup();
        let Some(&oldest_kept) = seqs.get(self.keep as usize - 1) else {
            return Ok(());
        };
        files.retain(|(seq, _)| *seq < oldest_kept);
        for (_, path) in files {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(DeskError::Io {
                        what: "failed to delete an old flame graph",
                        path,
                        source,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_id_and_a_positive_number_make_a_path_inside_the_folder() {
        let root = Path::new("/data/flamegraphs");
        assert_eq!(
            svg_path(root, "com.example.hello", 7),
            Some(root.join("com.example.hello").join("7.svg"))
        );
        for hostile in [
            "..",
            ".",
            "",
            "../x",
            "a/../../b",
            "/etc",
            "a/b",
            "a\\b",
            ".hidden",
            "A.B",
            "a\0b",
            "com.example.x/..",
        ] {
            assert_eq!(svg_path(root, hostile, 7), None, "{hostile:?}");
        }
        assert_eq!(svg_path(root, "com.example.hello", 0), None);
        assert_eq!(svg_path(root, "com.example.hello", -3), None);
    }

    #[test]
    fn only_our_file_names_are_numbered() {
        assert_eq!(seq_of("12.svg"), Some(12));
        assert_eq!(seq_of("12.json"), Some(12));
        for other in [
            "notes.svg",
            "12.txt",
            ".svg",
            "-1.svg",
            "+1.svg",
            "0.svg",
            "1 .svg",
        ] {
            assert_eq!(seq_of(other), None, "{other:?}");
        }
    }

    #[test]
    fn the_bound_deletes_the_oldest_graphs_and_leaves_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = GraphFiles {
            root: dir.path().to_owned(),
            keep: 2,
        };
        let drawn = Drawn {
            svg: b"<svg/>".to_vec(),
            json: "{}".to_owned(),
        };
        let plugin = dir.path().join("com.example.a");
        std::fs::create_dir_all(&plugin).unwrap();
        std::fs::write(plugin.join("notes.txt"), "mine").unwrap();
        for seq in [3, 10, 4] {
            files.write("com.example.a", seq, &drawn).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(&plugin)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["10.json", "10.svg", "4.json", "4.svg", "notes.txt"]);
    }

    #[test]
    fn a_hostile_id_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("flamegraphs");
        let files = GraphFiles { root, keep: 2 };
        let drawn = Drawn {
            svg: b"<svg/>".to_vec(),
            json: "{}".to_owned(),
        };
        files.write("../escaped", 1, &drawn).unwrap();
        assert!(!dir.path().join("escaped").exists());
        assert!(!dir.path().join("flamegraphs").exists());
    }
}
