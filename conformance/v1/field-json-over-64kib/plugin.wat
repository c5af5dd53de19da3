;; field-json-over-64kib: Custom field JSON of 64 KiB + 1 byte (padded with whitespace, key and value small): status 3.
(module
  (import "ohd" "ohd_set_custom_field" (func $field (param i32 i32) (result i32)))
  (memory (export "memory") 4)
  ;; A bump allocator: blocks from 64 KiB up, never reused.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    ;; Build the large buffer(s).
    (memory.fill (i32.const 131135) (i32.const 0x20) (i32.const 65473))  ;; json: 65473 x ' '
    (drop (call $field (i32.const 131072) (i32.const 65537)))
  )
  (data (i32.const 131072) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"key\":\"k\",\"value\":\"v\"")  ;; json, at +0
  (data (i32.const 196608) "}")  ;; json, at +65536
)
