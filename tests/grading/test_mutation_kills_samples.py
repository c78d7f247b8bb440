"""Fast tests of course/grading/samples.py (issue 20): the sample submissions that rehearse the
grading pipeline, and the scores they must get. Each kind is built from a small assignment in
memory (the course format: answer cells that assign a variable, test cells, a written answer) and
checked for what makes it that kind; the answer cells are run in-process to see that a "wrong"
sample really gives wrong answers. Also: every assignment of the course can make every kind."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest

from course.grading import samples

ROOT = Path(__file__).resolve().parents[2]


def _meta(cell, gid, *, grade=False, solution=False, points=None, locked=False):
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": gid, "solution": solution, "locked": locked,
                                 "schema_version": 3}
    if points is not None:
        cell.metadata["nbgrader"]["points"] = points
    return cell


SOLUTIONS = {
    "answer_q1": "### BEGIN SOLUTION\nbase = 40\nq1 = base + 2\n### END SOLUTION",
    "answer_q2": "import pandas as pd\n# BEGIN SOLUTION\nwords = pd.Series(['Baku', 'Yerevan', 'Tbilisi'])\n"
                 "# END SOLUTION",
    "answer_q4": "### BEGIN SOLUTION\nlabel: str = 'peace'\n### END SOLUTION",
}
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def _source():
    """intro, answer_q1, test_q1 (2 pt), answer_q2, test_q2 (1.5 pt), written_q3 (4 pt), setup,
    answer_q4, test_q4 (3 pt)."""
    new_code, new_md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    return nbformat.v4.new_notebook(cells=[
        new_md("# Assignment: Ağdam to Stepanakert", id="intro"),
        _meta(new_code(SOLUTIONS["answer_q1"], id="a1"), "answer_q1", solution=True),
        _meta(new_code("assert q1 > 0\n### BEGIN HIDDEN TESTS\nassert q1 == 42\n### END HIDDEN TESTS", id="t1"),
              "test_q1", grade=True, points=2, locked=True),
        _meta(new_code(SOLUTIONS["answer_q2"], id="a2"), "answer_q2", solution=True),
        _meta(new_code("assert len(words) == 3", id="t2"), "test_q2", grade=True, points=1.5, locked=True),
        _meta(new_md("=== BEGIN MARK SCHEME ===\nthe reading\n=== END MARK SCHEME ===", id="w3"), "written_q3",
              grade=True, solution=True, points=4),
        _meta(new_code("import math", id="setup"), "setup", locked=True),
        _meta(new_code(SOLUTIONS["answer_q4"], id="a4"), "answer_q4", solution=True),
        _meta(new_code("assert label == 'peace'", id="t4"), "test_q4", grade=True, points=3, locked=True),
    ])


def _release(source):
    """What students get: stubs in the answer cells, no hidden tests, no mark scheme."""
    nb = copy.deepcopy(source)
    for cell in nb.cells:
        if samples.is_answer(cell):
            cell.source = STUB
        elif samples.is_written(cell):
            cell.source = "YOUR ANSWER HERE"
        elif samples.is_test(cell):
            cell.source = cell.source.split("\n### BEGIN HIDDEN")[0]
    return nb


@pytest.fixture
def nbs():
    source = _source()
    return source, _release(source)


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _by_id(nb):
    return {_gid(c): c for c in nb.cells if _gid(c)}


def _run_answers(nb) -> dict:
    """Run the answer and setup cells in order, as a kernel would, and return the variables."""
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and (samples.is_answer(cell) or _gid(cell) == "setup"):
            exec(compile(cell.source, _gid(cell), "exec"), namespace)  # noqa: S102 - the test's own sample
    return namespace


# -- reading the course format ---------------------------------------------------------------------


def test_cells_are_told_apart_by_their_nbgrader_flags():
    """An answer is a code cell with a solution and no grade; a test the reverse; a written answer is
    graded Markdown with a solution."""
    code, md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cases = [
        (_meta(code("x = 1"), "a", solution=True), (True, False, False)),
        (_meta(code("assert x"), "t", grade=True), (False, True, False)),
        (_meta(md("text"), "w", grade=True, solution=True), (False, False, True)),
        (_meta(code("x = 1"), "b", grade=True, solution=True), (False, False, False)),  # autograded answer
        (_meta(md("text"), "m", solution=True), (False, False, False)),
        (_meta(md("text"), "g", grade=True), (False, False, False)),
        (_meta(code("x"), "l"), (False, False, False)),
        (code("x = 1"), (False, False, False)),  # no nbgrader metadata
        (md("text"), (False, False, False)),
        (nbformat.NotebookNode(cell_type="code", source="x = 1"), (False, False, False)),  # no metadata at all
        # metadata of an older or hand-made notebook: a flag that is absent counts as not set
        (_partial(code("x = 1"), solution=True), (True, False, False)),
        (_partial(code("assert x"), grade=True), (False, True, False)),
        (_partial(md("text"), solution=True), (False, False, False)),
        (_partial(md("text"), grade=True), (False, False, False)),
    ]
    for cell, expected in cases:
        found = (samples.is_answer(cell), samples.is_test(cell), samples.is_written(cell))
        assert tuple(bool(f) for f in found) == expected, cell


def _partial(cell, **flags):
    cell.metadata["nbgrader"] = {"grade_id": "p", **flags}
    return cell


def test_the_solution_is_the_answer_cell_without_its_markers():
    """The correct sample's answer is the solution without nbgrader's BEGIN/END lines."""
    assert samples.solution_code("import pandas as pd\n# BEGIN SOLUTION\nx = 1\ny = 2\n# END SOLUTION\nz = 3") == \
        "import pandas as pd\nx = 1\ny = 2\nz = 3"
    assert samples.solution_code("x = 1") == "x = 1"


@pytest.mark.parametrize("code, name", [
    ("q1 = 42", "q1"),
    ("a = 1\nb = 2", "b"),                        # the last assignment is what the tests read
    ("x = y = 3", "y"),
    ("total: int = 3", "total"),
    ("n = 1\nn += 1", "n"),
    ("a = 1\nfirst, second = 1, 2", "a"),         # a tuple target names no single variable
    ("a = 1\nobj.attr = 2", "a"),
    ("a = 1\nitems[0] += 1", "a"),
    ("a = 1\nx.y: int = 2", "a"),
    ("def f():\n    inner = 1\nb = 2\nprint(b)", "b"),
    ("def f():\n    inner = 1", None),
    ("print('nothing assigned')", None),
])
def test_the_answer_variable_is_the_last_name_bound_at_top_level(code, name):
    """The variable the tests read is the last one the answer binds at top level."""
    assert samples.answer_variable(code) == name


def test_every_assignment_of_the_course_names_the_variable_of_each_answer():
    """The wrong, loop and edited samples need each answer's variable; every assignment provides it."""
    for path in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        source = nbformat.read(path, as_version=4)
        answers = [c for c in source.cells if samples.is_answer(c)]
        assert answers, path.name
        for cell in answers:
            assert samples.answer_variable(samples.solution_code(cell.source)), (path.name, _gid(cell))
        tests, manual = samples.points(source)
        assert tests and all(p > 0 for p in tests) and manual > 0, path.name
        for kind in samples.KINDS:
            assert samples.make(kind, source, source) is not None
            assert 0 <= samples.expected_auto_score(kind, source) <= sum(tests)


