//! Types, paths and signatures as text, named as users name them.

use serde_json::Value;

use super::items::Render;
use super::key;

impl Render<'_, '_> {
    pub(super) fn function(&mut self, path: &str, f: &Value) -> String {
        let header = &f["header"];
        let mut quals = String::new();
        if header["is_const"].as_bool() == Some(true) {
            quals.push_str("const ");
        }
        if header["is_async"].as_bool() == Some(true) {
            quals.push_str("async ");
        }
        if header["is_unsafe"].as_bool() == Some(true) {
            quals.push_str("unsafe ");
        }
        match &header["abi"] {
            Value::String(abi) if abi == "Rust" => {}
            Value::Null => {}
            abi => quals.push_str(&format!("extern {} ", abi_name(abi))),
        }
        let (g, w) = self.generics(&f["generics"]);
        format!("{quals}fn {path}{g}{}{w}", self.signature(&f["sig"]))
    }

    /// `(inputs) -> output`, without parameter names: renaming one breaks no caller.
    pub(super) fn signature(&mut self, sig: &Value) -> String {
        let mut inputs = Vec::new();
        for input in sig["inputs"].as_array().into_iter().flatten() {
            let (name, ty) = (input[0].as_str().unwrap_or_default(), &input[1]);
            inputs.push(if name == "self" {
                self.receiver(ty)
            } else {
                self.ty(ty)
            });
        }
        if sig["is_c_variadic"].as_bool() == Some(true) {
            inputs.push("...".to_owned());
        }
        let output = if sig["output"].is_null() {
            String::new()
        } else {
            format!(" -> {}", self.ty(&sig["output"]))
        };
        format!("({}){output}", inputs.join(", "))
    }

    fn receiver(&mut self, ty: &Value) -> String {
        let is_self = |t: &Value| t["generic"].as_str() == Some("Self");
        if is_self(ty) {
            return "self".to_owned();
        }
        let r = &ty["borrowed_ref"];
        if r.is_object() && is_self(&r["type"]) {
            let lifetime = r["lifetime"]
                .as_str()
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let m = if r["is_mutable"].as_bool() == Some(true) {
                "mut "
            } else {
                ""
            };
            return format!("&{lifetime}{m}self");
        }
        format!("self: {}", self.ty(ty))
    }

