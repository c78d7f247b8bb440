"""Session fixtures of the grading tests: a course folder with assignment 01 generated, and one
sample submission of every kind graded once (helpers in grading_helpers.py)."""
from __future__ import annotations

import signal
from pathlib import Path

import pytest
from grading_helpers import ASSIGNMENT, EXTRA, make_course, run_cli, submit

from course.grading import judge, samples, status, zygote


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


@pytest.fixture
def no_hang():
    """No test here may hang (a broken sandbox or worker loop waits forever): it fails after 20 s instead."""
    def stop(signum, frame):
        raise TimeoutError("the test took more than 20 s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 20)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def stop_kernel_starters():
    """Grading in this process leaves its kernel starters running for the next notebook; stop them
    after each test, so that no child process outlives the test (mutmut waits for its own)."""
    yield
    judge.close_shared()  # first: the judge kernel was started by the kernel starter
    zygote.close()
