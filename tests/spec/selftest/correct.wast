;; Runner self-test: every expectation here is right, one command of each
;; kind. The runner must pass 4, fail none and skip 1 (the text format).
(module (func (export "f") (result i32) (i32.const 1)))
(assert_return (invoke "f") (i32.const 1))
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_malformed (module quote "(func") "unexpected token")
