;; The second segment ends one byte past the memory: a trap after the first
;; was written.
(module
  (import "env" "mem" (memory 1))
  (data (i32.const 0) "first")
  (data (i32.const 65535) "xx")
  (data (i32.const 100) "never"))
