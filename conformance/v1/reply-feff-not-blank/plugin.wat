;; reply-feff-not-blank: A body of only U+FEFF (ZERO WIDTH NO-BREAK SPACE, not Unicode White_Space, though whitespace to JavaScript's trim) is not blank: status 0.
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
    (local.set $p (i32.const 1024))
    (local.set $n (i32.const 75))
    (call $log_u32 (call $reply (local.get $p) (local.get $n)))
  )
  (data (i32.const 1024) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"body\":\"\ef\bb\bf\",\"is_internal\":false}")  ;; json: 75 bytes
)
