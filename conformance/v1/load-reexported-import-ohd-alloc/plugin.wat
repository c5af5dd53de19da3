(module
  ;; A module that exports its import ohd.ohd_alloc as ohd_alloc is refused with reexported_import (malloc and free are exported too).
  (import "ohd" "ohd_alloc" (func $ohd_alloc_import (param i32) (result i32)))
  (memory (export "memory") 2)
  ;; ohd_alloc is the imported host function, exported again.
  (export "ohd_alloc" (func $ohd_alloc_import))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (global $heap (mut i32) (i32.const 65536))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "free") (param $ptr i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
)
