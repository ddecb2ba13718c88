;; What a worker's wasm does that needs the kernel: memory.grow (mprotect),
;; an out-of-bounds access (guard-page SIGSEGV, handler, siglongjmp), a
;; checked trap, deep recursion (the stack guard) and plain computation.
(module
  (memory 1 100)
  (func (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  (func (export "store_high") (param i32) (result i32)
    (i32.store (local.get 0) (i32.const 42))
    (i32.load (local.get 0)))
  (func (export "oob") (result i32)
    (i32.load (i32.const 0x7fff0000)))
  (func (export "div0") (param i32) (result i32)
    (i32.div_s (i32.const 1) (local.get 0)))
  (func $deep (export "deep") (param i32) (result i32)
    (call $deep (i32.add (local.get 0) (i32.const 1))))
  (func (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call 5 (i32.sub (local.get 0) (i32.const 1)))
                     (call 5 (i32.sub (local.get 0) (i32.const 2))))))))
