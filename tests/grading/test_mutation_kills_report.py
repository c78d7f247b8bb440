"""Fast tests of course/grading/report.py (issue 20): the class report of `course grade report`.

A tiny course is built in tmp_path: one assignment (two autograded tasks and a written answer),
its mistakes file, a real nbgrader gradebook (SQLite) holding six students' scores, and the
autograded notebooks written directly, with the answers recorded as the grader records them (a
`values.MIME` output in each test cell). No kernel runs, so each test takes a fraction of a second.

What the six students did (test_sum: 2 points, the answer 12; test_names: 3 points, the answer
["Baku", "Yerevan"]; written_why: 4 points, graded by hand):

- ann: everything right (test_sum scores exactly its points);
- bob: test_sum 11.3 (off by one, within the task's tolerance of 0.5), test_names reversed, the
  written answer not graded yet;
- cem: handed in something that is not a notebook; dan: handed in nothing;
- eve: test_sum 20 (doubled, with 1 point of partial credit), test_names absent from her notebook
  (recorded in a second notebook of her folder), a broken file first in her folder;
- fay: test_sum not run (no recorded answer, only outputs the report must ignore), test_names
  another wrong answer.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import matplotlib
import nbformat
import pytest
from nbgrader.api import Gradebook

from course.grading import config as course_config
from course.grading import report, status, values

ROOT = Path(__file__).resolve().parents[2]
A = "a1"

MISTAKES = """
assignment: a1
setup: |
  base = 10
  cities = ["Baku", "Yerevan", "Tbilisi"]
tasks:
  test_sum:
    variable: total
    kind: number
    options: {tolerance: 0.5}
    mistakes:
      - id: off-by-one
        code: total = base + 1
        message: added one too many
        reteach: counting from zero
      - id: doubled
        code: total = base * 2
        message: counted every village twice (Ağdam, Khankendi / Stepanakert)
        reteach: each row once
  test_names:
    variable: names
    kind: collection
    options: {ordered: true}
    mistakes:
      - id: reversed
        code: names = cities[:2][::-1]
        message: listed the capitals in the wrong order
        reteach: sorting before picking
      - id: all-three
        code: names = cities
        message: kept Tbilisi too
        reteach: filtering rows
"""


def _cell(kind, gid, source="", points=None, grade=False, solution=False, outputs=()):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": gid, "solution": solution, "locked": not solution,
                                 "schema_version": 3}
    if points is not None:
        cell.metadata["nbgrader"]["points"] = points
    if kind == "code":
        cell.outputs = list(outputs)
    return cell


def _recorded(**answers):
    """The output the grader leaves in a test cell: the answers it read, as JSON."""
    text = json.dumps({name: values.encode(value) for name, value in answers.items()})
    return nbformat.v4.new_output("display_data", data={values.MIME: text})


def _notebook(sum_outputs=(), names_outputs=()):
    """The assignment's notebook: in the source order test_sum, test_names, written_why."""
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Assignment a1"),
        _cell("code", "answer_sum", "total = 12", solution=True),
        _cell("code", "test_sum", "assert total == 12", points=2, grade=True, outputs=sum_outputs),
        _cell("code", "answer_names", 'names = ["Baku", "Yerevan"]', solution=True),
        _cell("code", "test_names", 'assert names == ["Baku", "Yerevan"]', points=3, grade=True,
              outputs=names_outputs),
        _cell("markdown", "written_why", "Why?", points=4, grade=True, solution=True),
    ])


# student -> (test_sum score, test_names score, written_why score or None while waiting)
SCORES = {"ann": (2, 3, 4), "bob": (0, 0, None), "cem": (0, 0, None), "eve": (1, 0, 1.5), "fay": (0, 0, 1.5)}


@pytest.fixture(scope="module")
def gradebook_file(tmp_path_factory):
    """The class's gradebook, made once. nbgrader reads its schema version for a new gradebook by
    running the `alembic` command (3 s); it is never migrated here, so a fixed label does."""
    import nbgrader.api

    file = tmp_path_factory.mktemp("report-gradebook") / "gradebook.db"
    real = nbgrader.api.get_alembic_version
    nbgrader.api.get_alembic_version = lambda: "course-tests"
    try:
        with Gradebook(f"sqlite:///{file}") as gb:
            gb.add_assignment(A)
            gb.add_notebook(A, A)
            gb.add_grade_cell("test_names", A, A, max_score=3, cell_type="code")
            gb.add_grade_cell("test_sum", A, A, max_score=2, cell_type="code")
            gb.add_grade_cell("written_why", A, A, max_score=4, cell_type="markdown")
            gb.add_student("dan")
            for student, scores in SCORES.items():
                gb.add_student(student)
                gb.add_submission(A, student)
                for gid, score in zip(("test_sum", "test_names", "written_why"), scores):
                    grade = gb.find_grade(gid, A, A, student)
                    if gid.startswith("test"):
                        grade.auto_score, grade.needs_manual_grade = score, False
                    elif score is not None:
                        grade.manual_score, grade.needs_manual_grade = score, False
                gb.db.commit()
    finally:
        nbgrader.api.get_alembic_version = real
    return file


def _autograded(root, student, name, nb):
    folder = root / "autograded" / student / A
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, str):
        (folder / name).write_text(nb, encoding="utf-8")
    else:
        nbformat.write(nb, folder / name)


