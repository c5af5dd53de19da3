;; field-precedence-wrong-ticket-empty-key: Another ticket and an empty key: WRONG_TICKET (2) decides.
(module
  (import "ohd" "ohd_set_custom_field" (func $field (param i32 i32) (result i32)))
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
    (drop (call $field (i32.const 1024) (i32.const 63)))
  )
  (data (i32.const 1024) "{\"ticket_id\":\"01JQOTHERTICKET00000000000\",\"key\":\"\",\"value\":\"v\"}")  ;; json: 63 bytes
)
