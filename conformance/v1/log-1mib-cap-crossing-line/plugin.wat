;; log-1mib-cap-crossing-line: 65 lines of 16,000 bytes are 1,040,000 bytes, under
;; 1 MiB (1,048,576); the 66th would go past it and is dropped, and so is the short
;; line after it, although it alone would still fit.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (local $i i32)
    (memory.fill (i32.const 8192) (i32.const 0x62) (i32.const 16000))
    (loop $again
      (call $log (i32.const 8192) (i32.const 16000) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 66))))
    (call $log (i32.const 1024) (i32.const 5) (i32.const 1)))
  (data (i32.const 1024) "short"))
