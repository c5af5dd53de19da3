(module
  ;; A free export with two parameters (free takes only the pointer) is refused with export_signature.
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  ;; free takes one parameter, the pointer; this one takes two.
  (func (export "free") (param $ptr i32) (param $size i32))
  ;; A complete ohd_alloc/ohd_free pair, so that only free's type is wrong.
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
)
