"""Fast unit tests of course/grading/feedback.py (issue 20): the preprocessors that make a
student's feedback page, called on notebooks built in memory (no nbgrader run, no kernel):
hidden tests and what could quote them removed, outputs capped per cell and per page, answers
still waiting for hand grading marked "Not graded yet" with the page's score counting only
what is graded."""
from __future__ import annotations

import json
import types

import nbformat
import pytest
from traitlets.config import Config

from course.grading import feedback

HIDDEN = "### BEGIN HIDDEN TESTS\nexpected = 42\nassert x == expected, 'not quite'\n### END HIDDEN TESTS"


def _test_cell(source=f"assert x > 0, 'x must be positive'\n{HIDDEN}", grade=True, outputs=()):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": "t", "points": 1, "solution": False, "locked": True}
    cell.outputs = list(outputs)
    return cell


def _error(ename="AssertionError", evalue="not quite", traceback=("assert x == expected",)):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=list(traceback))


def _stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _hide(*cells, config=None):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    pre = feedback.HideHiddenTests(config=config) if config else feedback.HideHiddenTests()
    nb, resources = pre.preprocess(nb, {})
    return nb


# -- hidden tests --------------------------------------------------------------------------------


def test_a_test_cell_keeps_its_visible_test_and_one_line_per_error():
    nb = _hide(_test_cell(outputs=[_stream("expected = 42"), _error(), _error("ValueError", "bad"),
                                   nbformat.v4.new_output("display_data", data={"text/plain": "42"})]))
    cell = nb.cells[0]
    assert "expected" not in cell.source and "assert x > 0, 'x must be positive'" in cell.source
    assert [dict(o) for o in cell.outputs] == [
        {"output_type": "error", "ename": "AssertionError", "evalue": "not quite",
         "traceback": ["AssertionError: not quite"]},
        {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["ValueError: bad"]}]


def test_a_passing_test_cell_with_hidden_tests_shows_no_output():
    nb = _hide(_test_cell(outputs=[_stream("expected = 42\n")]))
    assert nb.cells[0].outputs == [] and "42" not in nb.cells[0].source


def test_colours_are_removed_and_a_message_is_optional():
    out = feedback.HideHiddenTests._one_line(_error("\x1b[31mAssertionError\x1b[0m", "\x1b[1;32mtoo big\x1b[0m"))
    assert (out.ename, out.evalue, out.traceback, out.output_type) == (
        "AssertionError", "too big", ["AssertionError: too big"], "error")
    assert feedback.HideHiddenTests._one_line(_error("KeyError", "")).traceback == ["KeyError"]
    bare = nbformat.NotebookNode(output_type="error")
    assert dict(feedback.HideHiddenTests._one_line(bare)) == {
        "output_type": "error", "ename": "Error", "evalue": "", "traceback": ["Error"]}


@pytest.mark.parametrize("cell", [
    _test_cell(source="assert x > 0, 'x must be positive'"),  # no hidden region: output is the student's help
    _test_cell(grade=False),  # not a graded cell
    nbformat.v4.new_markdown_cell(f"text\n{HIDDEN}"),  # not code
])
def test_cells_without_a_hidden_region_to_remove_are_left_alone(cell):
    if cell.cell_type == "code":
        cell.outputs = [_stream("printed"), _error(traceback=["line 1", "line 2"])]
    before = json.loads(json.dumps(cell))
    nb = _hide(cell)
    assert json.loads(json.dumps(nb.cells[0])) == before


def test_the_course_delimiters_are_the_ones_removed():
    config = Config({"ClearHiddenTests": {"begin_test_delimeter": "START SECRET", "end_test_delimeter": "STOP SECRET"}})
    clearer = feedback.hidden_test_clearer(types.SimpleNamespace(config=config))
    assert (clearer.begin_test_delimeter, clearer.end_test_delimeter) == ("START SECRET", "STOP SECRET")
    only_begin = feedback.hidden_test_clearer(types.SimpleNamespace(config=Config(
        {"ClearHiddenTests": {"begin_test_delimeter": "START SECRET"}})))
    assert (only_begin.begin_test_delimeter, only_begin.end_test_delimeter) == ("START SECRET", "END HIDDEN TESTS")
    default = feedback.hidden_test_clearer(None)
    assert (default.begin_test_delimeter, default.end_test_delimeter) == ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    assert default.parent is None
    secret = _test_cell(source="visible = 1\n### START SECRET\nsecret = 42\n### STOP SECRET",
                        outputs=[_stream("42"), _error()])
    nb = _hide(secret, config=config)
    assert "secret" not in nb.cells[0].source and "visible = 1" in nb.cells[0].source
    assert [o.output_type for o in nb.cells[0].outputs] == ["error"]
    # with those delimiters, the standard ones are not a hidden region: nothing removed
    nb = _hide(_test_cell(outputs=[_stream("printed")]), config=config)
    assert "expected = 42" in nb.cells[0].source and nb.cells[0].outputs[0].text == "printed"


