;; http-request-over-1mib-non-ascii: Request JSON one byte over 1 MiB in UTF-8 bytes, its body two-byte characters (fewer than 1 Mi characters): status 0, invalid_request, nothing sent; the plugin reads the error body.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 24)
  ;; A bump allocator: blocks from 64 KiB up, never reused.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  ;; Out-pointers for ohd_http_request at 512 (body ptr) and 516 (body len), set to
  ;; 0xdeadbeef before each call so that what the host writes shows.
  (func $request (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 512) (i32.const 0xdeadbeef))
    (i32.store (i32.const 516) (i32.const 0xdeadbeef))
    (call $http (local.get $ptr) (local.get $len) (i32.const 512) (i32.const 516)))
  ;; Logs the response body the plugin received, at info.
  (func $echo
    (call $log (i32.load (i32.const 512)) (i32.load (i32.const 516)) (i32.const 1)))
  ;; Logs a number in decimal, at info: the plugin's own account of a status or a
  ;; length, so that the transcript holds what the plugin saw, not what the host says.
  (func $log_u32 (param $n i32)
    (local $p i32)
    (local.set $p (i32.const 500))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (local.get $n)))
    (call $log (local.get $p) (i32.sub (i32.const 500) (local.get $p)) (i32.const 1)))
  ;; Writes `count` times the two-byte character é (C3 A9) from `at`.
  (func $fill_e_acute (param $at i32) (param $count i32)
    (loop $again
      (if (local.get $count)
        (then
          (i32.store16 (local.get $at) (i32.const 0xa9c3))
          (local.set $at (i32.add (local.get $at) (i32.const 2)))
          (local.set $count (i32.sub (local.get $count) (i32.const 1)))
          (br $again)))))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (local $n i32)
    (memory.init $prefix (i32.const 131072) (i32.const 0) (i32.const 59))
    (local.set $n (i32.const 59))
    (call $fill_e_acute (i32.add (i32.const 131072) (local.get $n)) (i32.const 524258))
    (local.set $n (i32.add (local.get $n) (i32.const 1048516)))
    (i32.store16 (i32.add (i32.const 131072) (local.get $n)) (i32.const 0x7d22))
    (local.set $n (i32.add (local.get $n) (i32.const 2)))
    (call $log_u32 (call $request (i32.const 131072) (local.get $n)))
    (call $echo)
  )
  (data $prefix "{\"method\":\"POST\",\"url\":\"https://api.example.com/x\",\"body\":\"")
)
