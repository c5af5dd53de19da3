(module
  ;; render_panel gets the ticket id of case.json in a buffer the host allocated with the plugin's allocator, just before the call.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; A bump allocator at 64 KiB that remembers its last allocation.
  (global $heap (mut i32) (i32.const 65536))
  (global $last_ptr (mut i32) (i32.const -1))
  (global $last_size (mut i32) (i32.const -1))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (global.set $last_ptr (local.get $p))
    (global.set $last_size (local.get $size))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
  (func (export "render_panel") (param $id_ptr i32) (param $id_len i32) (result i32 i32)
    ;; The ticket id, as it arrived.
    (call $ohd_log (local.get $id_ptr) (local.get $id_len) (i32.const 1))
    ;; Is it the buffer the last ohd_alloc call returned, of the size asked for?
    (if (i32.and (i32.eq (local.get $id_ptr) (global.get $last_ptr))
                 (i32.eq (local.get $id_len) (global.get $last_size)))
      (then
        (call $ohd_log (i32.const 1024) (i32.const 58) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1088) (i32.const 62) (i32.const 1))))
    (i32.const 0) (i32.const 0))
  (data (i32.const 1024) "the ticket id is in the buffer the host got from ohd_alloc")
  (data (i32.const 1088) "the ticket id is not in the buffer the host got from ohd_alloc")
)
