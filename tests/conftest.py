"""Shared fixtures: every test gets its own progress file and a clean widget registry."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Notebook kernels started by nbval inherit this environment: their progress goes to a
# temporary file, not into the checkout, and matplotlib draws without a screen.
os.environ.setdefault("COURSE_PROGRESS_FILE", os.path.join(tempfile.mkdtemp(prefix="course-progress-"),
                                                           "course_progress.json"))
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_progress(tmp_path, monkeypatch):
    """Keep tests from writing course_progress.json into the checkout."""
    path = tmp_path / "course_progress.json"
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(path))
    return path


@pytest.fixture(autouse=True)
def close_widgets():
    yield
    try:
        from ipywidgets import Widget
    except ImportError:  # pragma: no cover
        return
    Widget.close_all()


@pytest.fixture(autouse=True)
def no_leftover_ipython_shell():
    """A test that publishes display data outside a kernel (the graded notebooks' `_dump` calls do)
    makes IPython create a global shell; later tests would then think they run in a notebook."""
    from IPython.core.interactiveshell import InteractiveShell

    had_one = InteractiveShell.initialized()
    yield
    if not had_one and InteractiveShell.initialized():
        InteractiveShell.clear_instance()


@pytest.fixture
def run_in_c_locale(tmp_path):
    """Run Python `code` (with string arguments) in a fresh interpreter under the plain C locale, as on
    a machine whose default encoding is not UTF-8, importing the course under test; return what it
    printed, read as JSON. The code's last act should be `print(json.dumps(...))`."""
    import json
    import subprocess
    import sys

    import course

    def run(code: str, *args) -> object:
        # a mutation run's child sees its mutant (MUTANT_UNDER_TEST names it) but not mutmut's own phases
        inherited = {k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST" or "__mutmut_" in v}
        env = dict(inherited, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0",
                   PYTHONIOENCODING="utf-8", PYTHONPATH=str(Path(course.__file__).resolve().parents[1]))
        done = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True,
                              text=True, encoding="utf-8", timeout=60, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run
