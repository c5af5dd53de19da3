;; component-http-invalid-url: An http-request whose URL is not an absolute http(s) URL is not sent: err(invalid-request).
;; A core module, encoded by the runner as a component of the world `plugin`.
(module
  (import "ohd:plugin/host@1.0.0" "log" (func $log (param i32 i32 i32)))
  (import "ohd:plugin/host@1.0.0" "http-request" (func $http (param i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ohd:plugin/host@1.0.0" "add-reply" (func $reply (param i32 i32 i32 i32 i32 i32)))
  (import "ohd:plugin/host@1.0.0" "set-custom-field" (func $field (param i32 i32 i32 i32 i32 i32 i32)))
  (memory (export "memory") 4)
  ;; The canonical ABI's allocator: a bump from 192 KiB up, never freed.
  (global $heap (mut i32) (i32.const 196608))
  (func (export "cabi_realloc") (param i32 i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $size)) (i32.shl (memory.size) (i32.const 16)))
      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))) (i32.const -1))
        (then unreachable))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  ;; Logs a result<_, call-error> stored at $ret at info: "ok", or the call-error case's
  ;; index as one digit (invalid-request 0, wrong-ticket 1, too-large 2, not-available 3).
  (func $log_result (param $ret i32)
    (if (i32.eqz (i32.load8_u (local.get $ret)))
      (then (call $log (i32.const 1) (i32.const 900) (i32.const 2)))
      (else
        (i32.store8 (i32.const 910) (i32.add (i32.const 48) (i32.load8_u (i32.add (local.get $ret) (i32.const 1)))))
        (call $log (i32.const 1) (i32.const 910) (i32.const 1)))))
  (data (i32.const 900) "ok")
  ;; Sends a request: method $m (the WIT enum's index), the URL at 1024 ($n bytes), no
  ;; headers, no body; the result<response, request-error> goes to 2048.
  (func $send (param $m i32) (param $n i32)
    (call $http (local.get $m) (i32.const 1024) (local.get $n)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 2048)))
  ;; Logs at info what the plugin was given: for a response, its status as three digits,
  ;; then its body; for a request-error, "error " and the case's index at warn, then for
  ;; host-not-allowed the refused host it carries.
  (func $report
    (local $st i32)
    (if (i32.eqz (i32.load8_u (i32.const 2048)))
      (then
        (local.set $st (i32.load16_u (i32.const 2052)))
        (i32.store8 (i32.const 1900) (i32.add (i32.const 48) (i32.div_u (local.get $st) (i32.const 100))))
        (i32.store8 (i32.const 1901) (i32.add (i32.const 48) (i32.rem_u (i32.div_u (local.get $st) (i32.const 10)) (i32.const 10))))
        (i32.store8 (i32.const 1902) (i32.add (i32.const 48) (i32.rem_u (local.get $st) (i32.const 10))))
        (call $log (i32.const 1) (i32.const 1900) (i32.const 3))
        (call $log (i32.const 1) (i32.load (i32.const 2056)) (i32.load (i32.const 2060))))
      (else
        (i32.store8 (i32.const 1916) (i32.add (i32.const 48) (i32.load8_u (i32.const 2052))))
        (call $log (i32.const 2) (i32.const 1910) (i32.const 7))
        (if (i32.eqz (i32.load8_u (i32.const 2052)))
          (then (call $log (i32.const 2) (i32.load (i32.const 2056)) (i32.load (i32.const 2060))))))))
  (data (i32.const 1910) "error ?")
  (func (export "on-event") (param i32 i32)
    (call $send (i32.const 0) (i32.const 23)) (call $report))
  (data (i32.const 1024) "ftp://hooks.example.com")
)
