"""``python -m aignostics_jupyter.emulator``: the same as ``aignostics-jupyter local serve``."""

from __future__ import annotations

import sys

from aignostics_jupyter.emulator.serve import main

if __name__ == "__main__":
    sys.exit(main())
