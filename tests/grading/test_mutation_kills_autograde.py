"""Fast tests of course/grading/autograde.py (issue 20): the prechecks, one submission graded
(`grade_one`, called in this process, as a worker would), the scores, hand grades that survive a
regrade, and the batch (`run`) with its summary lines.

Everything runs on a tiny course built in tmp_path: one assignment "01_tiny" with one code answer,
its test (2 points) and one written answer (3 points), graded by the real nbgrader, in the real
sandbox when bubblewrap is installed. The helpers here are shared with the cli and config tests.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import nbformat
import pytest

from course.grading import autograde, sandbox, status
from course.grading import config as course_config

pytestmark = pytest.mark.usefixtures("stop_kernel_starters")  # conftest.py
ROOT = Path(__file__).resolve().parents[2]
TINY = "01_tiny"
HAVE_BWRAP = sandbox.available()[0]
# a course config like the real one, with short limits; tests that need more append to it
TINY_LIMITS = "\nc.Execute.timeout = 8\nc.CourseExecute.notebook_timeout = 40\n"
# a preprocessor that breaks grading on purpose (a stand-in for any nbgrader failure), only for
# notebooks that ask for it in their metadata, so the same course can grade good submissions too
EXPLODING = '''
from nbconvert.preprocessors import Preprocessor as _Preprocessor
from traitlets import Bool as _Bool


class Explode(_Preprocessor):
    enabled = _Bool(True)

    def preprocess(self, nb, resources):
        if any("EXPLODE" in cell.source for cell in nb.cells):
            raise RuntimeError("the grading disk is on fire")
        return nb, resources


c.Autograde.autograde_preprocessors = [Explode] + autograde_preprocessors()
'''


def _cell(kind: str, source: str, **meta):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False, "locked": False, **meta}
    return cell


def empty_gradebook() -> Path:
    """An empty gradebook made by nbgrader itself, cached between test processes: nbgrader runs the
    `alembic` program (seconds) for every new database, and the file it makes is always the same."""
    from nbgrader import __version__
    from nbgrader.api import Gradebook

    cached = Path(tempfile.gettempdir()) / f"course-grading-tests-empty-gradebook-{__version__}.db"
    if not cached.is_file():
        fresh = Path(tempfile.mkdtemp()) / "gradebook.db"
        path = os.environ.get("PATH", "")
        os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + path
        try:
            with Gradebook(f"sqlite:///{fresh}", "peace-talks"):
                pass
        finally:
            os.environ["PATH"] = path
        os.replace(fresh, cached)
    return cached


def tiny_course(folder: Path, extra: str = "", gradebook: bool = True) -> Path:
    """A course folder with the real nbgrader_config.py and one tiny assignment (not generated)."""
    source = folder / "exercises" / TINY
    source.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("markdown", "Set x to one, then say why."),
                _cell("code", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", grade_id="answer_x", solution=True),
                _cell("code", "assert x == 1, 'x should be 1'", grade_id="test_x", grade=True, locked=True,
                      points=2),
                _cell("markdown", "Because.", grade_id="written", grade=True, solution=True, points=3)]
    nbformat.write(nb, source / f"{TINY}.ipynb")
    (folder / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + TINY_LIMITS + extra)
    if gradebook:
        shutil.copyfile(empty_gradebook(), folder / "gradebook.db")
    return folder


def generated(folder: Path, extra: str = "") -> Path:
    """A tiny course with its student version generated (as `course grade generate 01_tiny` does)."""
    from grading_helpers import run_cli

    root = tiny_course(folder, extra)
    code, out = run_cli("--root", root, "generate", TINY)
    assert code == 0, out
    return root


def hand_in(root: Path, student: str, code: str = "x = 1", written: str = "Because one is one.",
            **metadata) -> Path:
    """A student's submission: the released notebook with the answers filled in."""
    nb = nbformat.read(root / "release" / TINY / f"{TINY}.ipynb", as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "answer_x":
            cell.source = code
        elif grade_id == "written":
            cell.source = written
    nb.metadata.update(metadata)
    folder = root / "submitted" / student / TINY
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{TINY}.ipynb")
    return folder


def job(root: Path, student: str, **extra) -> dict:
    settings = autograde.limits(course_config.load(root))
    return {"root": str(root), "assignment": TINY, "student": student, "limits": settings, "sandbox": "none",
            **extra}


def graded_notebook(root: Path, student: str):
    return nbformat.read(root / "autograded" / student / TINY / f"{TINY}.ipynb", as_version=4)


def written_grade(root: Path, student: str) -> tuple:
    config = course_config.load(root)
    with course_config.gradebook(config) as gb:
        grade = gb.find_grade("written", TINY, TINY, student)
        return grade.manual_score, grade.needs_manual_grade


def grade_by_hand(root: Path, student: str, score: float) -> None:
    """What Formgrader does when the instructor grades the written answer."""
    config = course_config.load(root)
    with course_config.gradebook(config) as gb:
        grade = gb.find_grade("written", TINY, TINY, student)
        grade.manual_score = score
        grade.needs_manual_grade = False
        gb.db.commit()


@pytest.fixture
def course(tmp_path) -> Path:
    return generated(tmp_path / "course")


# -- precheck ---------------------------------------------------------------------------------------


def test_a_missing_folder_or_notebook_is_missing_and_names_what_was_found(tmp_path):
    """The instructor reads which file the student handed in instead of the notebook."""
    folder = tmp_path / "alice"
    assert autograde.precheck(folder, ["a"]) == ("missing", "no submission folder")
    folder.mkdir()
    assert autograde.precheck(folder, ["a"]) == ("missing", "no a.ipynb in the submission (no notebook in the folder)")
    (folder / "Untitled.ipynb").write_text("{}")
    (folder / "copy.ipynb").write_text("{}")
    (folder / "notes.txt").write_text("x")
    assert autograde.precheck(folder, ["a"]) == ("missing", "no a.ipynb in the submission (found: Untitled.ipynb, "
                                                            "copy.ipynb)")
    nbformat.write(nbformat.v4.new_notebook(), folder / "a.ipynb")
    assert autograde.precheck(folder, ["a"]) is None
    assert autograde.precheck(folder, ["a", "b"])[1].startswith("no b.ipynb in the submission (found: ")


def test_every_notebook_of_the_assignment_is_checked_in_order(tmp_path):
    """With two notebooks, the first bad one is the one reported."""
    folder = tmp_path / "bob"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), folder / "one.ipynb")
    (folder / "two.ipynb").write_text("{")
    assert autograde.precheck(folder, ["one", "two"])[0] == "not a notebook"
    assert autograde.precheck(folder, ["one", "two"])[1].startswith("two.ipynb is not valid JSON")
    assert autograde.precheck(folder, ["one"]) is None