def test_hidden_lines_are_the_non_blank_lines_of_every_region():
    source = ("a = 1\n### BEGIN HIDDEN TESTS\n  assert a == 1  \n\n   \nassert b\n### END HIDDEN TESTS\n"
              "visible = 2\n# BEGIN HIDDEN TESTS\nassert c\n# END HIDDEN TESTS\nafter = 3")
    assert feedback.hidden_lines(source) == ["assert a == 1", "assert b", "assert c"]
    assert feedback.hidden_lines("x\n<s>\ny\n</s>\nz", begin="<s>", end="</s>") == ["y"]
    assert feedback.hidden_lines("no region here") == []


def test_leaks_finds_hidden_lines_through_tags_entities_and_spacing():
    page = "<pre><span>assert</span>  <span>x</span> <span>==</span>\t<span>expected</span>, &#39;no&#39;</pre>"
    assert feedback.leaks(page, ["assert x == expected, 'no'", "expected = 42"]) == ["assert x == expected, 'no'"]
    assert feedback.leaks("<p>a &lt; b</p>", ["a < b"]) == ["a < b"]
    assert feedback.leaks("<p>a  \t b</p>", ["a \tb"]) == ["a \tb"]
    assert feedback.leaks("<p>nothing</p>", ["secret"]) == []
    assert feedback.leaks("<p>a</p><p>b</p>", ["ab"]) == ["ab"]  # tags removed, not replaced by spaces


# -- output caps ------------------------------------------------------------------------------------


def _capped(cells, cell_kb=1, page_kb=4):
    nb = nbformat.v4.new_notebook(cells=cells)
    pre = feedback.CapOutputs(max_output_cell_kb=cell_kb, max_output_notebook_kb=page_kb)
    nb, _ = pre.preprocess(nb, {})
    return nb


def _code(*outputs):
    cell = nbformat.v4.new_code_cell("print()")
    cell.outputs = list(outputs)
    return cell


def test_caps_default_to_one_mb_per_cell_and_four_per_page():
    pre = feedback.CapOutputs()
    assert (pre.max_output_cell_kb, pre.max_output_notebook_kb) == (1024, 4096)
    big = "x" * (1024 * 1024 + 10)
    nb = nbformat.v4.new_notebook(cells=[_code(_stream(big))])
    nb, _ = pre.preprocess(nb, {})
    assert len(nb.cells[0].outputs[0].text) == 1024 * 1024
    assert "the limit is 1024 KB per cell" in nb.cells[0].outputs[-1].text


def test_a_cell_over_its_limit_is_cut_and_says_so():
    nb = _capped([_code(_stream("x" * 1500))])
    assert nb.cells[0].outputs[0].text == "x" * 1024
    assert nb.cells[0].outputs[1].name == "stderr"
    assert "output cut here: the limit is 1 KB per cell" in nb.cells[0].outputs[1].text


def test_a_cell_exactly_at_its_limit_is_kept_whole():
    nb = _capped([_code(_stream("x" * 1024))])
    assert [o.text for o in nb.cells[0].outputs] == ["x" * 1024]


def test_the_page_limit_counts_what_earlier_cells_showed():
    markdown = nbformat.v4.new_markdown_cell("y" * 5000)  # text cells do not count
    nb = _capped([markdown, _code(), _code(_stream("a" * 1000)), _code(_stream("b" * 1000)),
                  _code(_stream("c" * 1000)), _code(_stream("d" * 1000))], cell_kb=1, page_kb=3)
    texts = [[o.text for o in cell.outputs] for cell in nb.cells[1:]]
    assert texts[0] == [] and texts[1] == ["a" * 1000] and texts[2] == ["b" * 1000]
    # 3072 - 2000 = 1072 left: the cell limit (1024) is the smaller, and 1000 fit
    assert texts[3] == ["c" * 1000]
    # 72 left on the page: cut, and the page is named as the reason
    assert texts[4][0] == "d" * 72
    assert "the page reached its limit of 3 KB" in texts[4][1]
    assert nb.cells[0].source == "y" * 5000


