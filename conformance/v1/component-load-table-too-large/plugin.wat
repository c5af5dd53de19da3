;; component-load-table-too-large: A component whose core module has a table of 20 001 elements is refused: table.
(component
  (core module $m
    (memory (export "memory") 1) (table 20001 funcref)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "on-event") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "payload" string)
    (canon lift (core func $i "on-event") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
)
