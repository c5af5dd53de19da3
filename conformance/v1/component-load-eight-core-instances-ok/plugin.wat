;; component-load-eight-core-instances-ok: A component declaring exactly 8 core instances loads.
(component
  (core module $empty)
  (core instance (instantiate $empty))
  (core instance (instantiate $empty))
  (core instance (instantiate $empty))
  (core instance (instantiate $empty))
  (core instance (instantiate $empty))
  (core instance (instantiate $empty))
  (core instance (instantiate $empty))
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "on-event") (param i32 i32)))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "payload" string)
    (canon lift (core func $i "on-event") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
)
