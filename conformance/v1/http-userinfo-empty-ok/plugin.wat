;; http-userinfo-empty-ok: `https://@api.example.com/x` and `https://:@api.example.com/x` have no user name and no password once parsed by the URL Standard: both are sent as `https://api.example.com/x`.
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
    (drop (call $request (i32.const 1024) (i32.const 51)))
    (drop (call $request (i32.const 1100) (i32.const 52)))
  )
  (data (i32.const 1024) "{\"method\":\"GET\",\"url\":\"https://@api.example.com/x\"}")  ;; empty user info: 51 bytes
  (data (i32.const 1100) "{\"method\":\"GET\",\"url\":\"https://:@api.example.com/x\"}")  ;; empty user and password: 52 bytes
)
