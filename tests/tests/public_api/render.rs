//! A crate's public API as lines of text, read from the JSON rustdoc writes
//! (`--output-format json`, format [`FORMAT_VERSION`]).
//!
//! One line per fact a user's code can depend on: a module, an item with its
//! signature, a field, a variant, a trait's items, an impl (auto traits included), a
//! re-export, a public dependency's compatible range. Whether a change is compatible is
//! then a matter of lines: a line that disappears (or changes, which is the same) is a
//! change some user's code can notice; a line that appears is an addition. For that to
//! hold, the additions that break code are written into an existing line: the variants
//! of an exhaustive enum are listed on the enum's line, the fields of a struct that can
//! be built with a literal on the struct's line, a trait's required items on the
//! trait's line. Parameter names, docs and private items are left out: changing them
//! breaks no one.
//!
//! Types are written with the path users name them by (the shortest public path, in
//! this crate or the crate it came from), so that moving an item between private
//! modules changes nothing.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::Value;

mod items;
mod types;

use items::Render;

/// The rustdoc JSON format these functions read: the one Rust 1.95 writes.
pub(crate) const FORMAT_VERSION: u64 = 57;

/// One crate's rustdoc JSON.
pub(crate) struct Doc {
    json: Value,
}

impl Doc {
    pub(crate) fn new(json: Value) -> Result<Doc, String> {
        match json["format_version"].as_u64() {
            Some(FORMAT_VERSION) => Ok(Doc { json }),
            other => Err(format!(
                "rustdoc wrote JSON format {}, and this check reads format {FORMAT_VERSION} \
                 (Rust 1.95): run it with Rust 1.95, or teach tests/tests/public_api/render.rs \
                 the new format (its changes are listed in rustdoc-types' changelog)",
                other.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
            )),
        }
    }

    pub(crate) fn crate_version(&self) -> Option<&str> {
        self.json["crate_version"].as_str()
    }

    fn name(&self) -> &str {
        self.item(&self.json["root"])
            .and_then(|root| root["name"].as_str())
            .unwrap_or_default()
    }

    fn item(&self, id: &Value) -> Option<&Value> {
        self.json["index"].get(key(id)?)
    }

    /// Where rustdoc says an item is defined (for an item of another crate, the only
    /// path it knows), and that crate's name.
    fn defined_at(&self, id: &Value) -> Option<(String, String)> {
        let entry = self.json["paths"].get(key(id)?)?;
        let path = entry["path"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("::");
        let krate = match entry["crate_id"].as_u64()? {
            0 => self.name().to_owned(),
            n => self.json["external_crates"][n.to_string()]["name"]
                .as_str()?
                .to_owned(),
        };
        Some((path, krate))
    }

    /// The id of the item of this crate defined at `path`, if any.
    fn id_at(&self, path: &str) -> Option<Value> {
        let paths = self.json["paths"].as_object()?;
        paths.iter().find_map(|(id, entry)| {
            let here = entry["crate_id"].as_u64() == Some(0)
                && entry["path"]
                    .as_array()
                    .is_some_and(|p| p.iter().filter_map(Value::as_str).eq(path.split("::")));
            (here && self.json["index"].get(id).is_some()).then(|| Value::from(id.as_str()))
        })
    }
}

/// An index key: ids are numbers in the format, keys of `index` and `paths` strings.
fn key(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn kind(item: &Value) -> &str {
    item["inner"]
        .as_object()
        .and_then(|inner| inner.keys().next())
        .map_or("", String::as_str)
}

fn inner<'v>(item: &'v Value, kind: &str) -> &'v Value {
    &item["inner"][kind]
}

fn has_attr(item: &Value, attr: &str) -> bool {
    item["attrs"]
        .as_array()
        .is_some_and(|attrs| attrs.iter().any(|a| a.as_str() == Some(attr)))
}

fn is_public(item: &Value) -> bool {
    item["visibility"].as_str() == Some("public")
}

/// The private module of the crate of `doc` that `item` re-exports with a glob, if it is
/// such a `pub use`.
fn private_glob<'v>(doc: &'v Doc, item: &Value) -> Option<&'v Value> {
    let used = inner(item, "use");
    if kind(item) != "use" || used["is_glob"].as_bool() != Some(true) {
        return None;
    }
    doc.item(&used["id"])
        .filter(|module| kind(module) == "module" && !is_public(module))
}

/// A line of the API and the item it belongs to, which orders the lines of a file.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Line {
    pub(crate) owner: String,
    pub(crate) rank: u8,
    pub(crate) text: String,
}