def test_a_binary_file_is_not_a_notebook_and_says_it_is_not_text(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "nb.ipynb").write_bytes(b"\xff\xfe\x00")
    assert autograde.precheck(folder, ["nb"]) == ("not a notebook", "nb.ipynb is not text (invalid start byte)")


@pytest.mark.parametrize("text, what, line, column", [
    ('{"cells": [', "Expecting value", 1, 12),
    ('{\n "cells": "abc', "Unterminated string", 2, 11),
    ('{"a": 1}\n{"b": 2}', "Extra data", 2, 1),
])
def test_broken_json_says_where_and_that_the_upload_was_damaged(tmp_path, text, what, line, column):
    """The reason names the JSON error without "at"/"starting at", with its line and column."""
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "nb.ipynb").write_text(text)
    assert autograde.precheck(folder, ["nb"]) == (
        "not a notebook", f"nb.ipynb is not valid JSON ({what}, line {line}, column {column}); it was probably "
                          "damaged or cut short on upload")


def test_json_that_is_not_a_notebook_quotes_the_first_line_of_the_validator(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "nb.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, '
                                     + json.dumps("y" * 400) + ': 1}')
    state, reason = autograde.precheck(folder, ["nb"])
    assert state == "not a notebook"
    assert reason.startswith("nb.ipynb is JSON but not a Jupyter notebook (") and reason.endswith(")")
    quoted = reason[len("nb.ipynb is JSON but not a Jupyter notebook ("):-1]
    assert len(quoted) == 160 and "\n" not in quoted  # one line, cut to 160 characters


# -- the log buffer ----------------------------------------------------------------------------------


def _records(*items):
    return [logging.LogRecord("x", level, __file__, 1, message, None, None) for level, message in items]


