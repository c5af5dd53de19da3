;; alloc-zero-for-response-body: An allocator that returns 0 for an HTTP response body fails the delivery; the failing call is not listed.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  ;; Out-pointers for ohd_http_request at 512 (body ptr) and 516 (body len), set to
  ;; 0xdeadbeef before each call so that what the host writes shows.
  (func $request (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 512) (i32.const 0xdeadbeef))
    (i32.store (i32.const 516) (i32.const 0xdeadbeef))
    (call $http (local.get $ptr) (local.get $len) (i32.const 512) (i32.const 516)))
  ;; Logs the response body the plugin received, at info.
  (func $echo
    (call $log (i32.load (i32.const 512)) (i32.load (i32.const 516)) (i32.const 1)))
  ;; Gives the payload its block, then 0 for everything after.
  (global $calls (mut i32) (i32.const 0))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.gt_u (global.get $calls) (i32.const 1)) (then (return (i32.const 0))))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (call $log (i32.const 1080) (i32.const 10) (i32.const 1))
    (drop (call $request (i32.const 1024) (i32.const 50)))
    (call $log (i32.const 1096) (i32.const 17) (i32.const 1))
  )
  (data (i32.const 1024) "{\"method\":\"GET\",\"url\":\"https://api.example.com/x\"}")  ;; req: 50 bytes
  (data (i32.const 1080) "requesting")  ;; before: 10 bytes
  (data (i32.const 1096) "after the request")  ;; after: 17 bytes
)