def test_when_the_page_and_the_cell_leave_the_same_room_the_page_is_named():
    nb = _capped([_code(_stream("a" * 1024)), _code(_stream("b" * 2000))], cell_kb=1, page_kb=2)
    assert nb.cells[1].outputs[0].text == "b" * 1024
    assert "the page reached its limit of 2 KB" in nb.cells[1].outputs[1].text


def test_a_full_page_still_shows_failed_tests():
    nb = _capped([_code(_stream("a" * 1024)), _code(_stream("more")), _code(_error(evalue="wrong"))],
                 cell_kb=1, page_kb=1)
    assert nb.cells[0].outputs[0].text == "a" * 1024
    assert [o.output_type for o in nb.cells[1].outputs] == ["stream"]  # only the note
    assert "the page reached its limit of 1 KB" in nb.cells[1].outputs[0].text
    assert nb.cells[2].outputs[0].output_type == "error" and nb.cells[2].outputs[0].evalue == "wrong"


def test_kept_error_outputs_count_against_the_page():
    long_error = _error(evalue="e" * 600, traceback=["t" * 400])  # 1000 characters
    nb = _capped([_code(long_error), _code(_stream("s" * 100))], cell_kb=1, page_kb=1)
    assert nb.cells[1].outputs[0].text == "s" * 24


# -- not graded yet ---------------------------------------------------------------------------------


class _Gradebook:
    """Stands in for nbgrader's Gradebook: one submission notebook with these grades."""

    grades: list = []
    asked: list = []

    def __init__(self, url):
        self.url = url

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def find_submission_notebook(self, notebook, assignment, student):
        _Gradebook.asked.append((self.url, notebook, assignment, student))
        return types.SimpleNamespace(grades=_Gradebook.grades)


def _grade(name, max_score, score=None, manual=True):
    return types.SimpleNamespace(name=name, max_score=max_score, score=score, needs_manual_grade=manual)


@pytest.fixture
def gradebook(monkeypatch):
    import nbgrader.api

    monkeypatch.setattr(nbgrader.api, "Gradebook", _Gradebook)
    monkeypatch.setattr(_Gradebook, "grades", [])
    monkeypatch.setattr(_Gradebook, "asked", [])
    return _Gradebook


def _graded_cell(kind, grade_id, points, grade=True, comment=None):
    cell = nbformat.v4.new_markdown_cell("my answer") if kind == "markdown" else nbformat.v4.new_code_cell("x = 1")
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": grade_id, "points": points, "solution": True,
                                 "locked": False, "score": 3.0, "comment": comment}
    if kind == "code":
        cell.outputs = [_stream("1\n")]
    return cell


def _resources(score=10.0, max_score=30.0, **info):
    return {"nbgrader": {"db_url": "sqlite:///gb.db", "notebook": "nb", "assignment": "01", "student": "ann",
                         "score": score, "max_score": max_score, **info}}


def _not_graded(cells, resources):
    nb = nbformat.v4.new_notebook(cells=cells)
    return feedback.NotGradedYet().preprocess(nb, resources)


def test_table_spacing_is_added_once_even_without_a_gradebook():
    nb, resources = _not_graded([_graded_cell("markdown", "w", 5)], {})
    assert resources["inlining"]["css"] == [feedback.TABLE_CSS]
    assert resources["nbgrader"] == {}
    assert len(nb.cells) == 1 and nb.cells[0].metadata["nbgrader"]["grade"] is True
    resources = {"inlining": {"css": ["body {}"]}}
    feedback.NotGradedYet().preprocess(nbformat.v4.new_notebook(), resources)
    feedback.NotGradedYet().preprocess(nbformat.v4.new_notebook(), resources)
    assert resources["inlining"]["css"] == ["body {}", feedback.TABLE_CSS]


