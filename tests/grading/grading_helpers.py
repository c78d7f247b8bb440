"""Helpers of the grading tests: a throw-away course folder with the real nbgrader_config.py and
short time limits, sample submissions, and the `course grade` command run in-process."""
from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import nbformat

from course.grading import cli, samples, sandbox

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01_war_to_talks"
# short limits keep the suite fast; the looping sample is stopped after CELL_TIMEOUT seconds
CELL_TIMEOUT = 8
# with bubblewrap the pipeline runs in the sandbox, as it does for instructors; without it (a CI
# machine that could not install it) the pipeline still runs, unsandboxed, and the sandbox tests skip
SANDBOX = "bwrap" if sandbox.available()[0] else "none"
TEST_LIMITS = f"""
c.Execute.timeout = {CELL_TIMEOUT}
c.CourseExecute.notebook_timeout = 90
c.CourseExecute.sandbox = "{SANDBOX}"
"""
# two extra students that later tests change (a manual grade, a broken resubmission)
EXTRA = {"manual": "correct", "resubmit": "correct"}


def run_cli(*argv) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main([str(a) for a in argv])
    return code, out.getvalue()


def make_course(folder: Path, limits: str = TEST_LIMITS) -> Path:
    (folder / "exercises").mkdir(parents=True)
    shutil.copytree(ROOT / "exercises" / ASSIGNMENT, folder / "exercises" / ASSIGNMENT)
    (folder / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + limits)
    return folder


def notebooks(root: Path):
    source = nbformat.read(root / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return source, release


def submit(root: Path, student: str, kind: str) -> None:
    source, release = notebooks(root)
    folder = root / "submitted" / student / ASSIGNMENT
    if folder.exists():
        shutil.rmtree(folder)
    samples.write(kind, source, release, folder, ASSIGNMENT)


def submit_notebook(root: Path, student: str, nb, replace: bool = False) -> None:
    """Hand in a notebook built by the test itself (not one of the sample kinds)."""
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=replace)
    nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")


def run_async(coro):
    """Run a coroutine to its end, in a thread of its own: after the browser tests, Playwright keeps
    an event loop running in the main thread, where asyncio.run() refuses to start another."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