@pytest.fixture
def course(tmp_path, gradebook_file):
    root = tmp_path / "course"
    (root / "exercises" / A).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    nbformat.write(_notebook(), root / "exercises" / A / f"{A}.ipynb")
    (root / "exercises" / f"{A}.mistakes.yaml").write_text(MISTAKES, encoding="utf-8")
    shutil.copy2(gradebook_file, root / "gradebook.db")
    status.write(root / "autograded", A, {s: {"status": "graded", "reason": ""} for s in ("ann", "bob", "eve", "fay")}
                 | {"cem": {"status": "not a notebook", "reason": "not valid JSON"}})
    _autograded(root, "ann", f"{A}.ipynb", _notebook([_recorded(total=12)], [_recorded(names=["Baku", "Yerevan"])]))
    _autograded(root, "bob", f"{A}.ipynb", _notebook([_recorded(total=11.3)], [_recorded(names=["Yerevan", "Baku"])]))
    # eve: her answer to test_names is in a second notebook; the first records test_sum only
    _autograded(root, "eve", f"{A}.ipynb", _notebook([_recorded(total=20)]))
    _autograded(root, "eve", "b_more.ipynb", _notebook(names_outputs=[_recorded(other=1)]))
    _autograded(root, "eve", "0_broken.ipynb", '{"cells": [')  # read first, skipped
    # fay: outputs that are not the grader's record of test_sum must be ignored
    ignored = [nbformat.v4.new_output("execute_result", data={values.MIME: json.dumps({"total": values.encode(11)})},
                                      execution_count=1),
               nbformat.v4.new_output("stream", name="stdout", text="11")]
    _autograded(root, "fay", f"{A}.ipynb", _notebook(ignored, [_recorded(names=["Paris"])]))
    return root


@pytest.fixture
def built(course):
    lines: list[str] = []
    return report.build(course, A, progress=lines.append), lines


def _task(built_report, gid):
    return next(t for t in built_report.tasks if t.gid == gid)


# -- the known mistakes ----------------------------------------------------------------------------


def test_the_mistakes_file_sits_beside_the_assignment_in_the_source_folder(course):
    """The instructor keeps exercises/<assignment>.mistakes.yaml beside the rubric."""
    assert report.mistakes_path(course, "a1") == (course / "exercises" / "a1.mistakes.yaml").resolve()
    spec = report.load_mistakes(report.mistakes_path(course, "a1"))
    assert list(spec["tasks"]) == ["test_sum", "test_names"] and spec["setup"].startswith("base = 10")


def _bad(tmp_path, text):
    path = tmp_path / "x.mistakes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


TASK = "tasks:\n  test_q1:\n    variable: v\n    kind: number\n    mistakes:\n"
MISTAKE = "      - id: a\n        code: v = 1\n        message: m\n        reteach: r\n"


@pytest.mark.parametrize("text, message", [
    ("- a list\n", "x.mistakes.yaml: needs a mapping `tasks:`"),
    ("tasks: [test_q1]\n", "x.mistakes.yaml: needs a mapping `tasks:`"),
    ("setup: x = 1\n", "x.mistakes.yaml: needs a mapping `tasks:`"),
    ("tasks:\n  test_q1:\n    kind: number\n    mistakes: []\n",
     "x.mistakes.yaml, task test_q1: field 'variable' is missing"),
    ("tasks:\n  test_q1:\n    variable: v\n    mistakes: []\n", "x.mistakes.yaml, task test_q1: field 'kind' is"),
    ("tasks:\n  test_q1:\n    variable: v\n    kind: number\n",
     "x.mistakes.yaml, task test_q1: field 'mistakes' is missing"),
    (TASK.replace("number", "nearly") + MISTAKE,
     "x.mistakes.yaml, task test_q1: kind 'nearly' is not a comparison of course.checks.compare"),
    (TASK.replace("number", "DEFAULT_RTOL") + MISTAKE, "kind 'DEFAULT_RTOL' is not a comparison"),
    (TASK + MISTAKE + MISTAKE.replace("id: a", "id: 3"), "x.mistakes.yaml, task test_q1, mistake 2: field 'id' (text)"),
    (TASK + MISTAKE.replace("        code: v = 1\n", ""), "task test_q1, mistake 1: field 'code' (text) is missing"),
    (TASK + MISTAKE.replace("message: m", "message: [m]"), "task test_q1, mistake 1: field 'message' (text)"),
    (TASK + MISTAKE.replace("reteach: r", "reteach: 2"), "task test_q1, mistake 1: field 'reteach' (text)"),
])
def test_a_malformed_mistakes_file_names_the_file_and_the_field(tmp_path, text, message):
    """An instructor's typo in the mistakes file is reported with where it is, not as a traceback."""
    with pytest.raises(report.MistakesError) as caught:
        report.load_mistakes(_bad(tmp_path, text))
    assert message in str(caught.value)


def test_a_mistakes_file_given_as_text_gets_the_same_clear_error(tmp_path):
    """A path given as a plain string (as a script would) still names the file and the field."""
    with pytest.raises(report.MistakesError, match="x.mistakes.yaml, task test_q1: field 'variable' is missing"):
        report.load_mistakes(str(_bad(tmp_path, "tasks:\n  test_q1:\n    kind: number\n    mistakes: []\n")))


def test_a_missing_mistakes_file_says_it_cannot_be_read(tmp_path):
    """No mistakes file: a clear error naming the file and the reason."""
    with pytest.raises(report.MistakesError, match=r"nothere.yaml: cannot be read \(No such file or directory\)"):
        report.load_mistakes(tmp_path / "nothere.yaml")


def test_a_well_formed_file_is_returned_whole(tmp_path):
    """A valid mistakes file comes back as written, for build() to use."""
    spec = report.load_mistakes(_bad(tmp_path, TASK + MISTAKE))
    assert spec == {"tasks": {"test_q1": {"variable": "v", "kind": "number", "mistakes": [
        {"id": "a", "code": "v = 1", "message": "m", "reteach": "r"}]}}}