def test_nothing_waiting_leaves_the_page_as_graded(gradebook):
    gradebook.grades = [_grade("w", 5, 5, manual=False)]
    cell = _graded_cell("markdown", "w", 5)
    nb, resources = _not_graded([cell], _resources())
    assert gradebook.asked == [("sqlite:///gb.db", "nb", "01", "ann")]
    assert len(nb.cells) == 1 and nb.cells[0].metadata["nbgrader"]["score"] == 3.0
    assert (resources["nbgrader"]["score"], resources["nbgrader"]["max_score"]) == (10.0, 30.0)


def test_a_written_answer_waiting_shows_no_score_and_the_page_counts_only_what_is_graded(gradebook):
    gradebook.grades = [_grade("written_q4", 16, None), _grade("answer_q1", 4, 4, manual=False)]
    answer = _graded_cell("code", "answer_q1", 4)
    written = _graded_cell("markdown", "written_q4", 16, comment="old comment")
    nb, resources = _not_graded([answer, written], _resources(score=12.0, max_score=30.0))
    meta = nb.cells[2].metadata["nbgrader"]
    assert meta["grade"] is False and meta["score"] is None
    assert meta["comment"] == ("**Not graded yet.** Your instructor grades this answer by hand (16 points); "
                               "its score is not part of this page's score yet.")
    assert nb.cells[2].cell_type == "markdown" and "outputs" not in nb.cells[2]
    assert nb.cells[1].metadata["nbgrader"]["grade"] is True and nb.cells[1].metadata["nbgrader"]["score"] == 3.0
    assert nb.cells[1].outputs == [_stream("1\n")]
    assert (resources["nbgrader"]["score"], resources["nbgrader"]["max_score"]) == (12.0, 14.0)
    banner = nb.cells[0]
    assert (banner.cell_type, banner.id) == ("markdown", "course-not-graded-yet")
    assert banner.source == ("**Not graded yet: this feedback is not final.** Your written answer (16 points) is "
                             "still to be graded by hand. The score at the top of this page counts only the 14 "
                             "points graded so far.")
    nbformat.validate(nb)


def test_an_earlier_hand_score_under_review_is_taken_out_of_the_page_score(gradebook):
    gradebook.grades = [_grade("written_q4", 16, 10.5), _grade("answer_q2", 2.5, 1.0)]
    code = _graded_cell("code", "answer_q2", 2.5)
    nb, resources = _not_graded([code, _graded_cell("markdown", "written_q4", 16)], _resources(20.0, 40.0))
    assert (resources["nbgrader"]["score"], resources["nbgrader"]["max_score"]) == (8.5, 21.5)
    assert nb.cells[1].outputs[-1] == nbformat.NotebookNode(
        output_type="stream", name="stdout",
        text="Not graded yet. Your instructor grades this answer by hand (2.5 points); its score is not part of "
             "this page's score yet.\n")
    assert nb.cells[1].outputs[0].text == "1\n"  # the student's own output stays
    assert nb.cells[0].source.startswith("**Not graded yet: this feedback is not final.** Your 2 answers "
                                         "(18.5 points) are still to be graded by hand.")
    assert nb.cells[0].source.endswith("counts only the 21.5 points graded so far.")


def test_a_single_code_answer_is_named_an_answer(gradebook):
    gradebook.grades = [_grade("answer_q2", 2, None)]
    cell = _graded_cell("code", "answer_q2", 2)
    cell.outputs = []
    nb, resources = _not_graded([cell], _resources(5.0, 10.0))
    assert "Your answer (2 points) is still" in nb.cells[0].source
    assert [o.name for o in nb.cells[1].outputs] == ["stdout"]


def test_the_page_score_never_goes_below_zero_and_missing_scores_count_as_zero(gradebook):
    gradebook.grades = [_grade("w", None, 7)]
    nb, resources = _not_graded([_graded_cell("markdown", "w", 0)], _resources(score=5.0, max_score=5.0))
    assert resources["nbgrader"]["score"] == 0.0 and resources["nbgrader"]["max_score"] == 5.0
    gradebook.grades = [_grade("w", 3, None)]
    info = _resources()
    del info["nbgrader"]["score"], info["nbgrader"]["max_score"]
    nb, resources = _not_graded([_graded_cell("markdown", "w", 3)], info)
    assert resources["nbgrader"]["score"] == 0.0 and resources["nbgrader"]["max_score"] == -3.0


