"""Notebook 02's step browser in a real browser: JupyterLab, headless Chromium, Run All Cells in quick mode.

Starts the venv's JupyterLab on 127.0.0.1 (tests.notebooks.browser_lab) serving a copy of
notebooks/02_iterative_pruning.ipynb whose parameters are injected as in the papermill test (quick mode, the
sample data, a fresh results folder, the CPU, one thread), opens it in Debian's Chromium through Playwright,
runs every cell from the Run menu, and checks that no cell fails, that the kernel is this interpreter, and
that the step browser widget answers: another criterion in the dropdown changes the text it shows, another
step on the slider changes the text and the readout. The widget's cell is saved to
runs/browser/02_step_browser.png (the whole page to runs/browser/02_failure.png when the test fails).
Skipped without Chromium or Playwright, or when .ci/run says why it skipped the browser test
($SLIMRLFN_BROWSER_SKIP).
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from tests.notebooks.browser_lab import CHROMIUM, CHROMIUM_ARGS, browser_skip_reason, jupyter_lab, workbook_copy
from tests.notebooks.harness import NOTEBOOKS, REPO, WORKBOOK_PARAMETERS, parameter_names, zoo_folder

NOTEBOOK = "02_iterative_pruning.ipynb"
SHOTS = REPO / "runs" / "browser"
#: Run All Cells in quick mode takes about 75 s on a 2-core machine; a hung kernel or page fails after this.
RUN_ALL_TIMEOUT_S = 240
#: Every single browser action (click, select, wait for a text) fails after this.
ACTION_TIMEOUT_MS = 30_000

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

_SKIP = browser_skip_reason()
if _SKIP:
    pytestmark.append(pytest.mark.skip(reason=_SKIP))

#: The state of the notebook page: every code cell's prompt, the failed outputs' text, the widgets shown.
PAGE_STATE_JS = """() => {
  const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => ((c.querySelector('.jp-InputArea-prompt') || {}).textContent || '').trim());
  const errors = [...document.querySelectorAll(
      '.jp-Notebook .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(o => o.innerText).filter(t => /Traceback|Error/.test(t));
  const widgets = document.querySelectorAll('.jp-Notebook .widget-vbox .widget-html-content').length;
  return {prompts, errors, widgets};
}"""
#: The status bar says "<kernel name> | Idle" once the page's kernel is ready ("No Kernel | ..." before).
KERNEL_IDLE_JS = """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
  .some(e => /^(?!No Kernel).+ \\| Idle$/.test(e.textContent.trim()))"""


def _wait_for_kernel(page, lab, timeout_s: float = 90.0) -> None:
    """Until the page is connected to an idle kernel: Run All Cells before that runs nothing at all."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        kernels = lab.api("kernels")
        connected = len(kernels) == 1 and kernels[0]["execution_state"] == "idle" and kernels[0]["connections"] > 0
        if connected and page.evaluate(KERNEL_IDLE_JS):
            return
        time.sleep(0.5)
    pytest.fail(f"no idle kernel in JupyterLab after {timeout_s:.0f} s: {lab.api('kernels')}\n{lab.log_tail()}")


def _run_all_cells(page, lab) -> dict:
    """Run > Run All Cells, then wait until every code cell has run and the kernel is idle; fails on an error."""
    _wait_for_kernel(page, lab)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    deadline, state = time.monotonic() + RUN_ALL_TIMEOUT_S, {}
    while time.monotonic() < deadline:
        state = page.evaluate(PAGE_STATE_JS)
        assert not state["errors"], "a cell failed in JupyterLab:\n" + "\n".join(state["errors"])[-4000:]
        done = state["prompts"] and all(re.fullmatch(r"\[\d+\]:", p) for p in state["prompts"])
        if done and all(k["execution_state"] == "idle" for k in lab.api("kernels")):
            return state
        time.sleep(1.0)
    pytest.fail(f"Run All Cells did not finish in {RUN_ALL_TIMEOUT_S} s; prompts {state.get('prompts')}\n"
                f"server log:\n{lab.log_tail()}")


def test_02_step_browser_in_chromium(sample_dir, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=ACTION_TIMEOUT_MS)  # a widget update is a kernel round trip on a busy machine
    committed = (NOTEBOOKS / NOTEBOOK).read_bytes()
    assert set(WORKBOOK_PARAMETERS) <= set(parameter_names(NOTEBOOK))
    root = tmp_path / "lab"
    results = tmp_path / "results"  # fresh: a second run with the same folder would read the runs back
    workbook_copy(NOTEBOOK, root, quick=True, data_dir=str(sample_dir), figures_dir=str(tmp_path / "figures"),
                  results_dir=str(results), device="cpu", cpu_threads=1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "02_step_browser.png"
    shot.unlink(missing_ok=True)
    (SHOTS / "02_failure.png").unlink(missing_ok=True)
    env = {"SLIMRLFN_MODEL_ZOO": str(zoo_folder()), "SLIMRLFN_OFFLINE": "1", "MPLBACKEND": "Agg"}

    with jupyter_lab(root, tmp_path / "jupyter", env=env) as lab, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                             timeout=60_000)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        try:
            page.goto(lab.page_url(NOTEBOOK), wait_until="domcontentloaded", timeout=60_000)
            expect(page.locator(".jp-Notebook .jp-CodeCell").first).to_be_visible(timeout=60_000)
            state = _run_all_cells(page, lab)
            assert (results / "02_iterative_pruning.json").is_file(), "the notebook's last cell did not write"

            (kernel,) = lab.api("kernels")
            assert kernel["name"] == "python3"
            (process,) = lab.kernel_processes()
            assert Path(process.cmdline()[0]) == Path(sys.executable), \
                f"the kernel runs {process.cmdline()[0]}, not this venv's {sys.executable}"

            assert state["widgets"] == 1, state
            widget = page.locator(".jp-Notebook .widget-vbox").filter(has=page.locator(".widget-html-content"))
            text, select = widget.locator(".widget-html-content"), widget.locator("select")
            handle, readout = widget.locator(".noUi-handle"), widget.locator(".widget-readout")
            widget.scroll_into_view_if_needed()
            expect(text).to_contain_text("step 2: removed")
            expect(readout).to_have_text("2")
            first = text.inner_text()
            options = [o.strip() for o in select.locator("option").all_inner_texts()]
            assert options == ["l1", "l2", "taylor", "random"] and select.input_value() == "l1", options

            select.select_option(label="random")  # the criterion: another run, same step
            expect(text).not_to_have_text(first)
            expect(text).to_contain_text("step 2: removed")
            second = text.inner_text()

            handle.focus()  # the step: one to the left on the slider
            page.keyboard.press("ArrowLeft")
            expect(readout).to_have_text("1")
            expect(text).not_to_have_text(second)
            expect(text).to_contain_text("step 1: removed")
            assert text.inner_text() not in (first, second)

            page.mouse.move(0, 0)
            shown = page.locator(".widget-vbox .widget-html-content")
            cell = page.locator(".jp-Notebook .jp-CodeCell").filter(has=shown)
            cell.screenshot(path=str(shot))
        except BaseException:
            try:
                page.screenshot(path=str(SHOTS / "02_failure.png"), full_page=True, timeout=ACTION_TIMEOUT_MS)
            except Exception as exc:  # a crashed page: the first error is the one to see
                print(f"no failure screenshot: {exc}")
            raise
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000, shot
    assert (NOTEBOOKS / NOTEBOOK).read_bytes() == committed, f"notebooks/{NOTEBOOK} was changed on disk"
