"""The whole-notebook time limit of grading (issue 20, bug 8).

The per-cell limit (`Execute.timeout`) is tested by the looping sample; this file tests the limit
on the whole notebook (`CourseExecute.notebook_timeout`): a submission whose cells are each quick
enough, but together too slow, is stopped when the notebook's time is used up, the cells not
reached score 0 and are marked as not run, and the record says why.

It grades in a course folder of its own, with short limits, so it does not disturb the shared
`course` fixture (whose records other tests compare across reruns).
"""
from __future__ import annotations

import grading_helpers
import nbformat
import pytest
from grading_helpers import ASSIGNMENT, make_course, notebooks, run_cli, submit_notebook

from course.grading import samples, status

CELL_LIMIT = 6       # each answer cell sleeps less than this...
NOTEBOOK_LIMIT = 9   # ...but the three of them together sleep more than this
SLEEP = 4
LIMITS = f"""
c.Execute.timeout = {CELL_LIMIT}
c.CourseExecute.notebook_timeout = {NOTEBOOK_LIMIT}
"""
if getattr(grading_helpers, "SANDBOX", None):  # the sandbox the other grading tests use, where there is one
    LIMITS += f'c.CourseExecute.sandbox = "{grading_helpers.SANDBOX}"\n'


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


@pytest.fixture(scope="module")
def slow_submission(tmp_path_factory) -> dict:
    root = make_course(tmp_path_factory.mktemp("time_limit"), limits=LIMITS)
    code, out = run_cli("--root", root, "generate", ASSIGNMENT)
    assert code == 0, out
    source, release = notebooks(root)
    nb = samples.make("correct", source, release)
    answers = [c for c in nb.cells if samples.is_answer(c)]
    assert len(answers) * SLEEP > NOTEBOOK_LIMIT and SLEEP < CELL_LIMIT
    for cell in answers:
        cell.source = f"import time; time.sleep({SLEEP})  # slow, but under the cell limit\n" + cell.source
    submit_notebook(root, "slow", nb)
    code, out = run_cli("--root", root, "autograde", ASSIGNMENT, "--student", "slow")
    assert code == 0, out
    return {"record": status.read(root / "autograded", ASSIGNMENT)["slow"], "source": source,
            "notebook": root / "autograded" / "slow" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"}


def test_a_notebook_over_its_time_is_stopped_and_says_why(slow_submission):
    record = slow_submission["record"]
    assert record["status"] == "timed out", record
    assert f"the notebook used up its {NOTEBOOK_LIMIT} s" in record["reason"], record["reason"]
    assert "cells after it were not run and score 0" in record["reason"]
    kinds = [event["kind"] for event in record["events"]]
    assert "notebook timeout" in kinds, record["events"]
    assert "cell timeout" not in kinds, "no single cell ran over the per-cell limit"


def test_cells_after_the_limit_are_not_run_and_score_zero(slow_submission):
    record = slow_submission["record"]
    full = samples.expected_auto_score("correct", slow_submission["source"])
    assert record["auto_score"] < full, record
    assert slow_submission["notebook"].is_file(), f"no graded notebook: {record}"
    graded = nbformat.read(slow_submission["notebook"], as_version=4)
    last_test = [c for c in graded.cells if samples.is_test(c)][-1]
    errors = [o for o in last_test.outputs if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "NotRun", last_test.outputs
    assert f"ran out of its {NOTEBOOK_LIMIT} s" in errors[0]["evalue"]
