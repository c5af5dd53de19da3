;; log-line-over-16kib-non-ascii: A line of 8193 two-byte characters (16386 bytes, fewer than 16 Ki characters) is over 16 KiB: cut to 8192 characters and marked.
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
  ;; Writes `count` times the two-byte character é (C3 A9) from `at`.
  (func $fill_e_acute (param $at i32) (param $count i32)
    (loop $again
      (if (local.get $count)
        (then
          (i32.store16 (local.get $at) (i32.const 0xa9c3))
          (local.set $at (i32.add (local.get $at) (i32.const 2)))
          (local.set $count (i32.sub (local.get $count) (i32.const 1)))
          (br $again)))))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (local $i i32)
    (call $fill_e_acute (i32.const 8192) (i32.const 8193))
    (call $log (i32.const 8192) (i32.const 16386) (i32.const 1))
  )
)