# -- the kinds ------------------------------------------------------------------------------------------


def test_an_unknown_kind_is_refused_with_the_list_of_kinds(nbs):
    """A typo in a kind fails at once and lists the kinds there are."""
    with pytest.raises(ValueError, match=r"unknown kind 'rude'; kinds: correct, wrong, untouched, loop, "):
        samples.make("rude", *nbs)
    with pytest.raises(ValueError, match="missing$"):
        samples.make("Correct", *nbs)


def test_the_correct_sample_is_the_release_with_every_solution_and_written_answer(nbs):
    """The correct sample answers everything right and leaves the release and its tests as they were."""
    source, release = nbs
    before = copy.deepcopy(release)
    nb = samples.make("correct", source, release)
    assert release == before  # the release copy is not changed
    cells = _by_id(nb)
    assert cells["answer_q1"].source == "base = 40\nq1 = base + 2"
    assert cells["answer_q2"].source == "import pandas as pd\nwords = pd.Series(['Baku', 'Yerevan', 'Tbilisi'])"
    assert cells["written_q3"].source == samples.WRITTEN
    assert cells["test_q1"].source == "assert q1 > 0"  # tests as released (no hidden tests)
    assert [c.source for c in nb.cells if not _gid(c)] == ["# Assignment: Ağdam to Stepanakert"]
    assert cells["setup"].source == "import math"
    ns = _run_answers(nb)
    assert (ns["q1"], list(ns["words"]), ns["label"]) == (42, ["Baku", "Yerevan", "Tbilisi"], "peace")
    assert samples.make("missing", source, release) == nb


