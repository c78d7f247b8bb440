"""Notebook hygiene and the lesson skeleton: stored without outputs, with ids and the python3
kernel, no absolute paths; every lesson has objectives, time, quiz, exercises, key points; every
claim id cited anywhere in the course exists in seeds/claims.yaml."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course import seeds

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
GRADED = sorted((ROOT / "exercises").glob("*/*.ipynb"))
ALL_NOTEBOOKS = LESSONS + GRADED
CLAIM_REF = re.compile(r"\b(?:overview|history|constitution|border|corridor|framework|turkey|aliyev)"
                       r"\.[a-z0-9]+(?:-[a-z0-9]+)*\b")
FILE_SUFFIXES = {"py", "csv", "yaml", "md", "ipynb", "json", "png"}
ABSOLUTE = re.compile(r"(?<![\w.])(/work/|/root/|/home/|/tmp/|[A-Z]:\\\\Users)")


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=ids(ALL_NOTEBOOKS))
def test_notebook_is_stored_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:
        assert cell.get("id"), "every cell needs an id"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.id} holds outputs: strip them (nbstripout)"
            assert cell.execution_count is None, f"cell {cell.id} holds an execution count"
        assert not ABSOLUTE.search(cell.source), f"cell {cell.id} has an absolute path"


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_lesson_follows_the_skeleton(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert re.search(r"\d+\s*(–|-|to)?\s*\d*\s*minutes", first.source), "state the time in the first cell"
    assert "You will be able to" in first.source
    text = "\n".join(c.source for c in nb.cells)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Key points" in markdown and "Further reading" in markdown
    assert "quiz(" in text
    if not path.name.startswith("06_") or "exercises(" in text:
        assert "exercises(" in text and ".check()" in text
    setup = [c for c in nb.cells if c.cell_type == "code" and "from course import" in c.source]
    assert setup, "one setup cell imports from course"


def course_texts():
    for path in ALL_NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        yield path, "\n".join(c.source for c in nb.cells)
    for path in sorted((ROOT / "course").rglob("*.yaml")) + sorted((ROOT / "course").rglob("*.csv")):
        yield path, path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "exercises").glob("*.md")):
        yield path, path.read_text(encoding="utf-8")


def test_every_cited_claim_exists():
    known = set(seeds.claims())
    unknown = {}
    for path, text in course_texts():
        for ref in set(CLAIM_REF.findall(text)):
            if ref not in known and ref.split(".")[1] not in FILE_SUFFIXES:
                unknown.setdefault(str(path.relative_to(ROOT)), set()).add(ref)
    assert not unknown, f"claim ids cited but not in seeds/claims.yaml: {unknown}"


def lesson_stem(path: Path) -> str:
    return path.stem


def markdown_of(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_every_question_is_shown_once_and_every_exercise_checked(path):
    from course.checks.engine import TASKS_DIR, load_exercises
    from course.quizzes import load_bank

    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    lesson = lesson_stem(path)
    bank_ids = [q.id for q in load_bank(lesson)]
    shown = []
    for call in re.findall(r'quiz\("' + lesson + r'"(?:,\s*ids=\[([^\]]*)\])?\)', code):
        shown += re.findall(r'"([a-z0-9-]+)"', call) if call else bank_ids
    assert sorted(shown) == sorted(bank_ids), "each question of the bank appears exactly once"
    if (TASKS_DIR / f"{lesson}.yaml").exists():
        for ex in load_exercises(lesson):
            assert re.search(rf"^(?:{ex.variable} = \.\.\.|def {ex.variable}\()", code, re.M), \
                f"no answer cell for {ex.variable}"
            assert f"ex.{ex.key}.check()" in code, f"no check cell for {ex.key}"


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_cited_data_sets_exist_and_timeline_dates_are_verified_rows(path):
    """'(data: `timeline`, 27 Sep 2020)' must name a verified row; every cited data set exists."""
    import pandas as pd

    from course import data

    text = markdown_of(path)
    for name in re.findall(r"data: `([a-z0-9_]+)`", text):
        assert name in data.names(), f"cites an unknown data set {name!r}"
    timeline = data.load("timeline")
    # "verified (scheduled only)": the 7 June 2026 election is verified as scheduled, nothing more
    verified = set(timeline.loc[timeline["status"].astype(str).str.startswith("verified"), "date_text"])
    for citation in re.findall(r"data: `timeline`,([^)]*)\)", text):
        for day in re.findall(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b", citation):
            iso = pd.Timestamp(day).strftime("%Y-%m-%d")
            assert iso in verified, f"{day} is not the date of a verified timeline row"


def sources_line_data(text: str) -> list[tuple[str, str]]:
    """(data set, what is in its brackets) for each data set a `*Sources for this section:*` line
    cites after `data:`, e.g. "data: timeline (6 Oct 2022, 30 Aug 2024), gazetteer; the lesson's
    documents table" (a `;` ends the list of data sets)."""
    found = []
    for line in re.findall(r"^\*Sources for this section:\*(.*(?:\n(?!\n).*)*)", text, re.M):
        if "data:" not in line:
            continue
        tail, depth, part, parts = line.split("data:", 1)[1], 0, "", []
        for char in tail:
            depth += (char == "(") - (char == ")")
            if char == ";" and depth == 0:  # the data list ends; other sources may follow
                break
            if char == "," and depth == 0:
                parts.append(part)
                part = ""
            else:
                part += char
        parts.append(part)
        for chunk in parts:
            named = re.match(r"\s*(?:and\s+)?([a-z][a-z0-9_]*)\s*(?:\((.*)\))?", chunk, re.S)
            if named:
                found.append((named.group(1), named.group(2) or ""))
    return found