def test_each_mistake_is_computed_from_the_setup_in_a_fresh_namespace():
    """A mistake's value is what its code gives after the setup, never what an earlier mistake left."""
    spec = {"setup": "base = 10", "tasks": {
        "t1": {"variable": "v", "mistakes": [{"id": "a", "code": "v = base + 1\nbase = 0"},
                                             {"id": "b", "code": "v = base * 2"}]},
        "t2": {"variable": "w", "mistakes": [{"id": "c", "code": "w = [base]"}]},
        "t3": {"variable": "z", "mistakes": []}}}
    found = report.mistake_values(spec)
    assert found == {"t1": [(spec["tasks"]["t1"]["mistakes"][0], 11), (spec["tasks"]["t1"]["mistakes"][1], 20)],
                     "t2": [(spec["tasks"]["t2"]["mistakes"][0], [10])], "t3": []}


def test_a_mistakes_file_without_setup_still_runs_its_code():
    """The setup is optional: a mistake's code may stand alone."""
    spec = {"tasks": {"t1": {"variable": "v", "mistakes": [{"id": "a", "code": "v = 'x'"}]}}}
    assert report.mistake_values(spec)["t1"][0][1] == "x"


def test_a_mistake_whose_code_sets_no_answer_is_named():
    """A mistake that produces no value is the instructor's error, named with its task and id."""
    spec = {"tasks": {"t1": {"variable": "v", "mistakes": [{"id": "oops", "code": "w = 1"}]}}}
    with pytest.raises(report.MistakesError, match="task t1, mistake oops: its code does not set 'v'"):
        report.mistake_values(spec)


def test_an_answer_matches_a_mistake_with_the_tasks_comparison_and_options():
    """The task's tolerance applies; an answer of another shape simply does not match."""
    task = {"kind": "number", "options": {"tolerance": 0.5}}
    assert report.matches(11.3, 11, task) is True
    assert report.matches(11.6, 11, task) is False
    assert report.matches(11.000001, 11, {"kind": "number"}) is True   # no options: the default tolerance
    assert report.matches(11.3, 11, {"kind": "number", "options": None}) is False
    assert report.matches(12, "eleven", task) is False                  # the comparison raises: no match
    assert report.matches(["b", "a"], ["a", "b"], {"kind": "collection"}) is True
    assert report.matches(["b", "a"], ["a", "b"], {"kind": "collection", "options": {"ordered": True}}) is False


# -- the answers -------------------------------------------------------------------------------------


TASKS = {"test_sum": {"variable": "total"}, "test_names": {"variable": "names"}}


def _with_output(*outputs, gid="test_sum", kind="code"):
    nb = nbformat.v4.new_notebook(cells=[_cell(kind, gid)])
    nb.cells[0]["outputs"] = list(outputs)  # also on a Markdown cell, which the report must not read
    return nb


def _raw(text):
    return nbformat.v4.new_output("display_data", data={values.MIME: text})


def test_answers_are_decoded_from_the_graders_record():
    """The value the grader recorded for the task's variable, decoded from JSON (never run)."""
    found = report.answers(_with_output(_recorded(total=12, names=["x"])), TASKS)
    assert found == {"test_sum": 12, "test_names": report.UNRECORDED}
    both = nbformat.v4.new_notebook(cells=[_cell("code", "test_sum", outputs=[_recorded(total=1.5)]),
                                           _cell("code", "test_names", outputs=[_recorded(names=["a", "b"])])])
    assert report.answers(both, TASKS) == {"test_sum": 1.5, "test_names": ["a", "b"]}


@pytest.mark.parametrize("outputs, expected", [
    ([_recorded(other=1)], "missing"),                               # the variable was never set
    ([_raw(json.dumps({"total": {"t": "missing"}}))], "missing"),    # recorded as missing
    ([_raw("{not json")], "unrecorded"),                             # a broken record
    ([_raw(json.dumps({"total": {"t": "alien"}}))], "unrecorded"),   # a kind nobody writes
    ([_raw(json.dumps(["total"]))], "unrecorded"),                   # not a mapping
    ([], "unrecorded"),                                              # the cell did not run
    ([nbformat.v4.new_output("execute_result", data={values.MIME: json.dumps({"total": values.encode(3)})},
                             execution_count=1)], "unrecorded"),    # not the grader's output
    ([nbformat.NotebookNode(output_type="display_data", metadata={},
                            data={values.MIME: {"total": {"t": "int", "v": 3}}})], "unrecorded"),  # not text
    ([nbformat.v4.new_output("stream", name="stdout", text="3")], "unrecorded"),
])
def test_an_answer_not_recorded_or_not_set_is_told_apart(outputs, expected):
    """'no answer' (the variable is missing) and 'not run' (no usable record) are different outcomes."""
    found = report.answers(_with_output(*outputs), TASKS)["test_sum"]
    assert found is {"missing": report.MISSING, "unrecorded": report.UNRECORDED}[expected]


def test_only_code_cells_of_the_reports_tasks_are_read():
    """Markdown cells and cells of other tasks never supply an answer."""
    record = _recorded(total=5)
    assert report.answers(_with_output(record, kind="markdown"), TASKS)["test_sum"] is report.UNRECORDED
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)"),
                                            _cell("code", "test_other", outputs=[record]),
                                            _cell("code", "test_sum", outputs=[record])])
    assert report.answers(other, TASKS) == {"test_sum": 5, "test_names": report.UNRECORDED}


def test_the_last_record_in_a_cell_wins():
    """When a test cell recorded the answers twice, the later record is the answer."""
    nb = _with_output(_recorded(total=1), _recorded(total=2))
    assert report.answers(nb, TASKS)["test_sum"] == 2


