"""The sources of the course data: every row cites checkable pages, best first, each with a type.

The course teaches source criticism, so its own data must pass the same test: no aggregator, no
anonymous copy, no propaganda network, no reference to a file the student cannot open.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pandas as pd
import pytest

from course import data

SOURCED = ["timeline", "villages_2024", "border_facts", "fact_notes"]
TYPES = ["primary", "established", "state-media-AM", "state-media-AZ", "state-media-RU", "state-media-TR",
         "reference", "weak"]
# Hosts dropped in the re-check of 2026-12-01: a propaganda-network aggregator, an anonymous hosted
# copy of an article, content farms that copy other outlets, and blog posts.
BLOCKED_HOSTS = ["news-pravda.com", "hostingersite.com", "pledgetimes.com", "infosurhoy.com", "asian-news.net",
                 "blogspot.com"]


def _split(cell) -> list[str]:
    return [] if pd.isna(cell) else [part.strip() for part in str(cell).split(" ; ")]


def _rows():
    for name in SOURCED:
        frame = data.load(name)
        for index, row in frame.iterrows():
            yield name, index, row


def blocked(url: str) -> bool:
    """True when the URL's host is, or is under, one of the dropped hosts."""
    host = (urlparse(url).hostname or "").lower()
    return any(host == bad or host.endswith("." + bad) for bad in BLOCKED_HOSTS)


@pytest.mark.parametrize("url", ["https://usa.news-pravda.com/usa/2025/08/11/416208.html",
                                 "https://darkblue-guanaco-904513.hostingersite.com/some-article",
                                 "http://thisweekinarmenianhistory.blogspot.com/2016/12/x.html",
                                 "https://infosurhoy.com/news/x/"])
def test_the_blocklist_catches_the_dropped_kinds(url):
    assert blocked(url)


def test_the_blocklist_leaves_good_hosts_alone():
    assert not blocked("https://www.azatutyun.am/a/32601813.html")
    assert not blocked("https://pax.peaceagreements.org/agreements/310")


@pytest.mark.parametrize("name", SOURCED)
def test_every_row_has_sources_and_none_is_on_the_blocklist(name):
    for index, row in data.load(name).iterrows():
        sources = _split(row["sources"])
        assert sources, f"{name} row {index} has no source"
        for src in sources:
            if src.startswith("http"):
                assert not blocked(src), f"{name} row {index} cites a dropped source: {src}"


@pytest.mark.parametrize("name", SOURCED)
def test_source_types_match_the_sources_one_for_one(name):
    frame = data.load(name)
    assert isinstance(frame["best_source_type"].dtype, pd.CategoricalDtype)
    assert list(frame["best_source_type"].cat.categories) == TYPES
    for index, row in frame.iterrows():
        types = _split(row["source_types"])
        assert len(types) == len(_split(row["sources"])), f"{name} row {index}: one type per source"
        assert set(types) <= set(TYPES), f"{name} row {index}: unknown type in {types}"
        assert row["best_source_type"] == types[0], f"{name} row {index}: best type is not the first"


def test_the_data_package_describes_the_type_enum():
    for name in SOURCED:
        spec = {f["name"]: f for f in data.fields(name)}
        assert spec["best_source_type"]["constraints"]["enum"] == TYPES
        assert "state media" in spec["source_types"]["description"].lower()


def test_no_source_cites_a_file_students_cannot_open():
    for name, index, row in _rows():
        for col in ("sources", "note", "caveat", "statement"):
            if col in row and pd.notna(row[col]):
                assert not re.search(r"FACTS\.md|fact file", str(row[col]), re.I), f"{name} row {index}, {col}"


def test_rows_resting_only_on_weak_sources_say_so():
    for name, index, row in _rows():
        if set(_split(row["source_types"])) == {"weak"}:
            words = " ".join(str(row[c]) for c in ("note", "caveat") if c in row and pd.notna(row[c]))
            assert "weak" in words.lower(), f"{name} row {index} rests only on weak sources but does not say so"


def test_the_second_review_corrections_are_in_the_data():
    t = data.load("timeline")
    notes = data.load("fact_notes").set_index("id")
    assert "are confirmed" in notes.loc["yerevan-protests-sep-2023", "statement"]
    assert "RFE/RL" in notes.loc["yerevan-protests-sep-2023", "statement"]
    by_date = t.set_index("date_text")
    assert "1988 earthquake aid" in by_date.loc["2023-02-11", "event"]
    assert "night of 19–20 Apr" in by_date.loc["2024-04-20", "event"]
    assert "2 Sep" in by_date.loc["2024-09-03", "event"]
    assert "13 Jan" in by_date.loc["2026-01-14", "event"] and "49%" in by_date.loc["2026-01-14", "event"]
    assert "23 Sep 1991" in by_date.loc["1991-09-21", "event"]
    assert "witnessed" not in by_date.loc["2025-08-08", "event"]
    assert "9, 10 and 11 May" in by_date.loc["1994-05-12", "event"]
    assert "12.7" in by_date.loc["2024-05-15", "note"] and "Deputy Prime Minister" in by_date.loc["2024-05-15", "note"]
    assert by_date.loc["2009-10-10", "date_precision"] == "day"
    facts = data.load("border_facts").set_index("fact")
    assert "1993" in facts.loc["Armenia–Azerbaijan border, main part (Azerbaijan proper)", "as_stated_by"]
    variants = " ".join(data.load("villages_2024")["spelling_variants"])
    for form in ("Baghanis Ayrum", "Asagi Askipara", "Khairemli", "Qizilhachili"):
        assert form in variants
