;; panel-no-panel-not-freed: render_panel returning (0, 0): no panel, and the host calls no deallocator for the null pointer (it frees only the ticket id it allocated).
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; A bump allocator: blocks from 64 KiB up, never reused.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  ;; Every free is logged: the ticket id's block, and nothing else.
  (func (export "ohd_free") (param $ptr i32) (param $size i32)
    (if (local.get $ptr)
      (then (call $log (i32.const 1024) (i32.const 13) (i32.const 1)))
      (else (call $log (i32.const 1040) (i32.const 10) (i32.const 1)))))
  (func (export "on_event") (param $ptr i32) (param $len i32))
  (func (export "render_panel") (param $id_ptr i32) (param $id_len i32) (result i32 i32)
    (i32.const 0) (i32.const 0))
  (data (i32.const 1024) "free: a block")
  (data (i32.const 1040) "free: null")
)
