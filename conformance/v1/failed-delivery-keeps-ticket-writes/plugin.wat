;; failed-delivery-keeps-ticket-writes: A delivery that traps after setting a field and adding a note keeps both: the next delivery's ticket carries the field.
(module
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (import "ohd" "ohd_set_custom_field" (func $field (param i32 i32) (result i32)))
  (import "ohd" "ohd_add_reply" (func $reply (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; A bump allocator: the heap starts at 64 KiB (the second page) and is never freed.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $size))
                  (i32.shl (memory.size) (i32.const 16)))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    ;; Logs the payload, sets a field, adds a note, then fails.
    (call $ohd_log (local.get $ptr) (local.get $len) (i32.const 1))
    (drop (call $field (i32.const 1024) (i32.const 74)))
    (drop (call $reply (i32.const 2048) (i32.const 85)))
    unreachable)
  (data (i32.const 1024) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"key\":\"paged\",\"value\":\"on-call\"}")  ;; 74 bytes
  (data (i32.const 2048) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"body\":\"Paged on-call.\",\"is_internal\":true}")  ;; 85 bytes
)
