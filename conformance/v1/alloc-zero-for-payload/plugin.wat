;; alloc-zero-for-payload: An allocator that returns 0 for the payload fails the delivery (allocation failed): on_event is not called.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (func (export "ohd_alloc") (param $size i32) (result i32) (i32.const 0))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $log (i32.const 1024) (i32.const 15) (i32.const 1))
  )
  (data (i32.const 1024) "on_event called")  ;; on_event: 15 bytes
)
