(module
  ;; A wasm start function runs first (at instantiation), then _initialize, then the allocator and on_event.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; 0: nothing ran; 1: the start function ran; 2: then _initialize ran.
  (global $stage (mut i32) (i32.const 0))
  (func $start
    (if (i32.eqz (global.get $stage))
      (then (global.set $stage (i32.const 1)))))
  (start $start)
  (func (export "_initialize")
    (if (i32.eq (global.get $stage) (i32.const 1))
      (then
        (call $ohd_log (i32.const 1024) (i32.const 42) (i32.const 1))
        (global.set $stage (i32.const 2)))
      (else
        (call $ohd_log (i32.const 1072) (i32.const 50) (i32.const 1)))))
  ;; A bump allocator at 64 KiB that reports, when called, whether the setup ran before it.
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (if (i32.eq (global.get $stage) (i32.const 2))
      (then
        (call $ohd_log (i32.const 1128) (i32.const 56) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1184) (i32.const 69) (i32.const 1))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $ohd_log (i32.const 1256) (i32.const 15) (i32.const 1)))
  (data (i32.const 1024) "_initialize: the start function ran before")
  (data (i32.const 1072) "_initialize: the start function did not run before")
  (data (i32.const 1128) "ohd_alloc: the start function and _initialize ran before")
  (data (i32.const 1184) "ohd_alloc: the start function and _initialize did not both run before")
  (data (i32.const 1256) "on_event called")
)
