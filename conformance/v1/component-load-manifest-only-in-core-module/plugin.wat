;; component-load-manifest-only-in-core-module: A manifest in a core module of the component, not in the component itself, is not read: manifest_missing.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "on-event") (param i32 i32))
    (@custom "ohd_manifest" "{\"id\": \"org.example.conformance.component-load-manifest-only-in-core-module\", \"name\": \"Conformance component-load-manifest-only-in-core-module\", \"version\": \"1.0.0\", \"description\": \"x\", \"events\": [\"ticket.created\"]}"))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "payload" string)
    (canon lift (core func $i "on-event") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
)
