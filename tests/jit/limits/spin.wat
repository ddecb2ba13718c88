;; Interruption tests: loops that never end, recursion that never ends, and
;; an out-of-bounds access two calls deep.
(module
  (memory 1)
  (func (export "spin") (loop (br 0)))
  (func (export "count") (param i32) (result i32) (local i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br 0)))
    (local.get 1))
  (func $down (export "recurse") (param i32) (result i32)
    (i32.add (call $down (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $peek (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "oob") (param i32) (result i32) (call $peek (local.get 0))))
