;; The second element segment overruns the table: a trap after the first
;; was written, and before any data segment.
(module
  (import "env" "t" (table 5 funcref))
  (import "env" "mem" (memory 1))
  (func $f)
  (elem (i32.const 0) $f)
  (elem (i32.const 4) $f $f)
  (data (i32.const 0) "data"))