def test_the_quoted_error_is_the_last_useful_error_line():
    """nbgrader's error log ends with generic lines; the reason quotes the real error instead."""
    buffer = autograde._Buffer()
    assert buffer.level == logging.INFO
    for record in _records((logging.ERROR, "Traceback (most recent call last):\n  ...\nValueError: first"),
                           (logging.WARNING, "a warning is not an error"),
                           (logging.CRITICAL, "Traceback:\nKeyError: 'second'  \n"),
                           (logging.ERROR, "There was an error processing assignment"),
                           (logging.ERROR, "Please see the error log"),
                           (logging.ERROR, "   "),
                           (logging.INFO, "Converting notebook")):
        buffer.handle(record)
    assert len(buffer.records) == 7
    assert buffer.errors() == "KeyError: 'second'"
    only_generic = autograde._Buffer()
    for record in _records((logging.ERROR, "Please see the error log"), (logging.WARNING, "ValueError: no")):
        only_generic.handle(record)
    assert only_generic.errors() == ""


# -- settings --------------------------------------------------------------------------------------


def test_limits_are_read_from_the_course_config(tmp_path):
    """The limits recorded and fingerprinted are the ones nbgrader_config.py sets."""
    root = tiny_course(tmp_path / "c", "\nc.CourseExecute.memory_limit_mb = 777\n"
                                        "c.CourseExecute.file_size_limit_mb = 5\nc.CourseExecute.max_processes = 9\n"
                                        "c.CourseExecute.work_folder_mb = 11\n"
                                        "c.CourseExecute.judge_outside = False\nc.CourseExecute.sandbox = 'none'\n"
                                        "c.CourseExecute.max_output_cell_kb = 12\n"
                                        "c.CourseExecute.max_output_notebook_kb = 13\n", gradebook=False)
    assert autograde.limits(course_config.load(root)) == {
        "cell_timeout": 8, "notebook_timeout": 40, "memory_limit_mb": 777, "file_size_limit_mb": 5,
        "sandbox": "none", "max_processes": 9, "work_folder_mb": 11, "judge_outside": False,
        "max_output_cell_kb": 12, "max_output_notebook_kb": 13}


def test_the_sandbox_label_says_where_student_code_ran(monkeypatch):
    assert autograde.sandbox_label("none") == "none (--no-sandbox)"
    ok, what = sandbox.available()
    assert autograde.sandbox_label("bwrap") == (what if ok else "unavailable")
    # a machine without bubblewrap (faked: this one has it)
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bubblewrap is not installed"))
    assert autograde.sandbox_label("bwrap") == "unavailable"
    monkeypatch.setattr(sandbox, "available", lambda: (True, "bubblewrap 9.9"))
    assert autograde.sandbox_label("bwrap") == "bubblewrap 9.9"


def test_the_no_sandbox_warning_says_what_is_at_risk():
    for words in ("WITHOUT a sandbox", "--no-sandbox", "gradebook", "hidden tests", "secrets", "trust"):
        assert words in autograde.NO_SANDBOX_WARNING


def test_the_course_plugins_are_used_unless_the_config_names_others(tmp_path):
    """nbgrader_config.py may replace the course's preprocessors; otherwise the converter installs them."""
    from nbgrader.preprocessors import ClearOutput

    from course.grading.execute import CourseExecute
    from course.grading.restore import RestoreCells

    assert RestoreCells in autograde.sanitize_preprocessors()
    assert CourseExecute in autograde.autograde_preprocessors()
    config = course_config.load(tiny_course(tmp_path / "c", gradebook=False))
    del config.Autograde["sanitize_preprocessors"]
    del config.Autograde["autograde_preprocessors"]
    converter = autograde._converter_class()(coursedir=course_config.coursedir(config), config=config)
    assert converter.sanitize_preprocessors == autograde.sanitize_preprocessors()
    assert converter.autograde_preprocessors == autograde.autograde_preprocessors()
    assert converter.records == {}
    config.Autograde.sanitize_preprocessors = [ClearOutput]
    config.Autograde.autograde_preprocessors = [CourseExecute]
    converter = autograde._converter_class()(coursedir=course_config.coursedir(config), config=config)
    assert converter.sanitize_preprocessors == [ClearOutput]
    assert converter.autograde_preprocessors == [CourseExecute]


# -- answers and hand grades --------------------------------------------------------------------------


def test_answers_are_the_stripped_text_of_every_answer_cell_by_notebook(tmp_path):
    assert autograde._answers(tmp_path / "nowhere") == {}
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("markdown", "  my answer \n", grade_id="q1", solution=True),
                _cell("code", "x = 1", grade_id="q2", solution=True),
                _cell("code", "assert x", grade_id="t", grade=True),
                _cell("markdown", "no id", solution=True),
                nbformat.v4.new_markdown_cell("plain")]
    nbformat.write(nb, tmp_path / "one.ipynb")
    nbformat.write(nb, tmp_path / "two.ipynb")
    (tmp_path / "broken.ipynb").write_text("{")
    (tmp_path / "notes.txt").write_text("{}")
    assert autograde._answers(tmp_path) == {"one/q1": "my answer", "one/q2": "x = 1",
                                            "two/q1": "my answer", "two/q2": "x = 1"}


