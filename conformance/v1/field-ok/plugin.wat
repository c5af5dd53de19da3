;; field-ok: A valid custom field returns 0 and is set as given.
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
    (drop (call $field (i32.const 1024) (i32.const 88)))
  )
  (data (i32.const 1024) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"key\":\"pagerduty_incident_id\",\"value\":\"12345\"}")  ;; json: 88 bytes
)
