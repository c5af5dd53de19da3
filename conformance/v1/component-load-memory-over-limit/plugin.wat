;; component-load-memory-over-limit: A component whose core module's memory starts above the memory limit (1025 pages, over 64 MiB) is refused: memory_limit.
(component
  (core module $m
    (memory (export "memory") 1025)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "on-event") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "payload" string)
    (canon lift (core func $i "on-event") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
)