# -- grade_one: one submission, in this process -------------------------------------------------------


def test_a_good_submission_gets_its_scores_and_a_clean_record(course, caplog):
    """The record a worker returns: status, reason, what was recorded, time taken and the scores;
    nbgrader's own log lines stay in the worker (quoted only on an error), the root logger untouched."""
    hand_in(course, "alice")
    hand_in(course, "zoe")
    root_handlers = list(logging.getLogger().handlers)
    with caplog.at_level(logging.DEBUG):
        record = autograde.grade_one(job(course, "alice"))
    assert not [r for r in caplog.records if r.name.startswith("course.grading.autograde")]
    assert logging.getLogger().handlers == root_handlers
    with warnings.catch_warnings(record=True) as shown:  # only sqlalchemy's noise is silenced, not every warning
        warnings.warn("the instructor should see this", UserWarning, stacklevel=1)
    assert [str(w.message) for w in shown] == ["the instructor should see this"]
    seconds = record.pop("seconds")
    assert 0 < seconds < 60 and round(seconds, 2) == seconds
    assert record == {"student": "alice", "status": "graded", "reason": "", "events": [], "findings": [],
                      "score": 2.0, "max_score": 5.0, "auto_score": 2.0, "auto_max": 2.0, "to_grade_by_hand": 3.0}
    assert graded_notebook(course, "alice").cells[1].source == "x = 1"
    assert not (course / "autograded" / "alice" / f".{TINY}.previous").exists()
    assert not (course / "autograded" / "zoe").exists()  # one job grades one student


def test_a_cell_over_its_time_is_stopped_and_says_why(tmp_path):
    """The reason quotes the limit in force (from the job's limits), so the instructor can explain it."""
    root = generated(tmp_path / "c", "\nc.Execute.timeout = 1\n")
    hand_in(root, "ola", code="import time\ntime.sleep(30)\nx = 1")
    record = autograde.grade_one(job(root, "ola"))
    assert record["status"] == "timed out"
    assert "cell answer_x ran longer than 1 s" in record["reason"]
    assert record["seconds"] < 25 and record["auto_score"] == 0


def test_a_regrade_does_not_show_sqlalchemy_session_warnings(course):
    """nbgrader's regrade makes SQLAlchemy warn "not in session" for every row: noise the
    instructor must not see, once per submission."""
    hand_in(course, "ann")
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        autograde.grade_one(job(course, "ann"))
    assert not [w for w in shown if "not in session" in str(w.message)]


def test_scores_add_up_the_gradebook_for_one_submission(course):
    """A wrong answer scores 0 of 2 automatically; an unanswered written question is not to grade."""
    config = course_config.load(course)
    assert autograde.scores(config, TINY, "nobody") == {}
    hand_in(course, "bob", code="x = 2", written="YOUR ANSWER HERE")
    record = autograde.grade_one(job(course, "bob"))
    assert record["status"] == "graded"
    assert autograde.scores(config, TINY, "bob") == {"score": 0.0, "max_score": 5.0, "auto_score": 0,
                                                     "auto_max": 2.0, "to_grade_by_hand": 0}
    hand_in(course, "carol", written="One is the answer.")
    autograde.grade_one(job(course, "carol"))
    grade_by_hand(course, "carol", 2.5)
    assert autograde.scores(config, TINY, "carol") == {"score": 4.5, "max_score": 5.0, "auto_score": 2.0,
                                                       "auto_max": 2.0, "to_grade_by_hand": 0}


def test_what_the_course_plugins_record_reaches_the_status(course):
    """An edited test cell is a finding and makes the submission "tampered", with the cell named."""
    hand_in(course, "dan", code="import no_such_module_for_grading\nx = 1")
    nb_path = course / "submitted" / "dan" / TINY / f"{TINY}.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = "assert True"
    nbformat.write(nb, nb_path)
    record = autograde.grade_one(job(course, "dan"))
    assert record["status"] == "tampered" and "test_x" in record["reason"]
    assert [(f["kind"], f["cell"]) for f in record["findings"]] == [("edited", "test_x")]
    assert [(e["kind"], e["module"]) for e in record["events"]] == [("missing module", "no_such_module_for_grading")]
    assert "no_such_module_for_grading" in record["reason"]