def test_the_untouched_sample_is_a_copy_of_the_release(nbs):
    """The untouched sample is the release as handed out, and changing it never changes the release."""
    source, release = nbs
    nb = samples.make("untouched", source, release)
    assert nb == release
    nb.cells[1].source = "changed"
    assert release.cells[1].source == STUB


def test_the_not_json_sample_cannot_be_read_as_a_notebook(nbs):
    """The not_json sample is a file cut off mid-way, which no JSON reader accepts."""
    data = samples.make("not_json", *nbs)
    assert isinstance(data, bytes) and data.startswith(b'{"cells": [')
    with pytest.raises(ValueError):
        json.loads(data)


def test_the_wrong_sample_gives_a_wrong_answer_of_the_same_type_everywhere(nbs):
    """Every answer is changed after the solution ran, so every test fails (and nothing crashes)."""
    source, release = nbs
    nb = samples.make("wrong", source, release)
    ns = _run_answers(nb)
    assert ns["q1"] == 43
    assert list(ns["words"]) == ["Yerevan", "Tbilisi"] and type(ns["words"]).__name__ == "Series"
    assert ns["label"] == "peace (changed)"
    for gid in ("answer_q1", "answer_q2", "answer_q4"):
        assert _by_id(nb)[gid].source.startswith(samples.solution_code(SOLUTIONS[gid]) + "\n")
    assert _by_id(nb)["written_q3"].source == samples.WRITTEN


@pytest.mark.parametrize("value, wrong", [
    (True, False), (3, 4), (2.5, 3.5), ("a", "a (changed)"), ([1, 2, 3], [2, 3]), ((1, 2), [2]),
    ({"a": 1}, None)])
def test_the_wrong_helper_changes_each_type_of_answer(value, wrong):
    """Every type of answer is turned into a wrong value (or None), so its test fails."""
    source = _source()
    source.cells[1].source = f"q1 = {value!r}"
    nb = samples.make("wrong", source, _release(source))
    assert _run_answers(nb)["q1"] == wrong


def test_the_loop_sample_never_ends_in_its_first_answer(nbs):
    """The loop sample loops in its first answer only; the rest is answered right."""
    source, release = nbs
    nb = samples.make("loop", source, release)
    cells = _by_id(nb)
    assert cells["answer_q1"].source == "while True:  # a loop that never ends\n    pass"
    assert cells["answer_q2"].source == samples.solution_code(SOLUTIONS["answer_q2"])
    assert cells["written_q3"].source == samples.WRITTEN


def test_the_kernel_dies_in_the_second_answer_or_the_only_one(nbs):
    """The kernel dies at the second answer (or the only one), after the solution's first tests could run."""
    source, release = nbs
    cells = _by_id(samples.make("kernel_dies", source, release))
    assert cells["answer_q2"].source == ("import os\nos._exit(1)  # the kernel process ends here\n"
                                         + samples.solution_code(SOLUTIONS["answer_q2"]))
    assert cells["answer_q1"].source == "base = 40\nq1 = base + 2"
    one = _one_answer(source)
    cells = _by_id(samples.make("kernel_dies", one, _release(one)))
    assert cells["answer_q1"].source.startswith("import os\nos._exit(1)")


