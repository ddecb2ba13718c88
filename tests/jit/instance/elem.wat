(module
  (table $t (export "t") 10 funcref)
  (table $u (export "u") 1 2 externref)
  (func $a) (func $b) (func $c (result i32) i32.const 1)
  (elem (i32.const 2) $a $b)
  (elem funcref (ref.func $c) (ref.null func))
  (elem declare func $c)
  (elem (table $t) (i32.const 8) funcref (ref.func $c) (ref.null func)))