WRONG = [({"id": "off-by-one"}, 11), ({"id": "near"}, 11.2), ({"id": "doubled"}, 20)]


@pytest.mark.parametrize("value, outcome", [
    (report.MISSING, report.NO_ANSWER), (None, report.NO_ANSWER), (Ellipsis, report.NO_ANSWER),
    (report.UNRECORDED, report.NOT_RUN),
    (11.1, "off-by-one"),   # the first matching mistake counts
    (11.6, "near"), (20, "doubled"), (12, report.OTHER), ("twelve", report.OTHER), (0, report.OTHER),
])
def test_each_answer_is_classified(value, outcome):
    """Each outcome the instructor sees: no answer, not run, the first matching mistake, or another wrong answer."""
    task = {"kind": "number", "options": {"tolerance": 0.5}}
    assert report.classify(value, "test_sum", task, WRONG) == outcome


# -- build: the class, from the gradebook and the notebooks ---------------------------------------------


def test_the_report_counts_each_known_mistake_and_each_other_outcome(built):
    """What the instructor reteaches from: per task, how many got it right or made each mistake."""
    rep, _ = built
    total, names, written = (_task(rep, g) for g in ("test_sum", "test_names", "written_why"))
    assert total.outcomes == {report.RIGHT: 1, "off-by-one": 1, "doubled": 1, report.NOT_RUN: 1}
    assert names.outcomes == {report.RIGHT: 1, "reversed": 1, report.NO_ANSWER: 1, report.OTHER: 1}
    assert written.outcomes == {}


def test_tasks_follow_the_source_notebook_with_their_points_and_mistakes(built):
    """The report's tasks are in the order students see them, with the gradebook's points."""
    rep, _ = built
    assert [(t.gid, t.points, t.graded_by_hand) for t in rep.tasks] == [
        ("test_sum", 2.0, False), ("test_names", 3.0, False), ("written_why", 4.0, True)]
    assert [m["id"] for m in rep.tasks[0].mistakes] == ["off-by-one", "doubled"]
    assert [m["id"] for m in rep.tasks[1].mistakes] == ["reversed", "all-three"]
    assert rep.tasks[2].mistakes == []
    assert (rep.assignment, rep.max_score) == ("a1", 9.0)


def test_every_student_has_a_row_and_only_handed_in_notebooks_count_as_graded(built):
    """Missing and unreadable submissions get a row but are not counted among the graded."""
    rep, _ = built
    rows = {r["student_id"]: r for r in rep.rows}
    assert list(rows) == ["ann", "bob", "cem", "dan", "eve", "fay"]
    assert (rows["cem"]["status"], rows["dan"]["status"]) == ("not a notebook", "missing")
    assert rep.not_graded == 2
    assert [r["student_id"] for r in rep.graded] == ["ann", "bob", "eve", "fay"]
    for student in ("cem", "dan"):
        assert [rows[student][k] for k in ("test_sum", "test_sum:answer", "written_why", "written_why:answer")] \
            == ["", report.NOT_RUN, "", report.NOT_RUN]
        assert rows[student]["score"] == 0.0


def test_each_row_has_the_scores_and_what_each_answer_was(built):
    """The CSV's row of each student: per task the score and what the answer was."""
    rep, _ = built
    rows = {r["student_id"]: r for r in rep.rows}
    assert rows["ann"] == {"student_id": "ann", "status": "graded", "score": 9.0,
                           "test_sum": "2", "test_sum:answer": report.RIGHT,
                           "test_names": "3", "test_names:answer": report.RIGHT,
                           "written_why": "4", "written_why:answer": "scored"}
    assert (rows["bob"]["test_sum:answer"], rows["bob"]["test_names:answer"]) == ("off-by-one", "reversed")
    assert (rows["bob"]["written_why"], rows["bob"]["written_why:answer"], rows["bob"]["score"]) == (
        "", "not graded yet", 0.0)
    assert (rows["eve"]["test_sum"], rows["eve"]["test_sum:answer"], rows["eve"]["score"]) == ("1", "doubled", 2.5)
    assert (rows["eve"]["test_names:answer"], rows["eve"]["written_why"]) == (report.NO_ANSWER, "1.5")
    assert (rows["fay"]["test_sum:answer"], rows["fay"]["test_names:answer"]) == (report.NOT_RUN, report.OTHER)


def test_hand_graded_scores_are_kept_for_the_summary(built):
    """Scores of every task are collected for the summary (hand-graded ones only when scored)."""
    rep, _ = built
    assert sorted(_task(rep, "written_why").scores) == [1.5, 1.5, 4.0]
    assert sorted(_task(rep, "test_sum").scores) == [0.0, 0.0, 1.0, 2.0]


def test_a_right_score_counts_as_right_whatever_the_record_says(course):
    """Full points mean right, even when the recorded value would match a mistake."""
    _autograded(course, "ann", f"{A}.ipynb", _notebook([_recorded(total=20)], [_recorded(names=["Paris"])]))
    rep = report.build(course, A)
    rows = {r["student_id"]: r for r in rep.rows}
    assert (rows["ann"]["test_sum:answer"], rows["ann"]["test_names:answer"]) == (report.RIGHT, report.RIGHT)


def test_a_later_notebook_of_the_folder_replaces_an_earlier_record(course):
    """With several notebooks in a folder, a later record of the same task replaces an earlier one."""
    _autograded(course, "bob", "z_again.ipynb", _notebook([_recorded(total=20)]))
    rows = {r["student_id"]: r for r in report.build(course, A).rows}
    assert (rows["bob"]["test_sum:answer"], rows["bob"]["test_names:answer"]) == ("doubled", "reversed")


