"""course.tracking, pinned where mutation testing found the suite let a change through (issue 20).
Run tests/mutation/run_mutation.py tracking to see what still survives.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from course import tracking
from course.quizzes import bank

# mutmut calls every function through a trampoline, which adds frames: a warning's stacklevel then
# points elsewhere, so where a warning points is checked only outside mutation runs
UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ


def test_the_default_file_is_in_the_working_folder(monkeypatch):
    monkeypatch.delenv("COURSE_PROGRESS_FILE")
    assert tracking.progress_path() == Path("course_progress.json")


def test_the_file_is_sorted_indented_json(isolated_progress):
    tracking.record_quiz("b_lesson", "q", 1.0, True)
    tracking.record_exercise("a_lesson", "e", "correct")
    state = tracking.read()
    assert isolated_progress.read_text(encoding="utf-8") == json.dumps(state, indent=1, sort_keys=True)


def test_the_first_score_is_the_best_so_far_rounded(isolated_progress):
    tracking.record_quiz("l", "q", 0.12345, False)
    assert tracking.read()["quizzes"]["l"]["q"] == {"best": 0.123, "tries": 1, "correct": False}


def test_summary_keeps_lessons_that_have_only_quiz_progress(isolated_progress):
    tracking.record_quiz("zz_retired_lesson", "q1", 1 / 3, True)
    tracking.record_quiz("zz_retired_lesson", "q2", 1 / 3, False)
    row = tracking.summary().set_index("lesson").loc["zz_retired_lesson"]
    assert (row["exercises"], row["questions"], row["quiz score"]) == ("0", "1", 0.67)


def test_summary_of_a_course_without_lessons_still_has_its_columns(isolated_progress, monkeypatch):
    monkeypatch.setattr(bank, "lesson_names", lambda: [])
    table = tracking.summary()
    assert list(table.columns) == ["lesson", "exercises", "questions", "quiz score"] and len(table) == 0


def test_of():
    assert tracking._of(3, 4) == "3 of 4" and tracking._of(3, None) == "3"


def test_a_corrupt_file_warning_names_the_problem_and_the_copy(isolated_progress):
    isolated_progress.write_text('{"version": 1}', encoding="utf-8")
    with pytest.warns(UserWarning) as caught:
        assert tracking.read() == {"version": 1, "quizzes": {}, "exercises": {}}
    message = str(caught[0].message)
    assert re.fullmatch(rf"Your progress file {re.escape(str(isolated_progress))} could not be read \(unexpected "
                        r"layout\); started a new one and kept the old file as "
                        r"course_progress\.json\.corrupt-\d{8}-\d{6}\.", message), message
    assert UNDER_MUTMUT or caught[0].filename == __file__  # it points at the caller, not at tracking.py
    assert len(list(isolated_progress.parent.glob("course_progress.json.corrupt-*"))) == 1


def test_a_corrupt_file_that_cannot_be_moved_says_so(isolated_progress, monkeypatch):
    isolated_progress.write_text("not json", encoding="utf-8")

    def refuse(self, target):
        raise OSError("read-only")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.warns(UserWarning) as caught:
        tracking.read()
    assert str(caught[0].message).endswith("; started a new one and could not move the old file.")


def test_a_failed_save_warns_at_the_callers_line_and_leaves_only_the_temporary_file(isolated_progress, monkeypatch):
    def refuse(self, target):
        raise OSError("read-only")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.warns(UserWarning) as caught:
        tracking.record_quiz("l", "q", 1.0, True)
    assert str(caught[0].message).startswith(f"Could not save your progress to {isolated_progress}: ")
    assert UNDER_MUTMUT or caught[0].filename == __file__
    assert not isolated_progress.exists()
    assert (isolated_progress.parent / "course_progress.json.tmp").exists()  # matched by .gitignore
