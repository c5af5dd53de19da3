;; log-truncate-char-boundary: A line over 16 KiB whose 16 KiB mark falls inside a character is cut before that character.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; A bump allocator: blocks from 64 KiB up, never reused.
  (global $heap (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "ohd_free") (param $ptr i32) (param $size i32))
  (func (export "on_event") (param $ptr i32) (param $len i32)
    ;; Build the large buffer(s).
    (memory.fill (i32.const 8192) (i32.const 0x61) (i32.const 16383))  ;; line: 16383 x 'a'
    (call $log (i32.const 8192) (i32.const 16483) (i32.const 1))
  )
  (data (i32.const 24575) "\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9\c3\a9")  ;; line, at +16383
)
