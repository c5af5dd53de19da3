;; ownership-response-body-plugin-owned: The plugin owns an HTTP response body: the host never frees it (its ohd_free is called for the payload only).
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
    (global.set $payload_ptr (local.get $ptr))
    (global.set $payload_len (local.get $len))
    (drop (call $request (i32.const 1128) (i32.const 50)))
    (call $log (i32.const 1088) (i32.const 39) (i32.const 1))
  )
  (data (i32.const 1024) "free: the payload, same ptr and len")  ;; same: 35 bytes
  (data (i32.const 1064) "free: something else")  ;; other: 20 bytes
  (data (i32.const 1088) "on_event: returning, the body not freed")  ;; returning: 39 bytes
  (data (i32.const 1128) "{\"method\":\"GET\",\"url\":\"https://api.example.com/x\"}")  ;; req: 50 bytes
)
