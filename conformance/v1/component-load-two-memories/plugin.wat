;; component-load-two-memories: A component whose core module defines two memories is refused: memory.
(component
  (core module $m
    (memory (export "memory") 1) (memory $second 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "on-event") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "payload" string)
    (canon lift (core func $i "on-event") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
)
