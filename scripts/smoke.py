#!/usr/bin/env python3
"""Prove auth, connectivity and the write path against the configured platform.

Exit 0 green, 2 when writing was not possible (with a notice), 1 red. ``--verbose`` prints what it discovered.
The same as ``aignostics-jupyter smoke``; see :mod:`aignostics_jupyter.smoke`.
"""

from __future__ import annotations

import sys

from aignostics_jupyter.smoke import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
