"""Drive a real JupyterLab in Debian's Chromium with Python Playwright.

Shared by the browser tests (`tests/browser/`) and the benchmark
(`tests/benchmarks/bench_browser.py`):

- `LabServer` starts `jupyter lab` on 127.0.0.1 from the installed package, with a token, its
  own config/runtime/settings folders in a temporary directory, the news toast switched off,
  and a temporary copy of the notebooks as its root.
- `NotebookPage` opens one notebook in a fresh workspace, waits until the kernel session
  exists (otherwise "Run All Cells" opens a "Select Kernel" dialog), runs all cells, waits
  until no cell is busy, and answers quizzes and exercises the way a student does.
- `lesson_plan` reads a notebook file and tells which quiz and exercise to try, and what the
  right and wrong answers are, from the course's own banks and tasks files.

No browser is downloaded: Playwright launches /usr/bin/chromium (Debian package `chromium`).
"""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
FIXTURES = REPO / "tests" / "fixtures"
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1280, "height": 900}


def why_no_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return (f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium) "
                "to run the real-browser tests")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is not installed: pip install -e '.[test]' to run the real-browser tests"
    return None


def launch_browser(playwright):
    """Debian's Chromium, headless, through Playwright (never `playwright install`)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Lab settings a student never needs in a test run: the "Jupyter news" toast (which
# `--LabApp.news_url=None` does not stop) and update checks that would go to the network.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


# For the accessibility audit: every cell rendered, so axe-core sees the whole notebook (in the
# default windowing mode JupyterLab leaves off-screen cells unrendered).
AUDIT_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


class LabServer:
    """`jupyter lab` on 127.0.0.1 with a token, serving `root`, all state under `state`.

    `settings` adds JupyterLab user settings to LAB_SETTINGS (file name -> values)."""

    def __init__(self, root: Path, state: Path, settings: dict | None = None):
        self.root, self.state = Path(root), Path(state)
        self.settings = {**LAB_SETTINGS, **(settings or {})}
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None
        self.log_path = self.state / "jupyterlab.log"
        self.progress_file = self.state / "course_progress.json"

    def environment(self) -> dict:
        env = dict(os.environ)
        # Figures inline, as students see them (the test suite sets Agg for nbval kernels).
        env.pop("MPLBACKEND", None)
        for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("IPYTHONDIR", "ipython"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                         ("JUPYTERLAB_SETTINGS_DIR", "settings")):
            folder = self.state / sub
            folder.mkdir(parents=True, exist_ok=True)
            env[var] = str(folder)
        env["COURSE_PROGRESS_FILE"] = str(self.progress_file)
        return env

    def start(self, timeout: float = 90) -> LabServer:
        env = self.environment()
        for rel, values in self.settings.items():
            path = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI containers run as root
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("api/status")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # the server shuts its kernels down on SIGTERM
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(self.base + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def session_for(self, path: str) -> dict | None:
        for session in self.api("api/sessions"):
            if session.get("path") == path and session.get("kernel"):
                return session
        return None

    def shut_down_session(self, path: str) -> None:
        session = self.session_for(path)
        if session:
            try:
                self.api(f"api/sessions/{session['id']}", method="DELETE")
            except urllib.error.HTTPError:
                pass


def lesson_notebooks() -> list[Path]:
    """The lessons as they are now: notebooks/*.ipynb, in course order."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def prepare_root(root: Path, notebooks: list[Path]) -> None:
    """A temporary copy of the lessons (as notebooks/<name>.ipynb) and the sample notebook."""
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    for nb in notebooks:
        shutil.copy2(nb, root / "notebooks" / nb.name)
    write_sample_notebook(root / "sample")


# -- the sample notebook: the engine's fixture bank and tasks, independent of lesson content --
SAMPLE_PATH = "sample/sample_quiz.ipynb"


def write_sample_notebook(folder: Path) -> Path:
    """A small notebook in the lessons' shape, built on tests/fixtures/sample_{bank,tasks}.yaml."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("sample_bank.yaml", "sample_tasks.yaml"):
        shutil.copy2(FIXTURES / name, folder / name)
    v4 = nbformat.v4
    cells = [
        v4.new_markdown_cell("# Sample lesson\n\nA quiz and an exercise from the engine's fixtures."),
        v4.new_code_cell("from course.checks import load_tasks_file\n"
                         "from course.quizzes import load_file\n"
                         "from course.quizzes.widget import Quiz\n"
                         "import pandas as pd\n"
                         "from course import load\n"
                         "ex = load_tasks_file('sample_tasks.yaml')"),
        v4.new_markdown_cell("## Check your reading"),
        v4.new_code_cell("Quiz(load_file('sample_bank.yaml'), ids=['chain-start', 'deadlocks'])"),
        v4.new_markdown_cell("## Exercise 1\n\nKeep the events of 2023."),
        v4.new_code_cell("events_2023 = ..."),
        v4.new_code_cell("ex.q1.check()"),
    ]
    nb = v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.validate(nb)
    path = folder / "sample_quiz.ipynb"
    nbformat.write(nb, path)
    return path


LONG_OPTION = ("A deliberately long option that needs more than one line at any usual window width, "
               "so that the test can see whether the radio button label grows with its text or spills "
               "over the option below it; students meet options of this length in several lessons.")
LAYOUT_BANK = f"""lesson: layout_check
title: Layout check
questions:
  - id: long-options
    kind: single
    prompt: Which option is the short one?
    options:
      - id: long
        text: "{LONG_OPTION}"
        feedback: This is the long one.
      - id: short
        text: The short one
        correct: true
        feedback: Yes.
      - id: other
        text: Another short one
        feedback: No, this is another one.
    explanation: Only the layout matters here.
    source: constitution.preamble-chain
"""


def write_layout_notebook(folder: Path) -> Path:
    """A notebook showing one single-choice question with a very long option."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layout_check.yaml").write_text(LAYOUT_BANK, encoding="utf-8")
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[
        v4.new_code_cell("from course.quizzes import load_file\nfrom course.quizzes.widget import Quiz\n"
                         "Quiz(load_file('layout_check.yaml'))")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.validate(nb)
    path = folder / "layout_check.ipynb"
    nbformat.write(nb, path)
    return path


# Option labels whose text does not fit their box, or that run into the option below.
OVERFLOWING_OPTIONS = r"""() => [...document.querySelectorAll(
        '.course-quiz .widget-radio-box label, .course-quiz .widget-checkbox label')]
    .filter(label => label.textContent.replace(/[\s\u200b]/g, '') !== '')  // checkboxes' empty spacer labels
    .filter(label => {
        const next = label.nextElementSibling;
        const spills = label.scrollHeight > label.clientHeight + 1 || label.scrollWidth > label.clientWidth + 1;
        const overlaps = next && label.getBoundingClientRect().bottom > next.getBoundingClientRect().top + 1;
        return spills || overlaps;
    })
    .map(label => label.textContent.trim())"""


# -- what to try in a notebook, read from its file and the course's banks/tasks ------------
def plain_text(markdown: str, inline: bool = False) -> str:
    """The text content of bank Markdown as the browser renders it, whitespace collapsed.

    Compare it with `text_content()`, not `inner_text()`: JupyterLab's default windowing mode
    (content-visibility) leaves off-screen cells unrendered, and their innerText is empty.
    """
    from course.quizzes.render import inline_html, markdown_html

    rendered = inline_html(markdown) if inline else markdown_html(markdown)
    return squash(html.unescape(re.sub(r"<[^>]+>", "", rendered)))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class ExercisePlan:
    key: str            # q1
    variable: str       # the name the student fills in
    answer_cell: int    # index of the answer cell in the notebook
    check_cell: int     # index of the `ex.q1.check()` cell
    wrong_code: str     # a known mistake (setup + code) ...
    wrong_message: str  # ... and the message it must produce
    right_code: str     # setup + the reference solution


CHECK_CALL = re.compile(r"^\s*(\w+)\.(\w+)\.check\(\s*\)\s*$", re.M)
EXERCISES_CALL = re.compile(r"""(\w+)\s*=\s*exercises\(\s*["']([^"']+)["']\s*\)""")


def find_exercise(cells: list[dict], exercises) -> ExercisePlan | None:
    """The first check cell of the notebook whose answer cell precedes it."""
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        match = CHECK_CALL.search(cell["source"])
        if not match:
            continue
        exercise = getattr(exercises, match.group(2))
        assign = re.compile(rf"^{re.escape(exercise.variable)}\s*=", re.M)
        answer = next((i for i in range(index - 1, -1, -1)
                       if cells[i]["cell_type"] == "code" and assign.search(cells[i]["source"])), None)
        if answer is None:
            continue
        setup = exercise.setup.strip()
        mistake = exercise.spec["mistakes"][0]
        return ExercisePlan(match.group(2), exercise.variable, answer, index,
                            f"{setup}\n{mistake['code'].strip()}", mistake["message"],
                            f"{setup}\n{exercise.spec['solution'].strip()}")
    return None


def exercises_of(cells: list[dict]):
    """The Exercises object the notebook binds with `ex = exercises("<lesson>")`, or None."""
    from course.checks import load_exercises

    for cell in cells:
        if cell["cell_type"] == "code":
            match = EXERCISES_CALL.search(cell["source"])
            if match:
                return load_exercises(match.group(2))
    return None


def quiz_calls(cells: list[dict]) -> list[tuple[str, list[str] | None]]:
    """Every `quiz("<lesson>")` / `quiz("<lesson>", ids=[...])` in the code cells, in order."""
    import ast

    calls = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse(cell["source"])
        except SyntaxError:  # IPython magics: not a quiz call
            continue
        found = [node for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "quiz"
                 and node.args and isinstance(node.args[0], ast.Constant)]
        for node in sorted(found, key=lambda n: (n.lineno, n.col_offset)):
            ids = next((ast.literal_eval(k.value) for k in node.keywords if k.arg == "ids"), None)
            calls.append((node.args[0].value, ids))
    return calls


def expected_questions(cells: list[dict]) -> list[tuple[str, object]]:
    """(bank lesson, question) for each question the notebook's quiz calls show, in order."""
    from course.quizzes import load_bank

    shown = []
    for lesson, ids in quiz_calls(cells):
        bank = load_bank(lesson)
        shown.extend((bank.lesson, q) for q in bank.select(ids))
    return shown


def read_cells(path: Path) -> list[dict]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [dict(cell) for cell in nb.cells]


# -- the browser side ------------------------------------------------------------------------
class NotebookPage:
    """One notebook open in its own JupyterLab workspace."""

    def __init__(self, page, server: LabServer, path: str):
        self.page, self.server, self.path = page, server, path

    # opening and running
    def open_and_run_all(self) -> None:
        """What a student does first: open the notebook, wait for its kernel, run every cell."""
        self.open()
        self.wait_for_kernel()
        self.run_all()
        self.wait_until_idle()

    def open(self, timeout_ms: float = 60_000) -> None:
        workspace = "w" + uuid.uuid4().hex[:10]  # a fresh workspace: no tabs restored from earlier tests
        self.page.goto(self.server.url(f"lab/workspaces/{workspace}/tree/{self.path}"))
        self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(timeout=timeout_ms)

    def wait_for_kernel(self, timeout: float = 60) -> dict:
        """Wait until /api/sessions lists this notebook with a kernel (the 'Select Kernel' race)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session = self.server.session_for(self.path)
            if session:
                return session
            time.sleep(0.1)
        raise TimeoutError(f"no kernel session for {self.path} after {timeout} s")

    def run_all(self) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    def busy_prompts(self) -> int:
        return self.page.locator(".jp-Notebook .jp-InputArea-prompt", has_text="[*]").count()

    def wait_until_idle(self, timeout: float = 180) -> None:
        """Until no cell shows `[*]` and the kernel says idle, twice in a row."""
        deadline, calm = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            session = self.server.session_for(self.path)
            state = session["kernel"].get("execution_state") if session else None
            calm = calm + 1 if (self.busy_prompts() == 0 and state == "idle") else 0
            if calm >= 2:
                return
            time.sleep(0.25)
        raise TimeoutError(f"{self.path}: cells still busy after {timeout} s")

    def save(self, timeout: float = 30) -> list[dict]:
        """Save through the browser (Ctrl+S) and return the cells as written to disk."""
        file = self.server.root / self.path
        before = file.stat().st_mtime_ns
        self.page.locator(".jp-NotebookPanel .jp-Notebook").first.focus()
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if file.stat().st_mtime_ns != before:
                try:
                    return read_cells(file)
                except Exception:  # caught mid-write: read again
                    pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.path}: not saved within {timeout} s")

    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    # quizzes
    def quiz_panels(self):
        return self.page.locator(".course-quiz .course-quiz-question")

    def panel_for(self, question, timeout: float = 30):
        """The quiz panel whose prompt is `question`'s, matched on the rendered text."""
        want = plain_text(question.prompt)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            panels = self.quiz_panels()
            for i in range(panels.count()):
                panel = panels.nth(i)
                shown = squash(panel.locator(".widget-html").first.text_content())
                if re.sub(r"^Question \d+\.\s*", "", shown) == want:
                    return panel
            time.sleep(0.2)
        raise LookupError(f"{self.path}: no quiz panel shows question {question.id!r}")

    def panel_prompts(self) -> list[str]:
        panels = self.quiz_panels()
        return [re.sub(r"^Question \d+\.\s*", "", squash(panels.nth(i).locator(".widget-html").first.text_content()))
                for i in range(panels.count())]

    @staticmethod
    def radio_label(panel, text: str):
        """The radio option showing bank text `text` (labels show it without Markdown marks)."""
        from course.quizzes.render import plain

        return panel.locator(".widget-radio-box label").filter(
            has_text=re.compile(rf"^\s*{re.escape(plain(text).strip())}\s*$"))

    @staticmethod
    def checkbox_label(panel, text: str):
        from course.quizzes.render import plain

        return panel.locator(".widget-checkbox label").filter(
            has_text=re.compile(rf"^\s*{re.escape(plain(text).strip())}\s*$"))

    @staticmethod
    def feedback(panel):
        return panel.locator("[role=status]")

    @staticmethod
    def check_button(panel):
        return panel.locator("button", has_text=re.compile(r"^\s*Check\s*$"))

    # exercises
    def replace_cell_source(self, index: int, code: str) -> None:
        editor = self.cell(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(code)  # one input event: no auto-indent or auto-closed brackets

    def run_cell(self, index: int) -> None:
        editor = self.cell(index).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("Control+Enter")

    def output_text(self, index: int) -> str:
        return squash(self.cell(index).locator(".jp-OutputArea").text_content())

    def shut_down(self) -> None:
        """Stop this notebook's kernel (the page itself belongs to the caller)."""
        self.server.shut_down_session(self.path)

    def focus_description(self) -> dict:
        """What has the keyboard focus: tag, type, text of its label or itself, checked state."""
        return self.page.evaluate("""() => {
            const e = document.activeElement;
            const label = e.closest('label');
            return {tag: e.tagName.toLowerCase(), type: e.type || '', checked: !!e.checked,
                    text: ((label ? label.innerText : e.innerText) || '').trim(),
                    inPanel: !!e.closest('.course-quiz-question')};
        }""")


# -- accessibility: axe-core on the page -----------------------------------------------------------
# What the course renders: anything INSIDE an output (figures, tables, quiz panels, the negotiation
# panel, text versions) or a rendered Markdown cell. The output container itself, the editors,
# toolbars and menus are JupyterLab's.
COURSE_SCOPE = ".jp-OutputArea-output, .jp-RenderedMarkdown"
# Violations inside course output that come from a library the course cannot change, with why.
UPSTREAM = {
    ("aria-input-field-name", ".noUi-handle"):
        "ipywidgets' sliders (IntSlider, SelectionSlider) give noUiSlider's handle no accessible name; "
        "ipywidgets 8.1 has no option to set one",
}
AXE_RUN = """async () => {
    const results = await axe.run(document, {resultTypes: ['violations']});
    const scope = %s;
    const out = [];
    for (const rule of results.violations) {
        for (const node of rule.nodes) {
            const target = node.target[node.target.length - 1];
            let el = null;
            try { el = typeof target === 'string' ? document.querySelector(target) : null; } catch (e) {}
            const owner = el && el.closest(scope);
            const course = !!(owner && owner !== el);
            out.push({id: rule.id, impact: node.impact || rule.impact, help: rule.help, course: course,
                      target: node.target.map(String).join(' '), html: node.html.slice(0, 300),
                      classes: el ? (el.className && el.className.baseVal !== undefined ? el.className.baseVal
                                                                                       : String(el.className)) : ''});
        }
    }
    return {version: axe.version, violations: out};
}"""


def axe_audit(page) -> dict:
    """Run axe-core (bundled by the `axe-playwright-python` package: nothing is downloaded) on the
    page. Returns {"version", "course": [...], "upstream": [...], "lab": [...]}, each a list of
    {id, impact, help, target, html}: violations inside course output, those of them a library
    causes (UPSTREAM, with the reason), and JupyterLab's own."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    found = page.evaluate(AXE_RUN % json.dumps(COURSE_SCOPE))
    report = {"version": found["version"], "course": [], "upstream": [], "lab": []}
    for v in found["violations"]:
        classes = v.pop("classes").split()
        reason = next((why for (rule, cls), why in UPSTREAM.items()
                       if rule == v["id"] and cls.lstrip(".") in classes), None)
        if not v.pop("course"):
            report["lab"].append(v)
        elif reason:
            report["upstream"].append({**v, "reason": reason})
        else:
            report["course"].append(v)
    return report


def axe_summary(violations: list[dict]) -> dict[str, int]:
    """'rule-id (impact)' -> number of elements."""
    counts: dict[str, int] = {}
    for v in violations:
        key = f"{v['id']} ({v['impact']})"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def error_outputs(cells: list[dict]) -> list[str]:
    """'cell N: Ename: value' for every error output, except in cells tagged raises-exception."""
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code" or "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
    return found


def unexecuted(cells: list[dict]) -> list[int]:
    """Indexes of non-empty code cells that have no execution count (Run All stopped early)."""
    skip = {"skip-execution"}
    return [i for i, c in enumerate(cells)
            if c["cell_type"] == "code" and c["source"].strip() and c.get("execution_count") is None
            and not skip & set(c.get("metadata", {}).get("tags", []))]


def open_page(browser_context, server, request, artifacts, full_page=False):
    """A new page; on failure a screenshot `<test>-FAILED.png` and the server log's tail."""
    tab = browser_context.new_page()
    yield tab
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
        tab.screenshot(path=str(artifacts / f"{name}-FAILED.png"), full_page=full_page)
        print(f"\n--- jupyter lab log (last lines) ---\n{server.log_tail()}")
    tab.close()
