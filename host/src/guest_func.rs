//! Calling a core plugin's ABI exports without wasmtime's per-call type check.
//!
//! `Func::typed` looks the function's type up and takes a counted reference to it on
//! every call site; per delivery that is five look-ups, and with two threads delivering
//! at once the shared reference counts bounce between the cores (17% of a delivery's
//! time in a two-thread profile). The ABI fixes every export's signature, so the host
//! checks it once, against the compiled [`Module`], when the plugin is loaded
//! ([`ExportFn::resolve`]), and each delivery calls the export through
//! [`Func::call_unchecked`] with the check's result.

use std::marker::PhantomData;

use wasmtime::{
    AsContext, AsContextMut, Extern, ExternType, Func, FuncType, Instance, Module, ModuleExport,
    ValRaw,
};

/// A Rust type for the `i32` values (read as `u32`) an ABI function takes or returns.
pub(crate) trait AbiValues: Copy {
    /// How many `i32` values.
    const COUNT: usize;
    /// Writes the values at the start of `raw`.
    fn store(self, raw: &mut [ValRaw]);
    /// Reads the values from the start of `raw`.
    fn load(raw: &[ValRaw]) -> Self;
}

impl AbiValues for () {
    const COUNT: usize = 0;
    fn store(self, _: &mut [ValRaw]) {}
    fn load(_: &[ValRaw]) -> Self {}
}

impl AbiValues for u32 {
    const COUNT: usize = 1;
    fn store(self, raw: &mut [ValRaw]) {
        raw[0] = ValRaw::u32(self);
    }
    fn load(raw: &[ValRaw]) -> Self {
        raw[0].get_u32()
    }
}

impl AbiValues for (u32, u32) {
    const COUNT: usize = 2;
    fn store(self, raw: &mut [ValRaw]) {
        raw[0] = ValRaw::u32(self.0);
        raw[1] = ValRaw::u32(self.1);
    }
    fn load(raw: &[ValRaw]) -> Self {
        (raw[0].get_u32(), raw[1].get_u32())
    }
}

/// Whether `ty` is `(param i32 × P::COUNT) (result i32 × R::COUNT)`.
fn matches<P: AbiValues, R: AbiValues>(ty: &FuncType) -> bool {
    ty.params().len() == P::COUNT
        && ty.results().len() == R::COUNT
        && ty.params().chain(ty.results()).all(|t| t.is_i32())
}

/// What an export is, in wasm text where it is a function: `(func (param f64))`.
fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => func_text(f.params(), f.results()),
        ExternType::Global(_) => "a global".to_owned(),
        ExternType::Table(_) => "a table".to_owned(),
        ExternType::Memory(_) => "a memory".to_owned(),
        ExternType::Tag(_) => "a tag".to_owned(),
    }
}

/// `(func (param …) (result …))`, each list left out when empty.
fn func_text<T: std::fmt::Display>(
    params: impl Iterator<Item = T>,
    results: impl Iterator<Item = T>,
) -> String {
    fn list<T: std::fmt::Display>(kind: &str, types: impl Iterator<Item = T>) -> String {
        let names: Vec<String> = types.map(|t| t.to_string()).collect();
        if names.is_empty() {
            String::new()
        } else {
            format!(" ({kind} {})", names.join(" "))
        }
    }
    format!("(func{}{})", list("param", params), list("result", results))
}

/// The signature `P -> R` in wasm text.
fn signature<P: AbiValues, R: AbiValues>() -> String {
    let i32s = |n| std::iter::repeat_n("i32", n);
    func_text(i32s(P::COUNT), i32s(R::COUNT))
}

/// An export of one module whose signature was checked to be `P -> R`.
pub(crate) struct ExportFn<P, R> {
    export: ModuleExport,
    _signature: PhantomData<fn(P) -> R>,
}

impl<P: AbiValues, R: AbiValues> ExportFn<P, R> {
    /// Finds the function export `name` of `module` and checks its signature against
    /// wasmtime's own record of the compiled module (the same record a call would use).
    pub(crate) fn resolve(module: &Module, name: &str) -> Result<Self, String> {
        let (Some(export), Some(ty)) = (module.get_export_index(name), module.get_export(name))
        else {
            return Err(format!("the compiled module has no `{name}` export"));
        };
        match ty {
            ExternType::Func(f) if matches::<P, R>(&f) => Ok(Self {
                export,
                _signature: PhantomData,
            }),
            other => Err(format!(
                "the `{name}` export is {}; the ABI expects {}",
                describe(&other),
                signature::<P, R>()
            )),
        }
    }

    /// As [`ExportFn::resolve`] for an export the ABI allows a module to leave out.
    pub(crate) fn resolve_optional(module: &Module, name: &str) -> Result<Option<Self>, String> {
        module
            .get_export_index(name)
            .map(|_| Self::resolve(module, name))
            .transpose()
    }

