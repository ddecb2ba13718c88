;; Writes $f into an imported table, then traps on a data segment: $f must
;; stay callable through the table (linking.wast).
(module
  (import "env" "tab" (table 10 funcref))
  (func $f (result i32) (i32.const 77))
  ;; A trap site for the compiler (see start_trap.wat).
  (func $unused (drop (i32.load (i32.const 0))))
  (elem (i32.const 7) $f)
  (memory 0)
  (data (i32.const 0x10000) "d"))
