(module
  ;; A module whose memory is a 64-bit memory is refused with kind memory.
  (memory (export "memory") i64 2)
  ;; A bump allocator at 64 KiB (no bounds check: memory.size is an i64 here).
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32))
)
