;; The same bytes, one offset from an imported global (65534): copy path.
(module
  (import "env" "g" (global i32))
  (memory (export "mem") 2)
  (data (i32.const 0) "abc")
  (data (global.get 0) "xyzw")
  (data (i32.const 1) "Z")
  (data "passive")
  (data (i32.const 131070) "!!"))
