(module
  ;; table.grow from 1 to 20 001 elements, past the 20 000 limit, returns -1.
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; A bump allocator: the heap starts at 64 KiB (the second page) and is never freed.
  (global $heap (mut i32) (i32.const 65536))
  (func $alloc (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $size))
                  (i32.shl (memory.size) (i32.const 16)))
      (then (return (i32.const 0))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (table $t 1 funcref)
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (if (i32.eq (table.grow $t (ref.null func) (i32.const 20000)) (i32.const -1))
      (then
        (call $ohd_log (i32.const 1024) (i32.const 43) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1072) (i32.const 49) (i32.const 1)))))
  (data (i32.const 1024) "table.grow past 20 000 elements returned -1")
  (data (i32.const 1072) "table.grow past 20 000 elements did not return -1")
)
