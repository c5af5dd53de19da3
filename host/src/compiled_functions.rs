//! The compiler's output per function, kept for
//! [`HostBuilder::incremental_compilation`](crate::HostBuilder::incremental_compilation)
//! and bounded by [`HostBuilder::incremental_compilation_bytes`](crate::HostBuilder::incremental_compilation_bytes):
//! under `dev` every save compiles a new module, and the functions it changed would
//! otherwise stay for the life of the host.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use crate::compile_cache::CompileCache;

/// Cranelift's compiled functions by their cache key (a hash of the function and the
/// compiler's settings), least recently used out once their keys and code pass the bound.
pub(crate) struct CompiledFunctions(Mutex<CompileCache<Arc<[u8]>>>);

impl CompiledFunctions {
    /// A store keeping at most `capacity` bytes of keys and compiled code; `0` keeps none.
    pub(crate) fn new(capacity: u64) -> Self {
        CompiledFunctions(Mutex::new(CompileCache::new(capacity)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CompileCache<Arc<[u8]>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for CompiledFunctions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledFunctions")
            .field("functions", &self.lock().len())
            .finish_non_exhaustive()
    }
}

impl wasmtime::CacheStore for CompiledFunctions {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let hash = CompileCache::<Arc<[u8]>>::key(key);
        // The copy is made after the lock is released: the compiler's threads share it.
        let code = self.lock().get(hash, key)?;
        Some(Cow::Owned(code.to_vec()))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        let hash = CompileCache::<Arc<[u8]>>::key(key);
        let size = (key.len() + value.len()) as u64;
        let mut cache = self.lock();
        if !cache.fits(size) {
            return false;
        }
        cache.insert(hash, key, Arc::from(value), size);
        true
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::{CacheStore, Config, Engine, Instance, Module, Store};

    use super::*;

    fn keep(store: &CompiledFunctions, key: u8, size: usize) -> bool {
        store.insert(&[key], vec![key; size - 1])
    }

    fn kept(store: &CompiledFunctions, key: u8) -> bool {
        store.get(&[key]).is_some()
    }

    fn used(store: &CompiledFunctions) -> u64 {
        store.lock().used()
    }

    #[test]
    fn keys_and_code_count_against_the_bound_and_the_least_recently_used_goes() {
        let store = CompiledFunctions::new(30);
        assert!(keep(&store, 1, 10) && keep(&store, 2, 10) && keep(&store, 3, 10));
        assert_eq!(store.get(&[1]).as_deref(), Some(&[1u8; 9][..]));
        // 2 is the least recently used now: a fourth function evicts it alone.
        assert!(keep(&store, 4, 10));
        assert_eq!(
            [1, 2, 3, 4].map(|k| kept(&store, k)),
            [true, false, true, true]
        );
        assert_eq!(used(&store), 30);
        // Larger than the bound: refused, and nothing is evicted for it.
        assert!(!keep(&store, 5, 31));
        assert_eq!(
            [1, 3, 4, 5].map(|k| kept(&store, k)),
            [true, true, true, false]
        );
    }

    #[test]
    fn the_bound_holds_over_many_functions() {
        let store = CompiledFunctions::new(1000);
        for i in 0..2000u32 {
            let code = vec![0; 1 + (i as usize * 37) % 300];
            assert!(store.insert(&i.to_le_bytes(), code.clone()));
            assert!(used(&store) <= 1000, "{} bytes after {i}", used(&store));
            assert_eq!(store.get(&i.to_le_bytes()).as_deref(), Some(&code[..]));
        }
    }

    /// A module of four functions whose result depends on `constant`.
    fn module(engine: &Engine, constant: i32) -> Module {
        let wat = format!(
            r#"(module
                 (func $a (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
                 (func $b (param i32) (result i32) (i32.mul (call $a (local.get 0)) (i32.const 3)))
                 (func $c (param i32) (result i32) (i32.sub (call $b (local.get 0)) (i32.const 2)))
                 (func (export "run") (result i32) (call $c (i32.const {constant}))))"#
        );
        Module::new(engine, wat::parse_str(wat).unwrap()).unwrap()
    }

    fn run(engine: &Engine, constant: i32) -> i32 {
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module(engine, constant), &[]).unwrap();
        let run = instance
            .get_typed_func::<(), i32>(&mut store, "run")
            .unwrap();
        run.call(&mut store, ()).unwrap()
    }

    fn engine(functions: &Arc<CompiledFunctions>) -> Engine {
        let mut config = Config::new();
        config
            .enable_incremental_compilation(functions.clone())
            .unwrap();
        Engine::new(&config).unwrap()
    }

    #[test]
    fn code_compiles_and_runs_after_its_functions_were_evicted() {
        // The bytes one module's functions take, to set a bound one byte short of them:
        // every compile then has to evict (or refuse) some of its own functions. A bound
        // by count would depend on the sizes Cranelift gives each function on this CPU.
        let unbounded = Arc::new(CompiledFunctions::new(u64::MAX));
        assert_eq!(run(&engine(&unbounded), 5), (5 + 1) * 3 - 2);
        assert!(unbounded.lock().len() >= 4, "every function is kept");
        let bound = used(&unbounded) - 1;

        let functions = Arc::new(CompiledFunctions::new(bound));
        let engine = engine(&functions);
        for constant in [5, 6, 5, 7, 6] {
            assert_eq!(run(&engine, constant), (constant + 1) * 3 - 2);
            assert!(functions.lock().len() >= 1, "nothing kept");
            assert!(
                used(&functions) <= bound,
                "{} bytes kept, over the bound of {bound}",
                used(&functions)
            );
        }
    }
}
