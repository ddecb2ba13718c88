#!/usr/bin/env python3
"""Fill in or check the expected bytes of tests/jit/x64_golden.def.

Each ROW's assembly text is assembled on its own with GNU as (Intel syntax,
no register prefix) and the .text section's bytes are compared with the
row's byte string. With --write, the byte strings are replaced by what the
assembler produced. Run from anywhere; needs binutils (as, objcopy)."""
import os
import re
import subprocess
import sys
import tempfile

DEF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "x64_golden.def")
ROW = re.compile(r'ROW\((\w+),\s*"((?:[^"\\]|\\.)*)",\s*"((?:\\x[0-9a-f]{2})*)"')


def assemble(text, tmp):
    src, obj, binf = (os.path.join(tmp, n) for n in ("t.s", "t.o", "t.bin"))
    with open(src, "w") as f:
        f.write(".intel_syntax noprefix\n" + text + "\n")
    subprocess.run(["as", "--64", "-o", obj, src], check=True)
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", obj, binf], check=True)
    with open(binf, "rb") as f:
        return f.read()


def main():
    write = "--write" in sys.argv[1:]
    with open(DEF) as f:
        src = f.read()
    bad = 0
    out, last = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for m in ROW.finditer(src):
            name, text, have = m.groups()
            want = "".join("\\x%02x" % b for b in assemble(text, tmp))
            if want != have:
                bad += 1
                print("%s: %s: have \"%s\", as says \"%s\"" % (name, text, have, want))
            out.append(src[last:m.start(3)] + want)
            last = m.end(3)
    out.append(src[last:])
    if write:
        with open(DEF, "w") as f:
            f.write("".join(out))
    print("%d rows differ%s" % (bad, " (rewritten)" if write and bad else ""))
    return 1 if bad and not write else 0


if __name__ == "__main__":
    sys.exit(main())
