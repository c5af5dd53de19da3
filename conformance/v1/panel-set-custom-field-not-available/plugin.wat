(module
  ;; ohd_set_custom_field during render_panel returns 4 (NOT_AVAILABLE), for a valid field and for invalid JSON alike.
  (import "ohd" "ohd_set_custom_field" (func $ohd_set_custom_field (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; A bump allocator: the heap starts at 64 KiB (the second page) and is never freed.
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $size))
                  (i32.shl (memory.size) (i32.const 16)))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
  (func (export "render_panel") (param $id_ptr i32) (param $id_len i32) (result i32 i32)
    ;; A valid custom field of the ticket.
    (drop (call $ohd_set_custom_field (i32.const 1024) (i32.const 80)))
    ;; Not JSON.
    (drop (call $ohd_set_custom_field (i32.const 1104) (i32.const 9)))
    (i32.const 0) (i32.const 0))
  (data (i32.const 1024) "{\"ticket_id\": \"01JQXYZ8K2M4N6P8R0T2V4W6Y8\", \"key\": \"panel_seen\", \"value\": \"yes\"}")
  (data (i32.const 1104) "{not json")
)
