"""How tile workers start: forked from a forkserver that already imported the readers and the main script's imports."""

from __future__ import annotations

import os
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from aignostics_jupyter.slides import _worker, service
from aignostics_jupyter.slides.service import worker_context


@pytest.mark.unit
def test_the_main_scripts_imports_are_read_from_its_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "jupyter-like"
    script.write_text(
        "#!/usr/bin/env python\n"
        "from __future__ import annotations\n"
        "import sys, json as j\n"
        "from jupyter_server.serverapp import main\n"
        "from . import relative\n"
        "def f():\n    import not_top_level\n"
        "if __name__ == '__main__':\n    import guarded\n    sys.exit(main())\n"
    )
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert service._main_imports() == ["json", "jupyter_server.serverapp", "sys"]


@pytest.mark.unit
@pytest.mark.parametrize("content", [None, "def broken(:\n", b"\xff\xfe\x00binary"])
def test_a_main_without_readable_source_preloads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | bytes | None
) -> None:
    main = types.ModuleType("__main__")
    if content is not None:
        script = tmp_path / "main.py"
        if isinstance(content, bytes):
            script.write_bytes(content)
        else:
            script.write_text(content)
        main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert service._main_imports() == []


@pytest.mark.integration
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to see the forkserver's preload list")
def test_workers_are_forked_from_a_forkserver_that_preloaded_the_readers() -> None:
    with ProcessPoolExecutor(1, mp_context=worker_context()) as pool:
        worker_pid = pool.submit(_worker.ping).result(timeout=60)
        parent = pool.submit(os.getppid).result(timeout=60)
    assert worker_pid != os.getpid()
    assert parent != os.getpid()  # not a child of ours: forked by the forkserver, never from this process
    command = Path(f"/proc/{parent}/cmdline").read_bytes().decode(errors="replace")
    assert "multiprocessing.forkserver" in command
    assert "aignostics_jupyter.slides._worker" in command
