;; The trivial module the spawn benchmark runs: an empty export.
(module (func (export "nop")))
