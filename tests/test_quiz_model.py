"""Grading in plain Python: scores, partial credit, feedback, and clear errors for bad responses."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.quizzes import ResponseError, load_file

BANK = load_file(Path(__file__).resolve().parent / "fixtures" / "sample_bank.yaml")


def test_single_choice():
    q = BANK["chain-start"]
    assert q.grade("declaration").correct
    wrong = q.grade("alma-ata")
    assert (wrong.correct, wrong.score) == (False, 0.0)
    assert "borders" in wrong.feedback


def test_multiple_choice_partial_credit():
    q = BANK["deadlocks"]
    assert q.grade(["constitution", "border", "route"]).score == 1.0
    two = q.grade(["constitution", "border"])
    assert not two.correct and two.score == pytest.approx(2 / 3)
    assert "left out 1 option" in two.feedback
    with_wrong = q.grade(["constitution", "border", "route", "gas"])
    assert with_wrong.score == pytest.approx(2 / 3)
    assert "no gas dispute" in with_wrong.feedback
    assert q.grade(["gas"]).score == 0.0  # never below zero


def test_numeric_tolerance_and_direction():
    q = BANK["milex-ratio"]
    assert q.grade(2.69).correct and q.grade(2.73).correct and q.grade(2).correct is False
    assert "Too low" in q.grade(2.0).feedback
    assert "Too high" in q.grade(3.5).feedback
    assert q.grade(3).correct is False  # ints are numbers too


def test_ordering_partial_credit_counts_pairs_in_order():
    q = BANK["order-events"]
    assert q.grade(["decl", "almaata", "bishkek"]).correct
    reversed_ = q.grade(["bishkek", "almaata", "decl"])
    assert reversed_.score == 0.0
    one_swap = q.grade(["almaata", "decl", "bishkek"])
    assert one_swap.score == pytest.approx(2 / 3)
    assert "23 Aug 1990" in one_swap.feedback


def test_matching():
    q = BANK["who-holds-what"]
    right = q.answer
    assert q.grade(right).correct
    half = q.grade({**right, "Baku": "Closing the border"})
    assert half.score == 0.5 and "guarantees" in half.feedback


@pytest.mark.parametrize(("qid", "response", "message"), [
    ("chain-start", 3, "choose one option"),
    ("chain-start", "zzz", "'zzz' is not an option here"),
    ("deadlocks", "constitution", "tick every option"),
    ("deadlocks", [], "tick at least one"),
    ("deadlocks", ["constitution", "nope"], "'nope' is not an option"),
    ("milex-ratio", "2.7", "type a number"),
    ("milex-ratio", True, "type a number"),
    ("milex-ratio", math.nan, "finite"),
    ("milex-ratio", math.inf, "finite"),
    ("order-events", ["decl", "almaata"], "exactly once"),
    ("order-events", ["decl", "decl", "bishkek"], "exactly once"),
    ("order-events", ["decl", "x", "bishkek"], "'x' is not one of the items"),
    ("order-events", "decl", "as a list"),
    ("who-holds-what", ["Baku"], "give a mapping"),
    ("who-holds-what", {"Moscow": "Closing the border"}, "'Moscow' is not an item"),
    ("who-holds-what", {"Baku": "Peace"}, "'Peace' is not one of the choices"),
    ("who-holds-what", {"Baku": "Closing the border"}, "still open: 'Yerevan'"),
])
def test_bad_responses_raise_a_clear_error(qid, response, message):
    with pytest.raises(ResponseError, match=message):
        BANK[qid].grade(response)


def test_answer_text_is_readable():
    assert BANK["order-events"].answer_text() == (
        "Declaration of Independence adopted → Alma-Ata Declaration signed → Bishkek Protocol signed")
    assert "2.69" in BANK["milex-ratio"].answer_text()


ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
OPTION_IDS = st.sampled_from(["declaration", "alma-ata", "bishkek", "constitution", "border", "route", "gas",
                              "decl", "almaata", "Baku", "Yerevan", "Closing the border",
                              "Security guarantees for route users", "Full sovereignty over any route"])
NEAR_MISS = st.one_of(OPTION_IDS, st.lists(OPTION_IDS, max_size=5),
                      st.dictionaries(OPTION_IDS, OPTION_IDS, max_size=3))


@settings(max_examples=300, deadline=None)
@given(qid=st.sampled_from([q.id for q in BANK]), response=st.one_of(ANY, NEAR_MISS))
def test_grade_returns_a_result_or_a_clear_error(qid, response):
    try:
        result = BANK[qid].grade(response)
    except ResponseError as err:
        assert str(err)
        return
    assert isinstance(result.correct, bool)
    assert 0.0 <= result.score <= 1.0
    assert isinstance(result.feedback, str)
    assert result.correct == (result.score == 1.0)
