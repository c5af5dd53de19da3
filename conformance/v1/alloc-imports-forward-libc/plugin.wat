;; alloc-imports-forward-libc: With malloc + free exported, the ohd_alloc import calls malloc and the ohd_free import calls free(ptr), ignoring the size.
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
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p)
      (i32.and (i32.add (local.get $size) (i32.const 4095)) (i32.const -4096))))
    (local.get $p))
  (func (export "free") (param $ptr i32)
    (global.set $freed_ptr (local.get $ptr)))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (local $before i32)
    (local $p i32)
    (local.set $before (global.get $heap))
    (local.set $p (call $import_alloc (i32.const 100)))
    (if (i32.and (i32.eq (local.get $p) (local.get $before))
                 (i32.eq (global.get $heap) (i32.add (local.get $before) (i32.const 4096))))
      (then (call $log (i32.const 1024) (i32.const 38) (i32.const 1)))
      (else (call $log (i32.const 1064) (i32.const 46) (i32.const 1))))
    (call $import_free (local.get $p) (i32.const 100))
    (if (i32.eq (global.get $freed_ptr) (local.get $p))
      (then (call $log (i32.const 1112) (i32.const 15) (i32.const 1)))
      (else (call $log (i32.const 1128) (i32.const 23) (i32.const 1))))
  )
  (data (i32.const 1024) "the import's block came from my malloc")  ;; alloc_yes: 38 bytes
  (data (i32.const 1064) "the import's block did not come from my malloc")  ;; alloc_no: 46 bytes
  (data (i32.const 1112) "my free got ptr")  ;; free_yes: 15 bytes
  (data (i32.const 1128) "my free did not get ptr")  ;; free_no: 23 bytes
)
