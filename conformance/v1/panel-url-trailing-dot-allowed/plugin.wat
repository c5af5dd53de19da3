(module
  ;; A panel URL whose host ends with one dot (panel.example.com.) still matches the allowed host: it is shown.
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
  ;; Copies a URL from static data into a buffer from the plugin's own allocator,
  ;; which the host frees after reading it.
  (func $url (param $src i32) (param $len i32) (result i32 i32)
    (local $p i32)
    (local.set $p (call $alloc (local.get $len)))
    (memory.copy (local.get $p) (local.get $src) (local.get $len))
    (local.get $p) (local.get $len))
  (func (export "on_event") (param $ptr i32) (param $len i32))
  (func (export "render_panel") (param $id_ptr i32) (param $id_len i32) (result i32 i32)
    (call $url (i32.const 1024) (i32.const 61)))
  (data (i32.const 1024) "https://panel.example.com./tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8")
)
