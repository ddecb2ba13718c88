;; Every import kind, for the link-error tests.
(module
  (import "env" "f" (func (param i32) (result i32)))
  (import "env" "t" (table 2 10 funcref))
  (import "env" "m" (memory 1 4))
  (import "env" "g" (global i32))
  (import "env" "gm" (global (mut i64))))
