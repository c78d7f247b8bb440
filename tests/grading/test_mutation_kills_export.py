"""Fast unit tests of course/grading/export.py (issue 20): the CSV's columns for each kind of
student (graded, written answers still to grade by hand, not runnable, missing, not on the
roster), read from a gradebook made of plain objects in memory and grading records in tmp_path."""
from __future__ import annotations

import csv
import io
from types import SimpleNamespace as NS

import nbformat
import pytest
from nbgrader.api import MissingEntry

from course.grading import config as course_config
from course.grading import export, status


def _grade(name, score=None, auto=None, manual=None, max_score=1, waiting=False):
    return NS(name=name, score=score, auto_score=auto, manual_score=manual, max_score=max_score,
              needs_manual_grade=waiting)


class _Gradebook:
    def __init__(self, assignments, students, submissions):
        self.assignments, self.students, self.submissions = assignments, students, submissions

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def find_submission(self, assignment, student):
        try:
            return self.submissions[(assignment, student)]
        except KeyError:
            raise MissingEntry() from None


def _submission(grades, score, penalty=None, timestamp="2026-01-05 10:00:00", notebook="nb"):
    return NS(notebooks=[NS(name=notebook, grades=grades)], score=score, late_submission_penalty=penalty,
              timestamp=timestamp)


@pytest.fixture
def course(tmp_path, monkeypatch):
    """assignment a1 (notebook nb: test_q1, test_q2, written_q3; max 10), three students on the roster."""
    folder = tmp_path / "source" / "a1"
    folder.mkdir(parents=True)
    cells = []
    for gid in ("written_q3", "test_q2", "test_q1", "test_q2"):  # source order, a duplicated id
        cell = nbformat.v4.new_code_cell("")
        cell.metadata["nbgrader"] = {"grade_id": gid}
        cells.append(cell)
    cells.insert(0, nbformat.v4.new_markdown_cell("intro"))
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "nb.ipynb")
    a1 = NS(name="a1", max_score=10.0,
            notebooks=[NS(name="nb", grade_cells=[NS(name=n) for n in ("test_q1", "test_q2", "written_q3", "extra")])])
    students = [NS(id="ann", last_name="Avetisyan", first_name="Ani", email="ani@example.org"),
                NS(id="bob", last_name=None, first_name=None, email=None),
                NS(id="cem", last_name="Aliyev", first_name="Cem", email="")]
    gb = _Gradebook([a1], students, {})
    course = NS(autograded_directory="autograded", source_directory="source",
                format_path=lambda step, student, assignment: str(tmp_path / step / student / assignment))
    monkeypatch.setattr(course_config, "coursedir", lambda config: course)
    monkeypatch.setattr(course_config, "gradebook", lambda config: gb)
    return NS(root=tmp_path, gb=gb, a1=a1)


def _rows(course, assignments=None):
    header, rows = export.rows(None, assignments)
    return header, {r["student_id"]: r for r in rows}


def test_the_header_has_the_questions_in_source_order_between_the_fixed_columns_and_the_totals(course):
    header, _ = _rows(course)
    assert header == [*export.FIXED, "written_q3", "test_q2", "test_q1", "extra", *export.TOTALS]
    assert export.TOTALS[-1] == "sandbox" and "provisional" in export.TOTALS and "to_grade_by_hand" in export.TOTALS


def test_a_graded_student_with_a_written_answer_waiting_is_provisional(course):
    course.gb.submissions[("a1", "ann")] = _submission([
        _grade("test_q1", 2, auto=2, max_score=2), _grade("test_q2", 0, auto=0, max_score=3),
        _grade("written_q3", None, max_score=4.5, waiting=True), _grade("extra", 1, manual=1, max_score=1)],
        score=3.0, penalty=0.5)
    status.write(course.root / "autograded", "a1", {"ann": {"status": "tampered", "reason": "locked cell edited",
                                                             "sandbox": "bubblewrap 0.8.0"}})
    _, rows = _rows(course)
    assert rows["ann"] == {
        "assignment": "a1", "student_id": "ann", "last_name": "Avetisyan", "first_name": "Ani",
        "email": "ani@example.org", "status": "tampered", "reason": "locked cell edited",
        "written_q3": "", "test_q2": "0", "test_q1": "2", "extra": "1",
        "auto_score": "2", "manual_score": "1", "needs_manual_grade": "1", "to_grade_by_hand": "4.5",
        "raw_score": "3", "late_submission_penalty": "0.5", "score": "2.5", "provisional": "yes",
        "max_score": "10", "timestamp": "2026-01-05 10:00:00", "sandbox": "bubblewrap 0.8.0"}


