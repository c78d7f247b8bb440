"""The student's progress file: recorded, summarised, and never fatal when missing or corrupt."""
from __future__ import annotations

import json

import pytest

from course import tracking


def test_missing_file_starts_empty(isolated_progress):
    assert not isolated_progress.exists()
    assert tracking.read() == {"version": 1, "quizzes": {}, "exercises": {}}
    assert tracking.summary().empty


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
    assert row["quiz questions answered"] == 1 and row["exercises correct"] == 1


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
