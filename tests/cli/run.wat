;; Module for the `sbx run` CLI tests.
(module
  (func $add (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func $div (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $spin (export "spin") (loop (br 0)))
  (func (export "pair") (param i64 f64) (result f64 i64)
    (local.get 1) (local.get 0)))
