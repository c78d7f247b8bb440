"""Fast unit tests of course/grading/restore.py (issue 20): tamper detection and repair, run on a
small notebook in memory against a real nbgrader gradebook (SQLite in tmp_path) that records
its source cells. No kernel and no `course grade autograde` run."""
from __future__ import annotations

import copy
import logging
import shutil

import nbformat
import pytest
from nbgrader import utils
from nbgrader.api import Gradebook
from traitlets.config import Config

from course.grading import restore

HIDDEN_TEST = "assert q1 > 0, 'q1 must be positive'\n### BEGIN HIDDEN TESTS\nassert q1 == 42\n### END HIDDEN TESTS"
RELEASED_TEST = "assert q1 > 0, 'q1 must be positive'"


def _meta(gid, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": gid, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _source_notebook():
    cells = [
        nbformat.v4.new_markdown_cell("# Lesson", id="intro"),
        nbformat.v4.new_code_cell("import math", id="c-setup"),
        nbformat.v4.new_code_cell("q1 = 42", id="c-answer"),
        nbformat.v4.new_code_cell(HIDDEN_TEST, id="c-test1"),
        nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", id="c-written"),
        nbformat.v4.new_code_cell("assert math.pi > 3", id="c-test3"),
    ]
    cells[1].metadata["nbgrader"] = _meta("setup", locked=True)
    cells[2].metadata["nbgrader"] = _meta("answer_q1", solution=True)
    cells[3].metadata["nbgrader"] = _meta("test_q1", grade=True, locked=True, points=2)
    cells[4].metadata["nbgrader"] = _meta("written_q2", grade=True, solution=True, points=3)
    cells[5].metadata["nbgrader"] = _meta("test_q3", grade=True, locked=True, points=1)
    return nbformat.v4.new_notebook(cells=cells)


@pytest.fixture(scope="module")
def gradebook_file(tmp_path_factory):
    """The gradebook, made once. A new gradebook records nbgrader's schema version, which nbgrader reads
    by running the `alembic` command (about 3 s); these tests never migrate it, so a fixed label does."""
    import nbgrader.api

    source = _source_notebook()
    file = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    real = nbgrader.api.get_alembic_version
    nbgrader.api.get_alembic_version = lambda: "course-tests"
    try:
        with Gradebook(f"sqlite:///{file}") as gb:
            gb.add_assignment("a1")
            gb.add_notebook("nb", "a1")
            for cell in source.cells:
                meta = cell.metadata.get("nbgrader")
                if not meta:
                    continue
                gid = meta["grade_id"]
                if meta["grade"]:
                    gb.add_grade_cell(gid, "nb", "a1", max_score=meta["points"], cell_type=cell.cell_type)
                if meta["solution"]:
                    gb.add_solution_cell(gid, "nb", "a1")
                gb.add_source_cell(gid, "nb", "a1", cell_type=cell.cell_type, locked=meta["locked"],
                                   source=cell.source, checksum=utils.compute_checksum(cell))
    finally:
        nbgrader.api.get_alembic_version = real
    return file


@pytest.fixture
def course(tmp_path, gradebook_file):
    """A course folder with the source notebook and a copy of the gradebook recording it."""
    source = _source_notebook()
    folder = tmp_path / "source" / "a1"
    folder.mkdir(parents=True)
    nbformat.write(source, folder / "nb.ipynb")
    shutil.copy2(gradebook_file, tmp_path / "gradebook.db")
    return {"root": tmp_path, "url": f"sqlite:///{tmp_path / 'gradebook.db'}", "source": source}


def _released(course):
    """The notebook as students received it (hidden tests removed)."""
    nb = copy.deepcopy(course["source"])
    nb.cells[3].source = RELEASED_TEST + "\n"
    return nb


def _restore(course, nb, notebook="nb"):
    config = Config({"CourseDirectory": {"root": str(course["root"])}})
    resources = {"nbgrader": {"db_url": course["url"], "notebook": notebook, "assignment": "a1"}}
    nb, resources = restore.RestoreCells(config=config).preprocess(nb, resources)
    return nb, resources.get("course_grading", {}).get("findings", [])


def _ids(nb):
    return [restore._grade_id(c) for c in nb.cells]


# -- RestoreCells --------------------------------------------------------------------------------


def test_an_untouched_submission_is_left_as_it_is(course):
    nb = _released(course)
    before = copy.deepcopy(nb)
    nb, found = _restore(course, nb)
    assert found == [] and nb == before


def test_a_notebook_unknown_to_the_gradebook_is_left_alone(course):
    nb = _released(course)
    del nb.cells[3]
    before = copy.deepcopy(nb)
    nb, found = _restore(course, nb, notebook="other")
    assert found == [] and nb == before


def test_a_deleted_test_cell_is_put_back_after_its_neighbour_with_its_hidden_tests(course):
    nb = _released(course)
    del nb.cells[3]
    nb, found = _restore(course, nb)
    assert _ids(nb) == [None, "setup", "answer_q1", "test_q1", "written_q2", "test_q3"]
    cell = nb.cells[3]
    assert cell.cell_type == "code" and cell.source == HIDDEN_TEST and cell.id == "c-test1"
    assert cell.metadata == {"nbgrader": _meta("test_q1", grade=True, locked=True, points=2.0),
                             "deletable": False, "editable": False}
    assert found == [{"kind": "cell restored", "cell": "test_q1", "cell_type": "code", "locked": True,
                      "graded": True}]
    nbformat.validate(nb)


def test_a_deleted_written_answer_is_put_back_editable_and_a_taken_id_is_not_reused(course):
    nb = _released(course)
    del nb.cells[4]
    nb.cells[2].id = "c-written"  # the student's answer cell now has the id the source cell had
    nb, found = _restore(course, nb)
    assert _ids(nb) == [None, "setup", "answer_q1", "test_q1", "written_q2", "test_q3"]
    cell = nb.cells[4]
    assert cell.cell_type == "markdown" and cell.id != "c-written"
    assert cell.metadata == {"nbgrader": _meta("written_q2", grade=True, solution=True, points=3.0)}
    assert found == [{"kind": "cell restored", "cell": "written_q2", "cell_type": "markdown", "locked": False,
                      "graded": True}]


def test_deleted_first_cells_go_to_the_top_and_an_unwanted_answer_is_not_inserted(course):
    nb = _released(course)
    del nb.cells[1:4]  # setup, answer_q1, test_q1
    nb, found = _restore(course, nb)
    assert _ids(nb) == ["setup", "test_q1", None, "written_q2", "test_q3"]
    assert [f["cell"] for f in found] == ["setup", "test_q1"]
    assert found[0] == {"kind": "cell restored", "cell": "setup", "cell_type": "code", "locked": True,
                        "graded": False}


def test_a_stripped_test_cell_gets_its_metadata_back_by_cell_id(course):
    nb = _released(course)
    nb.cells[3].source = "assert True  # changed"
    del nb.cells[3].metadata["nbgrader"]
    nb, found = _restore(course, nb)
    assert nb.cells[3].metadata["nbgrader"] == _meta("test_q1", grade=True, locked=True, points=2.0)
    assert nb.cells[3].source == "assert True  # changed"  # OverwriteCells puts the text back later
    assert found == [{"kind": "metadata restored", "cell": "test_q1", "cell_type": "code", "locked": True,
                      "graded": True}]
    assert len(nb.cells) == 6


@pytest.mark.parametrize("text", [RELEASED_TEST, HIDDEN_TEST, "  " + RELEASED_TEST + "   \n\n"])
def test_a_stripped_locked_cell_with_a_new_id_is_found_by_its_text(course, text):
    nb = _released(course)
    cell = nb.cells[3]
    cell.id, cell.source = "new-id", text
    del cell.metadata["nbgrader"]
    nb, found = _restore(course, nb)
    assert _ids(nb) == [None, "setup", "answer_q1", "test_q1", "written_q2", "test_q3"]
    assert [f["kind"] for f in found] == ["metadata restored"]


def test_text_matching_needs_the_same_cell_type_a_locked_cell_and_some_text(course):
    nb = _released(course)
    stripped = nb.cells[3]
    stripped.id = "new-id"
    del stripped.metadata["nbgrader"]
    as_markdown = nbformat.v4.new_markdown_cell(RELEASED_TEST, id="md")
    empty = nbformat.v4.new_code_cell("  \n", id="empty")
    nb.cells[3:4] = [as_markdown, empty]
    nb, found = _restore(course, nb)
    assert [f["kind"] for f in found] == ["cell restored"]  # so the test cell was inserted instead
    assert _ids(nb) == [None, "setup", "answer_q1", "test_q1", None, None, "written_q2", "test_q3"]
    assert (nb.cells[4].id, nb.cells[5].id) == ("md", "empty")


def test_a_cell_id_already_present_falls_back_to_the_text(course):
    nb = _released(course)
    copy_of_setup = nbformat.v4.new_code_cell("something else", id="c-setup2")
    copy_of_setup.id = "c-test1"  # same id as the (present) test cell, no metadata, other text
    nb.cells[3].id = "c-test1-renamed"
    nb.cells.insert(2, copy_of_setup)
    nb, found = _restore(course, nb)
    assert found == [] and restore._grade_id(nb.cells[2]) is None


def test_an_answer_pasted_into_a_new_notebook_is_found_between_its_neighbours(course):
    nb = _released(course)
    nb.cells[2].id = "pasted"
    del nb.cells[2].metadata["nbgrader"]
    nb, found = _restore(course, nb)
    assert nb.cells[2].metadata["nbgrader"] == _meta("answer_q1", solution=True)
    assert found == [{"kind": "metadata restored", "cell": "answer_q1", "cell_type": "code", "locked": False,
                      "graded": False}]


def test_two_candidate_answer_cells_are_not_guessed(course):
    nb = _released(course)
    nb.cells[2].id = "pasted"
    del nb.cells[2].metadata["nbgrader"]
    nb.cells.insert(2, nbformat.v4.new_code_cell("q1 = 1", id="other"))
    nb, found = _restore(course, nb)
    assert found == [] and restore._grade_id(nb.cells[2]) is None and restore._grade_id(nb.cells[3]) is None


def test_only_cell_between_needs_both_neighbours_in_order():
    cells = [nbformat.v4.new_code_cell("a", id="a"), nbformat.v4.new_code_cell("x", id="x"),
             nbformat.v4.new_markdown_cell("m", id="m"), nbformat.v4.new_code_cell("b", id="b")]
    cells[0].metadata["nbgrader"] = {"grade_id": "A"}
    cells[3].metadata["nbgrader"] = {"grade_id": "B"}
    nb = nbformat.v4.new_notebook(cells=cells)
    between = restore.RestoreCells._only_cell_between
    assert between(nb, [{"grade_id": "A"}], [{"grade_id": "B"}], "code") is cells[1]
    assert between(nb, [{"grade_id": "A"}], [{"grade_id": "B"}], "markdown") is cells[2]
    assert between(nb, [{"grade_id": "Z"}, {"grade_id": "A"}, {"grade_id": "Y"}], [{"grade_id": "Y"},
                   {"grade_id": "B"}], "code") is cells[1]  # the nearest neighbours still present
    assert between(nb, [], [{"grade_id": "B"}], "code") is None
    assert between(nb, [{"grade_id": "A"}], [], "code") is None
    assert between(nb, [{"grade_id": "B"}], [{"grade_id": "A"}], "code") is None
    assert between(nb, [{"grade_id": "A"}], [{"grade_id": "A"}], "code") is None


def test_insert_at_is_after_the_last_neighbour_still_there():
    cells = [nbformat.v4.new_code_cell(str(i)) for i in range(3)]
    cells[0].metadata["nbgrader"] = {"grade_id": "A"}
    cells[2].metadata["nbgrader"] = {"grade_id": "C"}
    nb = nbformat.v4.new_notebook(cells=cells)
    at = restore.RestoreCells._insert_at
    assert at(nb, [{"grade_id": "A"}, {"grade_id": "B"}, {"grade_id": "C"}]) == 3
    assert at(nb, [{"grade_id": "A"}, {"grade_id": "B"}]) == 1
    assert at(nb, [{"grade_id": "B"}]) == 0 and at(nb, []) == 0


def test_without_the_source_file_the_gradebook_order_is_used(course):
    (course["root"] / "source" / "a1" / "nb.ipynb").unlink()
    nb = _released(course)
    del nb.cells[5]
    nb, found = _restore(course, nb)
    assert _ids(nb)[-1] == "test_q3" and nb.cells[-1].source == "assert math.pi > 3"
    assert [f["cell"] for f in found] == ["test_q3"]


def test_a_broken_source_file_is_like_no_file(course):
    (course["root"] / "source" / "a1" / "nb.ipynb").write_text("{not json")
    nb = _released(course)
    del nb.cells[5]
    nb, found = _restore(course, nb)
    assert [f["cell"] for f in found] == ["test_q3"] and _ids(nb)[-1] == "test_q3"


def test_source_order_lists_each_recorded_cell_once_then_the_rest(course):
    extra = course["source"]
    extra.cells.append(copy.deepcopy(extra.cells[1]))  # a duplicated grade id in the file
    extra.cells[-1].id = "dup"
    nbformat.write(extra, course["root"] / "source" / "a1" / "nb.ipynb")
    pre = restore.RestoreCells(config=Config({"CourseDirectory": {"root": str(course["root"])}}))
    db_cells = {"setup": {}, "test_q1": {}, "gone": {}}
    assert pre._source_order("a1", "nb", db_cells) == [
        {"grade_id": "setup", "cell_id": "c-setup"}, {"grade_id": "test_q1", "cell_id": "c-test1"},
        {"grade_id": "gone", "cell_id": None}]


# -- helpers -------------------------------------------------------------------------------------------


def test_released_text_removes_the_hidden_region_or_keeps_an_unbalanced_text():
    assert restore.released_text(HIDDEN_TEST).strip() == RELEASED_TEST
    broken = "a\n### BEGIN HIDDEN TESTS\nb"
    assert restore.released_text(broken) == broken
    assert restore.released_text("plain") == "plain"


def test_normalise_ignores_trailing_spaces_and_blank_edges_only():
    assert restore._normalise("\n\n  a  \n b\t\n\n") == "a\n b"
    assert restore._normalise("a\n\nb") == "a\n\nb"


def test_findings_are_recorded_and_logged_only_when_they_matter(caplog):
    log = logging.getLogger("test-restore")
    resources = {}
    with caplog.at_level(logging.WARNING, logger="test-restore"):
        restore.finding(resources, "edited", "intro", log, cell_type="markdown", locked=True)
        restore.finding(resources, "edited", "answer", log, cell_type="code", locked=False)
        restore.finding(resources, "cell restored", "setup", log, cell_type="code", locked=True)
        restore.finding(resources, "metadata restored", "test_q1", log, graded=True)
        restore.finding(resources, "edited", "t", None, graded=True)
    assert [r.getMessage() for r in caplog.records] == ["Cell setup: cell restored (from the source)",
                                                        "Cell test_q1: metadata restored (from the source)"]
    assert resources["course_grading"]["findings"][0] == {"kind": "edited", "cell": "intro", "cell_type": "markdown",
                                                          "locked": True}
    assert len(resources["course_grading"]["findings"]) == 5


def test_grade_id_of_cells_with_and_without_metadata():
    cell = nbformat.v4.new_code_cell("x")
    assert restore._grade_id(cell) is None
    cell.metadata["nbgrader"] = {"grade": False}
    assert restore._grade_id(cell) is None
    cell.metadata["nbgrader"]["grade_id"] = "g"
    assert restore._grade_id(cell) == "g"
    assert restore._grade_id({}) is None


# -- ReportingOverwriteCells ----------------------------------------------------------------------------


def _overwrite(course, nb):
    resources = {"nbgrader": {"db_url": course["url"], "notebook": "nb", "assignment": "a1"}}
    nb, resources = restore.ReportingOverwriteCells().preprocess(nb, resources)
    return nb, resources.get("course_grading", {}).get("findings", [])


def test_a_test_cell_as_released_is_not_reported_and_gets_its_hidden_tests_back(course):
    nb, found = _overwrite(course, _released(course))
    assert found == []
    assert nb.cells[3].source == HIDDEN_TEST


def test_an_edited_test_cell_is_reported_and_overwritten(course):
    nb = _released(course)
    nb.cells[3].source = "assert True"
    nb.cells[5].source = "assert True  # setup edited too"
    nb, found = _overwrite(course, nb)
    assert found == [{"kind": "edited", "cell": "test_q1", "cell_type": "code", "graded": True},
                     {"kind": "edited", "cell": "test_q3", "cell_type": "code", "graded": True}]
    assert nb.cells[3].source == HIDDEN_TEST and nb.cells[5].source == "assert math.pi > 3"


def test_an_edited_locked_setup_cell_is_reported_as_not_graded(course):
    nb = _released(course)
    nb.cells[1].source = "import math\nmath.pi = 4"
    nb, found = _overwrite(course, nb)
    assert found == [{"kind": "edited", "cell": "setup", "cell_type": "code", "graded": False}]
    assert nb.cells[1].source == "import math"


def test_changed_points_are_reported_with_old_and_new_values(course):
    nb = _released(course)
    nb.cells[3].metadata["nbgrader"]["points"] = 20
    nb, found = _overwrite(course, nb)
    assert found == [{"kind": "points changed", "cell": "test_q1", "cell_type": "code", "graded": True,
                      "was": 2.0, "now": 20.0}]
    assert nb.cells[3].metadata["nbgrader"]["points"] == 2.0


def test_a_changed_answer_is_not_a_finding(course):
    nb = _released(course)
    nb.cells[2].source = "q1 = 7"
    nb.cells[4].source = "My own words."
    nb, found = _overwrite(course, nb)
    assert found == [] and nb.cells[2].source == "q1 = 7"


def test_released_text_uses_the_course_delimiters():
    from types import SimpleNamespace

    parent = SimpleNamespace(config=Config({"ClearHiddenTests": {"begin_test_delimeter": "START SECRET",
                                                                 "end_test_delimeter": "STOP SECRET"}}))
    source = "visible = 1\n### START SECRET\nsecret = 2\n### STOP SECRET"
    assert restore.released_text(source, parent).strip() == "visible = 1"
    assert restore.released_text(source) == source  # the standard delimiters are not there


def test_a_pasted_copy_of_a_present_test_cell_is_not_given_its_metadata(course):
    nb = _released(course)
    nb.cells.insert(4, nbformat.v4.new_code_cell(RELEASED_TEST, id="pasted-copy"))
    nb, found = _restore(course, nb)
    assert found == [] and restore._grade_id(nb.cells[4]) is None
    assert _ids(nb).count("test_q1") == 1


def test_an_answer_is_looked_for_between_its_nearest_neighbours_only(course):
    nb = _released(course)
    nb.cells[2].id = "pasted"
    del nb.cells[2].metadata["nbgrader"]
    nb.cells.insert(4, nbformat.v4.new_code_cell("scratch = 1", id="scratch"))  # after test_q1
    nb, found = _restore(course, nb)
    assert nb.cells[2].metadata["nbgrader"]["grade_id"] == "answer_q1"
    assert restore._grade_id(nb.cells[4]) is None
    assert [f["cell"] for f in found] == ["answer_q1"]


def test_a_cell_unknown_to_the_gradebook_is_not_reported_as_tampering(course):
    nb = _released(course)
    stray = nbformat.v4.new_code_cell("x = 1", id="stray")
    stray.metadata["nbgrader"] = _meta("not_in_gradebook", locked=True)
    nb.cells.append(stray)
    nb, found = _overwrite(course, nb)
    assert found == []
    assert "grade_id" not in nb.cells[-1].metadata["nbgrader"]  # nbgrader forgets the unknown id


def test_the_grader_is_warned_of_every_repair_and_every_edit(course, caplog):
    nb = _released(course)
    del nb.cells[5]  # test_q3 deleted
    nb.cells[2].id = "pasted"
    del nb.cells[2].metadata["nbgrader"]  # answer_q1 pasted: not graded, not locked, so no warning
    del nb.cells[3].metadata["nbgrader"]  # test_q1 stripped
    with caplog.at_level(logging.DEBUG):
        nb, _ = _restore(course, nb)
        nb.cells[3].source = "assert True"
        _overwrite(course, nb)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "Cell test_q1: metadata restored (from the source)" in messages
    assert "Cell test_q3: cell restored (from the source)" in messages
    assert "Locked cell test_q1 was changed by the student; the original is used" in messages
    assert not any("answer_q1" in m for m in messages)


def test_changed_points_are_also_in_nbgraders_warning(course, caplog):
    nb = _released(course)
    nb.cells[3].metadata["nbgrader"]["points"] = 20
    with caplog.at_level(logging.WARNING):
        _overwrite(course, nb)
    assert "Attribute 'points' for cell test_q1 has changed! (should be: 2.0, got: 20.0)" in \
        [r.getMessage() for r in caplog.records]
