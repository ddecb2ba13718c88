(module (memory (export "mem") 2))