def test_a_failed_grading_keeps_the_earlier_grade_and_quotes_the_error(tmp_path):
    """nbgrader failing on a resubmission: the earlier autograded notebook and scores are put back."""
    root = generated(tmp_path / "c", EXPLODING)
    hand_in(root, "erin")
    assert autograde.grade_one(job(root, "erin"))["status"] == "graded"
    hand_in(root, "erin", code="x = 2  # EXPLODE")
    record = autograde.grade_one(job(root, "erin"))
    assert record["status"] == "error"
    assert record["reason"] == ("nbgrader could not grade it: RuntimeError: the grading disk is on fire; "
                                "the earlier grade is kept")
    assert graded_notebook(root, "erin").cells[1].source == "x = 1"
    assert not (root / "autograded" / "erin" / f".{TINY}.previous").exists()
    assert record["score"] == 2.0 and record["events"] == [] and record["findings"] == []
    hand_in(root, "finn", code="x = 1  # EXPLODE")  # never graded before: nothing to keep, nothing left behind
    record = autograde.grade_one(job(root, "finn"))
    assert record["reason"] == "nbgrader could not grade it: RuntimeError: the grading disk is on fire"
    assert not (root / "autograded" / "finn" / TINY).exists()
    assert not (root / "autograded" / "finn" / f".{TINY}.previous").exists()


def test_a_leftover_set_aside_folder_is_replaced(course):
    """A crash mid-regrade can leave .01_tiny.previous behind; the next grading must not trip on it."""
    hand_in(course, "gus")
    aside = course / "autograded" / "gus" / f".{TINY}.previous"
    aside.mkdir(parents=True)
    (aside / "stale.txt").write_text("old")
    assert autograde.grade_one(job(course, "gus"))["status"] == "graded"
    assert not aside.exists()
    assert autograde.grade_one(job(course, "gus"))["status"] == "graded"  # again, over its own result
    assert not aside.exists() and graded_notebook(course, "gus").cells[1].source == "x = 1"


@pytest.mark.skipif(not HAVE_BWRAP, reason="needs bubblewrap")
def test_the_job_chooses_the_sandbox(course):
    """The job's sandbox wins over the config's: --no-sandbox runs outside, the default inside bwrap."""
    hand_in(course, "hana", code="import os\nprint(os.getcwd())\nx = 1")

    def in_bwrap(record) -> bool:
        printed = "".join(o.get("text", "") for o in graded_notebook(course, "hana").cells[1].outputs)
        return record["status"] == "graded" and printed.strip() == "/grading/work"

    record = autograde.grade_one(job(course, "hana", sandbox="none"))
    assert record["status"] == "graded" and not in_bwrap(record)
    assert "course-grade-" in "".join(o.get("text", "") for o in graded_notebook(course, "hana").cells[1].outputs)
    assert in_bwrap(autograde.grade_one(job(course, "hana", sandbox=None)))  # no choice in the job: the config's
    config_file = course / "nbgrader_config.py"
    config_file.write_text(config_file.read_text() + "\nc.CourseExecute.sandbox = 'none'\n")
    autograde._config.cache_clear()
    assert in_bwrap(autograde.grade_one(job(course, "hana", sandbox="bwrap")))


def test_a_hand_grade_survives_a_forced_regrade_of_an_unchanged_submission(course):
    hand_in(course, "ivy", written="Because one is one.")
    autograde.grade_one(job(course, "ivy"))
    assert written_grade(course, "ivy") == (None, True)
    grade_by_hand(course, "ivy", 2.0)
    record = autograde.grade_one(job(course, "ivy", unchanged_rerun=True))
    assert written_grade(course, "ivy") == (2.0, False)
    assert record["to_grade_by_hand"] == 0 and record["score"] == 4.0


def test_a_resubmission_keeps_the_hand_grade_of_an_unchanged_written_answer_only(course):
    """Other code, same written answer: not flagged again; a changed answer: flagged for review."""
    hand_in(course, "jo", written="Because one is one.")
    autograde.grade_one(job(course, "jo"))
    grade_by_hand(course, "jo", 3.0)
    hand_in(course, "jo", code="x = 3 - 2", written="  Because one is one.\n")
    autograde.grade_one(job(course, "jo"))
    assert written_grade(course, "jo") == (3.0, False)
    hand_in(course, "jo", code="x = 1", written="Because one is one, I changed my mind.")
    record = autograde.grade_one(job(course, "jo"))
    assert written_grade(course, "jo") == (3.0, True)
    assert record["to_grade_by_hand"] == 3.0


