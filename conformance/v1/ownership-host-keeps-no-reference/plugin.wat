;; ownership-host-keeps-no-reference: The host reads a buffer during the call only: the plugin overwrites its log line and reply JSON right after, and the host kept what they held.
(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (import "ohd" "ohd_add_reply" (func $reply (param i32 i32) (result i32)))
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
    (call $log (i32.const 1024) (i32.const 14) (i32.const 1))
    (memory.fill (i32.const 1024) (i32.const 0x78) (i32.const 14))
    (drop (call $reply (i32.const 1040) (i32.const 91)))
    (memory.fill (i32.const 1040) (i32.const 0x78) (i32.const 91))
    (call $log (i32.const 1024) (i32.const 14) (i32.const 1))
  )
  (data (i32.const 1024) "the first line")  ;; line: 14 bytes
  (data (i32.const 1040) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"body\":\"the reply as passed\",\"is_internal\":false}")  ;; json: 91 bytes
)
