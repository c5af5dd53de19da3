(module
  ;; An allocator that loops forever when the host allocates the payload is stopped at the deadline: the delivery times out.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; The allocator never returns.
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (call $ohd_log (i32.const 1040) (i32.const 26) (i32.const 1))
    (loop $forever (br $forever))
    (unreachable))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $ohd_log (i32.const 1024) (i32.const 15) (i32.const 1)))
  (data (i32.const 1024) "on_event called")
  (data (i32.const 1040) "ohd_alloc: looping forever")
)
