;; ownership-error-body-from-plugin-allocator: A host error body (here for a refused request) is also allocated with the plugin's allocator and left to the plugin.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  ;; What on_event got, for the deallocator to compare with.
  (global $payload_ptr (mut i32) (i32.const -1))
  (global $payload_len (mut i32) (i32.const -1))
  ;; Out-pointers for ohd_http_request at 512 (body ptr) and 516 (body len), set to
  ;; 0xdeadbeef before each call so that what the host writes shows.
  (func $request (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 512) (i32.const 0xdeadbeef))
    (i32.store (i32.const 516) (i32.const 0xdeadbeef))
    (call $http (local.get $ptr) (local.get $len) (i32.const 512) (i32.const 516)))
  ;; Logs the response body the plugin received, at info.
  (func $echo
    (call $log (i32.load (i32.const 512)) (i32.load (i32.const 516)) (i32.const 1)))
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
    (local $before i32)
    (global.set $payload_ptr (local.get $ptr))
    (global.set $payload_len (local.get $len))
    (local.set $before (global.get $heap))
    (drop (call $request (i32.const 1176) (i32.const 46)))
    (if (i32.and (i32.eq (i32.load (i32.const 512)) (local.get $before))
                 (i32.eq (global.get $heap) (i32.add (local.get $before) (i32.load (i32.const 516)))))
      (then (call $log (i32.const 1088) (i32.const 41) (i32.const 1)))
      (else (call $log (i32.const 1136) (i32.const 39) (i32.const 1))))
  )
  (data (i32.const 1024) "free: the payload, same ptr and len")  ;; same: 35 bytes
  (data (i32.const 1064) "free: something else")  ;; other: 20 bytes
  (data (i32.const 1088) "the error body is a block of my allocator")  ;; mine: 41 bytes
  (data (i32.const 1136) "the error body is not from my allocator")  ;; notmine: 39 bytes
  (data (i32.const 1176) "{\"method\":\"GET\",\"url\":\"https://evil.example/\"}")  ;; req: 46 bytes
)
