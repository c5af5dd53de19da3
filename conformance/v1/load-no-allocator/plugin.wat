(module
  ;; A module that exports no allocator at all is refused with no_allocator.
  (memory (export "memory") 2)
  (func (export "on_event") (param $ptr i32) (param $len i32))
)
