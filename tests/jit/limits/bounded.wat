;; A memory with its own maximum (3 pages).
(module
  (memory 1 3)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
