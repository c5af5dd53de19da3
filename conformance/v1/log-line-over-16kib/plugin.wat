;; log-line-over-16kib: A line longer than 16 KiB is cut at 16 KiB and ends with ' …[truncated]'.
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
    ;; Build the large buffer(s).
    (memory.fill (i32.const 8192) (i32.const 0x61) (i32.const 16384))  ;; line: 16384 x 'a'
    (memory.fill (i32.const 24576) (i32.const 0x62) (i32.const 100))  ;; line: 100 x 'b'
    (call $log (i32.const 8192) (i32.const 16484) (i32.const 1))
  )
)