def test_a_flag_the_instructor_never_cleared_stays(course):
    """Only flags cleared by a hand grade are cleared again: an ungraded answer stays to grade."""
    hand_in(course, "kim")
    autograde.grade_one(job(course, "kim"))
    autograde.grade_one(job(course, "kim", unchanged_rerun=True))
    assert written_grade(course, "kim") == (None, True)
    hand_in(course, "kim", code="x = 3 - 2")
    autograde.grade_one(job(course, "kim"))
    assert written_grade(course, "kim") == (None, True)


def test_keeping_cleared_flags_counts_what_it_cleared(course):
    """The flag is cleared again only where the instructor's score is still the one in the gradebook."""
    hand_in(course, "lea")
    autograde.grade_one(job(course, "lea"))
    config = course_config.load(course)
    grade_by_hand(course, "lea", 1.0)
    before = autograde._manual_state(config, TINY, "lea")
    assert before[f"{TINY}/written"] == {"manual_score": 1.0, "needs_manual_grade": False}
    assert before[f"{TINY}/test_x"] == {"manual_score": None, "needs_manual_grade": False}
    assert autograde._manual_state(config, TINY, "nobody") == {}
    with course_config.gradebook(config) as gb:  # what a regrade does to the flag
        gb.find_grade("written", TINY, TINY, "lea").needs_manual_grade = True
        gb.db.commit()
    assert autograde._keep_cleared_flags(config, TINY, "lea", before, same={f"{TINY}/other"}) == 0
    assert written_grade(course, "lea") == (1.0, True)
    assert autograde._keep_cleared_flags(config, TINY, "lea", before, same={f"{TINY}/written"}) == 1
    assert written_grade(course, "lea") == (1.0, False)
    with course_config.gradebook(config) as gb:  # a different score now: the flag is not touched
        grade = gb.find_grade("written", TINY, TINY, "lea")
        grade.manual_score, grade.needs_manual_grade = 2.0, True
        gb.db.commit()
    assert autograde._keep_cleared_flags(config, TINY, "lea", before) == 0
    assert written_grade(course, "lea") == (2.0, True)
    flagged = {f"{TINY}/written": {"manual_score": 2.0, "needs_manual_grade": True}}
    assert autograde._keep_cleared_flags(config, TINY, "lea", flagged) == 0  # never cleared by the instructor
    assert autograde._keep_cleared_flags(config, TINY, "lea", {}) == 0
    cleared = {f"{TINY}/written": {"manual_score": 2.0, "needs_manual_grade": False}}
    assert autograde._keep_cleared_flags(config, TINY, "lea", cleared) == 1
    assert written_grade(course, "lea") == (2.0, False)


# -- run: the batch ---------------------------------------------------------------------------------


def _run(root, *students, **kw):
    lines = []
    kw.setdefault("no_sandbox", True)
    records = autograde.run(root, TINY, students=list(students) or None, echo=lines.append, **kw)
    return records, lines


def test_run_needs_the_gradebook_and_the_assignment(tmp_path):
    root = tiny_course(tmp_path / "c", gradebook=False)
    with pytest.raises(SystemExit) as err:
        _run(root)
    assert str(err.value.code) == ("course grade: no gradebook yet (gradebook.db); run "
                                   f"`course grade generate {TINY}` first")
    shutil.copyfile(empty_gradebook(), root / "gradebook.db")
    with pytest.raises(SystemExit) as err:
        _run(root)
    assert str(err.value.code) == (f"course grade: assignment '{TINY}' is not in the gradebook; run "
                                   f"`course grade generate {TINY}` first")


def test_run_refuses_without_the_sandbox_and_names_why(course, monkeypatch):
    hand_in(course, "alice")
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bwrap is missing (faked)"))
    with pytest.raises(SystemExit) as err:
        _run(course, no_sandbox=False)
    assert err.value.code == "course grade: refusing to run student code without a sandbox: bwrap is missing (faked)"
    assert not (course / "autograded").exists()