def _one_answer(source):
    """The assignment cut to its first answer, its first test and the written answer."""
    nb = copy.deepcopy(source)
    nb.cells = [c for c in nb.cells if _gid(c) in (None, "answer_q1", "test_q1", "written_q3")]
    return nb


def test_the_edited_test_sample_answers_the_first_task_wrong_and_empties_its_test(nbs):
    """The edited sample hides a wrong first answer behind an emptied test; the rest is right."""
    source, release = nbs
    nb = samples.make("edited_test", source, release)
    cells = _by_id(nb)
    assert cells["test_q1"].source == "# checks removed by the student\npass"
    assert cells["test_q2"].source == "assert len(words) == 3"
    ns = _run_answers(nb)
    assert ns["q1"] == 43 and list(ns["words"]) == ["Baku", "Yerevan", "Tbilisi"] and ns["label"] == "peace"


def test_the_deleted_test_sample_drops_the_second_test_or_the_only_one(nbs):
    """The deleted sample removes exactly one test cell: the second, or the only one."""
    source, release = nbs
    nb = samples.make("deleted_test", source, release)
    assert [_gid(c) for c in nb.cells if samples.is_test(c)] == ["test_q1", "test_q4"]
    assert len(nb.cells) == len(release.cells) - 1
    one = _one_answer(source)
    nb = samples.make("deleted_test", one, _release(one))
    assert [c for c in nb.cells if samples.is_test(c)] == [] and len(nb.cells) == len(one.cells) - 1


def test_the_stripped_sample_has_no_metadata_in_any_cell(nbs):
    """The stripped sample keeps the answers but loses every cell's metadata (the release keeps its own)."""
    source, release = nbs
    nb = samples.make("stripped_metadata", source, release)
    assert all(c.metadata == {} for c in nb.cells) and len(nb.cells) == len(release.cells)
    assert nb.cells[1].source == "base = 40\nq1 = base + 2"
    assert release.cells[1].metadata["nbgrader"]["grade_id"] == "answer_q1"


def test_the_extra_cell_sample_adds_a_scratch_cell_and_notes(nbs, tmp_path, monkeypatch, capsys):
    """The extra-cell sample adds a code cell that writes a file and a note at the end."""
    source, release = nbs
    nb = samples.make("extra_cell", source, release)
    assert len(nb.cells) == len(release.cells) + 2
    scratch, notes = nb.cells[2], nb.cells[-1]
    assert (scratch.cell_type, scratch.id, notes.cell_type, notes.id, notes.source) == (
        "code", "extra-code", "markdown", "extra-notes", "Notes to myself.")
    assert _gid(nb.cells[1]) == "answer_q1" and _gid(nb.cells[3]) == "test_q1"
    monkeypatch.chdir(tmp_path)
    exec(compile(scratch.source, "scratch", "exec"), {})  # noqa: S102 - the test's own sample
    assert (tmp_path / "my_notes.txt").read_text() == "draft"
    assert capsys.readouterr().out == f"checking my own work in {tmp_path}\n"
    nbformat.validate(nb)


# -- writing a sample --------------------------------------------------------------------------------


def test_a_sample_is_written_as_the_students_notebook(nbs, tmp_path):
    """write() saves the sample as the student's notebook, readable by nbformat, and may overwrite."""
    source, release = nbs
    folder = tmp_path / "submitted" / "ann" / "a1"
    samples.write("correct", source, release, folder, "a1")
    path = folder / "a1.ipynb"
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(samples.make("correct", source, release), indent=1, ensure_ascii=False) + "\n"
    assert "Ağdam" in text
    assert nbformat.read(path, as_version=4) == samples.make("correct", source, release)
    samples.write("correct", source, release, folder, "a1")  # the folder may exist already
    assert [p.name for p in folder.iterdir()] == ["a1.ipynb"]


def test_the_missing_sample_is_saved_under_the_wrong_name_and_not_json_as_bytes(nbs, tmp_path):
    """missing is saved as Untitled.ipynb; not_json as its raw bytes."""
    source, release = nbs
    samples.write("missing", source, release, tmp_path / "m", "a1")
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["Untitled.ipynb"]
    samples.write("not_json", source, release, str(tmp_path / "n"), "a1")
    assert (tmp_path / "n" / "a1.ipynb").read_bytes() == samples.make("not_json", source, release)