def test_progress_is_reported_about_twenty_times_whatever_the_class_size(course, built):
    """A long run shows where it is: the first, every n/20th and the last submission."""
    _, lines = built
    assert lines == [f"[{i}/6] reading submissions" for i in range(1, 7)]
    more = {f"s{i:02d}": {"status": "missing", "reason": "no submission"} for i in range(35)}
    status.write(course / "autograded", A, status.read(course / "autograded", A) | more)
    lines = []
    report.build(course, A, progress=lines.append)
    # 41 students: every second one, and the last
    assert [int(line.split("/")[0][1:]) for line in lines] == [1, *range(2, 41, 2), 41]
    assert lines[-1] == "[41/41] reading submissions"


def test_progress_every_line_in_a_class_under_twenty(course):
    """Fewer than twenty students: one progress line per submission."""
    for student in ("bob", "eve", "fay"):
        shutil.rmtree(course / "autograded" / student)
    lines: list[str] = []
    report.build(course, A, progress=lines.append)
    assert len(lines) == 6


def test_a_report_without_progress_still_builds(course):
    """progress is optional (the report is also built from Python)."""
    assert len(report.build(course, A).rows) == 6


# -- the text ----------------------------------------------------------------------------------------


def test_the_text_gives_right_answers_mistakes_and_what_to_reteach(built):
    """The page the instructor reads: counts over graded submissions, most common mistakes first."""
    rep, _ = built
    _task(rep, "test_sum").outcomes["doubled"] += 1  # doubled now the most common
    summary = report.text(rep)
    assert summary.startswith("# Class report: a1\n\n4 graded submission(s); 2 not graded (missing or not a "
                              "notebook).\n\nTotal score: median 2 of 9, lowest 0, highest 9.\n\n")
    assert ("## test_sum (2 points)\n\nRight: 1 of 4 (25 %).\n\nMost common known mistakes:\n\n"
            "- 2 of 4: counted every village twice (Ağdam, Khankendi / Stepanakert).\n"
            "  What to reteach: each row once.\n"
            "- 1 of 4: added one too many.\n  What to reteach: counting from zero.\n\n"
            "Other: 1 not run.\n\n") in summary
    assert ("## test_names (3 points)\n\nRight: 1 of 4 (25 %).\n\nMost common known mistakes:\n\n"
            "- 1 of 4: listed the capitals in the wrong order.\n  What to reteach: sorting before picking.\n\n"
            "Other: 1 other wrong answer; 1 no answer.\n\n") in summary
    assert "kept Tbilisi" not in summary  # a mistake nobody made is not listed
    assert summary.endswith("## written_why (written, 4 points, graded by hand)\n\n"
                            "Scored: 3 of 4; mean 2.3 of 4 (an untouched answer scores 0 by itself; grade the "
                            "rest in Formgrader).\n\nScores: 4 points: 1, 1.5 points: 2.\n")


def _report(totals, tasks=(), not_graded=0, max_score=10):
    rows = [{"student_id": f"s{i}", "status": "graded", "score": t} for i, t in enumerate(totals)]
    return report.Report("a9", max_score, list(tasks), rows, not_graded)


def test_the_median_of_an_odd_and_an_even_class():
    """The median is the middle score, or the mean of the two middle scores."""
    assert "Total score: median 3 of 10, lowest 1, highest 5." in report.text(_report([5, 4, 3, 2, 1]))
    assert "Total score: median 4 of 10, lowest 1, highest 7.5." in report.text(_report([7.5, 1, 4]))
    assert "Total score: median 2.5 of 10, lowest 1, highest 9." in report.text(_report([9, 1, 2, 3]))
    assert "median 6 of 10, lowest 6, highest 6" in report.text(_report([6]))


def test_a_class_where_all_are_graded_says_nothing_about_ungraded():
    """No 'not graded' note when every submission was graded."""
    assert report.text(_report([1, 2])).startswith("# Class report: a9\n\n2 graded submission(s).\n\n")


def test_a_class_with_no_graded_submission_gives_no_totals_and_no_shares():
    """An empty class gives a readable report, not a division by zero."""
    task = report.Task("test_x", 2, False)
    hand = report.Task("written_x", 3, True)
    summary = report.text(_report([], [task, hand], not_graded=3))
    assert summary == ("# Class report: a9\n\n0 graded submission(s); 3 not graded (missing or not a notebook)."
                       "\n\n## test_x (2 points)\n\nRight: no graded submission.\n\n"
                       "## written_x (written, 3 points, graded by hand)\n\nScored: 0 of 0.\n")


def test_written_answers_all_scored_ask_for_no_more_grading():
    """Once every written answer is scored, the report stops asking for hand grading."""
    hand = report.Task("written_x", 3, True, scores=[3.0, 0.5])
    summary = report.text(_report([1, 2], [hand]))
    assert "Scored: 2 of 2; mean 1.8 of 3.\n\nScores: 3 points: 1, 0.5 points: 1.\n" in summary
    nobody = report.text(_report([1, 2], [report.Task("written_x", 3, True)]))
    assert nobody.endswith("Scored: 0 of 2 (an untouched answer scores 0 by itself; grade the rest in Formgrader).\n")


