(module
  ;; A wasm start function runs once per instance, before the host calls the allocator.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; How many times the start function ran.
  (global $starts (mut i32) (i32.const 0))
  (func $start
    (global.set $starts (i32.add (global.get $starts) (i32.const 1))))
  (start $start)
  ;; A bump allocator at 64 KiB that reports, when called, whether the setup ran before it.
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (if (i32.eq (global.get $starts) (i32.const 1))
      (then
        (call $ohd_log (i32.const 1024) (i32.const 45) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1072) (i32.const 61) (i32.const 1))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $ohd_log (i32.const 1136) (i32.const 15) (i32.const 1)))
  (data (i32.const 1024) "ohd_alloc: the start function ran once before")
  (data (i32.const 1072) "ohd_alloc: the start function did not run exactly once before")
  (data (i32.const 1136) "on_event called")
)