def test_two_written_answers_are_counted_as_answers(gradebook):
    gradebook.grades = [_grade("w1", 5), _grade("w2", 5)]
    nb, _ = _not_graded([_graded_cell("markdown", "w1", 5), _graded_cell("markdown", "w2", 5)], _resources())
    assert "Your 2 answers (10 points) are still" in nb.cells[0].source


def test_only_graded_cells_with_a_waiting_grade_are_marked(gradebook):
    gradebook.grades = [_grade("w", 5)]
    not_a_grade = _graded_cell("markdown", "w", 5, grade=False)  # same id, but not a graded cell
    other = _graded_cell("markdown", "other", 5)
    plain = nbformat.v4.new_markdown_cell("intro")
    nb, _ = _not_graded([plain, not_a_grade, other], _resources())
    assert nb.cells[0].id == "course-not-graded-yet"
    assert nb.cells[2].metadata["nbgrader"]["comment"] is None and nb.cells[3].metadata["nbgrader"]["score"] == 3.0
    assert nb.cells[1].metadata == {}


def test_hiding_keeps_the_resources_of_the_export():
    resources = {"nbgrader": {"notebook": "nb"}}
    nb = nbformat.v4.new_notebook(cells=[_test_cell(outputs=[_error()])])
    _, out = feedback.HideHiddenTests().preprocess(nb, resources)
    assert out is resources


# -- the `course grade feedback` command (run), on a tiny course -------------------------------------
# One assignment "a1": an answer, its test (2 points, with a hidden test) and a written answer (3
# points), in a real nbgrader gradebook (SQLite in tmp_path) and autograded notebooks written
# directly (no kernel). ann is fully graded; bob's test failed and his written answer still waits
# for hand grading. The pages are made by nbgrader's real GenerateFeedback, in this process.

RUN_HIDDEN = "assert q1 == 42, 'not the right count'"
RUN_TEST = f"assert q1 > 0, 'q1 must be positive'\n### BEGIN HIDDEN TESTS\n{RUN_HIDDEN}\n### END HIDDEN TESTS"


def _run_cell(kind, source, gid, **meta):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False, "locked": False,
                                 "grade_id": gid, **meta}
    return cell


def _run_notebook(answer="q1 = 42", error=None, printed=None):
    """The autograded notebook (hidden tests put back, as nbgrader does); `error`: the test's failure."""
    answer_cell = _run_cell("code", answer, "answer_q1", solution=True)
    if printed:
        answer_cell.outputs = [_stream(printed)]
    test = _run_cell("code", RUN_TEST, "test_q1", grade=True, locked=True, points=2)
    if error:
        test.outputs = [_error(evalue=error, traceback=["Traceback (most recent call last)", RUN_HIDDEN,
                                                        f"AssertionError: {error}"])]
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Assignment a1"), answer_cell, test,
        _run_cell("markdown", "My answer, in my own words.", "written_q2", grade=True, solution=True, points=3)])


def _tiny_course(root, extra_config="", printed=None):
    """The course folder: config, source, gradebook (ann graded; bob's written answer waiting), notebooks."""
    import shutil
    from pathlib import Path

    import nbgrader.api
    from nbgrader import utils
    from nbgrader.api import Gradebook

    project = Path(__file__).resolve().parents[2]
    (root / "exercises" / "a1").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text((project / "nbgrader_config.py").read_text() + extra_config)
    source = _run_notebook()
    nbformat.write(source, root / "exercises" / "a1" / "a1.ipynb")
    real = nbgrader.api.get_alembic_version  # runs the `alembic` program (3 s) for a new database
    nbgrader.api.get_alembic_version = lambda: "course-tests"
    try:
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "peace-talks") as gb:
            gb.add_assignment("a1")
            gb.add_notebook("a1", "a1")
            for cell in source.cells[1:]:
                meta = cell.metadata["nbgrader"]
                if meta["grade"]:
                    gb.add_grade_cell(meta["grade_id"], "a1", "a1", max_score=meta["points"], cell_type=cell.cell_type)
                if meta["solution"]:
                    gb.add_solution_cell(meta["grade_id"], "a1", "a1")
                gb.add_source_cell(meta["grade_id"], "a1", "a1", cell_type=cell.cell_type, locked=meta["locked"],
                                   source=cell.source, checksum=utils.compute_checksum(cell))
            for student, (auto, manual) in {"ann": (2, 2.5), "bob": (0, None)}.items():
                gb.add_student(student)
                gb.add_submission("a1", student)
                grade = gb.find_grade("test_q1", "a1", "a1", student)
                grade.auto_score, grade.needs_manual_grade = auto, False
                if manual is not None:
                    grade = gb.find_grade("written_q2", "a1", "a1", student)
                    grade.manual_score, grade.needs_manual_grade = manual, False
                gb.db.commit()
    finally:
        nbgrader.api.get_alembic_version = real
    for student, nb in {"ann": _run_notebook(printed=printed),
                        "bob": _run_notebook("q1 = 41", error="not the right count")}.items():
        (root / "autograded" / student / "a1").mkdir(parents=True)
        nbformat.write(nb, root / "autograded" / student / "a1" / "a1.ipynb")
    shutil.rmtree(root / "exercises" / "a1" / ".ipynb_checkpoints", ignore_errors=True)
    return root


