;; An empty segment one byte past the end traps.
(module (memory 1) (data (i32.const 65537) ""))
