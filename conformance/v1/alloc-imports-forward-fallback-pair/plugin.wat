;; alloc-imports-forward-fallback-pair: With ohd_alloc exported but not ohd_free, malloc / free are the allocator: the ohd_alloc import calls malloc and the ohd_free import calls free.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_alloc" (func $import_alloc (param i32) (result i32)))
  (import "ohd" "ohd_free" (func $import_free (param i32 i32)))
  (memory (export "memory") 2)
  ;; Which export ran last, for on_event to check.
  (global $heap (mut i32) (i32.const 65536))
  (global $ran (mut i32) (i32.const 0))  ;; 1 ohd_alloc, 2 ohd_free, 3 malloc, 4 free
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (global.set $ran (i32.const 1))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p)
      (i32.and (i32.add (local.get $size) (i32.const 4095)) (i32.const -4096))))
    (local.get $p))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (global.set $ran (i32.const 3))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p)
      (i32.and (i32.add (local.get $size) (i32.const 4095)) (i32.const -4096))))
    (local.get $p))
  (func (export "free") (param $ptr i32)
    (global.set $ran (i32.const 4)))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (local $p i32)
    (global.set $ran (i32.const 0))
    (local.set $p (call $import_alloc (i32.const 100)))
    (if (i32.eq (global.get $ran) (i32.const 3))
      (then (call $log (i32.const 1024) (i32.const 34) (i32.const 1)))
      (else (call $log (i32.const 1064) (i32.const 42) (i32.const 1))))
    (global.set $ran (i32.const 0))
    (call $import_free (local.get $p) (i32.const 100))
    (if (i32.eq (global.get $ran) (i32.const 4))
      (then (call $log (i32.const 1112) (i32.const 31) (i32.const 1)))
      (else (call $log (i32.const 1144) (i32.const 39) (i32.const 1))))
  )
  (data (i32.const 1024) "the ohd_alloc import ran my malloc")  ;; alloc_yes: 34 bytes
  (data (i32.const 1064) "the ohd_alloc import did not run my malloc")  ;; alloc_no: 42 bytes
  (data (i32.const 1112) "the ohd_free import ran my free")  ;; free_yes: 31 bytes
  (data (i32.const 1144) "the ohd_free import did not run my free")  ;; free_no: 39 bytes
)
