;; http-methods-all: GET, HEAD, POST, PUT, PATCH and DELETE are all sent as given.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
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
  (func (export "on_event") (param $ptr i32) (param $len i32)
    (drop (call $request (i32.const 1024) (i32.const 50)))
    (drop (call $request (i32.const 1080) (i32.const 51)))
    (drop (call $request (i32.const 1136) (i32.const 51)))
    (drop (call $request (i32.const 1192) (i32.const 50)))
    (drop (call $request (i32.const 1248) (i32.const 52)))
    (drop (call $request (i32.const 1304) (i32.const 53)))
  )
  (data (i32.const 1024) "{\"method\":\"GET\",\"url\":\"https://api.example.com/x\"}")  ;; get: 50 bytes
  (data (i32.const 1080) "{\"method\":\"HEAD\",\"url\":\"https://api.example.com/x\"}")  ;; head: 51 bytes
  (data (i32.const 1136) "{\"method\":\"POST\",\"url\":\"https://api.example.com/x\"}")  ;; post: 51 bytes
  (data (i32.const 1192) "{\"method\":\"PUT\",\"url\":\"https://api.example.com/x\"}")  ;; put: 50 bytes
  (data (i32.const 1248) "{\"method\":\"PATCH\",\"url\":\"https://api.example.com/x\"}")  ;; patch: 52 bytes
  (data (i32.const 1304) "{\"method\":\"DELETE\",\"url\":\"https://api.example.com/x\"}")  ;; delete: 53 bytes
)
