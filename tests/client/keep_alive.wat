;; A plugin-style reactor for keep-alive tests: no _start; _initialize sets
;; the state that later calls build on.
(module
  (global $n (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $n (i32.const 41)))
  (func (export "bump") (result i32)
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (global.get $n))
  (func (export "scale") (param i64 f64) (result f64)
    (f64.mul (f64.convert_i64_s (local.get 0)) (local.get 1)))
  (func (export "spin") (loop (br 0))))