def test_submissions_that_cannot_run_are_recorded_listed_and_on_the_roster(course):
    """Missing and broken notebooks get their status at once, are written down and are not run."""
    (course / "submitted" / "nora" / TINY).mkdir(parents=True)
    broken = hand_in(course, "omar") / f"{TINY}.ipynb"
    broken.write_text('{"cells": [')
    (course / "submitted" / "stray.txt").write_text("not a student")
    (course / "submitted" / "pat" / "other_assignment").mkdir(parents=True)
    records, lines = _run(course)
    assert sorted(records) == ["nora", "omar"]
    assert lines[0] == autograde.NO_SANDBOX_WARNING
    assert lines[1] == (f"{TINY}: 2 submission(s): 0 to grade, 2 that cannot be run, 0 unchanged since their last "
                        "grading (skipped; --force regrades them)")
    assert lines[2] == f"  {'nora':<20} {'missing':<15} no {TINY}.ipynb in the submission (no notebook in the folder)"
    assert lines[3].startswith(f"  {'omar':<20} {'not a notebook':<15} {TINY}.ipynb is not valid JSON")
    assert lines[4:] == ["statuses: 1 not a notebook, 1 missing"]
    nora = records["nora"]
    assert (nora["student"], nora["status"], nora["sandbox"]) == ("nora", "missing", "none (--no-sandbox)")
    assert nora["seconds"] == 0.0 and nora["events"] == [] and nora["findings"] == []
    assert nora["fingerprint"] and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", nora["graded_at"])
    assert status.read(course / "autograded", TINY) == records
    config = course_config.load(course)
    with course_config.gradebook(config) as gb:
        assert sorted(s.id for s in gb.students) == ["nora", "omar"]
    records, lines = _run(course)  # unchanged: skipped, and still reported
    assert lines[1] == (f"{TINY}: 2 submission(s): 0 to grade, 0 that cannot be run, 2 unchanged since their last "
                        "grading (skipped; --force regrades them)")
    assert sorted(records) == ["nora", "omar"] and lines[2:] == ["statuses: 1 not a notebook, 1 missing"]
    records, lines = _run(course, force=True)
    assert "2 that cannot be run, 0 unchanged" in lines[1]


def test_a_roster_student_without_a_submission_is_missing(course):
    config = course_config.load(course)
    with course_config.gradebook(config) as gb:
        gb.update_or_create_student("quinn")
    records, lines = _run(course, "quinn", "zed", "yan")
    assert lines[0] == "no submission and not on the roster: yan, zed"
    assert records["quinn"]["status"] == "missing" and records["quinn"]["reason"] == "no submission folder"
    assert list(records) == ["quinn"]


def test_a_broken_resubmission_says_the_earlier_grade_is_kept(course):
    hand_in(course, "rita")
    records, _ = _run(course)
    (course / "submitted" / "rita" / TINY / f"{TINY}.ipynb").write_text("{")
    records, lines = _run(course)
    assert records["rita"]["status"] == "not a notebook"
    assert records["rita"]["reason"].endswith("on upload An earlier grade of this student is kept in the gradebook.")
    assert records["rita"]["score"] == 2.0 and records["rita"]["auto_score"] == 2.0


def test_a_run_grades_reports_progress_and_skips_unchanged_work(course, monkeypatch):
    """Two tiny students through the workers: progress lines, the summary, a resubmission regraded
    as new work, and a rerun that skips what did not change."""
    from course.grading import workers

    seen = []
    real = workers.run

    def spy(jobs, fn, **kw):  # the real workers; the call is recorded to see the watchdog's limit
        seen.append(([dict(j) for j in jobs], kw))
        return real(jobs, fn, **kw)

    monkeypatch.setattr(workers, "run", spy)
    hand_in(course, "sam")
    hand_in(course, "sid", code="x = 2")
    (course / "submitted" / "tom" / TINY).mkdir(parents=True)
    records, lines = _run(course, workers_count=3)
    assert lines[1] == (f"{TINY}: 3 submission(s): 2 to grade with 2 worker(s), 1 that cannot be run, 0 unchanged "
                        "since their last grading (skipped; --force regrades them)")
    progress = sorted(lines[3:5], key=lambda line: line[6:])  # by student: they finish in any order
    assert re.fullmatch(rf"\[\d/2\] {'sam':<20} {'graded':<15} auto 2/2, 3 pt to grade by hand  \d+\.\d s", progress[0])
    assert re.fullmatch(rf"\[\d/2\] {'sid':<20} {'graded':<15} auto 0/2, 3 pt to grade by hand  \d+\.\d s", progress[1])
    assert {line[:5] for line in progress} == {"[1/2]", "[2/2]"}
    assert lines[5:] == ["statuses: 1 missing, 2 graded"]
    (jobs, kw), = seen
    assert kw["workers"] == 2 and kw["hard_timeout"] == 40 + 120
    assert [j["student"] for j in jobs] == ["sam", "sid"]
    assert jobs[0]["sandbox"] == "none" and jobs[0]["unchanged_rerun"] is False and jobs[0]["assignment"] == TINY
    assert jobs[0]["root"] == str(course.resolve()) and jobs[0]["limits"]["sandbox"] == "none"
    sam = records["sam"]
    assert (sam["student"], sam["status"], sam["score"]) == ("sam", "graded", 2.0)
    assert sam["sandbox"] == "none (--no-sandbox)"
    assert sam["fingerprint"] == jobs[0]["fingerprint"] and sam["graded_at"]
    assert set(sam) == {"student", "fingerprint", "graded_at", "sandbox", "status", "reason", "events", "findings",
                        "seconds", "score", "max_score", "auto_score", "auto_max", "to_grade_by_hand"}
    assert status.read(course / "autograded", TINY)["sam"] == sam
    seen.clear()
    hand_in(course, "sam", code="x = 3 - 2")  # a resubmission: new work, not a rerun of the same
    records, lines = _run(course, "sam")
    (jobs, kw), = seen
    assert jobs[0]["unchanged_rerun"] is False and kw["workers"] == 1
    assert records["sam"]["fingerprint"] != sam["fingerprint"]
    sam = records["sam"]
    seen.clear()
    records, lines = _run(course)
    assert "0 to grade, 0 that cannot be run, 3 unchanged" in lines[1] and seen[0][0] == []
    assert seen[0][1]["workers"] == 1  # no worker process is started for nothing
    assert records["sam"] == sam
    seen.clear()
    records, lines = _run(course, "sam", force=True)
    (jobs, kw), = seen
    assert jobs[0]["unchanged_rerun"] is True and "1 submission(s): 1 to grade with 1 worker(s)" in lines[1]
    assert list(records) == ["sam"]


