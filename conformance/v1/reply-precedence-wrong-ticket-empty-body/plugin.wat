;; reply-precedence-wrong-ticket-empty-body: Another ticket and an empty body: WRONG_TICKET (2) decides before the blank body.
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
    (drop (call $reply (i32.const 1024) (i32.const 72)))
  )
  (data (i32.const 1024) "{\"ticket_id\":\"01JQOTHERTICKET00000000000\",\"body\":\"\",\"is_internal\":false}")  ;; json: 72 bytes
)
