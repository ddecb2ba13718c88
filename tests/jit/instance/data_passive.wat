(module
  (memory 1)
  (data "hello")
  (data (i32.const 100) "active"))
