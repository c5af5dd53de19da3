;; http-empty-body: An empty response body is written as (0, 0) and nothing is allocated: the plugin logs what it found.
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
    (local $heap_before i32)
    (local.set $heap_before (global.get $heap))
    (drop (call $request (i32.const 1024) (i32.const 50)))
    (if (i32.and (i32.eqz (i32.load (i32.const 512))) (i32.eqz (i32.load (i32.const 516))))
      (then (call $log (i32.const 1080) (i32.const 12) (i32.const 1)))
      (else (call $log (i32.const 1096) (i32.const 10) (i32.const 1))))
    (if (i32.eq (global.get $heap) (local.get $heap_before))
      (then (call $log (i32.const 1112) (i32.const 17) (i32.const 1)))
      (else (call $log (i32.const 1136) (i32.const 24) (i32.const 1))))
  )
  (data (i32.const 1024) "{\"method\":\"GET\",\"url\":\"https://api.example.com/x\"}")  ;; req: 50 bytes
  (data (i32.const 1080) "ptr 0, len 0")  ;; zero: 12 bytes
  (data (i32.const 1096) "not (0, 0)")  ;; notzero: 10 bytes
  (data (i32.const 1112) "nothing allocated")  ;; noalloc: 17 bytes
  (data (i32.const 1136) "the allocator was called")  ;; alloc: 24 bytes
)
