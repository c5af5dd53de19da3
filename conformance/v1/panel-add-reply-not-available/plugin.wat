(module
  ;; ohd_add_reply during render_panel returns 4 (NOT_AVAILABLE), for a valid reply and for one over 64 KiB alike.
  (import "ohd" "ohd_add_reply" (func $ohd_add_reply (param i32 i32) (result i32)))
  (memory (export "memory") 4)
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
    ;; A valid reply to the ticket.
    (drop (call $ohd_add_reply (i32.const 1024) (i32.const 99)))
    ;; 70 000 bytes of "{" at 128 KiB: over 64 KiB and not JSON.
    (memory.fill (i32.const 131072) (i32.const 123) (i32.const 70000))
    (drop (call $ohd_add_reply (i32.const 131072) (i32.const 70000)))
    (i32.const 0) (i32.const 0))
  (data (i32.const 1024) "{\"ticket_id\": \"01JQXYZ8K2M4N6P8R0T2V4W6Y8\", \"body\": \"Reply from render_panel\", \"is_internal\": true}")
)
