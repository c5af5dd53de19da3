(module
  ;; With the default 64 MiB memory limit, memory.grow from 2 to 1025 pages returns -1 and the memory keeps its size.
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
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (local $old i32)
    (local.set $old (memory.grow (i32.const 1023)))
    (if (i32.and (i32.eq (local.get $old) (i32.const -1))
                 (i32.eq (memory.size) (i32.const 2)))
      (then
        (call $ohd_log (i32.const 1024) (i32.const 60) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1088) (i32.const 72) (i32.const 1)))))
  (data (i32.const 1024) "memory.grow past the limit returned -1, memory still 2 pages")
  (data (i32.const 1088) "memory.grow past the limit did not return -1, or the memory changed size")
)