/// The public API of the crate of `doc` (crates in `others` are read for the items it
/// re-exports from them); `versions` gives the compatible range of a dependency by
/// crate name.
pub(crate) fn public_api(
    doc: &Doc,
    others: &[&Doc],
    versions: &dyn Fn(&str) -> Option<String>,
) -> Vec<Line> {
    let mut api = Api {
        home: doc,
        others,
        names: BTreeMap::new(),
        crates: BTreeSet::new(),
        lines: Vec::new(),
        impls_seen: BTreeSet::new(),
    };
    api.run();
    for krate in std::mem::take(&mut api.crates) {
        let range = versions(&krate).unwrap_or_else(|| "(not in Cargo.lock)".to_owned());
        api.lines.push(Line {
            owner: String::new(),
            rank: 0,
            text: format!("public dependency {krate} = {range}"),
        });
    }
    api.lines.sort();
    api.lines.dedup();
    api.lines
}

/// An item found while walking the public modules: the crate it is documented in, and
/// every public path that names it.
struct Found<'d> {
    doc: &'d Doc,
    id: Value,
    paths: Vec<String>,
}

struct Api<'d> {
    home: &'d Doc,
    others: &'d [&'d Doc],
    /// The public path of each item reached, by (crate, id): what signatures call it.
    names: BTreeMap<(String, String), String>,
    /// The crates, other than the standard library's and this one, whose items appear.
    crates: BTreeSet<String>,
    lines: Vec<Line>,
    impls_seen: BTreeSet<(String, String)>,
}

impl<'d> Api<'d> {
    fn run(&mut self) {
        let mut found = self.walk();
        // An item is named where it is defined, when that is public; otherwise by its
        // shortest path.
        for f in &mut found {
            if let Some((defined, _)) = f.doc.defined_at(&f.id)
                && let Some(at) = f.paths.iter().position(|p| *p == defined)
            {
                let path = f.paths.remove(at);
                f.paths.insert(0, path);
            }
        }
        // Names first: a signature names a type by its public path wherever it appears.
        for f in &found {
            if let (Some(k), Some(first)) = (key(&f.id), f.paths.first()) {
                self.names
                    .insert((f.doc.name().to_owned(), k), first.clone());
            }
        }
        for f in &found {
            let Some((primary, aliases)) = f.paths.split_first() else {
                continue;
            };
            let Some(item) = f.doc.item(&f.id) else {
                continue;
            };
            self.item(f.doc, item, primary);
            for alias in aliases {
                self.push(alias, 0, format!("pub use {alias} = {primary}"));
            }
        }
    }

    /// Every item reachable from the crate root through public modules and re-exports,
    /// breadth first, so that each item's first path is its shortest.
    fn walk(&mut self) -> Vec<Found<'d>> {
        let root_id = self.home.json["root"].clone();
        let root_name = self.home.name().to_owned();
        let mut found: Vec<Found<'d>> = Vec::new();
        let mut at: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut queue = VecDeque::from([(self.home, root_id, root_name)]);
        let mut note = |found: &mut Vec<Found<'d>>, doc: &'d Doc, id: &Value, path: String| {
            let k = (doc.name().to_owned(), key(id).unwrap_or_default());
            match at.get(&k) {
                Some(&i) => {
                    found[i].paths.push(path);
                    false
                }
                None => {
                    at.insert(k, found.len());
                    found.push(Found {
                        doc,
                        id: id.clone(),
                        paths: vec![path],
                    });
                    true
                }
            }
        };
        let root = queue[0].clone();
        note(&mut found, root.0, &root.1, root.2);
        while let Some((doc, id, path)) = queue.pop_front() {
            let Some(module) = doc.item(&id) else {
                continue;
            };
            let mut children = Vec::new();
            let mut items: Vec<Value> = inner(module, "module")["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            while let Some(child) = items.pop() {
                let Some(item) = doc.item(&child) else {
                    continue;
                };
                if !is_public(item) {
                    continue;
                }
                if let Some(globbed) = private_glob(doc, item) {
                    // rustdoc's JSON does not inline a glob of a private module: its
                    // public items are public here, one by one.
                    items.extend(
                        inner(globbed, "module")["items"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    );
                } else if kind(item) == "use" {
                    children.extend(self.reexport(doc, item, &path));
                } else if let Some(name) = item["name"].as_str() {
                    children.push((doc, child.clone(), format!("{path}::{name}")));
                }
            }
            // Same depth: alphabetical, so that the first path of an item reached twice
            // at one depth does not depend on the order of the source.
            children.sort_by(|a, b| a.2.cmp(&b.2));
            for (doc, id, path) in children {
                let is_module = doc.item(&id).is_some_and(|i| kind(i) == "module");
                if note(&mut found, doc, &id, path.clone()) && is_module {
                    queue.push_back((doc, id, path));
                }
            }
        }
        found
    }

