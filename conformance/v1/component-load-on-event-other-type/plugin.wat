;; component-load-on-event-other-type: A component exporting on-event with another type is refused: export_signature.
(component
  (core module $m (func (export "f") (param i32)))
  (core instance $i (instantiate $m))
  (func (export "on-event") (param "n" u32) (canon lift (core func $i "f")))
)
