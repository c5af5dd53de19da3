;; component-load-unknown-host-function: A component importing a function the host interface does not have is refused: unknown_import.
(component
  (import "ohd:plugin/host@1.0.0" (instance (export "teleport" (func))))
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "on-event") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "payload" string)
    (canon lift (core func $i "on-event") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
)
