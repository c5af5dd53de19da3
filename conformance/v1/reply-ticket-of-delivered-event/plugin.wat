;; reply-ticket-of-delivered-event: The ticket that replies may go to is the one of the event delivered: with another event's ticket, the sample ticket id gets 2 and the event's gets 0.
(module
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
    (drop (call $reply (i32.const 1024) (i32.const 92)))
    (drop (call $reply (i32.const 1116) (i32.const 95)))
  )
  (data (i32.const 1024) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"body\":\"to the sample ticket\",\"is_internal\":false}")  ;; sample: 92 bytes
  (data (i32.const 1116) "{\"ticket_id\":\"01JR5T7V9X1Z3B5D7F9H1K3M5P\",\"body\":\"to the delivered ticket\",\"is_internal\":false}")  ;; delivered: 95 bytes
)
