(module
  ;; A tag needs the exception-handling proposal, which ABI v1 does not accept.
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (tag $oops (param i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
)
