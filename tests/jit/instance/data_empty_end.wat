;; An empty segment exactly at the end is in bounds.
(module (memory 1) (data (i32.const 65536) ""))
