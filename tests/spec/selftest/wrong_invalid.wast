;; Runner self-test: this module is valid, yet declared invalid. The runner
;; must report one failure and exit 1.
(assert_invalid (module (func)) "type mismatch")
