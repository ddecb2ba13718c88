;; Runner self-test: wrong expectations about execution. The module is
;; fine; each assertion after it is wrong and must be reported as a failure.
(module
  (func (export "one") (result i32) (i32.const 1))
  (func (export "trap") (unreachable)))
(assert_return (invoke "one") (i32.const 2))
(assert_trap (invoke "one") "unreachable")
(assert_trap (invoke "trap") "integer divide by zero")
