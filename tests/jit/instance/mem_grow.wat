(module (memory 1 3))
