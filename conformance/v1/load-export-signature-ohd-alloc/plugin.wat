(module
  ;; An ohd_alloc export without a result is refused with export_signature (malloc and free are exported too, so the module has an allocator pair).
  (memory (export "memory") 2)
  ;; ohd_alloc has the wrong type: no result.
  (func (export "ohd_alloc") (param $size i32))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  ;; A complete malloc/free pair, so that only ohd_alloc's type is wrong.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "free") (param $ptr i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
)
