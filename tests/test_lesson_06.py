"""Lesson 06 (capstone): the notebook says what the course's files say.

The prose of the notebook repeats a few things that live in other files (the model's defaults,
the endnote counts, the quiz and exercise ids, the dates of the timeline captions). These tests
fail when one side changes without the other, so a maintainer updates both.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course import load
from course.lessons import negotiation as neg
from course.seeds import claims, endnotes

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "06_capstone.ipynb"
LESSON = "06_capstone"


@pytest.fixture(scope="module")
def nb():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


def sources(nb, kind=None) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if kind is None or c["cell_type"] == kind]


def test_no_absolute_paths_and_no_network(nb):
    text = "\n".join(sources(nb))
    assert not re.search(r"(/work/|/tmp/|/home/|[A-Z]:\\\\)", text)
    assert "http://" not in "\n".join(sources(nb, "code")) and "https://" not in "\n".join(sources(nb, "code"))


def test_says_plainly_that_the_model_is_not_a_forecast(nb):
    text = "\n".join(sources(nb, "markdown"))
    assert "not a forecast" in text.lower()
    assert "teaching model" in text.lower()


def test_the_defaults_table_in_the_prose_matches_the_defaults_file(nb):
    model = neg.load_defaults()
    text = "\n".join(sources(nb, "markdown"))
    words = {"settle": "settle now", "defer": "defer", "omit": "leave out"}
    keys = {"constitution": "constitution", "border": "border", "route": "route"}
    rows = 0
    for side in model.sides:
        for d in neg.DEADLOCKS:
            stance = side.stances[d]
            ranking = " → ".join(words[t] for t in stance.prefers)
            refused = ", ".join(words[t] for t in neg.TREATMENTS if stance.crosses(t)) or "nothing"
            pattern = (rf"^\| {re.escape(side.label)} \| {keys[d]} \| {re.escape(ranking)} \| {stance.weight} \| "
                       rf"{re.escape(refused)} \| (.*) \|$")
            match = re.search(pattern, text, flags=re.M)
            assert match, f"no row for {side.label} / {d} matching the defaults file"
            for claim_id in stance.basis:
                assert f"`{claim_id}`" in match.group(1), (side.key, d, claim_id)
            rows += 1
    assert rows == 6


def test_counts_stated_in_the_prose_match_the_data(nb):
    text = " ".join(" ".join(sources(nb, "markdown")).split())
    notes = endnotes()
    assert (notes["city"] == "Baku").sum() == 6 and (notes["city"] == "Yerevan").sum() == 4
    assert "Six notes cite people in Baku" in text and "four cite people in Yerevan" in text
    assert set(notes["month"]) == {"2024-06"} and "all ten interviews are dated June 2024" in text
    f_m = notes[notes["interviewee"].str.startswith("F.M.")]["note"].tolist()
    assert f_m == [5, 7] and "Notes 5 and 7 both carry the initials F.M." in text
    all_claims = claims().values()
    with_note = sum(c.note is not None for c in all_claims)
    stated = f"Of the {len(all_claims)} claims in the course's digest of the article, {with_note} carry an endnote"
    assert stated in text


def test_captions_name_verified_rows_up_to_february_2026(nb):
    timeline = load("timeline")
    verified = set(timeline.loc[timeline["status"] == "verified", "date_text"])
    code = "\n".join(sources(nb, "code"))
    dates = re.findall(r'"(\d{4}-\d{2}-\d{2})":', code)
    assert dates
    for date in dates:
        assert date in verified, date
        assert date <= "2026-02-28", date


def test_nothing_after_february_2026_is_stated(nb):
    text = " ".join(" ".join(sources(nb)).split()).lower()
    # The 7 June 2026 elections appear only as scheduled, never with a result or a referendum date.
    for sentence in re.split(r"(?<=[.!?])\s", text):
        if "7 june 2026" in sentence:
            assert re.search(r"\b(set|sets|setting)\b", sentence), sentence
    assert not re.search(r"(won|result of) the (2026 |june )?election", text)
    assert "no referendum date" in text


def test_memo_task_has_a_rubric(nb):
    text = "\n".join(sources(nb, "markdown"))
    assert "300 words" in text
    rubric = [line for line in text.splitlines() if re.match(r"^\| [1-5]\. ", line)]
    assert len(rubric) == 5
