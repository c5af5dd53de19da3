;; log-1mib-cap-non-ascii: The 1 MiB log budget is counted in UTF-8 bytes: 128 lines of 4096 two-byte characters (8 KiB each) fill it, and the next line is dropped.
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
    (call $fill_e_acute (i32.const 8192) (i32.const 4096))
    (loop $again
      (call $log (i32.const 8192) (i32.const 8192) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 128))))
    (call $log (i32.const 1024) (i32.const 19) (i32.const 1))
  )
  (data (i32.const 1024) "a line past the cap")  ;; after: 19 bytes
)
