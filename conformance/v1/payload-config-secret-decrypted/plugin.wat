(module
  ;; A secret config value is passed decrypted in the payload's config (the plugin looks for it and logs a verdict, never the value).
  (import "ohd" "ohd_log" (func $ohd_log (param i32 i32 i32)))
  ;; The payload is logged whole: the heap (from 64 KiB) has 64 KiB for it.
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
  ;; Is the secret's plain text somewhere in the payload? A naive search.
  (func $contains (param $hay i32) (param $hay_len i32) (param $needle i32) (param $needle_len i32) (result i32)
    (local $i i32)
    (local $j i32)
    (block $not_found
      (loop $next_start
        (br_if $not_found (i32.gt_u (i32.add (local.get $i) (local.get $needle_len)) (local.get $hay_len)))
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $next_byte
            (if (i32.eq (local.get $j) (local.get $needle_len))
              (then (return (i32.const 1))))
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (local.get $hay) (i32.add (local.get $i) (local.get $j))))
                      (i32.load8_u (i32.add (local.get $needle) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $next_byte)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next_start)))
    (i32.const 0))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (if (call $contains (local.get $ptr) (local.get $len) (i32.const 1024) (i32.const 17))
      (then
        (call $ohd_log (i32.const 1048) (i32.const 41) (i32.const 1)))
      (else
        (call $ohd_log (i32.const 1096) (i32.const 49) (i32.const 1)))))
  (data (i32.const 1024) "s3cr3t-T0ken-4471")
  (data (i32.const 1048) "the payload holds the secret's plain text")
  (data (i32.const 1096) "the payload does not hold the secret's plain text")
)
