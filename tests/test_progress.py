"""The student's progress file: recorded, summarised, and never fatal when missing or corrupt."""
from __future__ import annotations

import json

import pytest

from course import tracking
from course.checks.engine import load_exercises
from course.quizzes.bank import load_bank


def test_missing_file_starts_empty(isolated_progress):
    assert not isolated_progress.exists()
    assert tracking.read() == {"version": 1, "quizzes": {}, "exercises": {}}
    table = tracking.summary()
    assert (table["quiz score"] == 0).all() and table["exercises"].str.startswith("0").all()


def test_records_keep_the_best_score_and_count_tries(isolated_progress):
    tracking.record_quiz("02_constitution", "preamble", 0.5, False)
    tracking.record_quiz("02_constitution", "preamble", 1.0, True)
    tracking.record_quiz("02_constitution", "preamble", 0.0, False)
    tracking.record_exercise("02_constitution", "q1", "incorrect")
    tracking.record_exercise("02_constitution", "q1", "correct")
    tracking.record_exercise("02_constitution", "q1", "incorrect")  # a later slip keeps "correct"
    state = json.loads(isolated_progress.read_text(encoding="utf-8"))
    assert state["quizzes"]["02_constitution"]["preamble"] == {"best": 1.0, "tries": 3, "correct": True}
    assert state["exercises"]["02_constitution"]["q1"] == {"checks": 3, "status": "correct"}
    row = tracking.summary().set_index("lesson").loc["02_constitution"]
    n_questions = len(load_bank("02_constitution"))
    n_exercises = len(list(load_exercises("02_constitution")))
    assert row["questions"] == f"1 of {n_questions}" and row["exercises"] == f"1 of {n_exercises}"
    assert row["quiz score"] == 1.0


def test_only_a_correct_check_counts_and_not_attempted_is_no_try(isolated_progress):
    tracking.record_exercise("01_war_to_talks", "q1", "not attempted")
    assert "01_war_to_talks" not in tracking.read()["exercises"], "the placeholder is not a try"
    tracking.record_exercise("01_war_to_talks", "q2", "incorrect")
    tracking.record_quiz("01_war_to_talks", "some-question", 0.5, False)
    row = tracking.summary().set_index("lesson").loc["01_war_to_talks"]
    assert row["exercises"].startswith("0 of ") and row["questions"].startswith("0 of ")
    tracking.record_exercise("01_war_to_talks", "q2", "correct")
    tracking.record_quiz("01_war_to_talks", "some-question", 1.0, True)
    row = tracking.summary().set_index("lesson").loc["01_war_to_talks"]
    assert row["exercises"].startswith("1 of ") and row["questions"].startswith("1 of ")


def test_every_lesson_of_the_course_has_a_row(isolated_progress):
    from course.quizzes.bank import lesson_names

    assert list(tracking.summary()["lesson"]) == sorted(lesson_names())


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"quizzes": 3}', "\x00\x01"])
def test_a_corrupt_file_is_kept_aside_and_replaced(isolated_progress, content):
    isolated_progress.write_text(content, encoding="utf-8")
    with pytest.warns(UserWarning, match="could not be read"):
        tracking.record_quiz("01_war_to_talks", "q", 1.0, True)
    aside = list(isolated_progress.parent.glob("course_progress.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == content  # nothing lost
    assert json.loads(isolated_progress.read_text(encoding="utf-8"))["quizzes"]["01_war_to_talks"]["q"]["correct"]


def test_an_unwritable_place_warns_but_does_not_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "no-such-dir" / "progress.json"))
    with pytest.warns(UserWarning, match="Could not save your progress"):
        tracking.record_exercise("01_war_to_talks", "q1", "correct")