def _page_text(root, student):
    import html
    import re

    page = root / "feedback" / student / "a1" / "a1.html"
    if not page.exists():
        return None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))).split())


WHERE = "feedback/<student>/a1/"
WAITING = "bob (written_q2, 3 pt)"


def test_feedback_writes_pages_without_hidden_tests_and_none_while_an_answer_waits(tmp_path, capsys):
    """By default a student whose written answer waits gets no page (an earlier one is removed);
    the others' pages show the visible test and no hidden one."""
    root = _tiny_course(tmp_path)
    (root / "feedback" / "bob" / "a1").mkdir(parents=True)
    (root / "feedback" / "bob" / "a1" / "a1.html").write_text("<p>Score: 2.0 / 5.0</p>")
    assert feedback.run(root, "a1", None, force=False) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"a1: 1 feedback page(s) in {WHERE}, checked: no hidden test in any of them",
        f"  no page for 1 student(s) with answers still to grade by hand: {WAITING}",
        "  their earlier page was removed (bob): it showed a score that is no longer final",
        "  grade them in Formgrader and run this again; --force writes their pages now, with those answers "
        "marked \"Not graded yet\""]
    assert _page_text(root, "bob") is None
    ann = _page_text(root, "ann")
    assert "q1 must be positive" in ann and RUN_HIDDEN not in ann and "q1 == 42" not in ann
    assert "Written response (Score: 2.5 / 3.0)" in ann and feedback.NOT_GRADED_YET not in ann

    from course.grading import config as course_config

    with course_config.gradebook(course_config.load(root)) as gb:  # ann resubmitted a changed answer
        gb.find_grade("written_q2", "a1", "a1", "ann").needs_manual_grade = True
        gb.db.commit()
    assert feedback.run(root, "a1", None, force=False) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:3] == [
        f"  no page for 2 student(s) with answers still to grade by hand: ann (written_q2, 3 pt), {WAITING}",
        "  their earlier page was removed (ann): it showed a score that is no longer final"]
    for student in ("ann", "bob"):
        (root / "feedback" / student / "a1").mkdir(parents=True, exist_ok=True)
        (root / "feedback" / student / "a1" / "a1.html").write_text("<p>Score: 2.0 / 5.0</p>")
    assert feedback.run(root, "a1", None, force=False) == 0
    assert "  their earlier page was removed (ann, bob): it showed a score that is no longer final" in \
        capsys.readouterr().out.splitlines()
    assert _page_text(root, "ann") is None and _page_text(root, "bob") is None


