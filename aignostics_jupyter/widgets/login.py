"""``LoginWidget``: log in with the device flow, see who you are, log out; never blocks the kernel.

The login lands in the shared token cache, so the sidebar, other kernels and the official SDK are logged in too.
No token is ever put into a trait, synced or not: the widget shows the verification link, the user code, the
user, the organization and the token's expiry.

Example:
    >>> from aignostics_jupyter.widgets.login import LoginWidget
    >>> login = LoginWidget()  # doctest: +SKIP
    >>> login  # doctest: +SKIP
    >>> login.login_button.click()  # starts the device flow in the background  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import anywidget
import ipywidgets as w
import traitlets

from aignostics_jupyter.exceptions import AuthenticationError
from aignostics_jupyter.widgets._background import Background
from aignostics_jupyter.widgets._platform import error_text, platform_client
from aignostics_jupyter.widgets._platform_html import OK_ICON, SPINNER, WARN_ICON, esc, utc_text

if TYPE_CHECKING:
    from aignostics_jupyter.client import Authenticator, Client, DeviceAuthorization
    from aignostics_jupyter.client.models import MeReadResponse

__all__ = ["CopyButton", "LoginWidget"]


class CopyButton(anywidget.AnyWidget):
    """A button that copies ``text`` to the clipboard in the browser.

    Example:
        >>> CopyButton(text="ABCD-EFGH").text
        'ABCD-EFGH'
    """

    _esm = """
    function render({ model, el }) {
      const button = document.createElement("button");
      button.className = "jupyter-widgets jupyter-button widget-button aignostics-copy";
      button.textContent = "Copy";
      button.title = "Copy to the clipboard";
      button.onclick = async () => {
        try {
          await navigator.clipboard.writeText(model.get("text"));
          button.textContent = "Copied";
        } catch (error) {
          button.textContent = "Select and copy";
        }
        setTimeout(() => { button.textContent = "Copy"; }, 1500);
      };
      el.appendChild(button);
    }
    export default { render };
    """
    text = traitlets.Unicode("").tag(sync=True)


class LoginWidget(w.VBox):  # type: ignore[misc]
    """Device-flow login with status, user, organization and token expiry.

    Args:
        client: The client whose login to manage (default: the kernel's shared client).
        timeout: Give up waiting for approval after this many seconds (default: when the code expires).
        check: Look up who is logged in at once (in the background).

    Attributes:
        state: ``checking``, ``logged_out``, ``starting``, ``waiting``, ``logged_in`` or ``error``.
        message: The one-sentence status or error shown.
    """

    state = traitlets.Unicode("logged_out")
    message = traitlets.Unicode("")
    user = traitlets.Unicode("")
    organization = traitlets.Unicode("")
    expires_at = traitlets.Unicode("")
    verification_uri = traitlets.Unicode("")
    user_code = traitlets.Unicode("")

    def __init__(self, client: Client | None = None, *, timeout: float | None = None, check: bool = True) -> None:
        self.status = w.HTML()
        self.login_button = w.Button(description="Log in", icon="sign-in", button_style="primary")
        self.logout_button = w.Button(description="Log out", icon="sign-out")
        self.relogin_button = w.Button(description="Log in again", icon="refresh")
        self.cancel_button = w.Button(description="Cancel", icon="times", tooltip="Stop waiting for the approval")
        self.link = w.HTML()
        self.code = w.Text(description="Code", disabled=True, layout=w.Layout(width="16em"))
        self.copy_button = CopyButton()
        self.prompt = w.VBox([self.link, w.HBox([self.code, self.copy_button])])
        self.buttons = w.HBox([self.login_button, self.cancel_button, self.logout_button, self.relogin_button])
        super().__init__([self.status, self.prompt, self.buttons])
        self.add_class("aignostics-login")
        self._client = client
        self._timeout = timeout
        self._job = Background("login")
        self._cancel = threading.Event()
        self.login_button.on_click(lambda _: self.login())
        self.relogin_button.on_click(lambda _: self.login(relogin=True))
        self.logout_button.on_click(lambda _: self.logout())
        self.cancel_button.on_click(lambda _: self.cancel())
        self._render()
        if check:
            self.check()

    # ------------------------------------------------------------------------------------------ actions

    @property
    def client(self) -> Client:
        """The client whose login this widget manages."""
        if self._client is None:
            self._client = platform_client()
        return self._client

    def _auth(self) -> Authenticator:
        auth = self.client.auth
        if auth is None:
            msg = "This client uses its own token provider, so there is nothing to log in to"
            raise RuntimeError(msg)
        return auth

    def check(self) -> None:
        """Find out in the background whether a login is at hand (token cache or refresh token)."""
        try:
            auth = self._auth()
            if not auth.has_credentials():
                self._set(state="logged_out", message="Not logged in.")
                return
        except Exception as exc:
            self._fail(exc)
            return
        self._set(state="checking", message="Checking the login…")
        self._job.run(lambda: self.client.me(nocache=True), on_done=self._logged_in, on_error=self._fail)

    def login(self, *, relogin: bool = False) -> None:
        """Start the device flow in the background: show the link and code, wait for approval."""
        if self._job.busy:
            return
        try:
            auth = self._auth()
        except Exception as exc:
            self._fail(exc)
            return
        if relogin:
            auth.logout()
            self.client.clear_cache()
        self._set(state="starting", message="Starting the login…", verification_uri="", user_code="")
        cancel = self._cancel = threading.Event()

        def work() -> MeReadResponse:
            flow = auth.start_device_flow()
            if cancel.is_set():
                msg = "The device login was canceled"
                raise AuthenticationError(msg)
            self._prompt(flow)
            auth.complete_device_flow(flow, timeout=self._timeout, cancel=cancel)
            self.client.clear_cache()
            return self.client.me(nocache=True)

        self._job.run(work, on_done=self._logged_in, on_error=self._fail)

    def cancel(self) -> None:
        """Stop waiting for the approval of a login in progress (the widget returns to logged out)."""
        if self._job.busy:
            self._cancel.set()

    def logout(self) -> None:
        """Forget every token: memory and the shared token cache."""
        try:
            self._auth().logout()
            self.client.clear_cache()
        except Exception as exc:
            self._fail(exc)
            return
        self._set(state="logged_out", message="Logged out.", user="", organization="", expires_at="")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background job (tests, scripts); True when it has finished."""
        return self._job.wait(timeout)

    # ---------------------------------------------------------------------------------------- callbacks

    def _prompt(self, flow: DeviceAuthorization) -> None:
        self._set(
            state="waiting",
            message="Open the link, check the code and approve the login; waiting for approval…",
            verification_uri=flow.verification_uri_complete or flow.verification_uri,
            user_code=flow.user_code,
        )

    def _logged_in(self, me: MeReadResponse) -> None:
        cached = self._auth().store.read_access()
        user = me.user.name or me.user.email or me.user.id
        if me.user.email and me.user.email != user:
            user = f"{user} <{me.user.email}>"
        org = me.organization.display_name or me.organization.name or me.organization.id
        self._set(
            state="logged_in",
            message="Logged in.",
            user=user,
            organization=org,
            expires_at=utc_text(cached[1]) if cached else "",
            verification_uri="",
            user_code="",
        )

    def _fail(self, exc: BaseException) -> None:
        if self._cancel.is_set():
            self._set(state="logged_out", message="Login canceled.", verification_uri="", user_code="")
            return
        self._set(state="error", message=error_text(exc), verification_uri="", user_code="")

    def _set(self, **values: Any) -> None:
        with self.hold_trait_notifications():
            for name, value in values.items():
                setattr(self, name, value)
        self._render()

    # ------------------------------------------------------------------------------------------- render

    def _render(self) -> None:
        state = self.state
        if state == "logged_in":
            expiry = f"; token valid until {esc(self.expires_at)}" if self.expires_at else ""
            text = (
                f"{OK_ICON} Logged in as <b>{esc(self.user)}</b>, organization <b>{esc(self.organization)}</b>{expiry}."
            )
        elif state in ("checking", "starting", "waiting"):
            text = f"{SPINNER} {esc(self.message)}"
        elif state == "error":
            text = f'<span class="aignostics-error" style="color:#dc3545">{WARN_ICON} {esc(self.message)}</span>'
        else:
            text = esc(self.message or "Not logged in.")
        self.status.value = f'<div class="aignostics-login-status" data-state="{esc(state)}">{text}</div>'
        if self.verification_uri:
            uri = esc(self.verification_uri)
            self.link.value = (
                f'<div>Open <a class="aignostics-verification-link" href="{uri}" target="_blank" '
                f'rel="noopener">{uri}</a> and enter the code below.</div>'
            )
        else:
            self.link.value = ""
        self.code.value = self.user_code
        self.copy_button.text = self.user_code
        self.prompt.layout.display = "flex" if self.user_code else "none"
        busy = state in ("checking", "starting", "waiting")
        self.login_button.layout.display = "none" if state == "logged_in" else "flex"
        self.login_button.disabled = busy
        self.cancel_button.layout.display = "flex" if state in ("starting", "waiting") else "none"
        self.logout_button.layout.display = "flex" if state == "logged_in" else "none"
        self.relogin_button.layout.display = "flex" if state == "logged_in" else "none"
