//! What the payload parity tests share: every way of breaking one member of a payload.

use otai_plugin_sdk::serde_json::{Value, json};

/// One member of a payload removed or replaced.
pub(crate) struct Change {
    /// The member's path, e.g. `["ticket", "submitter", "id"]`.
    pub(crate) path: Vec<String>,
    /// Its value before the change.
    pub(crate) original: Value,
    /// The payload after the change.
    pub(crate) payload: Value,
}

impl Change {
    /// An object replaced by an array. serde's derive also reads a struct from an array of
    /// its fields in order (`"actor": ["id", "name", "role"]`), so the contract's types
    /// accept an array where an object is documented; no host writes one, and the SDK
    /// reads objects only. The one known difference between the two.
    pub(crate) fn object_to_array(&self) -> bool {
        self.original.is_object()
            && self
                .payload
                .pointer(&self.pointer())
                .is_some_and(Value::is_array)
    }

    /// The member's JSON pointer, e.g. `/ticket/submitter/id`.
    pub(crate) fn pointer(&self) -> String {
        format!("/{}", self.path.join("/"))
    }
}

/// Every member of `base`, at every depth, removed, and replaced by a value of each
/// JSON type.
pub(crate) fn changes(base: &Value) -> Vec<Change> {
    fn paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Value::Object(map) = value {
            for (key, child) in map {
                prefix.push(key.clone());
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
    }
    fn parent<'v>(value: &'v mut Value, path: &[String]) -> &'v mut serde_json::Map<String, Value> {
        let (_, up) = path.split_last().expect("a member's path is not empty");
        let mut v = value;
        for key in up {
            v = &mut v[key.as_str()];
        }
        v.as_object_mut().expect("the member's parent is an object")
    }
    let mut all = Vec::new();
    paths(base, &mut Vec::new(), &mut all);
    let mut out = Vec::new();
    for path in all {
        let last = path.last().expect("a member's path is not empty").clone();
        let original = parent(&mut base.clone(), &path)[&last].clone();
        let mut removed = base.clone();
        parent(&mut removed, &path).remove(&last);
        out.push(Change {
            path: path.clone(),
            original: original.clone(),
            payload: removed,
        });
        for replacement in [Value::Null, json!(7), json!("text"), json!({}), json!([])] {
            let mut changed = base.clone();
            parent(&mut changed, &path).insert(last.clone(), replacement);
            out.push(Change {
                path: path.clone(),
                original: original.clone(),
                payload: changed,
            });
        }
    }
    out
}