def test_a_waiting_cell_worth_no_points_still_makes_the_score_provisional(course):
    """A hand-graded cell of 0 points adds nothing to to_grade_by_hand, but the row is not final yet."""
    course.gb.submissions[("a1", "ann")] = _submission([
        _grade("test_q1", 1, auto=1), _grade("written_q3", None, max_score=0, waiting=True)], score=1.0)
    row = _rows(course)[1]["ann"]
    assert (row["to_grade_by_hand"], row["needs_manual_grade"], row["provisional"]) == ("0", "1", "yes")


def test_a_fully_graded_student_is_final_and_the_penalty_never_makes_a_negative_score(course):
    course.gb.submissions[("a1", "ann")] = _submission([
        _grade("test_q1", 1, auto=1), _grade("written_q3", 0.5, manual=0.5, max_score=4)],
        score=1.5, penalty=4.0, timestamp=None)
    _, rows = _rows(course)
    row = rows["ann"]
    assert (row["status"], row["reason"], row["sandbox"]) == ("graded", "", "")
    assert (row["to_grade_by_hand"], row["provisional"], row["needs_manual_grade"]) == ("0", "no", "0")
    assert (row["raw_score"], row["late_submission_penalty"], row["score"]) == ("1.5", "4", "0")
    assert (row["auto_score"], row["manual_score"], row["timestamp"]) == ("1", "0.5", "")
    assert (row["test_q1"], row["written_q3"], row["test_q2"]) == ("1", "0.5", "")


def test_a_submission_that_could_not_run_shows_no_scores(course):
    course.gb.submissions[("a1", "bob")] = _submission([_grade("test_q1", 1, auto=1),
                                                        _grade("written_q3", 0, max_score=4, waiting=True)], score=1)
    status.write(course.root / "autograded", "a1", {"bob": {"status": "not a notebook", "reason": "not valid JSON"}})
    _, rows = _rows(course)
    row = rows["bob"]
    assert (row["last_name"], row["first_name"], row["email"]) == ("", "", "")
    assert (row["status"], row["reason"]) == ("not a notebook", "not valid JSON")
    assert row["test_q1"] == "" and row["written_q3"] == ""
    assert {k: row[k] for k in ("auto_score", "manual_score", "needs_manual_grade", "to_grade_by_hand", "raw_score",
                                "score", "provisional")} == {
        "auto_score": "0", "manual_score": "0", "needs_manual_grade": "0", "to_grade_by_hand": "0",
        "raw_score": "0", "score": "0", "provisional": "no"}


@pytest.mark.parametrize("state", ["missing", "not a notebook"])
def test_an_earlier_grade_kept_for_a_broken_resubmission_is_shown(course, state):
    course.gb.submissions[("a1", "bob")] = _submission([_grade("test_q1", 1, auto=1)], score=1)
    status.write(course.root / "autograded", "a1",
                 {"bob": {"status": state, "reason": "resubmission unreadable; earlier grade kept"}})
    row = _rows(course)[1]["bob"]
    assert (row["test_q1"], row["raw_score"], row["score"], row["auto_score"]) == ("1", "1", "1", "1")


def test_other_statuses_keep_their_scores(course):
    course.gb.submissions[("a1", "ann")] = _submission([_grade("test_q1", 1, auto=1)], score=1)
    status.write(course.root / "autograded", "a1", {"ann": {"status": "timed out", "reason": "cell test_q1"}})
    row = _rows(course)[1]["ann"]
    assert (row["status"], row["test_q1"], row["score"]) == ("timed out", "1", "1")


def test_students_without_a_submission_are_missing_with_zeros(course):
    _, rows = _rows(course)
    assert sorted(rows) == ["ann", "bob", "cem"]
    row = rows["cem"]
    assert (row["status"], row["reason"], row["email"], row["max_score"]) == ("missing", "no submission", "", "10")
    assert {k: row[k] for k in ("auto_score", "manual_score", "needs_manual_grade", "to_grade_by_hand",
                                "raw_score", "late_submission_penalty", "score", "provisional", "timestamp",
                                "test_q1", "sandbox")} == {
        "auto_score": "0", "manual_score": "0", "needs_manual_grade": "0", "to_grade_by_hand": "0",
        "raw_score": "0", "late_submission_penalty": "0", "score": "0", "provisional": "no", "timestamp": "",
        "test_q1": "", "sandbox": ""}


def test_a_record_without_a_roster_entry_still_gets_a_row(course):
    status.write(course.root / "autograded", "a1", {"zed": {"status": "missing", "reason": "no submission folder",
                                                             "sandbox": "none (--no-sandbox)"}})
    row = _rows(course)[1]["zed"]
    assert (row["last_name"], row["status"], row["reason"], row["sandbox"]) == (
        "", "missing", "no submission folder", "none (--no-sandbox)")


