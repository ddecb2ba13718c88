;; Self-check: unbounded recursion exhausts the stack in both engines (at
;; different depths, so the logs during the call differ); the comparison
;; must stop there and agree.
(module
  (import "fuzzing-support" "log-i32" (func $log_i32 (param i32)))
  (global $n (mut i32) (i32.const 0))
  (func $r (export "recurse")
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (if (i32.eqz (i32.and (global.get $n) (i32.const 1023)))
      (then (call $log_i32 (global.get $n))))
    (call $r))
  (func (export "depth") (result i32) (global.get $n))
)
