;; alloc-both-pairs: With both pairs exported, ohd_alloc / ohd_free win: malloc and free are never called.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (call $log (i32.const 1024) (i32.const 23) (i32.const 1))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32)
    (call $log (i32.const 1048) (i32.const 22) (i32.const 1)))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (call $log (i32.const 1088) (i32.const 20) (i32.const 1))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "free") (param $ptr i32)
    (call $log (i32.const 1112) (i32.const 18) (i32.const 1)))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $log (i32.const 1072) (i32.const 15) (i32.const 1))
  )
  (data (i32.const 1024) "ohd_alloc export called")  ;; alloc: 23 bytes
  (data (i32.const 1048) "ohd_free export called")  ;; free: 22 bytes
  (data (i32.const 1072) "on_event called")  ;; on_event: 15 bytes
  (data (i32.const 1088) "malloc export called")  ;; malloc: 20 bytes
  (data (i32.const 1112) "free export called")  ;; libcfree: 18 bytes
)
