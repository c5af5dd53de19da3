;; component-load-other-major-version: A component importing ohd:plugin/host@2.0.0 (another ABI version) is refused: foreign_import.
(component
  (import "ohd:plugin/host@2.0.0" (instance (export "log" (func (param "message" string)))))
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "on-event") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "payload" string)
    (canon lift (core func $i "on-event") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
)