def test_forced_feedback_marks_waiting_answers_and_a_single_student_leaves_the_others(tmp_path, capsys):
    """--force writes the waiting student's page, marked "Not graded yet" and with the failed test's
    message only; feedback for one student neither counts nor removes the others' pages; once the
    answer is graded, the next run replaces the provisional page."""
    root = _tiny_course(tmp_path)
    assert feedback.run(root, "a1", None, force=True) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"a1: 2 feedback page(s) in {WHERE}, checked: no hidden test in any of them",
        "  --force: 1 page(s) are provisional, with answers marked \"Not graded yet\" and a score counting only "
        f"what is graded: {WAITING}"]
    bob = _page_text(root, "bob")
    assert "Not graded yet: this feedback is not final" in bob and "(Score: 0.0 / 2.0)" in bob
    assert "AssertionError: not the right count" in bob and RUN_HIDDEN not in bob
    assert "q1 must be positive" in bob
    assert feedback.NOT_GRADED_YET not in _page_text(root, "ann")

    assert feedback.run(root, "a1", ["ann"], force=False) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"a1: 1 feedback page(s) in {WHERE}, checked: no hidden test in any of them"]
    assert feedback.NOT_GRADED_YET in _page_text(root, "bob")  # not asked for: left as it was
    assert feedback.run(root, "a1", ["bob"], force=True) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"a1: 1 feedback page(s) in {WHERE}, checked: no hidden test in any of them")

    from course.grading import config as course_config

    with course_config.gradebook(course_config.load(root)) as gb:  # graded by hand, as Formgrader saves it
        grade = gb.find_grade("written_q2", "a1", "a1", "bob")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        gb.db.commit()
    assert feedback.run(root, "a1", None, force=True) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"a1: 2 feedback page(s) in {WHERE}, checked: no hidden test in any of them"]
    assert err == ""  # nbgrader's routine warnings (pages replaced) are not shown
    bob = _page_text(root, "bob")
    assert feedback.NOT_GRADED_YET not in bob and "Written response (Score: 1.5 / 3.0)" in bob


def test_a_page_that_shows_hidden_tests_is_deleted_and_the_command_fails(tmp_path, capsys):
    """Whatever nbgrader_config.py lists, "Not graded yet" is applied; and a page that shows hidden
    tests (here: a config without HideHiddenTests) is deleted, named, and the command fails."""
    listed = "\nc.GenerateFeedback.preprocessors = [GetGrades, {}CSSHTMLHeaderPreprocessor]\n"
    root = _tiny_course(tmp_path, listed.format("HideHiddenTests, "))
    assert feedback.run(root, "a1", None, force=True) == 0
    assert "Not graded yet: this feedback is not final" in _page_text(root, "bob")
    capsys.readouterr()
    (root / "nbgrader_config.py").write_text((root / "nbgrader_config.py").read_text() + listed.format(""))
    assert feedback.run(root, "a1", ["ann"], force=False) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f"a1: 0 feedback page(s) in {WHERE}; 1 other page(s) showed hidden tests and were "
                                "deleted (see above): fix and rerun"]
    assert err.splitlines()[-1] == (f"course grade: feedback/ann/a1/a1.html showed hidden tests ({RUN_HIDDEN!r}); "
                                    "deleted")
    assert _page_text(root, "ann") is None and _page_text(root, "bob") is not None
    assert feedback.run(root, "a1", None, force=True) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == (f"a1: 0 feedback page(s) in {WHERE}; 2 other page(s) showed hidden tests and "
                                   "were deleted (see above): fix and rerun")
    assert "feedback/bob/a1/a1.html showed hidden tests" in err and _page_text(root, "bob") is None


def test_without_a_configured_list_the_course_preprocessors_make_the_page(tmp_path, capsys):
    """With no GenerateFeedback.preprocessors in the config, hidden tests are still removed, outputs
    capped and waiting answers marked."""
    extra = "\ndel c.GenerateFeedback['preprocessors']\nc.CapOutputs.max_output_cell_kb = 1\n"
    root = _tiny_course(tmp_path, extra, printed="x" * 3000)
    # a file of the student's own, copied into the feedback folder by nbgrader, not in UTF-8
    (root / "autograded" / "ann" / "a1" / "my_notes.html").write_bytes(b"<p>caf\xe9 in Goris</p>")
    assert feedback.run(root, "a1", None, force=True) == 0
    assert (root / "feedback" / "ann" / "a1" / "my_notes.html").exists()
    ann, bob = _page_text(root, "ann"), _page_text(root, "bob")
    assert "the limit is 1 KB per cell" in ann and "x" * 1024 in ann and "x" * 1025 not in ann
    assert RUN_HIDDEN not in bob and "Not graded yet: this feedback is not final" in bob
    assert "no hidden test in any of them" in capsys.readouterr().out


def test_a_student_with_nothing_to_give_feedback_on_fails_with_the_reason(tmp_path, capsys):
    """A student with no autograded notebook stops the command with nbgrader's reason."""
    root = _tiny_course(tmp_path)
    assert feedback.run(root, "a1", ["nobody", "ann"], force=False) == 1
    out, err = capsys.readouterr()
    assert "course grade: feedback for nobody: No notebooks were matched" in err
    assert out == "" and _page_text(root, "ann") is None
