"""The graded assignments (exercises/): the written answer carries at least half of the points,
every rubric uses the one shared scale and adds up to the notebook's points for handgrading, the
capstone memo is there with the rubric's 20 points, nbgrader's metadata is sound, the instructor
guide's table gives the points, and every autograded task declares known mistakes that the class
report can recognise (each one a plausible wrong value, different from the right one)."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course.grading import report

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
ASSIGNMENTS = sorted(p.parent.name for p in EXERCISES.glob("*/*.ipynb"))
SCALE_HEADING = "## The scale (the same in all six rubrics)"
CRITERIA_HEADER = "| # | criterion | 4 points | 2 points | 0 points |"
POINTS_PER_CRITERION = 4


def notebook(name: str):
    return nbformat.read(EXERCISES / name / f"{name}.ipynb", as_version=4)


def nbg(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded(name: str):
    """(autograded test cells, written answer cells) of an assignment."""
    cells = [c for c in notebook(name).cells if nbg(c).get("grade")]
    return ([c for c in cells if c.cell_type == "code" and not nbg(c).get("solution")],
            [c for c in cells if c.cell_type == "markdown" and nbg(c).get("solution")])


def points(cells) -> float:
    return sum(float(nbg(c)["points"]) for c in cells)


def rubric(name: str) -> str:
    return (EXERCISES / f"{name}.rubric.md").read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start: end if end != -1 else len(text)]


def test_there_are_six_assignments_with_a_rubric_each():
    assert ASSIGNMENTS == ["01_war_to_talks", "02_constitution", "03_border", "04_corridor", "05_power",
                           "06_capstone"]
    for name in ASSIGNMENTS:
        assert (EXERCISES / f"{name}.rubric.md").is_file(), f"exercises/{name}.rubric.md is missing"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_written_answer_carries_at_least_half_the_points(name):
    tests, written = graded(name)
    auto, manual = points(tests), points(written)
    assert len(written) == 1, f"{name}: one written answer cell (markdown, grade and solution), found {len(written)}"
    assert manual >= auto, (f"{name}: the written answer has {manual:g} of {auto + manual:g} points; give it at "
                            "least half (nbgrader metadata `points` of the written answer cell)")


def test_the_capstone_memo_is_there_with_the_rubrics_points():
    _, written = graded("06_capstone")
    assert [nbg(c)["grade_id"] for c in written] == ["written-memo"]
    assert float(nbg(written[0])["points"]) == 20
    task = next(c for c in notebook("06_capstone").cells if nbg(c).get("grade_id") == "written-task")
    assert "about 300 words" in task.source.lower() and "20 points" in task.source
    text = rubric("06_capstone")
    assert "cell `written-memo`, **20 points**" in text
    for criterion in ("Recommendation", "Use of the model", "Evidence", "Critical reading", "Balance and language"):
        assert f"**{criterion}**" in text, f"rubric 06 lacks the criterion {criterion!r} that lesson 06b announces"


def test_the_capstone_memo_uses_the_model_and_the_sources():
    nb = notebook("06_capstone")
    setup = next(c for c in nb.cells if nbg(c).get("grade_id") == "setup").source
    assert "course.lessons import negotiation" in setup
    model = next(c for c in nb.cells if nbg(c).get("grade_id") == "written-memo").source
    words = len(re.findall(r"\w[\w'’.,:/–-]*", re.sub(r"`[^`]*`", " ", model)))
    assert 250 <= words <= 380, f"the model memo has {words} words; about 300 are asked"
    assert len(re.findall(r"`[a-z]+\.[a-z0-9-]+`", model)) >= 3, "the model memo cites at least three claim ids"


def test_every_rubric_has_the_shared_scale():
    scales = {name: section(rubric(name), SCALE_HEADING) for name in ASSIGNMENTS}
    first = scales[ASSIGNMENTS[0]]
    assert "**4 points**" in first and "**2 points**" in first and "**0 points**" in first
    for name, scale in scales.items():
        assert scale == first, f"exercises/{name}.rubric.md: its scale differs from rubric 01's; use the shared one"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_rubric_adds_up_to_the_notebooks_points_for_handgrading(name):
    text = rubric(name)
    assert CRITERIA_HEADER in text, f"exercises/{name}.rubric.md: the criteria table needs the header {CRITERIA_HEADER}"
    table = section(text, "## Criteria")
    rows = [line for line in table.splitlines() if re.match(r"\| \d+ \|", line)]
    assert all(line.count(" | ") == 4 for line in rows), f"{name}: each criterion has a 4-, a 2- and a 0-point column"
    _, written = graded(name)
    manual = points(written)
    assert POINTS_PER_CRITERION * len(rows) == manual, (
        f"exercises/{name}.rubric.md: {len(rows)} criteria x 4 = {4 * len(rows)} points, but the notebook gives "
        f"the written answer {manual:g}")
    gid = nbg(written[0])["grade_id"]
    assert f"cell `{gid}`, **{manual:g} points**" in text, f"{name}: the rubric's first lines name the cell, its points"


def test_no_rubric_points_to_a_tool_outside_the_repository():
    for name in ASSIGNMENTS:
        for path in re.findall(r"`([^`\s]*(?:\.py|/)[^`\s]*)`", rubric(name)):
            assert not path.startswith(".."), f"exercises/{name}.rubric.md names {path}, outside the repository"
        assert "shared/tools" not in rubric(name)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_nbgrader_metadata_is_sound(name):
    nb = notebook(name)
    nbformat.validate(nb)
    ids = [nbg(c).get("grade_id") for c in nb.cells]
    assert all(ids), f"{name}: every cell has nbgrader metadata with a grade_id"
    assert len(ids) == len(set(ids)), f"{name}: grade ids repeat"
    for cell in nb.cells:
        meta, where = nbg(cell), f"{name}, cell {nbg(cell).get('grade_id')}"
        assert meta["schema_version"] == 3, where
        if meta.get("grade"):
            assert float(meta["points"]) > 0, f"{where}: a graded cell has points"
        if meta.get("solution"):
            assert not meta["locked"], f"{where}: an answer cell is not locked"
        else:
            assert meta["locked"], f"{where}: a cell that is not an answer is locked"
        if cell.cell_type == "code":
            assert cell.execution_count is None and cell.outputs == [], f"{where}: committed without outputs"
        begins, ends = cell.source.count("### BEGIN HIDDEN TESTS"), cell.source.count("### END HIDDEN TESTS")
        assert begins == ends, f"{where}: BEGIN and END HIDDEN TESTS do not pair up"
        if meta.get("grade") and cell.cell_type == "code":
            assert begins >= 1, f"{where}: a test cell has hidden tests"
            assert cell.source.strip().splitlines()[-1].startswith("### END"), f"{where}: the last line is no number"
        if meta.get("solution") and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, where


def test_the_guide_table_gives_every_assignments_points():
    table = (EXERCISES / "README.md").read_text(encoding="utf-8").split("\n\n")[2]
    for name in ASSIGNMENTS:
        tests, written = graded(name)
        line = next(row for row in table.splitlines() if row.startswith(f"| `{name}`"))
        expected = f"{points(tests):g} + {points(written):g}"
        assert expected in line, f"exercises/README.md, the assignment table: {name} should read {expected}"


# -- known mistakes, for the class report ---------------------------------------------------------------------
def _right_values(name: str) -> dict:
    """The model answers' variables, from the setup and solution code (the instructor's code)."""
    namespace: dict = {}
    for cell in notebook(name).cells:
        meta = nbg(cell)
        if cell.cell_type != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        code = cell.source
        if meta.get("solution"):
            code = "\n".join(re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", code, re.S))
        exec(compile(code, f"<{name}:{meta['grade_id']}>", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_autograded_task_declares_known_mistakes_the_report_can_tell_apart(name):
    spec = report.load_mistakes(EXERCISES / f"{name}.mistakes.yaml")
    tests, _ = graded(name)
    assert set(spec["tasks"]) == {nbg(c)["grade_id"] for c in tests}, \
        f"exercises/{name}.mistakes.yaml: one entry per autograded test cell, by grade_id"
    right = _right_values(name)
    wrong = report.mistake_values(spec)
    for cell in tests:
        gid = nbg(cell)["grade_id"]
        task = spec["tasks"][gid]
        assert f'_dump(globals(), ["{task["variable"]}"])' in cell.source, \
            f"{name}, {gid}: the test cell keeps a copy of `{task['variable']}` for the class report"
        assert len(wrong[gid]) >= 2, f"{name}, {gid}: declare at least two known mistakes"
        for mistake, value in wrong[gid]:
            where = f"{name}, {gid}, {mistake['id']}"
            assert report.matches(value, value, task), f"{where}: its value fails to match itself"
            assert not report.matches(value, right[task["variable"]], task), \
                f"{where}: its value equals the right answer"