def test_a_share_is_rounded_to_a_whole_per_cent_and_mistakes_tied_keep_the_files_order():
    """Shares are whole per cents; the most common mistake comes first, ties in the file's order."""
    task = report.Task("t", 1, False, mistakes=[{"id": "a", "message": "first", "reteach": "ra"},
                                                 {"id": "b", "message": "second", "reteach": "rb"},
                                                 {"id": "c", "message": "third", "reteach": "rc"}])
    task.outcomes.update({report.RIGHT: 2, "b": 2, "a": 2, "c": 3})
    summary = report.text(_report([0] * 9, [task]))
    assert "Right: 2 of 9 (22 %)." in summary
    assert summary.index("3 of 9: third") < summary.index("2 of 9: first") < summary.index("2 of 9: second")
    assert "Other" not in summary


# -- the files -----------------------------------------------------------------------------------------


def test_the_csv_has_one_row_per_student_with_ids_and_no_names(built, tmp_path):
    """scores.csv: the columns the instructor opens in a spreadsheet, ids only, plain newlines."""
    rep, _ = built
    report.write_csv(rep, tmp_path / "scores.csv")
    text = (tmp_path / "scores.csv").read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[0] == ("student_id,status,test_sum,test_sum:answer,test_names,test_names:answer,written_why,"
                        "written_why:answer,score")
    assert lines[1] == "ann,graded,2,right,3,right,4,scored,9"
    assert lines[2] == "bob,graded,0,off-by-one,0,reversed,,not graded yet,0"
    assert lines[5] == "eve,graded,1,doubled,0,no answer,1.5,scored,2.5"
    assert text.endswith("\n") and len(lines) == 8 and b"\r" not in (tmp_path / "scores.csv").read_bytes()
    rows = list(csv.DictReader((tmp_path / "scores.csv").open(encoding="utf-8")))
    assert rows[2]["status"] == "not a notebook" and rows[2]["test_sum:answer"] == report.NOT_RUN


class _Shown:
    """The figure write_chart drew, kept open to read (pyplot.close is what it calls last)."""

    def __init__(self, monkeypatch):
        import matplotlib.pyplot as plt

        self.figures = []
        monkeypatch.setattr(plt, "close", self.figures.append)


def _bars(ax):
    """{legend label: (left edges, widths, colour)} of the stacked horizontal bars."""
    return {c.get_label(): ([round(p.get_x(), 3) for p in c.patches], [round(p.get_width(), 3) for p in c.patches],
                            c.patches[0].get_facecolor()) for c in ax.containers}


