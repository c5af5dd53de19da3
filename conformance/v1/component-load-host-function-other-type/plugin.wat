;; component-load-host-function-other-type: A component importing log with another type than the WIT's is refused: import_signature.
(component
  (import "ohd:plugin/host@1.0.0" (instance (export "log" (func (param "message" string)))))
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "on-event") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "payload" string)
    (canon lift (core func $i "on-event") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
)
