;; A table owner with a function that calls through it (linking.wast's Mt).
(module
  (type $r (func (result i32)))
  (table (export "tab") 10 funcref)
  ;; A trap site for the compiler (see start_trap.wat).
  (memory 1)
  (func $unused (drop (i32.load (i32.const 0))))
  (func (export "call") (param i32) (result i32)
    (call_indirect (type $r) (local.get 0))))