def test_unknown_assignments_are_refused_and_a_choice_is_respected(course):
    with pytest.raises(SystemExit, match=r"not in the gradebook: a9, b2 \(run `course grade generate` first\)"):
        export.rows(None, ["b2", "a1", "a9"])
    header, rows = export.rows(None, ["a1"])
    assert len(rows) == 3
    course.gb.assignments.append(NS(name="a2", max_score=None, notebooks=[]))
    header, rows = export.rows(None, ["a2"])
    assert header == [*export.FIXED, *export.TOTALS] and rows[0]["max_score"] == ""
    assert len(export.rows(None, [])[1]) == 6 and len(export.rows(None)[1]) == 6


def test_several_notebooks_prefix_their_question_columns(course, tmp_path):
    course.a1.notebooks.append(NS(name="part2", grade_cells=[NS(name="test_q1")]))
    header, _ = export.rows(None)
    questions = header[len(export.FIXED):-len(export.TOTALS)]
    assert questions == ["nb:written_q3", "nb:test_q2", "nb:test_q1", "nb:extra", "part2:test_q1"]


def test_without_the_source_notebook_the_columns_are_sorted(course):
    (course.root / "source" / "a1" / "nb.ipynb").unlink()
    header, _ = export.rows(None)
    assert header[len(export.FIXED):-len(export.TOTALS)] == ["extra", "test_q1", "test_q2", "written_q3"]
    (course.root / "source" / "a1" / "nb.ipynb").write_text("{broken")
    header, _ = export.rows(None)
    assert header[len(export.FIXED):-len(export.TOTALS)] == ["extra", "test_q1", "test_q2", "written_q3"]


def test_a_cell_without_any_score_stays_empty_even_with_a_score_field(course):
    course.gb.submissions[("a1", "ann")] = _submission([_grade("test_q1", 0.0, auto=None, manual=None)], score=0)
    assert _rows(course)[1]["ann"]["test_q1"] == ""
    course.gb.submissions[("a1", "ann")] = _submission([_grade("test_q1", 0.0, auto=0.0)], score=0)
    assert _rows(course)[1]["ann"]["test_q1"] == "0"


def test_numbers_are_written_short():
    assert export._number(None) == "" and export._number(0) == "0" and export._number(2.50) == "2.5"
    assert export._number(1e-7) == "1e-07" and export._number("3") == "3"


def test_to_csv_writes_the_header_and_one_line_per_row(course):
    text = export.to_csv(None)
    assert "\r" not in text and text.endswith("\n")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["student_id"] for r in table] == ["ann", "bob", "cem"]
    assert text.splitlines()[0] == ",".join([*export.FIXED, "written_q3", "test_q2", "test_q1", "extra",
                                             *export.TOTALS])


@pytest.mark.parametrize("state", ["missing", "not a notebook"])
def test_a_submission_recorded_as_not_runnable_shows_no_scores_at_all(course, state):
    course.gb.submissions[("a1", "bob")] = _submission([_grade("test_q1", 1, auto=1),
                                                        _grade("written_q3", 2, manual=2, max_score=4)], score=3)
    status.write(course.root / "autograded", "a1", {"bob": {"status": state, "reason": "no notebook"}})
    row = _rows(course)[1]["bob"]
    assert (row["test_q1"], row["written_q3"], row["auto_score"], row["manual_score"], row["raw_score"],
            row["score"]) == ("", "", "0", "0", "0", "0")


def test_every_assignment_adds_its_own_question_columns_and_csv_keeps_the_choice(course):
    folder = course.root / "source" / "a2"
    folder.mkdir(parents=True)
    cell = nbformat.v4.new_code_cell("")
    cell.metadata["nbgrader"] = {"grade_id": "test_q9"}
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), folder / "nb.ipynb")
    course.gb.assignments.append(NS(name="a2", max_score=5.0,
                                    notebooks=[NS(name="nb", grade_cells=[NS(name="test_q9"), NS(name="test_q1")])]))
    header, rows = export.rows(None)
    assert header == [*export.FIXED, "written_q3", "test_q2", "test_q1", "extra", "test_q9", *export.TOTALS]
    assert [r["assignment"] for r in rows] == ["a1"] * 3 + ["a2"] * 3
    only = list(csv.DictReader(io.StringIO(export.to_csv(None, ["a2"]))))
    assert {r["assignment"] for r in only} == {"a2"} and "test_q9" in only[0] and "written_q3" not in only[0]
