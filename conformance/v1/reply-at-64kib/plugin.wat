;; reply-at-64kib: Reply JSON of exactly 64 KiB is accepted.
(module
  (import "ohd" "ohd_add_reply" (func $reply (param i32 i32) (result i32)))
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
    (memory.fill (i32.const 131122) (i32.const 0x78) (i32.const 65464))  ;; json: 65464 x 'x'
    (drop (call $reply (i32.const 131072) (i32.const 65536)))
  )
  (data (i32.const 131072) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"body\":\"")  ;; json, at +0
  (data (i32.const 196586) "\",\"is_internal\":false}")  ;; json, at +65514
)
