"""JupyterLab on localhost and headless Chromium for the browser tests (tests/notebooks/test_*_browser.py).

``jupyter_lab`` starts the venv's JupyterLab on a free port with a fixed token, an empty user configuration
(settings, workspaces, kernels, runtime files all under one temporary folder) and always stops it, its
kernels included. ``browser_skip_reason`` says why a browser test cannot run here (``.ci/run`` decided so,
no Chromium, no Playwright); ``workbook_copy`` writes a notebook with its parameters injected the way
papermill does, without executing it. Chromium is Debian's (``/usr/bin/chromium`` or $SLIMRLFN_CHROMIUM),
driven through Playwright's Python API; Playwright's own browser download is never used.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import nbformat

from tests.notebooks.harness import NOTEBOOKS

#: Debian's Chromium (apt-get install chromium); $SLIMRLFN_CHROMIUM overrides it.
CHROMIUM = Path(os.environ.get("SLIMRLFN_CHROMIUM", "/usr/bin/chromium"))
#: Flags for a sandbox-less, offline, quiet headless Chromium (see ../shared/BROWSER.md). Playwright adds
#: --headless itself and gives every launch a fresh temporary profile (--user-data-dir).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: JupyterLab settings of the test user: no news or update check (their toast covers outputs), every cell
#: attached to the DOM (no windowing, so off-screen outputs are there to read and to screenshot).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def browser_skip_reason() -> Optional[str]:
    """Why a browser test cannot run here, or None when it can."""
    reason = os.environ.get("SLIMRLFN_BROWSER_SKIP", "").strip()
    if reason:
        return f"browser test skipped (SLIMRLFN_BROWSER_SKIP): {reason}"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set SLIMRLFN_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"Playwright is not importable ({exc}): .venv/bin/pip install 'playwright>=1.40'"
    for module in ("jupyterlab", "ipywidgets", "jupyterlab_widgets", "papermill"):
        try:
            __import__(module)
        except ImportError as exc:
            return f"{module} is not importable ({exc}): .venv/bin/pip install -e '.[notebooks]'"
    return None


def workbook_copy(name: str, folder: Path, **parameters: Any) -> Path:
    """``notebooks/<name>`` written to ``folder`` with ``parameters`` injected after its parameters cell.

    The cell papermill adds (tagged ``injected-parameters``), so the copy runs exactly as the papermill tests
    run the notebook; the notebook under notebooks/ is only read.
    """
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = parameterize_notebook(load_notebook_node(str(NOTEBOOKS / name)), parameters)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token, root folder and server process."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def api(self, path: str, method: str = "GET", timeout: float = 10.0) -> Any:
        """The JSON answer of the REST API at ``/api/<path>``."""
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def kernel_processes(self) -> List[Any]:
        """The server's kernel processes (psutil), i.e. its descendants that run ipykernel."""
        import psutil

        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        kernels = []
        for child in children:
            try:
                if "ipykernel_launcher" in " ".join(child.cmdline()):
                    kernels.append(child)
            except psutil.Error:
                continue
        return kernels

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.is_file() else ""


def lab_env(home: Path, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The server's environment: this one, with every Jupyter user folder moved under ``home``."""
    env = dict(os.environ)
    folders = {"JUPYTER_CONFIG_DIR": home / "config", "JUPYTER_DATA_DIR": home / "data",
               "JUPYTER_RUNTIME_DIR": home / "runtime", "JUPYTERLAB_SETTINGS_DIR": home / "settings",
               "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces", "IPYTHONDIR": home / "ipython"}
    for key, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[key] = str(folder)
    for relative, values in LAB_SETTINGS.items():
        path = folders["JUPYTERLAB_SETTINGS_DIR"] / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env.pop("JUPYTER_PATH", None)  # kernels only from this venv (python3: this interpreter)
    env.update(extra or {})
    return env


@contextmanager
def jupyter_lab(root: Path, home: Path, env: Optional[Dict[str, str]] = None,
                start_timeout: float = 60.0) -> Iterator[Lab]:
    """JupyterLab of this interpreter serving ``root`` on 127.0.0.1; stopped, kernels included, on exit."""
    port, token = free_port(), "slimrlfn-browser-test"
    log = home / "jupyter_lab.log"
    home.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip", "127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
               f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=root, env=lab_env(home, env), stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, process, log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{lab.log_tail()}")
            try:
                lab.api("status", timeout=2.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer /api/status in {start_timeout:.0f} s:\n"
                                       f"{lab.log_tail()}") from None
                time.sleep(0.5)
        yield lab
    finally:
        stop_lab(lab)


def stop_lab(lab: Lab, grace: float = 15.0) -> None:
    """Shut the kernels down through the API, stop the server's process group, kill what is left by pid."""
    import psutil

    kernels = lab.kernel_processes()
    if lab.process.poll() is None:
        try:
            for kernel in lab.api("kernels"):
                lab.api(f"kernels/{kernel['id']}", method="DELETE", timeout=grace)
        except (OSError, ValueError):
            pass
        try:
            os.killpg(lab.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            lab.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(lab.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            lab.process.wait(timeout=grace)
    for kernel in kernels:  # kernels run in sessions of their own: not in the server's process group
        try:
            kernel.kill()
        except psutil.Error:  # already gone
            pass
