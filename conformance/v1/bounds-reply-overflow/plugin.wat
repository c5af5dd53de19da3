;; bounds-reply-overflow: ohd_add_reply with ptr + len past 2^32 (0xffffffff + 2, wrapping to 1) traps.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_add_reply" (func $reply (param i32 i32) (result i32)))
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
    (call $log (i32.const 1024) (i32.const 19) (i32.const 1))
    (drop (call $reply (i32.const 0xffffffff) (i32.const 2)))
    (call $log (i32.const 1048) (i32.const 18) (i32.const 1))
  )
  (data (i32.const 1024) "before the bad call")  ;; before: 19 bytes
  (data (i32.const 1048) "after the bad call")  ;; after: 18 bytes
)
