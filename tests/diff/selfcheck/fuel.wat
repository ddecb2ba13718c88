;; Self-check: sbx runs out of fuel in "spin"; node hangs there until the
;; harness's timeout. The comparison must stop at "spin" and agree.
(module
  (import "fuzzing-support" "log-i32" (func $log_i32 (param i32)))
  (func (export "before") (result i32) (call $log_i32 (i32.const 1)) (i32.const 2))
  (func (export "spin") (loop $l (br $l)))
  (func (export "after") (result i32) (i32.const 3))
)
