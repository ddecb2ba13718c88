;; Runner self-test: the module is malformed (it ends after the magic number)
;; but the expected text is wrong. The runner must report one failure.
(assert_malformed (module binary "\00asm") "deliberately wrong expected text")
