(module
  ;; A trap in _initialize fails the delivery: trapped, and neither the allocator nor on_event is called.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; A bump allocator at 64 KiB that reports, when called, whether the setup ran before it.
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (if (i32.const 1)
      (then
        (call $ohd_log (i32.const 1024) (i32.const 16) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1040) (i32.const 11) (i32.const 1))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "_initialize")
    (call $ohd_log (i32.const 1056) (i32.const 22) (i32.const 3))
    (unreachable))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $ohd_log (i32.const 1080) (i32.const 15) (i32.const 1)))
  (data (i32.const 1024) "ohd_alloc called")
  (data (i32.const 1040) "unreachable")
  (data (i32.const 1056) "_initialize: giving up")
  (data (i32.const 1080) "on_event called")
)
