(module
  ;; An export named ohd_free that is a global, not a function, is refused with export_signature (malloc and free are exported too).
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  ;; ohd_free is a global here.
  (global (export "ohd_free") i32 (i32.const 0))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "free") (param $ptr i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
)
