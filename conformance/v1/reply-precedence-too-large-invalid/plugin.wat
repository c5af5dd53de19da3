;; reply-precedence-too-large-invalid: Over 64 KiB and not JSON: TOO_LARGE (3), the JSON is not parsed.
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
    (memory.fill (i32.const 131082) (i32.const 0x78) (i32.const 65527))  ;; json: 65527 x 'x'
    (drop (call $reply (i32.const 131072) (i32.const 65537)))
  )
  (data (i32.const 131072) "{not json ")  ;; json, at +0
)
