"""Session fixtures of the grading tests: a course folder with assignment 01 generated, and one
sample submission of every kind graded once (helpers in grading_helpers.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from grading_helpers import ASSIGNMENT, EXTRA, make_course, run_cli, submit

from course.grading import samples, status


@pytest.fixture(scope="session")
def course(tmp_path_factory) -> Path:
    root = make_course(tmp_path_factory.mktemp("course"))
    code, out = run_cli("--root", root, "generate", ASSIGNMENT)
    assert code == 0, out
    return root


@pytest.fixture(scope="session")
def graded(course) -> dict:
    """Every kind of sample submitted under its own name, autograded once with two workers."""
    for kind in samples.KINDS:
        submit(course, kind, kind)
    for student, kind in EXTRA.items():
        submit(course, student, kind)
    code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--workers", 2)
    assert code == 0, out
    return {"records": status.read(course / "autograded", ASSIGNMENT), "output": out}
