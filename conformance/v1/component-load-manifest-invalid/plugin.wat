;; component-load-manifest-invalid: A component's own manifest is judged as a core module's: a version that is not semver is refused: manifest.
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
  (func (export "on-event") (param i32 i32))
)
