"""No token anywhere: in any widget's state (every widget and child), in a saved notebook, or in logs.

A real kernel runs a notebook that logs in with the device flow, uses every magic and widget, with DEBUG logging
into the cell outputs; the notebook is saved with its widget state, then searched for the tokens of the cache.
"""

from __future__ import annotations

import logging
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from aignostics_jupyter.client import Authenticator
from aignostics_jupyter.emulator import LocalPlatform
from aignostics_jupyter.settings import get_settings
from aignostics_jupyter.widgets.app_browser import ApplicationBrowser
from aignostics_jupyter.widgets.login import LoginWidget
from aignostics_jupyter.widgets.run_browser import RunBrowser
from aignostics_jupyter.widgets.run_submitter import RunSubmitter
from tests.widgets import conftest_platform as fixtures
from tests.widgets.conftest_platform import all_widget_states

platform = fixtures.platform
platform_env = fixtures.platform_env
slides = fixtures.slides


def cached_tokens() -> list[str]:
    store = Authenticator(get_settings()).store
    access = store.read_access()
    refresh = store.read_refresh()
    assert access is not None
    assert refresh is not None
    return [access[0], refresh]


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_no_token_in_the_state_of_any_widget_or_in_logs(
    platform_env: LocalPlatform, slides: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    login = LoginWidget()
    login.login_button.click()
    assert login.wait(20)
    assert login.state == "logged_in"
    wizard = RunSubmitter(application_id="test-app", folder=slides)
    wizard.find_button.click()
    assert wizard.wait(20)
    wizard.submit_button.click()
    assert wizard.wait(30)
    assert wizard.monitor is not None, wizard.message
    assert wizard.monitor.wait(30)
    wizard.monitor.dest.value = str(tmp_path / "results")
    next(iter(wizard.monitor.rows.values())).view_button.click()
    assert wizard.monitor.wait(30)
    browser = RunBrowser()
    assert browser.wait(20)
    apps = ApplicationBrowser(application_id="he-tme")

    states = repr(all_widget_states())
    texts = states + caplog.text + repr([login, wizard, browser, apps, wizard.monitor])

    assert len(all_widget_states()) > 50
    for token in cached_tokens():
        assert token not in texts


NOTEBOOK = [
    "import logging, sys\nlogging.basicConfig(level=logging.DEBUG, stream=sys.stdout, force=True)",
    "%load_ext aignostics_jupyter",
    "login = %aignostics login\nlogin.wait(30)\nprint(login.state, login.message)\nlogin",
    "%aignostics whoami",
    "%aignostics apps",
    "run = %aignostics submit test-app SLIDES/case-1.tiff SLIDES/case-2.tiff --tag saved --wait\nrun",
    "monitor = %aignostics run {run.run_id}\nmonitor.wait(30)\nmonitor",
    "%aignostics runs --tags saved",
    "%aignostics download {run.run_id} RESULTS",
    (
        "from aignostics_jupyter.widgets.run_submitter import RunSubmitter\n"
        "wizard = RunSubmitter(application_id='he-tme', folder='SLIDES')\nwizard.find_slides()\nwizard.wait(30)\nwizard"
    ),
    "from aignostics_jupyter.widgets.app_browser import ApplicationBrowser\nApplicationBrowser()",
    "from aignostics_jupyter.widgets.run_browser import RunBrowser\nbrowser = RunBrowser()\nbrowser.wait(30)\nbrowser",
    "%aignostics system info",
    "%aignostics system health",
]


@pytest.mark.e2e
@pytest.mark.timeout(150)
def test_no_token_in_a_saved_notebook_or_its_logs(platform_env: LocalPlatform, slides: Path, tmp_path: Path) -> None:
    cells = [
        nbformat.v4.new_code_cell(c.replace("SLIDES", str(slides)).replace("RESULTS", str(tmp_path / "results")))
        for c in NOTEBOOK
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(
        notebook,
        timeout=90,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    saved = tmp_path / "saved.ipynb"
    nbformat.write(notebook, saved)
    text = saved.read_text()

    widget_state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert len(widget_state) > 50
    assert "logged_in Logged in." in text
    assert "HTTP Request: POST" in text  # the DEBUG logs made it into the saved outputs
    assert "Error:" not in text, [o for c in notebook.cells for o in c.get("outputs", []) if "Error:" in str(o)]
    for token in cached_tokens():
        assert token not in text
