"""The whole grading pipeline on generated submissions of assignment 01 (see conftest.py).

generate -> submit (one sample of every kind) -> autograde (2 workers) -> feedback -> export ->
rerun, manual grades, resubmissions. Each nbgrader 0.9.6 fault the course fixes has a test here.
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import nbformat
import psutil
import pytest
from grading_helpers import ASSIGNMENT, CELL_TIMEOUT, EXTRA, SANDBOX, notebooks, run_cli, submit, submit_notebook

from course.grading import config as course_config
from course.grading import feedback as fb
from course.grading import samples, status

RUNNABLE = [k for k in samples.KINDS if samples.STATUS[k] not in ("missing", "not a notebook")]


def export_rows(root: Path) -> dict[str, dict]:
    code, out = run_cli("--root", root, "export", ASSIGNMENT, "--to", root / "grades.csv")
    assert code == 0, out
    with open(root / "grades.csv", newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def gradebook_grades(root: Path, student: str) -> dict[str, tuple]:
    config = course_config.load(root)
    with course_config.gradebook(config) as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                for nb in submission.notebooks for g in nb.grades}


@pytest.mark.parametrize("kind", samples.KINDS)
def test_every_sample_gets_its_score_and_status(course, graded, kind):
    source, _ = notebooks(course)
    record = graded["records"][kind]
    assert record["status"] == samples.STATUS[kind], record
    row = export_rows(course)[kind]
    assert row["status"] == samples.STATUS[kind]
    assert float(row["auto_score"]) == samples.expected_auto_score(kind, source)
    tests, manual = samples.points(source)
    assert float(row["max_score"]) == sum(tests) + manual
    if kind in ("correct", "wrong", "untouched", "extra_cell"):
        assert row["reason"] == ""
    else:
        assert row["reason"], f"{kind} must say why it is not plainly graded"


def test_each_bad_submission_says_what_happened(graded):
    reasons = {kind: graded["records"][kind]["reason"] for kind in samples.KINDS}
    assert "answer_q1" in reasons["loop"] and f"{CELL_TIMEOUT} s" in reasons["loop"]
    assert "died in cell answer_q2" in reasons["kernel_dies"]
    assert "test_q1" in reasons["edited_test"] and "edited" in reasons["edited_test"]
    assert "test_q2" in reasons["deleted_test"] and "put back" in reasons["deleted_test"]
    assert "metadata missing" in reasons["stripped_metadata"]
    assert "not valid JSON" in reasons["not_json"] and "line 1" in reasons["not_json"]
    assert "Untitled.ipynb" in reasons["missing"]


def test_question_scores_in_the_export(course, graded):
    rows = export_rows(course)
    header = list(next(iter(rows.values())))
    assert header[:7] == ["assignment", "student_id", "last_name", "first_name", "email", "status", "reason"]
    assert header[7:11] == ["test_q1", "test_q2", "test_q3", "written_q4"]
    assert [rows["correct"][q] for q in ("test_q1", "test_q2", "test_q3", "written_q4")] == ["3", "3", "2", ""]
    assert [rows["kernel_dies"][q] for q in ("test_q1", "test_q2", "test_q3")] == ["3", "0", "0"]
    assert [rows["edited_test"][q] for q in ("test_q1", "test_q2", "test_q3")] == ["0", "3", "2"]
    assert rows["untouched"]["written_q4"] == "0"  # an untouched written answer scores 0 by itself
    assert rows["correct"]["needs_manual_grade"] == "1"
    for kind in ("not_json", "missing"):  # no question scores, never a silent zero
        assert [rows[kind][q] for q in ("test_q1", "test_q2", "test_q3", "written_q4")] == ["", "", "", ""]
        assert rows[kind]["status"] != "graded"


def test_every_good_submission_is_graded(course, graded):
    assert set(RUNNABLE) | set(EXTRA) <= set(graded["records"])
    for student in RUNNABLE + list(EXTRA):
        assert (course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file(), student
        assert gradebook_grades(course, student)["test_q1"][0] is not None, student
    for student in ("not_json", "missing"):
        assert not (course / "autograded" / student).exists()


def test_missing_test_cells_are_put_back_with_their_hidden_tests(course, graded):
    for student, cell in (("deleted_test", "test_q2"), ("stripped_metadata", "test_q1")):
        nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
        assert "BEGIN HIDDEN TESTS" in cells[cell].source
        assert cells[cell].metadata["nbgrader"]["grade"] is True
        assert not any(o.get("output_type") == "error" for o in cells[cell].outputs)
        order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        assert order.index(cell) == order.index(cell.replace("test", "answer")) + 1


def test_only_real_changes_are_reported(graded):
    records = graded["records"]
    for kind in ("correct", "wrong", "untouched", "extra_cell", "loop", "kernel_dies"):
        assert records[kind]["findings"] == [], kind  # nbgrader #1961 flags every hidden-test cell
    assert [(f["kind"], f["cell"]) for f in records["edited_test"]["findings"]] == [("edited", "test_q1")]
    assert [(f["kind"], f["cell"]) for f in records["deleted_test"]["findings"]] == [("cell restored", "test_q2")]


def test_student_files_stay_in_their_own_working_folder(course, graded):
    assert not list(course.rglob("my_notes.txt"))  # not in autograded/, feedback/, or anywhere else
    nb = nbformat.read(course / "autograded" / "extra_cell" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "checking my own work in" in printed
    assert str(course) not in printed
    assert ("/grading/work" if SANDBOX == "bwrap" else "course-grade-") in printed


def test_feedback_never_shows_hidden_tests(course, graded):
    # --force: the sample written answers are not graded by hand here; their pages say "Not graded yet"
    code, out = run_cli("--root", course, "feedback", ASSIGNMENT, "--force")
    assert code == 0, out
    config = course_config.load(course)
    with course_config.gradebook(config) as gb:
        secret = [line for nb in gb.find_assignment(ASSIGNMENT).notebooks for c in nb.source_cells
                  for line in fb.hidden_lines(c.source or "")]
    assert len(secret) >= 9
    pages = sorted((course / "feedback").glob(f"*/{ASSIGNMENT}/{ASSIGNMENT}.html"))
    names = {p.parent.parent.name for p in pages}
    assert names >= set(RUNNABLE) | set(EXTRA) and not names & {"not_json", "missing"}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert fb.leaks(html, secret) == [], page
        assert "BEGIN HIDDEN TESTS" not in html and "_expected" not in html
    wrong = (course / "feedback" / "wrong" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "AssertionError" in wrong and "check your filter" in wrong  # the teaching message stays
    assert not list((course / "feedback").rglob("my_notes.txt"))


def _snapshot(root: Path) -> dict:
    autograded = root / "autograded"
    return {"records": (autograded / status.FOLDER / f"{ASSIGNMENT}.json").read_text(),
            "files": {str(p.relative_to(root)): p.stat().st_mtime_ns for p in autograded.rglob("*.ipynb")},
            "export": (root / "grades.csv").read_text() if (root / "grades.csv").exists() else ""}


def test_a_rerun_changes_nothing(course, graded):
    export_rows(course)
    before = _snapshot(course)
    code, out = run_cli("--root", course, "autograde", ASSIGNMENT)
    assert code == 0, out
    assert re.search(r": 0 to grade, 0 that cannot be run, \d+ unchanged since their last grading", out), out
    export_rows(course)
    assert _snapshot(course) == before


def test_manual_grades_survive_reruns(course, graded):
    config = course_config.load(course)
    with course_config.gradebook(config) as gb:  # what Formgrader does when the instructor grades
        grade = gb.find_grade("written_q4", ASSIGNMENT, ASSIGNMENT, "manual")
        grade.manual_score = 3.0
        grade.needs_manual_grade = False
        gb.db.commit()
    assert export_rows(course)["manual"]["score"] == "11"
    for extra in ([], ["--force"]):  # a plain rerun skips it; a forced one regrades it
        code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--student", "manual", *extra)
        assert code == 0, out
        assert gradebook_grades(course, "manual")["written_q4"] == (None, 3.0, False)
        row = export_rows(course)["manual"]
        assert (row["written_q4"], row["score"], row["needs_manual_grade"]) == ("3", "11", "0")
    submit(course, "manual", "extra_cell")  # resubmitted with other code but the same written answer:
    code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--student", "manual")
    assert "1 to grade" in out  # regraded, and the unchanged answer keeps its hand grade, not flagged again
    assert gradebook_grades(course, "manual")["written_q4"][1:] == (3.0, False)
    source, release = notebooks(course)
    nb = samples.make("correct", source, release)
    written = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "written_q4")
    written.source = samples.WRITTEN + " I changed my mind about the second figure."
    submit_notebook(course, "manual", nb, replace=True)
    code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--student", "manual")
    assert "1 to grade" in out  # a changed answer: the hand grade is kept for review, and flagged again
    assert gradebook_grades(course, "manual")["written_q4"][1:] == (3.0, True)


def test_a_broken_resubmission_keeps_the_earlier_grade(course, graded):
    notebook = course / "submitted" / "resubmit" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook.write_text('{"cells": [')
    code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--student", "resubmit")
    assert code == 0, out
    record = status.read(course / "autograded", ASSIGNMENT)["resubmit"]
    assert record["status"] == "not a notebook" and "earlier grade" in record["reason"]
    assert (course / "autograded" / "resubmit" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    row = export_rows(course)["resubmit"]
    assert (row["status"], row["score"], row["test_q1"]) == ("not a notebook", "8", "3")


def test_status_command_lists_every_submission(course, graded):
    code, out = run_cli("--root", course, "status", ASSIGNMENT)
    assert code == 0
    for kind in samples.KINDS:
        assert re.search(rf"^{kind}\s+{samples.STATUS[kind]}", out, re.M), kind


def test_cells_pasted_into_a_new_notebook_are_recognised(course, graded):
    """No nbgrader metadata and new cell ids: locked cells are found by their text, answers by place."""
    source, release = notebooks(course)
    nb = samples.make("stripped_metadata", source, release)
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"pasted-{number}"
    submit_notebook(course, "pasted", nb)
    code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--student", "pasted")
    assert code == 0, out
    record = status.read(course / "autograded", ASSIGNMENT)["pasted"]
    assert (record["status"], record["auto_score"]) == ("tampered", 8.0)
    graded_nb = nbformat.read(course / "autograded" / "pasted" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    written = [c for c in graded_nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "written_q4"]
    assert len(written) == 1 and written[0].source == samples.WRITTEN  # the answer, ready to grade by hand


def test_kernels_can_also_start_from_scratch(course, graded):
    """With preload_kernels off, each kernel is a new `python -m course.grading.limits ...` process."""
    config_file = course / "nbgrader_config.py"
    original = config_file.read_text()
    config_file.write_text(original + "\nc.CourseExecute.preload_kernels = False\n")
    try:
        submit(course, "from_scratch", "kernel_dies")
        code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--student", "from_scratch")
    finally:
        config_file.write_text(original)
    assert code == 0, out
    record = status.read(course / "autograded", ASSIGNMENT)["from_scratch"]
    assert (record["status"], record["auto_score"]) == ("kernel died", 3.0)


def test_a_memory_hog_gets_memory_error_not_the_machine(course, graded):
    source, release = notebooks(course)
    nb = samples.make("correct", source, release)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_q1")
    answer.source = "_hog = bytearray(4 * 2**30)  # 4 GB, over the 2 GB limit\n" + answer.source
    submit_notebook(course, "memory_hog", nb)
    code, out = run_cli("--root", course, "autograde", ASSIGNMENT, "--student", "memory_hog")
    assert code == 0, out
    record = status.read(course / "autograded", ASSIGNMENT)["memory_hog"]
    assert (record["status"], record["auto_score"]) == ("graded", 5.0)  # task 1 lost, the kernel lived on
    graded_nb = nbformat.read(course / "autograded" / "memory_hog" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    errors = [o.get("ename") for c in graded_nb.cells if c.cell_type == "code" for o in c.outputs]
    assert "MemoryError" in errors


def test_no_kernel_is_left_behind(graded):
    """Kernels of the grading runs work in course-grade-* folders, and are started by zygote
    processes: once the runs are over, none of either may still be running."""
    me = psutil.Process()
    ours = {p.pid for p in me.children(recursive=True)}
    left = []
    for proc in psutil.process_iter(["pid", "ppid", "cmdline", "create_time"]):
        try:
            command = " ".join(proc.info["cmdline"] or [])
            if "course-grade-" in proc.cwd():
                left.append((proc.pid, command))
            elif "course.grading.zygote" in command and (proc.pid in ours or (
                    proc.info["ppid"] == 1 and proc.info["create_time"] >= me.create_time())):
                left.append((proc.pid, command))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    assert left == []


def test_the_records_file_is_inside_autograded_and_hidden_from_nbgrader(course, graded):
    file = status.path(course / "autograded", ASSIGNMENT)
    assert file.is_file() and file.parent.name.startswith(".")
    data = json.loads(file.read_text())
    assert set(data) >= set(samples.KINDS)
    assert all(rec["fingerprint"] for rec in data.values())


def test_the_feedback_summary_never_claims_clean_pages_that_were_not(course, graded):
    """With the course's filter switched off the page shows hidden tests: it is deleted, and the
    summary says so instead of "no hidden test in any of them"."""
    config_file = course / "nbgrader_config.py"
    original = config_file.read_text()
    config_file.write_text(original + "\nc.GenerateFeedback.preprocessors = [GetGrades]\n")
    try:
        code, out = run_cli("--root", course, "feedback", ASSIGNMENT, "--student", "wrong", "--force")
    finally:
        config_file.write_text(original)
    assert code == 1
    assert "no hidden test in any of them" not in out and "showed hidden tests and were deleted" in out
    assert not (course / "feedback" / "wrong" / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()
