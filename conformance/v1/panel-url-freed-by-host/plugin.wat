(module
  ;; After reading the panel URL the host frees its buffer through the plugin's exported ohd_free, with the URL's pointer and length.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; A bump allocator at 64 KiB whose ohd_free reports when the panel URL's buffer is freed
  ;; (and says nothing about other buffers, such as the ticket id's).
  (global $heap (mut i32) (i32.const 65536))
  (global $url_ptr (mut i32) (i32.const -1))
  (global $url_len (mut i32) (i32.const -1))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32)
    (if (i32.eq (local.get $ptr) (global.get $url_ptr))
      (then
        (if (i32.eq (local.get $size) (global.get $url_len))
          (then
            (call $ohd_log (i32.const 1088) (i32.const 55) (i32.const 1)))
          (else
            (call $ohd_log (i32.const 1144) (i32.const 57) (i32.const 1)))))))
  ;; Copies a URL from static data into a buffer from the plugin's own allocator,
  ;; which the host frees after reading it.
  (func $url (param $src i32) (param $len i32) (result i32 i32)
    (local $p i32)
    (local.set $p (call $alloc (local.get $len)))
    (memory.copy (local.get $p) (local.get $src) (local.get $len))
    (local.get $p) (local.get $len))
  (func (export "on_event") (param $ptr i32) (param $len i32))
  (func (export "render_panel") (param $id_ptr i32) (param $id_len i32) (result i32 i32)
    (local $p i32)
    (local $n i32)
    (call $url (i32.const 1024) (i32.const 60))
    (local.set $n)
    (local.set $p)
    (global.set $url_ptr (local.get $p))
    (global.set $url_len (local.get $n))
    (local.get $p) (local.get $n))
  (data (i32.const 1024) "https://panel.example.com/tickets/01JQXYZ8K2M4N6P8R0T2V4W6Y8")
  (data (i32.const 1088) "ohd_free: the host freed the URL buffer with its length")
  (data (i32.const 1144) "ohd_free: the host freed the URL buffer with another size")
)
