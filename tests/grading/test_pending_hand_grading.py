"""Written answers waiting for hand grading are never shown as scores (issue 19).

One student of assignment 01 goes through the instructor's flow: autograded (the written answer
waits) -> status, export, feedback -> graded by hand (as Formgrader saves it) -> resubmitted with a
changed written answer (flagged again). At each step status, export and feedback must say what
is final and what is not. Uses the session's course folder (conftest.py); grades only its own
students, so it runs in seconds and leaves the other tests' students alone.
"""
from __future__ import annotations

import csv
import re

from grading_helpers import ASSIGNMENT, notebooks, run_cli, submit_notebook

from course.grading import config as course_config
from course.grading import feedback as fb
from course.grading import samples

STUDENT = "pendingwithaverylongstudentid"  # also checks that a long id keeps the status columns in line


def _written_id(source) -> str:
    return next(c.metadata["nbgrader"]["grade_id"] for c in source.cells if samples.is_written(c))


def _hand_in(course, written: str) -> None:
    source, release = notebooks(course)
    nb = samples.make("correct", source, release)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == _written_id(source))
    cell.source = written
    submit_notebook(course, STUDENT, nb, replace=True)
    code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--student", STUDENT)
    assert code == 0 and "1 to grade" in out, out


def _row(course) -> dict:
    code, out = run_cli("--root", course, "export", ASSIGNMENT, "--to", course / "pending.csv")
    assert code == 0, out
    with open(course / "pending.csv", newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}[STUDENT]


def _page(course):
    page = course / "feedback" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html"
    return page.read_text(encoding="utf-8") if page.exists() else None


def _feedback(course, *extra) -> str:
    code, out = run_cli("--root", course, "feedback", ASSIGNMENT, "--student", STUDENT, *extra)
    assert code == 0, out
    return out


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_pending_hand_grading_through_status_export_and_feedback(course):
    source, _ = notebooks(course)
    written = _written_id(source)
    tests, manual = samples.points(source)
    auto, total = sum(tests), sum(tests) + manual

    # 1. autograded: the written answer waits for the instructor
    _hand_in(course, samples.WRITTEN)
    code, out = run_cli("--root", course, "status", ASSIGNMENT)
    assert code == 0, out
    lines = out.splitlines()
    line = next(ln for ln in lines if ln.startswith(STUDENT))
    assert f"{auto:g}/{total:g}" in line and f"to grade by hand: {manual:g} pt" in line, out
    assert lines[0].index("status") == line.index("graded")  # the long id does not shift the columns
    assert re.search(r"^statuses: .*to grade by hand: \d+ submission\(s\), \d+ pt", lines[-1]), out

    row = _row(course)
    assert (row[written], row["to_grade_by_hand"], row["provisional"]) == ("", f"{manual:g}", "yes")
    assert row["score"] == f"{auto:g}"

    out = _feedback(course)  # default: no page, the student listed with what waits
    assert _page(course) is None
    assert f"no page for 1 student(s) with answers still to grade by hand: {STUDENT} ({written}, {manual:g} pt)" \
        in out, out

    out = _feedback(course, "--force")  # forced: a page, the answer marked, no score for it
    assert "--force: 1 page(s) are provisional" in out and STUDENT in out, out
    text = _text(_page(course))
    assert fb.NOT_GRADED_YET in text and "this feedback is not final" in text
    assert "Written response" not in text  # nbgrader's "Written response (Score: 0.0 / 16.0)"
    assert f"Score: 0.0 / {manual:.1f}" not in text
    assert f"(Score: {auto:.1f} / {auto:.1f})" in text  # the page's score counts only what is graded
    assert "padding: 0.25em 0.9em" in _page(course)  # the intro table gets its spacing back

    # 2. graded by hand, as Formgrader saves it: final everywhere
    config = course_config.load(course)
    with course_config.gradebook(config) as gb:
        grade = gb.find_grade(written, ASSIGNMENT, ASSIGNMENT, STUDENT)
        grade.manual_score = manual - 4
        grade.needs_manual_grade = False
        gb.db.commit()
    code, out = run_cli("--root", course, "status", ASSIGNMENT)
    line = next(ln for ln in out.splitlines() if ln.startswith(STUDENT))
    assert "to grade by hand" not in line and f"{total - 4:g}/{total:g}" in line, out
    row = _row(course)
    assert (row[written], row["to_grade_by_hand"], row["provisional"]) == (f"{manual - 4:g}", "0", "no")
    out = _feedback(course)
    assert "no page for" not in out, out
    text = _text(_page(course))
    assert fb.NOT_GRADED_YET not in text
    assert f"Written response (Score: {manual - 4:.1f} / {manual:.1f})" in text

    # 3. resubmitted with a changed written answer: flagged again, the old hand score is not final
    _hand_in(course, samples.WRITTEN + " On reflection, the second figure points the other way.")
    row = _row(course)
    assert (row["to_grade_by_hand"], row["provisional"]) == (f"{manual:g}", "yes")
    out = _feedback(course)
    assert _page(course) is None, "the page with the earlier hand score must not stay"
    assert f"their earlier page was removed ({STUDENT})" in out, out
    _feedback(course, "--force")
    text = _text(_page(course))
    assert fb.NOT_GRADED_YET in text
    assert f"{manual - 4:.1f} / {manual:.1f}" not in text  # the earlier hand score is not shown as final
    assert f"(Score: {auto:.1f} / {auto:.1f})" in text
