(module
  ;; _initialize runs once, before the host calls the allocator for the payload, and before on_event.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; How many times _initialize ran.
  (global $inits (mut i32) (i32.const 0))
  (func (export "_initialize")
    (global.set $inits (i32.add (global.get $inits) (i32.const 1)))
    (if (i32.eq (global.get $inits) (i32.const 1))
      (then
        (call $ohd_log (i32.const 1024) (i32.const 23) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1048) (i32.const 25) (i32.const 1)))))
  ;; A bump allocator at 64 KiB that reports, when called, whether the setup ran before it.
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (if (i32.eq (global.get $inits) (i32.const 1))
      (then
        (call $ohd_log (i32.const 1080) (i32.const 38) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1120) (i32.const 54) (i32.const 1))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (if (i32.eq (global.get $inits) (i32.const 1))
      (then
        (call $ohd_log (i32.const 1176) (i32.const 37) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1216) (i32.const 53) (i32.const 1)))))
  (data (i32.const 1024) "_initialize: first call")
  (data (i32.const 1048) "_initialize: called again")
  (data (i32.const 1080) "ohd_alloc: _initialize ran once before")
  (data (i32.const 1120) "ohd_alloc: _initialize did not run exactly once before")
  (data (i32.const 1176) "on_event: _initialize ran once before")
  (data (i32.const 1216) "on_event: _initialize did not run exactly once before")
)
