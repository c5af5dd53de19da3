;; alloc-import-returns-zero: The ohd_alloc import hands back what the plugin's allocator returned, 0 included: that is the plugin's own call, not a failed delivery.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_alloc" (func $import_alloc (param i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  ;; Gives the payload its block, and 0 for anything of 100 bytes.
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (if (i32.eq (local.get $size) (i32.const 100)) (then (return (i32.const 0))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (drop (call $import_alloc (i32.const 100)))
    (call $log (i32.const 1024) (i32.const 16) (i32.const 1))
  )
  (data (i32.const 1024) "on_event goes on")  ;; after: 16 bytes
)