def test_without_a_notebook_time_limit_the_watchdog_allows_an_hour(course, monkeypatch):
    """notebook_timeout = 0 means no limit per notebook: a stuck worker is still stopped, after an hour."""
    from course.grading import workers

    seen = []
    monkeypatch.setattr(workers, "run", lambda jobs, fn, **kw: seen.append(kw) or [])
    config_file = course / "nbgrader_config.py"
    config_file.write_text(config_file.read_text() + "\nc.CourseExecute.notebook_timeout = 0\n")
    _run(course)
    assert seen[0]["hard_timeout"] == 3600 + 120


def test_the_progress_line_shows_scores_time_and_reason():
    line = autograde._line({"status": "graded", "auto_score": 2.5, "auto_max": 8, "to_grade_by_hand": 3,
                            "seconds": 1.25, "reason": ""})
    assert line == f"{'graded':<15} auto 2.5/8, 3 pt to grade by hand  1.2 s"
    line = autograde._line({"status": "timed out", "auto_score": 0, "auto_max": 8, "to_grade_by_hand": 0,
                            "reason": "cell answer_x ran too long"})
    assert line == f"{'timed out':<15} auto 0/8  0.0 s\n{'':24}cell answer_x ran too long"
    assert autograde._line({"status": "error", "seconds": 3}) == f"{'error':<15}  3.0 s"


@pytest.mark.skipif(not HAVE_BWRAP, reason="needs bubblewrap")
def test_a_run_uses_the_sandbox_unless_told_not_to(course):
    """By default (as the course config says) the run is sandboxed, and the records say which sandbox."""
    (course / "submitted" / "uma" / TINY).mkdir(parents=True)
    lines = []
    records = autograde.run(course, TINY, echo=lines.append)
    assert autograde.NO_SANDBOX_WARNING not in lines
    assert records["uma"]["sandbox"] == sandbox.available()[1]


def test_an_edited_assignment_or_new_limits_regrade_everyone(course):
    """The fingerprint covers the source notebook and the limits: changing either regrades."""
    (course / "submitted" / "vic" / TINY).mkdir(parents=True)
    _run(course)
    assert "0 that cannot be run, 1 unchanged" in _run(course)[1][1]
    source = course / "exercises" / TINY / f"{TINY}.ipynb"
    source.write_text(source.read_text().replace("Set x to one", "Set x to 1"))
    assert "1 that cannot be run, 0 unchanged" in _run(course)[1][1]
    assert "0 that cannot be run, 1 unchanged" in _run(course)[1][1]
    config_file = course / "nbgrader_config.py"
    config_file.write_text(config_file.read_text() + "\nc.Execute.timeout = 9\n")
    assert "1 that cannot be run, 0 unchanged" in _run(course)[1][1]
