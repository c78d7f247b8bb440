"""The readings list (course/data/readings.csv): every row is complete and well formed, every lesson
has at least two readings with at least one primary document, and each lesson's "Further reading"
cell links every reading of that lesson."""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "course" / "data" / "readings.csv"
PACKAGE = ROOT / "course" / "data" / "datapackage.json"
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
FIELDS = ["reading_id", "title", "author_or_body", "date", "url", "kind", "standpoint", "source_type",
          "lessons", "what_to_read_it_for"]
KINDS = {"primary document", "analysis", "news"}
SOURCE_TYPES = {"primary", "established", "reference", "state-media-AM", "state-media-AZ"}
LAST_DATE = dt.date(2026, 2, 28)  # the course states nothing after February 2026

# Lessons whose Further reading cell does not list the readings yet (an entry here marks them
# xfail; a stale entry fails as XPASS). Every lesson links its readings today.
NOT_YET_LINKED: dict[str, str] = {}


def rows() -> list[dict]:
    with CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def lessons_of(row: dict) -> list[str]:
    return row["lessons"].split(";")


def test_header_is_the_documented_one():
    with CSV.open(encoding="utf-8", newline="") as f:
        assert next(csv.reader(f)) == FIELDS
    resource = {r["name"]: r for r in json.loads(PACKAGE.read_text(encoding="utf-8"))["resources"]}["readings"]
    assert [f["name"] for f in resource["schema"]["fields"]] == FIELDS
    assert resource["licenses"][0]["name"] == "CC-BY-4.0"


@pytest.mark.parametrize("row", rows(), ids=lambda r: r["reading_id"])
def test_every_row_is_complete_and_well_formed(row):
    where = f"readings.csv, row {row['reading_id']!r}"
    for field in FIELDS:
        assert row[field].strip(), f"{where}: field {field!r} is empty"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", row["reading_id"]), \
        f"{where}: id must be lower-case words with hyphens"
    date = dt.date.fromisoformat(row["date"])
    assert dt.date(1900, 1, 1) < date <= LAST_DATE, f"{where}: date {date} outside the course's period"
    assert re.fullmatch(r"https?://\S+", row["url"]), f"{where}: url must be a web address without spaces"
    assert row["kind"] in KINDS, f"{where}: kind must be one of {sorted(KINDS)}"
    assert row["source_type"] in SOURCE_TYPES, f"{where}: source_type must be one of {sorted(SOURCE_TYPES)}"
    if row["source_type"].startswith("state-media"):
        # a state medium only for its own government's words, labelled as such
        assert "government" in row["standpoint"] and "state" in row["standpoint"], \
            f"{where}: a state medium is labelled as such and used for its government's words"
    for lesson in lessons_of(row):
        assert lesson in LESSONS, f"{where}: lesson {lesson!r} is not a notebook in notebooks/"


def test_ids_and_urls_are_unique():
    ids = [r["reading_id"] for r in rows()]
    urls = [r["url"] for r in rows()]
    assert len(ids) == len(set(ids)), "a reading_id repeats"
    assert len(urls) == len(set(urls)), "a url repeats: list a reading once and give it several lessons"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_two_to_four_readings_one_primary(lesson):
    mine = [r for r in rows() if lesson in lessons_of(r)]
    assert 2 <= len(mine) <= 4, f"{lesson}: {len(mine)} readings in readings.csv; give 2 to 4"
    assert any(r["kind"] == "primary document" for r in mine), f"{lesson}: no primary document among its readings"


def further_reading(lesson: str) -> str:
    nb = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "markdown" and "## Further reading" in c.source]
    assert cells, f"{lesson}: no markdown cell with a '## Further reading' heading"
    return cells[-1].split("## Further reading", 1)[1]


@pytest.mark.parametrize("lesson", [
    pytest.param(lesson, marks=[pytest.mark.xfail(strict=True, reason=NOT_YET_LINKED[lesson])]
                 if lesson in NOT_YET_LINKED else [])
    for lesson in LESSONS])
def test_further_reading_links_every_reading_of_the_lesson(lesson):
    text = further_reading(lesson)
    linked = set(re.findall(r"\]\((\S+?)\)", text))
    missing = [r["reading_id"] for r in rows() if lesson in lessons_of(r) and r["url"] not in linked]
    assert not missing, (f"notebooks/{lesson}.ipynb, Further reading: link the readings {missing} "
                         "(as [title](url); course/data/readings.csv has their urls)")
