;; log-level-above-3: Levels above 3 (4 and 0xffffffff) are logged at error level, not dropped.
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
    (call $log (i32.const 1024) (i32.const 7) (i32.const 4))
    (call $log (i32.const 1032) (i32.const 16) (i32.const -1))  ;; 0xffffffff, read as unsigned
  )
  (data (i32.const 1024) "level 4")  ;; four: 7 bytes
  (data (i32.const 1032) "level 4294967295")  ;; max: 16 bytes
)
