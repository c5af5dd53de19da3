;; alloc-imports-forward: The ohd_alloc / ohd_free imports call the plugin's own ohd_alloc / ohd_free exports (the plugin checks its allocator's state after each).
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_alloc" (func $import_alloc (param i32) (result i32)))
  (import "ohd" "ohd_free" (func $import_free (param i32 i32)))
  (memory (export "memory") 2)
  ;; Every block takes a multiple of 4 KiB: the payload (under 4 KiB) is at 65536, so
  ;; the next block is at 69632.
  (global $heap (mut i32) (i32.const 65536))
  (global $freed_ptr (mut i32) (i32.const -1))
  (global $freed_size (mut i32) (i32.const -1))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p)
      (i32.and (i32.add (local.get $size) (i32.const 4095)) (i32.const -4096))))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32)
    (global.set $freed_ptr (local.get $ptr))
    (global.set $freed_size (local.get $size)))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (local $before i32)
    (local $p i32)
    (local.set $before (global.get $heap))
    (local.set $p (call $import_alloc (i32.const 100)))
    (if (i32.and (i32.eq (local.get $p) (local.get $before))
                 (i32.eq (global.get $heap) (i32.add (local.get $before) (i32.const 4096))))
      (then (call $log (i32.const 1024) (i32.const 41) (i32.const 1)))
      (else (call $log (i32.const 1072) (i32.const 49) (i32.const 1))))
    (call $import_free (local.get $p) (i32.const 100))
    (if (i32.and (i32.eq (global.get $freed_ptr) (local.get $p))
                 (i32.eq (global.get $freed_size) (i32.const 100)))
      (then (call $log (i32.const 1128) (i32.const 26) (i32.const 1)))
      (else (call $log (i32.const 1160) (i32.const 34) (i32.const 1))))
  )
  (data (i32.const 1024) "the import's block came from my ohd_alloc")  ;; alloc_yes: 41 bytes
  (data (i32.const 1072) "the import's block did not come from my ohd_alloc")  ;; alloc_no: 49 bytes
  (data (i32.const 1128) "my ohd_free got (ptr, 100)")  ;; free_yes: 26 bytes
  (data (i32.const 1160) "my ohd_free did not get (ptr, 100)")  ;; free_no: 34 bytes
)
