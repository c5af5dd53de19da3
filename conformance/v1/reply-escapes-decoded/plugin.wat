;; reply-escapes-decoded: JSON escapes in the body are decoded (\n, \u2713, a surrogate pair).
(module
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
    (drop (call $reply (i32.const 1024) (i32.const 104)))
  )
  (data (i32.const 1024) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"body\":\"Done \\u2713\\nThanks \\ud83d\\ude00\",\"is_internal\":false}")  ;; json: 104 bytes
)