def test_the_chart_shows_each_tasks_shares_and_the_totals_without_names(built, tmp_path, monkeypatch):
    """Per autograded task, the share of graded students right or making each mistake; no student named."""
    rep, _ = built
    shown = _Shown(monkeypatch)
    report.write_chart(rep, tmp_path / "scores.png")
    png = (tmp_path / "scores.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    (fig,) = shown.figures
    left, right = fig.axes
    # the totals 9, 0, 2.5 and 1.5 in one-point bins centred on 0, 1, ..., 9 (the maximum)
    heights = [p.get_height() for p in left.patches]
    assert len(heights) == 10 and heights[0] == 1 and heights[1] == 1 and heights[2] == 1 and heights[9] == 1
    assert sum(heights) == 4 and left.patches[0].get_x() == -0.5
    assert left.get_title() == "a1: total scores (4 graded)"
    assert left.get_xlabel() == "total score (of 9)" and left.get_ylabel() == "students"
    assert all(float(t).is_integer() for t in left.yaxis.get_major_locator().tick_values(0, 1.3))
    # right: one bar per autograded task, stacked, in per cent of the 4 graded students
    assert [t.get_text() for t in right.get_yticklabels()] == ["test_sum (2 pt)", "test_names (3 pt)"]
    assert right.yaxis_inverted() and right.get_xlim() == (0, 100)
    bars = _bars(right)
    assert list(bars) == ["right", "off-by-one", "doubled", "reversed", report.OTHER, report.NO_ANSWER,
                          report.NOT_RUN]  # kinds nobody shows (all-three) are left out
    assert {k: v[:2] for k, v in bars.items()} == {
        "right": ([0, 0], [25, 25]), "off-by-one": ([25, 25], [25, 0]), "doubled": ([50, 25], [25, 0]),
        "reversed": ([75, 25], [0, 25]), report.OTHER: ([75, 50], [0, 25]), report.NO_ANSWER: ([75, 75], [0, 25]),
        report.NOT_RUN: ([75, 100], [25, 0])}
    assert [text.get_text() for text in right.get_legend().get_texts()] == list(bars)
    colours = [v[2] for v in bars.values()]
    assert len(set(colours)) == len(colours)  # every kind its own colour
    assert bars["right"][2] == matplotlib.colors.to_rgba("#55a868")
    assert right.get_xlabel() == "share of graded students (%)"
    # the task panel is the wider one, and its legend sits below it, hiding no bar
    fig.canvas.draw()
    assert right.get_position().width > left.get_position().width * 1.2
    legend, panel, page = (right.get_legend().get_window_extent(), right.get_window_extent(),
                           fig.get_window_extent())
    assert legend.y1 < panel.y0 and legend.y0 >= page.y0 and legend.x0 >= page.x0 and legend.x1 <= page.x1
    assert abs((legend.x0 + legend.x1) / 2 - (panel.x0 + panel.x1) / 2) < 2  # centred under the bars
    assert right.get_title() == "autograded tasks: right answers and known mistakes"
    drawn = set(" ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text)).split())
    assert not drawn & {"ann", "bob", "cem", "dan", "eve", "fay"}


def test_the_chart_of_a_class_with_nobody_graded_is_still_drawn(tmp_path, monkeypatch):
    """An empty class still gets a chart (no division by zero), on the 0-100 % scale."""
    shown = _Shown(monkeypatch)
    rep = _report([], [report.Task("t", 2, False), report.Task("w", 3, True)], not_graded=2, max_score=2)
    report.write_chart(rep, tmp_path / "scores.png")
    (fig,) = shown.figures
    left, right = fig.axes
    assert left.get_title() == "a9: total scores (0 graded)" and len(left.patches) == 3
    assert [t.get_text() for t in right.get_yticklabels()] == ["t (2 pt)"] and len(right.patches) == 0
    assert right.get_xlim() == (0, 100) and right.get_legend() is None  # no bars, no empty legend


# -- the command -------------------------------------------------------------------------------------


def test_the_command_writes_the_three_files_and_prints_the_summary(course, capsys):
    """`course grade report a1`: reports/a1/ with report.md, scores.csv and scores.png, and the summary."""
    code = report.run(course, A)
    assert code == 0
    out, err = capsys.readouterr()
    folder = course / "reports" / A
    summary = (folder / "report.md").read_text(encoding="utf-8")
    assert summary.startswith("# Class report: a1\n") and summary == report.text(report.build(course, A))
    assert out == summary + ("\nwrote reports/a1/report.md, scores.csv (student ids, for you only) and scores.png "
                             "(no names)\n")
    assert (folder / "scores.csv").read_text(encoding="utf-8").startswith("student_id,status,test_sum")
    assert (folder / "scores.png").read_bytes().startswith(b"\x89PNG")
    assert err.splitlines()[0] == "[1/6] reading submissions" and "[6/6] reading submissions" in err


def test_the_command_writes_where_it_is_told(course, tmp_path, capsys):
    """--out writes elsewhere, names that folder in full, and a second run replaces the files."""
    import io

    stream = io.StringIO()
    assert report.run(course, A, out=tmp_path / "elsewhere" / "deep", stream=stream) == 0
    assert report.run(course, A, out=tmp_path / "elsewhere" / "deep", stream=stream) == 0  # run again: replaced
    assert (tmp_path / "elsewhere" / "deep" / "report.md").exists() and not (course / "reports").exists()
    assert f"wrote {tmp_path / 'elsewhere' / 'deep'}/report.md" in stream.getvalue()
    assert capsys.readouterr().out == ""


def test_the_command_with_a_broken_mistakes_file_says_why_and_writes_nothing(course, capsys):
    """A broken mistakes file stops the command with exit code 2 and the reason, before any file is written."""
    (course / "exercises" / f"{A}.mistakes.yaml").write_text("tasks: nothing\n", encoding="utf-8")
    assert report.run(course, A) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("course grade report: ") and "needs a mapping `tasks:`" in err
    assert not (course / "reports").exists()


def test_the_report_reads_the_course_gradebook(course):
    """build() reads the gradebook of the course's configuration (its scores, not the notebooks')."""
    config = course_config.load(course)
    with course_config.gradebook(config) as gb:
        grade = gb.find_grade("test_sum", A, A, "bob")
        grade.auto_score = 2
        gb.db.commit()
    rows = {r["student_id"]: r for r in report.build(course, A).rows}
    assert (rows["bob"]["test_sum"], rows["bob"]["test_sum:answer"], rows["bob"]["score"]) == ("2", report.RIGHT, 2.0)


def test_a_task_after_a_written_one_is_still_reported_and_a_full_class_is_100_per_cent():
    """A hand-graded task does not end the report; all right is 100 %."""
    hand = report.Task("written_x", 3, True, scores=[3.0, 3.0])
    auto = report.Task("test_y", 1, False)
    auto.outcomes[report.RIGHT] = 2
    summary = report.text(_report([4, 4], [hand, auto]))
    assert summary.endswith("## test_y (1 points)\n\nRight: 2 of 2 (100 %).\n")


def test_the_csv_is_utf_8_whatever_the_machines_locale(tmp_path, run_in_c_locale):
    """A student id with letters beyond ASCII must not break the CSV on a machine whose default
    encoding is not UTF-8."""
    rows = [{"student_id": "aliyevaşə", "status": "graded", "score": 1.0}]
    report.write_csv(report.Report("a1", 1, [], rows, 0), tmp_path / "here.csv")
    done = run_in_c_locale(
        "import json, sys\n"
        "from course.grading import report\n"
        "rows = [{'student_id': 'aliyeva\\u015f\\u0259', 'status': 'graded', 'score': 1.0}]\n"
        "report.write_csv(report.Report('a1', 1, [], rows, 0), sys.argv[1])\n"
        "print(json.dumps('ok'))", tmp_path / "there.csv")
    assert done == "ok"
    expected = "student_id,status,score\naliyevaşə,graded,1\n".encode()
    assert (tmp_path / "there.csv").read_bytes() == expected == (tmp_path / "here.csv").read_bytes()


def test_many_known_mistakes_each_get_their_own_colour_and_pattern(tmp_path, monkeypatch):
    """Ten mistakes shown at once (assignment 01 lists ten; the palette has six colours): every kind
    stays distinguishable by its colour and pattern, and the known mistakes by pattern too."""
    shown = _Shown(monkeypatch)
    first = report.Task("t1", 1, False, mistakes=[{"id": f"m{i}"} for i in range(1, 6)])
    second = report.Task("t2", 1, False, mistakes=[{"id": f"m{i}"} for i in range(5, 11)])
    first.outcomes.update({report.RIGHT: 3, "m1": 1, "m2": 1, "m3": 1, "m4": 1, "m5": 1, report.OTHER: 1})
    second.outcomes.update({"m5": 1, "m6": 1, "m7": 1, "m8": 1, "m9": 1, "m10": 1, report.NO_ANSWER: 3})
    report.write_chart(_report([1] * 9, [first, second]), tmp_path / "scores.png")
    right = shown.figures[0].axes[1]
    bars = _bars(right)
    assert list(bars) == ["right", *(f"m{i}" for i in range(1, 11)), report.OTHER, report.NO_ANSWER]
    looks = [(c.patches[0].get_facecolor(), c.patches[0].get_hatch() or "") for c in right.containers]
    assert len(set(looks)) == len(looks)
    patterns = [c.patches[0].get_hatch() for c in right.containers if c.get_label().startswith("m")]
    assert len(set(patterns)) > 1  # past the sixth mistake, a pattern tells them apart


def test_a_class_of_one_shows_whole_shares(tmp_path, monkeypatch):
    """Shares are taken over the graded students, even when there is only one."""
    shown = _Shown(monkeypatch)
    task = report.Task("t1", 1, False)
    task.outcomes[report.RIGHT] = 1
    report.write_chart(_report([1], [task]), tmp_path / "scores.png")
    right = shown.figures[0].axes[1]
    assert _bars(right)["right"][1] == [100] and right.get_xlim() == (0, 100)


def test_a_written_answer_before_a_test_leaves_the_test_counted(course):
    """Tasks follow the source notebook; a hand-graded one in between does not stop the count."""
    nb = _notebook()
    nb.cells = [nb.cells[0], nb.cells[5], *nb.cells[1:5]]
    nbformat.write(nb, course / "exercises" / A / f"{A}.ipynb")
    rep = report.build(course, A)
    assert [t.gid for t in rep.tasks] == ["written_why", "test_sum", "test_names"]
    assert rep.tasks[1].outcomes["off-by-one"] == 1 and rep.tasks[2].outcomes["reversed"] == 1
    assert {r["student_id"]: r["test_sum:answer"] for r in rep.rows}["eve"] == "doubled"


def test_a_graded_student_without_an_autograded_notebook_is_not_run(course):
    """No autograded notebook means no recorded answer: 'not run', not 'no answer'."""
    shutil.rmtree(course / "autograded" / "bob")
    rows = {r["student_id"]: r for r in report.build(course, A).rows}
    assert (rows["bob"]["test_sum:answer"], rows["bob"]["test_names:answer"]) == (report.NOT_RUN, report.NOT_RUN)


def test_students_with_the_same_mistake_are_counted_together(course):
    """Each student making a mistake adds one to its count."""
    status.write(course / "autograded", A, status.read(course / "autograded", A)
                 | {"cem": {"status": "graded", "reason": ""}})
    _autograded(course, "cem", f"{A}.ipynb", _notebook([_recorded(total=11)], [_recorded(names=["Yerevan", "Baku"])]))
    rep = report.build(course, A)
    assert _task(rep, "test_sum").outcomes["off-by-one"] == 2 and _task(rep, "test_names").outcomes["reversed"] == 2
    assert rep.not_graded == 1


def test_only_the_reported_assignment_is_read_from_the_gradebook(course):
    """Another assignment's submissions never enter the report."""
    config = course_config.load(course)
    with course_config.gradebook(config) as gb:
        gb.add_assignment("a2")
        gb.add_notebook("a2", "a2")
        gb.add_grade_cell("test_sum", "a2", "a2", max_score=1, cell_type="code")
        gb.add_submission("a2", "ann")
    rep = report.build(course, A)
    assert [r["student_id"] for r in rep.rows] == ["ann", "bob", "cem", "dan", "eve", "fay"]


def test_odd_notebook_cells_are_skipped_and_the_record_is_found_after_other_outputs():
    """Cells without metadata or outputs are skipped; a record after printed output is still found."""
    bare = nbformat.NotebookNode(cell_type="code", source="", id="bare")            # no metadata, no outputs
    no_outputs = nbformat.NotebookNode(cell_type="code", source="", id="x", metadata={
        "nbgrader": {"grade_id": "test_names"}})
    later = _cell("code", "test_sum", outputs=[_stream_output("checking"), _recorded(total=7)])
    nb = nbformat.NotebookNode(cells=[bare, no_outputs, later], metadata={}, nbformat=4, nbformat_minor=5)
    assert report.answers(nb, TASKS) == {"test_sum": 7, "test_names": report.UNRECORDED}


def _stream_output(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_an_error_in_the_instructors_code_names_where_it_is():
    """A broken setup or mistake in the mistakes file is reported with its place in the traceback."""
    import traceback

    for spec, where in [({"setup": "1 / 0", "tasks": {"t1": {"variable": "v", "mistakes": [{"id": "a", "code": ""}]}}},
                         "<mistakes setup>"),
                        ({"tasks": {"t1": {"variable": "v", "mistakes": [{"id": "oops", "code": "v = 1 / 0"}]}}},
                         "<mistake t1/oops>")]:
        with pytest.raises(ZeroDivisionError) as caught:
            report.mistake_values(spec)
        assert traceback.extract_tb(caught.value.__traceback__)[-1].filename == where


def test_a_mistakes_file_is_read_as_utf_8_whatever_the_machines_locale(tmp_path, run_in_c_locale):
    """Mistake messages with place names beyond ASCII (Ağdam) load the same on any machine."""
    path = tmp_path / "a1.mistakes.yaml"
    path.write_text(MISTAKES, encoding="utf-8")
    message = report.load_mistakes(path)["tasks"]["test_sum"]["mistakes"][1]["message"]
    done = run_in_c_locale("import json, sys\nfrom pathlib import Path\nfrom course.grading import report\n"
                           "spec = report.load_mistakes(Path(sys.argv[1]))\n"
                           "print(json.dumps(spec['tasks']['test_sum']['mistakes'][1]['message']))", path)
    assert done == message == "counted every village twice (Ağdam, Khankendi / Stepanakert)"