    /// The export in `instance`, which must be an instance of the module this was
    /// resolved in (`None` otherwise).
    pub(crate) fn get(
        &self,
        store: impl AsContextMut,
        instance: Instance,
    ) -> Option<GuestFn<P, R>> {
        let func = instance
            .get_module_export(store, &self.export)
            .and_then(Extern::into_func)?;
        // SAFETY: `get_module_export` returns `None` for an instance of another module,
        // and in this one the export's type was checked in `resolve`.
        Some(unsafe { GuestFn::new_unchecked(func) })
    }
}

/// A function of a plugin instance known to have the signature `P -> R`.
pub(crate) struct GuestFn<P, R> {
    func: Func,
    _signature: PhantomData<fn(P) -> R>,
}

// Not derived: the derives would ask `P: Copy` and `R: Copy` of the phantom types.
impl<P, R> Clone for GuestFn<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, R> Copy for GuestFn<P, R> {}

impl<P: AbiValues, R: AbiValues> GuestFn<P, R> {
    /// # Safety
    /// `func` has the signature `P -> R`.
    unsafe fn new_unchecked(func: Func) -> Self {
        Self {
            func,
            _signature: PhantomData,
        }
    }

    /// Checks `func`'s type now: for a function found by name during a call (a host
    /// function called from the start function, before the instance is set up).
    pub(crate) fn checked(store: impl AsContext, func: Func, name: &str) -> Result<Self, String> {
        let ty = func.ty(store);
        if matches::<P, R>(&ty) {
            // SAFETY: the type was just checked.
            Ok(unsafe { Self::new_unchecked(func) })
        } else {
            Err(format!(
                "the `{name}` export is {}; the ABI expects {}",
                describe(&ExternType::Func(ty)),
                signature::<P, R>()
            ))
        }
    }

    /// Calls the function; a trap, an interrupt or an error of a host function it
    /// called is the error.
    pub(crate) fn call(&self, store: impl AsContextMut, params: P) -> wasmtime::Result<R> {
        // Params and results share the slots; no ABI function has more than two.
        const { assert!(P::COUNT <= 2 && R::COUNT <= 2) };
        let mut raw = [ValRaw::u32(0); 2];
        params.store(&mut raw);
        // SAFETY: `raw` holds the parameters `P` describes, has room for the results
        // `R` describes, and the function's signature is `P -> R` (see `new_unchecked`);
        // `i32` values need no rooting.
        unsafe { self.func.call_unchecked(store, &mut raw[..]) }?;
        Ok(R::load(&raw))
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::{Engine, Store};

    use super::*;

    fn module(engine: &Engine) -> Module {
        let text = r#"(module
            (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
            (func (export "swap") (param i32 i32) (result i32 i32) local.get 1 local.get 0)
            (func (export "f64") (param f64))
            (memory (export "memory") 1))"#;
        Module::new(engine, wat::parse_str(text).unwrap()).unwrap()
    }

    #[test]
    fn a_resolved_export_is_called_with_its_values() {
        let engine = Engine::default();
        let module = module(&engine);
        let swap = ExportFn::<(u32, u32), (u32, u32)>::resolve(&module, "swap").unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = swap.get(&mut store, instance).unwrap();
        assert_eq!(f.call(&mut store, (1, u32::MAX)).unwrap(), (u32::MAX, 1));
    }

    #[test]
    fn a_signature_other_than_the_abis_is_refused_at_resolve() {
        let engine = Engine::default();
        let module = module(&engine);
        let error = ExportFn::<(u32, u32), ()>::resolve(&module, "add")
            .err()
            .unwrap();
        assert_eq!(
            error,
            "the `add` export is (func (param i32 i32) (result i32)); \
             the ABI expects (func (param i32 i32))"
        );
        let memory = ExportFn::<(), ()>::resolve(&module, "memory")
            .err()
            .unwrap();
        assert_eq!(
            memory,
            "the `memory` export is a memory; the ABI expects (func)"
        );
        assert!(ExportFn::<(u32, u32), ()>::resolve(&module, "f64").is_err());
        let missing = ExportFn::<(), ()>::resolve(&module, "nope").err().unwrap();
        assert!(missing.contains("no `nope` export"), "{missing}");
    }

    #[test]
    fn an_export_of_another_module_is_not_found_in_an_instance() {
        let engine = Engine::default();
        let (one, other) = (module(&engine), module(&engine));
        let add = ExportFn::<(u32, u32), u32>::resolve(&one, "add").unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &other, &[]).unwrap();
        assert!(add.get(&mut store, instance).is_none());
    }

    #[test]
    fn a_function_found_by_name_is_checked_before_it_is_called() {
        let engine = Engine::default();
        let module = module(&engine);
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let add = instance.get_func(&mut store, "add").unwrap();
        assert!(GuestFn::<u32, u32>::checked(&store, add, "add").is_err());
        let add = GuestFn::<(u32, u32), u32>::checked(&store, add, "add").unwrap();
        assert_eq!(add.call(&mut store, (2, 3)).unwrap(), 5);
    }
}
