"""Lessons 06a (the framework model) and 06b (the sources and the memo): the notebooks say what
the course's files say.

The prose repeats a few things that live in other files (the model's defaults, the endnote
counts, the claim counts, the dates of the timeline captions). These tests fail when one side
changes without the other, so a maintainer updates both. They also pin the fact-check's
corrections for lesson 06 (issue 16, defects 2, 3, 7, 13 and 14).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from course import load
from course.lessons import negotiation as neg
from course.lessons.article import claims_table
from course.quizzes.bank import load_bank
from course.seeds import claims, endnotes

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = ("06a_framework", "06b_memo")


def read(lesson: str) -> dict:
    return json.loads((NOTEBOOKS / f"{lesson}.ipynb").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def nb_a():
    return read("06a_framework")


@pytest.fixture(scope="module")
def nb_b():
    return read("06b_memo")


def sources(nb, kind=None) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if kind is None or c["cell_type"] == kind]


def flat(nb, kind="markdown") -> str:
    return " ".join(" ".join(sources(nb, kind)).split())


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_absolute_paths_and_no_network(lesson):
    nb = read(lesson)
    text = "\n".join(sources(nb))
    assert not re.search(r"(/work/|/tmp/|/home/|[A-Z]:\\\\)", text)
    code = "\n".join(sources(nb, "code"))
    assert "http://" not in code and "https://" not in code


@pytest.mark.parametrize("lesson", LESSONS)
def test_exercises_are_numbered_in_order(lesson):
    text = "\n".join(sources(read(lesson), "markdown"))
    numbers = [int(n) for n in re.findall(r"^### Exercise (\d+)", text, flags=re.M)]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    code = "\n".join(sources(read(lesson), "code"))
    checks = [int(n) for n in re.findall(r"ex\.q(\d+)\.check\(\)", code)]
    assert checks == numbers


# -- 06a: the model -------------------------------------------------------------------------------

def test_says_plainly_that_the_model_is_not_a_forecast(nb_a):
    text = flat(nb_a).lower()
    assert "not a forecast" in text and "teaching model" in text


def test_the_defaults_table_in_the_prose_matches_the_defaults_file(nb_a):
    model = neg.load_defaults()
    text = "\n".join(sources(nb_a, "markdown"))
    words = {"settle": "settle now", "defer": "defer", "omit": "leave out"}
    rows = 0
    for side in model.sides:
        for d in neg.DEADLOCKS:
            stance = side.stances[d]
            ranking = " → ".join(words[t] for t in stance.prefers)
            refused = ", ".join(words[t] for t in neg.TREATMENTS if stance.crosses(t)) or "nothing"
            row = f"| {side.label} | {d} | {ranking} | {stance.weight} | {refused} |"
            assert row in text, f"no row {row!r}: update the table in section 3"
            rows += 1
    assert rows == 6


def test_there_are_six_weights_not_twelve(nb_a):
    text = flat(nb_a)
    assert "twelve" not in text.lower()
    assert "all six weights" in text and "all six red lines" in text
    model = neg.load_defaults()
    assert sum(len(s.stances) for s in model.sides) == 6


def test_the_score_rule_always_applies_as_the_lesson_says(nb_a):
    """Defect 3: weights matter even with every red line unchanged (experiment 3)."""
    text = flat(nb_a)
    assert "only once a red line" not in text
    assert "Both conditions always apply" in text
    model = neg.load_defaults()
    changed = neg.changed(model, "azerbaijan", "border", weight=0)
    assert [s.stances[d].red_line for s in changed.sides for d in neg.DEADLOCKS] == [1] * 6
    assert neg.zone(model) == [neg.Package("defer", "defer", "defer")] and neg.zone(changed) == []
    question = load_bank("06a_framework")["framework-score-always-applies"]
    assert question.answer == "score"


def test_numbers_stated_in_06a_match_the_model(nb_a):
    model = neg.load_defaults()
    text = flat(nb_a)
    assert len(neg.acceptable(model, "armenia")) == len(neg.acceptable(model, "azerbaijan")) == 7
    assert "seven of the 27 packages" in text and "share one" in text
    assert len(neg.packages()) == 27


# -- 06b: the sources and the memo ----------------------------------------------------------------

def test_interview_counts_stated_in_06b_match_the_endnotes(nb_b):
    text = flat(nb_b)
    notes = endnotes()
    assert (notes["city"] == "Baku").sum() == 6 and (notes["city"] == "Yerevan").sum() == 4
    assert "**Six in Baku, four in Yerevan**, all in June 2024" in text
    assert set(notes["month"]) == {"2024-06"}
    f_m = notes[notes["interviewee"].str.startswith("F.M.")]["note"].tolist()
    assert f_m == [5, 7] and "Notes 5 and 7 both carry the initials F.M." in text


def test_06b_does_not_turn_cities_into_nationalities(nb_b):
    """Defects 13 and 14: note 5 gives no nationality; note 1's title is the article's own."""
    text = flat(nb_b)
    assert "Six notes cite Azerbaijani" not in text
    assert "Note 5 gives no nationality" in text
    assert "The article itself calls note 1 a senior Azerbaijani official" in text
    question = load_bank("06b_memo")["memo-where-interviews"]
    assert question.answer == "baku-six"


def test_claim_counts_stated_in_06b_match_the_digest(nb_b):
    all_claims = claims().values()
    with_note = sum(c.note is not None for c in all_claims)
    assert f"Of the {len(all_claims)} claims, {with_note} rest on an endnote" in flat(nb_b)


def test_route_claims_from_baku_are_notes_5_and_6():
    table = claims_table()
    found = table[(table["section"] == "corridor") & (table["city"] == "Baku")]
    assert found["note"].tolist() == [5, 6]
    assert len(table) == len(claims())


def test_anonymity_does_not_stop_checking_a_document():
    """Defect 7: the course traces the "1976" claim itself (lesson 03)."""
    question = load_bank("06b_memo")["memo-anonymity"]
    assert "trace-document" not in question.answer and "ask-source" in question.answer


def test_the_tiers_exercise_reads_the_best_source_column():
    timeline = load("timeline")
    assert "best_source_type" in timeline.columns, "the timeline lacks best_source_type"
    kinds = set(timeline["best_source_type"].dropna().astype(str))
    assert kinds <= {"primary", "established", "state-media-AM", "state-media-AZ", "state-media-RU",
                     "state-media-TR", "reference", "weak"}
    # the lesson says no event rests on a state medium or a weak source alone
    assert not {k for k in kinds if k.startswith("state-media") or k == "weak"}


def test_captions_name_verified_rows_up_to_february_2026(nb_b):
    timeline = load("timeline")
    verified = set(timeline.loc[timeline["status"] == "verified", "date_text"])
    code = "\n".join(sources(nb_b, "code"))
    dates = re.findall(r'"(\d{4}-\d{2}-\d{2})":', code)
    assert dates
    for date in dates:
        assert date in verified, date
        assert date <= "2026-02-28", date


def test_nothing_after_february_2026_is_stated(nb_b):
    text = flat(nb_b, kind=None).lower()
    assert "7 june 2026" not in text and "june 2026" not in text
    assert not re.search(r"(won|result of) the (2026 |june )?election", text)
    assert "no referendum date" in text
    assert "initialled" in text and "not signed or ratified" in text


def test_the_memo_is_graded_assignment_06(nb_b):
    text = flat(nb_b)
    assert "300 words" in text and "graded assignment 06" in text
    last = sources(nb_b, "markdown")[-1]
    assert last.startswith("## What's next") and "graded assignment 06" in last
    assert any(s.startswith("*Your memo draft") for s in sources(nb_b, "markdown"))