# -- the scores each kind must get --------------------------------------------------------------------


def test_points_are_the_tests_in_order_and_the_written_total():
    """points() gives each test's points in order and the total to grade by hand."""
    source = _source()
    assert samples.points(source) == ([2.0, 1.5, 3.0], 4.0)
    second = copy.deepcopy(source.cells[5])
    second.metadata["nbgrader"]["points"] = "2.5"
    source.cells.append(second)
    assert samples.points(source) == ([2.0, 1.5, 3.0], 6.5)


@pytest.mark.parametrize("kind, score", [
    ("correct", 6.5), ("deleted_test", 6.5), ("stripped_metadata", 6.5), ("extra_cell", 6.5),
    ("wrong", 0.0), ("untouched", 0.0), ("not_json", 0.0), ("missing", 0.0),
    ("loop", 4.5), ("edited_test", 4.5),   # the first task fails, the others are right
    ("kernel_dies", 2.0),                  # only the test before the second answer ran
])
def test_each_kind_has_its_expected_autograded_score(kind, score):
    """The score the pipeline tests compare against, for each kind."""
    assert samples.expected_auto_score(kind, _source()) == score


def test_a_kernel_dying_in_the_only_answer_scores_nothing():
    """With one answer, the loop and the dead kernel both leave nothing to score."""
    assert samples.expected_auto_score("kernel_dies", _one_answer(_source())) == 0.0
    assert samples.expected_auto_score("loop", _one_answer(_source())) == 0.0


def test_every_kind_has_a_status_and_an_expected_score():
    """Every kind has the status the export must show and a score."""
    assert set(samples.STATUS) == set(samples.KINDS)
    for kind in samples.KINDS:
        assert isinstance(samples.expected_auto_score(kind, _source()), float)


def test_an_unknown_kind_has_no_expected_score_and_is_named():
    """An unknown kind has no expected score, and the error names it."""
    with pytest.raises(AssertionError, match="^rude$"):
        samples.expected_auto_score("rude", _source())


def _two_answers(source):
    """The assignment cut to two answers and their tests (and the written answer)."""
    nb = copy.deepcopy(source)
    nb.cells = [c for c in nb.cells if _gid(c) in (None, "answer_q1", "test_q1", "answer_q2", "test_q2", "written_q3")]
    return nb


def test_with_two_answers_the_second_one_kills_the_kernel_and_the_second_test_is_deleted():
    """With exactly two answers and tests, the second ones are used."""
    source = _two_answers(_source())
    release = _release(source)
    cells = _by_id(samples.make("kernel_dies", source, release))
    assert cells["answer_q2"].source.startswith("import os\nos._exit(1)")
    assert cells["answer_q1"].source == "base = 40\nq1 = base + 2"
    nb = samples.make("deleted_test", source, release)
    assert [_gid(c) for c in nb.cells if samples.is_test(c)] == ["test_q1"]
    assert samples.expected_auto_score("kernel_dies", source) == 2.0


def test_a_sample_is_written_in_utf_8_whatever_the_machines_locale(tmp_path, run_in_c_locale):
    """The assignment's text has letters beyond ASCII (Ağdam): writing a sample must not depend on the
    machine's default encoding."""
    source = _source()
    nbformat.write(source, tmp_path / "source.ipynb")
    samples.write("correct", source, _release(source), tmp_path / "here", "a1")
    done = run_in_c_locale(
        "import copy, json, sys\nimport nbformat\nfrom course.grading import samples\n"
        "source = nbformat.read(sys.argv[1], as_version=4)\n"
        "samples.write('correct', source, copy.deepcopy(source), sys.argv[2], 'a1')\n"
        "print(json.dumps('ok'))", tmp_path / "source.ipynb", tmp_path / "there")
    assert done == "ok"
    text = (tmp_path / "there" / "a1.ipynb").read_bytes().decode("utf-8")
    assert "Ağdam" in text and nbformat.reads(text, as_version=4).cells[0].source.endswith("Ağdam to Stepanakert")
