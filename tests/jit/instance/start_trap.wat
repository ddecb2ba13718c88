;; The start function traps: instantiation fails with the trap. (The memory
;; load gives the compiler a trap site: with none, compile.c passed NULL to
;; qsort, which UBSan rejects; see the runtime report.)
(module
  (memory 1)
  (func $s (drop (i32.load (i32.const 0))) unreachable)
  (start $s))
