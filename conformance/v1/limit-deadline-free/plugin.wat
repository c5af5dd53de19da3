(module
  ;; An ohd_free that loops forever when the host frees the payload after on_event is stopped at the deadline: the delivery times out.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; A bump allocator at 64 KiB whose ohd_free never returns.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32)
    (call $ohd_log (i32.const 1040) (i32.const 25) (i32.const 1))
    (loop $forever (br $forever)))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $ohd_log (i32.const 1024) (i32.const 16) (i32.const 1)))
  (data (i32.const 1024) "on_event returns")
  (data (i32.const 1040) "ohd_free: looping forever")
)
