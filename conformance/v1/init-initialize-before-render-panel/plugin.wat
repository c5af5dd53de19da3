(module
  ;; For render_panel too, _initialize runs once before the host allocates the ticket id and calls render_panel.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $inits (mut i32) (i32.const 0))
  (func (export "_initialize")
    (global.set $inits (i32.add (global.get $inits) (i32.const 1)))
    (call $ohd_log (i32.const 1024) (i32.const 18) (i32.const 1)))
  ;; A bump allocator at 64 KiB that reports, when called, whether the setup ran before it.
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (if (i32.eq (global.get $inits) (i32.const 1))
      (then
        (call $ohd_log (i32.const 1048) (i32.const 38) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1088) (i32.const 54) (i32.const 1))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
  (func (export "render_panel") (param $id_ptr i32) (param $id_len i32) (result i32 i32)
    (if (i32.eq (global.get $inits) (i32.const 1))
      (then
        (call $ohd_log (i32.const 1144) (i32.const 41) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1192) (i32.const 57) (i32.const 1))))
    (i32.const 0) (i32.const 0))
  (data (i32.const 1024) "_initialize called")
  (data (i32.const 1048) "ohd_alloc: _initialize ran once before")
  (data (i32.const 1088) "ohd_alloc: _initialize did not run exactly once before")
  (data (i32.const 1144) "render_panel: _initialize ran once before")
  (data (i32.const 1192) "render_panel: _initialize did not run exactly once before")
)
