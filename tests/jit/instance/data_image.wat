;; Constant offsets that fit: the image path.
(module
  (memory (export "mem") 2)
  (data (i32.const 0) "abc")
  (data (i32.const 65534) "xyzw")
  (data (i32.const 1) "Z")
  (data "passive")
  (data (i32.const 131070) "!!"))