@pytest.mark.parametrize("path", LESSONS, ids=ids(LESSONS))
def test_sources_lines_cite_data_sets_that_exist_and_verified_timeline_dates(path):
    """'*Sources for this section:* … data: timeline (6 Oct 2022)' names a data set and verified rows."""
    import pandas as pd

    from course import data

    timeline = data.load("timeline")
    verified = set(timeline.loc[timeline["status"].astype(str).str.startswith("verified"), "date_text"])
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    for name, inside in [found for cell in cells for found in sources_line_data(cell)]:
        assert name in data.names(), f"{path.name}: a Sources line cites an unknown data set {name!r}"
        if name == "timeline":
            for day in re.findall(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b", inside):
                assert pd.Timestamp(day).strftime("%Y-%m-%d") in verified, \
                    f"{path.name}: {day} is not the date of a verified timeline row"


@pytest.mark.parametrize("path", [p for p in LESSONS if (ROOT / "course/tasks" / f"{p.stem}.yaml").exists()],
                         ids=lambda p: p.stem)
def test_with_the_reference_solutions_every_check_says_correct(path, tmp_path):
    """Type each exercise's solution into its answer cell, run the notebook, read every check."""
    from nbclient import NotebookClient

    from course.checks.engine import load_exercises

    exercises = {ex.variable: ex for ex in load_exercises(path.stem)}
    nb = nbformat.read(path, as_version=4)
    filled = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for variable, ex in exercises.items():
            if re.search(rf"^(?:{variable} = \.\.\.|def {variable}\()", cell.source, re.M):
                cell.source = ex.setup + "\n" + ex.spec["solution"]
                filled.add(variable)
    assert filled == set(exercises)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    statuses = []
    for cell in nb.cells:
        if cell.cell_type == "code" and re.fullmatch(r"ex\.q\d+\.check\(\)", cell.source.strip()):
            text = " ".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)
            statuses.append(re.search(r"status='([a-z ]+)'|: (Correct|Incorrect|Not attempted)\.", text))
    assert statuses and all(s and (s.group(1) == "correct" or s.group(2) == "Correct") for s in statuses), \
        [s.group(0) if s else None for s in statuses]
