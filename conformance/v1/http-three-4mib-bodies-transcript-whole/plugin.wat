;; http-three-4mib-bodies-transcript-whole: Three responses of 4 MiB less one byte each (three-byte characters, under the response cap so that the cap does not decide the case): each is delivered whole, and the transcript (over 12 MiB) reaches the runner whole, which a driver that exits before its output is flushed fails.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 210)
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
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $log_u32 (call $request (i32.const 1024) (i32.const 50)))
    (call $log_u32 (i32.load (i32.const 516)))
    (call $log_u32 (call $request (i32.const 1024) (i32.const 50)))
    (call $log_u32 (i32.load (i32.const 516)))
    (call $log_u32 (call $request (i32.const 1024) (i32.const 50)))
    (call $log_u32 (i32.load (i32.const 516)))
  )
  (data (i32.const 1024) "{\"method\":\"GET\",\"url\":\"https://api.example.com/x\"}")  ;; req: 50 bytes
)
