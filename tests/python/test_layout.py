"""
The ctypes mirror of cand.h against the C compiler's view of it: every
structure's size and every field's offset and size, nested ones included,
so a change to cand.h cannot silently misread memory.
"""

import ctypes
import os
import subprocess
import tempfile
import unittest

from can_cand import _lib
from helpers import REPO

STRUCTS = {
    "cand_frame": _lib.Frame,
    "cand_filter": _lib.Filter,
    "cand_options": _lib.Options,
    "cand_iface": _lib.Iface,
    "cand_task_info": _lib.TaskInfo,
    "cand_bus_config": _lib.BusConfig,
    "cand_bus_state": _lib.BusState,
    "cand_bus_change": _lib.BusChange,
    "cand_bus_configured": _lib.BusConfigured,
    "cand_event": _lib.Event,
}


def leaves(cls, prefix="", base=0):
    """(C member path, offset, size) of every field, through nested
    structures; the anonymous union of cand_event has no name in C."""
    for name, ctype, *_ in cls._fields_:
        field = getattr(cls, name)
        path = prefix if name in getattr(cls, "_anonymous_", ()) else f"{prefix}{name}."
        if isinstance(ctype, type) and issubclass(ctype, (ctypes.Structure, ctypes.Union)):
            yield from leaves(ctype, path, base + field.offset)
        else:
            yield path[:-1], base + field.offset, field.size


class Layout(unittest.TestCase):
    RUN_AS = "user"

    def test_matches_cand_h(self):
        want = []
        lines = []
        for cname, cls in STRUCTS.items():
            want.append(f"{cname} {ctypes.sizeof(cls)}")
            lines.append(f'\tprintf("{cname} %zu\\n", sizeof(struct {cname}));')
            for path, off, size in leaves(cls):
                want.append(f"{cname}.{path} {off} {size}")
                lines.append(
                    f'\tprintf("{cname}.{path} %zu %zu\\n", offsetof(struct {cname}, {path}), '
                    f"sizeof(((struct {cname} *)0)->{path}));"
                )
        src = '#include <stddef.h>\n#include <stdio.h>\n#include "cand.h"\nint main(void)\n{\n'
        src += "\n".join(lines) + "\n\treturn 0;\n}\n"
        tmp = tempfile.mkdtemp(prefix="cand-py-layout.")
        with open(os.path.join(tmp, "layout.c"), "w") as f:
            f.write(src)
        exe = os.path.join(tmp, "layout")
        cc = subprocess.run(
            [
                "cc",
                "-std=gnu11",
                "-I",
                os.path.join(REPO, "client"),
                "-o",
                exe,
                os.path.join(tmp, "layout.c"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(cc.returncode, 0, cc.stderr)
        got = subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split("\n")
        self.assertEqual(got[:-1], want)
