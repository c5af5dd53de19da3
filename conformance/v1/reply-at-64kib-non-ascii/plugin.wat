;; reply-at-64kib-non-ascii: Reply JSON of exactly 64 KiB in UTF-8 bytes, its body two-byte characters: accepted, status 0.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_add_reply" (func $reply (param i32 i32) (result i32)))
  (memory (export "memory") 4)
  ;; A bump allocator: blocks from 64 KiB up, never reused.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  ;; Logs a number in decimal, at info: the plugin's own account of a status or a
  ;; length, so that the transcript holds what the plugin saw, not what the host says.
  (func $log_u32 (param $n i32)
    (local $p i32)
    (local.set $p (i32.const 500))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (local.get $n)))
    (call $log (local.get $p) (i32.sub (i32.const 500) (local.get $p)) (i32.const 1)))
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
    (local $p i32)
    (local $n i32)
    (local.set $p (i32.const 131072))
    (memory.init $prefix (i32.const 131072) (i32.const 0) (i32.const 50))
    (local.set $n (i32.const 50))
    (call $fill_e_acute (i32.add (local.get $p) (local.get $n)) (i32.const 32732))
    (local.set $n (i32.add (local.get $n) (i32.const 65464)))
    (memory.init $suffix (i32.add (local.get $p) (local.get $n)) (i32.const 0) (i32.const 22))
    (local.set $n (i32.add (local.get $n) (i32.const 22)))
    (call $log_u32 (call $reply (local.get $p) (local.get $n)))
  )
  (data $suffix "\",\"is_internal\":false}")
  (data $prefix "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"body\":\"")
)
