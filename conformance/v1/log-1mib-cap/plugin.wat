;; log-1mib-cap: Once a delivery has logged 1 MiB (128 lines of 8 KiB), further lines are dropped, not kept.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; A bump allocator: blocks from 64 KiB up, never reused.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (local $i i32)
    ;; Build the large buffer(s).
    (memory.fill (i32.const 8192) (i32.const 0x61) (i32.const 8192))  ;; line: 8192 x 'a', under the line cap
    (loop $again
      (call $log (i32.const 8192) (i32.const 8192) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 128))))
    ;; 1 MiB logged: these two are counted, not kept.
    (call $log (i32.const 1024) (i32.const 19) (i32.const 1))
    (call $log (i32.const 1024) (i32.const 19) (i32.const 3))
  )
  (data (i32.const 1024) "a line past the cap")  ;; after: 19 bytes
)