    /// `<params>` and ` where predicates`, each empty when there are none. Parameters
    /// that stand for an `impl Trait` argument are written where the argument is.
    pub(super) fn generics(&mut self, g: &Value) -> (String, String) {
        let mut params = Vec::new();
        for p in g["params"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or_default();
            let k = &p["kind"];
            if let Some(lifetime) = k.get("lifetime") {
                let outlives: Vec<&str> = lifetime["outlives"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                params.push(if outlives.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name}: {}", outlives.join(" + "))
                });
            } else if let Some(t) = k.get("type") {
                if t["is_synthetic"].as_bool() == Some(true) {
                    continue;
                }
                let bounds = self.bounds(&t["bounds"]);
                let mut s = name.to_owned();
                if !bounds.is_empty() {
                    s = format!("{s}: {bounds}");
                }
                if !t["default"].is_null() {
                    s = format!("{s} = {}", self.ty(&t["default"]));
                }
                params.push(s);
            } else if let Some(c) = k.get("const") {
                let mut s = format!("const {name}: {}", self.ty(&c["type"]));
                if let Some(d) = c["default"].as_str() {
                    s = format!("{s} = {d}");
                }
                params.push(s);
            }
        }
        let mut preds = Vec::new();
        for p in g["where_predicates"].as_array().into_iter().flatten() {
            if let Some(b) = p.get("bound_predicate") {
                let hr = self.binder(&b["generic_params"]);
                preds.push(format!(
                    "{hr}{}: {}",
                    self.ty(&b["type"]),
                    self.bounds(&b["bounds"])
                ));
            } else if let Some(l) = p.get("lifetime_predicate") {
                let outlives: Vec<&str> = l["outlives"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                preds.push(format!(
                    "{}: {}",
                    l["lifetime"].as_str().unwrap_or_default(),
                    outlives.join(" + ")
                ));
            } else if let Some(e) = p.get("eq_predicate") {
                preds.push(format!(
                    "{} == {}",
                    self.ty(&e["lhs"]),
                    self.term(&e["rhs"])
                ));
            }
        }
        let params = if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        };
        let preds = if preds.is_empty() {
            String::new()
        } else {
            format!(" where {}", preds.join(", "))
        };
        (params, preds)
    }

    /// `for<'a> ` of a higher-ranked bound, or nothing.
    fn binder(&mut self, params: &Value) -> String {
        let names: Vec<&str> = params
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str())
            .collect();
        if names.is_empty() {
            String::new()
        } else {
            format!("for<{}> ", names.join(", "))
        }
    }

    pub(super) fn bounds(&mut self, bounds: &Value) -> String {
        let mut out = Vec::new();
        for b in bounds.as_array().into_iter().flatten() {
            if let Some(t) = b.get("trait_bound") {
                let modifier = match t["modifier"].as_str() {
                    Some("maybe") => "?",
                    Some("maybe_const") => "~const ",
                    _ => "",
                };
                let hr = self.binder(&t["generic_params"]);
                out.push(format!("{hr}{modifier}{}", self.path(&t["trait"])));
            } else if let Some(l) = b.get("outlives").and_then(Value::as_str) {
                out.push(l.to_owned());
            } else if let Some(captured) = b.get("use").and_then(Value::as_array) {
                let names: Vec<String> = captured
                    .iter()
                    .map(|c| {
                        c.as_str()
                            .map(str::to_owned)
                            .or_else(|| {
                                c.as_object()
                                    .and_then(|o| o.values().next())
                                    .and_then(Value::as_str)
                                    .map(str::to_owned)
                            })
                            .unwrap_or_default()
                    })
                    .collect();
                out.push(format!("use<{}>", names.join(", ")));
            }
        }
        out.join(" + ")
    }

    fn term(&mut self, term: &Value) -> String {
        if let Some(t) = term.get("type") {
            self.ty(t)
        } else {
            term["constant"]["expr"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    }

    /// A path to an item with its generic arguments, named as users name it.
    pub(super) fn path(&mut self, p: &Value) -> String {
        let base = self
            .name_of(&p["id"])
            .unwrap_or_else(|| p["path"].as_str().unwrap_or_default().to_owned());
        format!("{base}{}", self.args(&p["args"]))
    }

    /// The public path of an item: where this check reached it, or else where rustdoc
    /// says it is defined (another crate's item); the crate is noted as a public
    /// dependency.
    fn name_of(&mut self, id: &Value) -> Option<String> {
        let (defined, krate) = self.doc.defined_at(id)?;
        let k = key(id)?;
        if let Some(name) = self.api.names.get(&(self.doc.name().to_owned(), k)) {
            return Some(name.clone());
        }
        // Another crate's item that this API reached under a name of its own (a
        // re-export of one of `others`).
        if let Some(other) = self.api.others.iter().find(|o| o.name() == krate)
            && let Some(oid) = other.id_at(&defined).and_then(|i| key(&i))
            && let Some(name) = self.api.names.get(&(krate.clone(), oid))
        {
            return Some(name.clone());
        }
        self.api.note_crate(&krate);
        Some(defined)
    }

    fn args(&mut self, args: &Value) -> String {
        if let Some(a) = args.get("angle_bracketed") {
            let mut parts = Vec::new();
            for arg in a["args"].as_array().into_iter().flatten() {
                if let Some(l) = arg.get("lifetime").and_then(Value::as_str) {
                    parts.push(l.to_owned());
                } else if let Some(t) = arg.get("type") {
                    parts.push(self.ty(t));
                } else if let Some(c) = arg.get("const") {
                    parts.push(c["expr"].as_str().unwrap_or_default().to_owned());
                } else if arg.as_str() == Some("infer") {
                    parts.push("_".to_owned());
                }
            }
            for c in a["constraints"].as_array().into_iter().flatten() {
                let name = c["name"].as_str().unwrap_or_default();
                let own = self.args(&c["args"]);
                let binding = &c["binding"];
                if let Some(eq) = binding.get("equality") {
                    parts.push(format!("{name}{own} = {}", self.term(eq)));
                } else if let Some(bounds) = binding.get("constraint") {
                    parts.push(format!("{name}{own}: {}", self.bounds(bounds)));
                }
            }
            if parts.is_empty() {
                String::new()
            } else {
                format!("<{}>", parts.join(", "))
            }
        } else if let Some(p) = args.get("parenthesized") {
            let inputs: Vec<String> = p["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| self.ty(t))
                .collect();
            let output = if p["output"].is_null() {
                String::new()
            } else {
                format!(" -> {}", self.ty(&p["output"]))
            };
            format!("({}){output}", inputs.join(", "))
        } else if args.as_str() == Some("return_type_notation") {
            "(..)".to_owned()
        } else {
            String::new()
        }
    }

    pub(super) fn ty(&mut self, t: &Value) -> String {
        if t.as_str() == Some("infer") {
            return "_".to_owned();
        }
        let Some((k, v)) = t.as_object().and_then(|o| o.iter().next()) else {
            return format!("{t}");
        };
        match k.as_str() {
            "resolved_path" => self.path(v),
            "generic" | "primitive" => v.as_str().unwrap_or_default().to_owned(),
            "tuple" => {
                let items: Vec<String> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| self.ty(t))
                    .collect();
                if items.len() == 1 {
                    format!("({},)", items[0])
                } else {
                    format!("({})", items.join(", "))
                }
            }
            "slice" => format!("[{}]", self.ty(v)),
            "array" => format!(
                "[{}; {}]",
                self.ty(&v["type"]),
                v["len"].as_str().unwrap_or_default()
            ),
            "pat" => self.ty(&v["type"]),
            "raw_pointer" => {
                let m = if v["is_mutable"].as_bool() == Some(true) {
                    "mut"
                } else {
                    "const"
                };
                format!("*{m} {}", self.ty(&v["type"]))
            }
            "borrowed_ref" => {
                let lifetime = v["lifetime"]
                    .as_str()
                    .map(|l| format!("{l} "))
                    .unwrap_or_default();
                let m = if v["is_mutable"].as_bool() == Some(true) {
                    "mut "
                } else {
                    ""
                };
                format!("&{lifetime}{m}{}", self.ty(&v["type"]))
            }
            "impl_trait" => format!("impl {}", self.bounds(v)),
            "dyn_trait" => {
                let mut parts: Vec<String> = Vec::new();
                for poly in v["traits"].as_array().into_iter().flatten() {
                    let hr = self.binder(&poly["generic_params"]);
                    parts.push(format!("{hr}{}", self.path(&poly["trait"])));
                }
                if let Some(l) = v["lifetime"].as_str() {
                    parts.push(l.to_owned());
                }
                format!("dyn {}", parts.join(" + "))
            }
            "function_pointer" => {
                let hr = self.binder(&v["generic_params"]);
                let header = &v["header"];
                let unsafety = if header["is_unsafe"].as_bool() == Some(true) {
                    "unsafe "
                } else {
                    ""
                };
                let abi = match &header["abi"] {
                    Value::String(abi) if abi == "Rust" => String::new(),
                    Value::Null => String::new(),
                    abi => format!("extern {} ", abi_name(abi)),
                };
                format!("{hr}{unsafety}{abi}fn{}", self.signature(&v["sig"]))
            }
            "qualified_path" => {
                let self_ty = self.ty(&v["self_type"]);
                let name = v["name"].as_str().unwrap_or_default();
                let args = self.args(&v["args"]);
                if v["trait"].is_null() {
                    format!("{self_ty}::{name}{args}")
                } else {
                    format!("<{self_ty} as {}>::{name}{args}", self.path(&v["trait"]))
                }
            }
            other => format!("{other}?"),
        }
    }
}

/// Whether generics constrain their parameters (bounds, outlives, where clauses).
pub(super) fn has_bounds(g: &Value) -> bool {
    let nonempty = |v: &Value| v.as_array().is_some_and(|a| !a.is_empty());
    nonempty(&g["where_predicates"])
        || g["params"].as_array().into_iter().flatten().any(|p| {
            let k = &p["kind"];
            nonempty(&k["lifetime"]["outlives"]) || nonempty(&k["type"]["bounds"])
        })
}

fn abi_name(abi: &Value) -> String {
    match abi {
        Value::String(s) => format!("{s:?}"),
        Value::Object(o) => o
            .keys()
            .next()
            .map(|k| format!("{k:?}"))
            .unwrap_or_default(),
        other => other.to_string(),
    }
}
