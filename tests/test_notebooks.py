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
