;; load-import-kind-env-memory: A module importing its memory as `env.memory` (what `wasm-ld --import-memory` emits) is refused with import_kind only: the kind of the import decides, whatever its module.
(module
  (import "env" "memory" (memory $mem 2))
  (export "memory" (memory $mem))
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
)