    /// What a `pub use` in the module at `path` makes public: an item of this crate or
    /// of a crate in `others`, to be walked; of any other crate, a line of its own.
    fn reexport(
        &mut self,
        doc: &'d Doc,
        item: &Value,
        path: &str,
    ) -> Option<(&'d Doc, Value, String)> {
        let used = inner(item, "use");
        let source = used["source"].as_str().unwrap_or_default();
        let name = used["name"].as_str().unwrap_or_default();
        if used["is_glob"].as_bool() == Some(true) {
            self.push(path, 0, format!("pub use {path}::* = {source}::*"));
            return None;
        }
        let here = format!("{path}::{name}");
        let target = &used["id"];
        if let Some(item) = doc.item(target) {
            // `pub use crate::error` names a private module `error` and the macro
            // `error!`: only what is public itself is re-exported.
            return is_public(item).then(|| (doc, target.clone(), here));
        }
        let Some((defined, krate)) = doc.defined_at(target) else {
            self.push(&here, 0, format!("pub use {here} = {source}"));
            return None;
        };
        if let Some(other) = self.others.iter().find(|o| o.name() == krate)
            && let Some(id) = other.id_at(&defined)
        {
            return Some((other, id, here));
        }
        self.note_crate(&krate);
        let kind = doc.json["paths"][key(target).unwrap_or_default()]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.push(&here, 0, format!("pub use {here} = {defined} ({kind})"));
        None
    }

    fn note_crate(&mut self, krate: &str) {
        if !matches!(krate, "core" | "alloc" | "std" | "proc_macro") && krate != self.home.name() {
            self.crates.insert(krate.to_owned());
        }
    }

    fn push(&mut self, owner: &str, rank: u8, text: String) {
        self.lines.push(Line {
            owner: owner.to_owned(),
            rank,
            text,
        });
    }

    fn item(&mut self, doc: &'d Doc, item: &Value, path: &str) {
        let r = Render { api: self, doc };
        let mut lines = Vec::new();
        r.item(item, path, &mut lines);
        for (rank, text) in lines {
            self.push(path, rank, text);
        }
        let of_trait = kind(item) == "trait";
        for id in impls_of(item) {
            let (Some(k), Some(imp)) = (key(id), doc.item(id)) else {
                continue;
            };
            // A blanket impl listed on a type is the standard library's (`impl<T> From<T>
            // for T`), a consequence of other lines; one listed on our trait is ours.
            if !of_trait && !inner(imp, "impl")["blanket_impl"].is_null() {
                continue;
            }
            // Auto traits that stable Rust cannot name: no user's code depends on them.
            let auto = doc
                .defined_at(&inner(imp, "impl")["trait"]["id"])
                .map(|(p, _)| p);
            if matches!(
                auto.as_deref(),
                Some("core::marker::Freeze" | "core::marker::UnsafeUnpin")
            ) {
                continue;
            }
            if !self.impls_seen.insert((doc.name().to_owned(), k)) {
                continue;
            }
            let mut lines = Vec::new();
            Render { api: self, doc }.impl_block(imp, path, &mut lines);
            for (rank, text) in lines {
                self.push(path, rank, text);
            }
        }
    }
}

/// The impls listed on a type (of every trait, and inherent) or a trait (its
/// implementations).
fn impls_of(item: &Value) -> Vec<&Value> {
    let list = match kind(item) {
        "struct" | "enum" | "union" => &inner(item, kind(item))["impls"],
        "trait" => &inner(item, "trait")["implementations"],
        _ => return Vec::new(),
    };
    list.as_array()
        .map(|l| l.iter().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// rustdoc's JSON keeps `pub use private::*` as a glob, whose items the SDK's root
    /// re-exports from each host function's file: the walk lists each item it makes
    /// public, and a glob that makes nothing public adds no line.
    #[test]
    fn a_glob_of_a_private_module_makes_its_public_items_public_one_by_one() {
        let glob = |module: u32, source: &str| {
            json!({"name": null, "visibility": "public", "inner": {"use": {
                "source": source, "name": source, "id": module, "is_glob": true}}})
        };
        let doc = Doc::new(json!({
            "format_version": FORMAT_VERSION,
            "root": 0,
            "index": {
                "0": {"name": "sdk", "visibility": "public", "inner": {"module": {"items": [1, 4]}}},
                "1": glob(2, "host_functions::ohd_get_ticket"),
                "2": {"name": "ohd_get_ticket", "visibility": "crate", "inner": {"module": {"items": [3]}}},
                "3": {"name": "get_ticket", "visibility": "public", "inner": {"function": {}}},
                "4": glob(5, "host_functions::ohd_log"),
                "5": {"name": "ohd_log", "visibility": "crate", "inner": {"module": {"items": []}}},
            },
            "paths": {},
            "external_crates": {},
        }))
        .unwrap();
        let mut api = Api {
            home: &doc,
            others: &[],
            names: BTreeMap::new(),
            crates: BTreeSet::new(),
            lines: Vec::new(),
            impls_seen: BTreeSet::new(),
        };
        let paths: Vec<String> = api.walk().into_iter().flat_map(|f| f.paths).collect();
        assert_eq!(paths, ["sdk", "sdk::get_ticket"]);
        assert!(api.lines.is_empty(), "{:?}", api.lines);
    }
}
