;; ownership-trap-skips-free: A trap in on_event skips the host's frees: the plugin's ohd_free is not called.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  ;; What on_event got, for the deallocator to compare with.
  (global $payload_ptr (mut i32) (i32.const -1))
  (global $payload_len (mut i32) (i32.const -1))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32)
    (if (i32.and (i32.eq (local.get $ptr) (global.get $payload_ptr))
                 (i32.eq (local.get $size) (global.get $payload_len)))
      (then (call $log (i32.const 1024) (i32.const 35) (i32.const 1)))
      (else (call $log (i32.const 1064) (i32.const 20) (i32.const 1)))))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $log (i32.const 1088) (i32.const 19) (i32.const 3))
    (unreachable)
  )
  (data (i32.const 1024) "free: the payload, same ptr and len")  ;; same: 35 bytes
  (data (i32.const 1064) "free: something else")  ;; other: 20 bytes
  (data (i32.const 1088) "on_event: giving up")  ;; trapping: 19 bytes
)
