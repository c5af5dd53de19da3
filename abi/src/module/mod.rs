//! A module as a host sees it at load time (feature `module`): [`ModuleInfo`] reads
//! what a core module declares and [`ComponentInfo`] what a component declares;
//! [`accept`] judges either flavour against ABI v1 and returns every problem.
//!
//! The reference host's `load`, `cargo otai-plugin check` and the lint of
//! `cargo otai-plugin build` all call [`accept`]: a module `check` passes is a module
//! the host loads, and the host reports every problem at once, as `check` does.
//!
//! ```
//! use otai_plugin_abi::module::{AcceptOptions, ProblemKind, Severity, accept};
//!
//! let wasm = wat::parse_str(r#"(module
//!   (import "env" "abort" (func))
//!   (memory (export "memory") 1)
//!   (func (export "on_event") (param i32))
//!   (func (export "malloc") (param i32) (result i32) (i32.const 8))
//!   (func (export "free") (param i32))
//!   (@custom "ohd_manifest" "{\"id\":\"com.example.x\",\"name\":\"X\",\"version\":\"1.0.0\",\"description\":\"X.\",\"events\":[\"ticket.created\"]}"))"#)?;
//! let verdict = accept(&wasm, &AcceptOptions::default());
//! assert!(verdict.has_errors());
//! let kinds: Vec<ProblemKind> = verdict.errors().map(|p| p.kind).collect();
//! assert_eq!(kinds, [ProblemKind::ForeignImport, ProblemKind::ExportSignature]);
//! assert_eq!(verdict.manifest.unwrap().id, "com.example.x");
//! # Ok::<(), wat::Error>(())
//! ```

mod accept;
mod component;
mod info;
mod problem;
#[cfg(feature = "signature")]
pub mod rotation;
#[cfg(feature = "signature")]
pub mod signature;

pub use accept::{
    accept, accept_component, accept_module, accepted_component_features, accepted_features,
};
pub use component::{ComponentExtern, ComponentInfo, ComponentItem};
pub use info::{
    CustomSection, Export, Import, Item, MemoryInfo, ModuleInfo, ReadError, SectionSize, Signature,
    ensure_core_module, ensure_wasm,
};
pub use problem::{AcceptOptions, Acceptance, Flavour, Problem, ProblemKind, Severity};
