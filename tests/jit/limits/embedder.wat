;; For the embedder's per-instance options: a start function, memory.grow
;; of an unbounded memory, and recursion of a chosen depth.
(module
  (memory 2)
  (global $started (mut i32) (i32.const 0))
  (func $start (global.set $started (i32.add (global.get $started) (i32.const 1))))
  (start $start)
  (func (export "started") (param i32) (result i32) (global.get $started))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func $rec (export "recurse") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get 0) (i32.const 1))))))))
