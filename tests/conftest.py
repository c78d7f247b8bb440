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
