"""A student's progress: which quizzes and exercises they have done, with scores.

Stored as JSON in `course_progress.json` in the folder the student works in (or the path in
the environment variable COURSE_PROGRESS_FILE). A missing file starts empty; a corrupt one is
kept aside as `course_progress.json.corrupt-<time>` and a fresh one started, so nothing is
lost and nothing crashes.
"""
from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

FILE_NAME = "course_progress.json"
VERSION = 1


def progress_path() -> Path:
    return Path(os.environ.get("COURSE_PROGRESS_FILE", FILE_NAME))


def _empty() -> dict:
    return {"version": VERSION, "quizzes": {}, "exercises": {}}


def read() -> dict:
    path = progress_path()
    if not path.exists():
        return _empty()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(state, dict) and isinstance(state.get("quizzes"), dict)
                and isinstance(state.get("exercises"), dict)):
            raise ValueError("unexpected layout")
        return state
    except (OSError, ValueError) as err:
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.replace(aside)
            kept = f"kept the old file as {aside.name}"
        except OSError:
            kept = "could not move the old file"
        warnings.warn(f"Your progress file {path} could not be read ({err}); started a new one and {kept}.",
                      stacklevel=2)
        return _empty()


def _write(state: dict) -> None:
    path = progress_path()
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError as err:  # a read-only folder must not break a lesson
        warnings.warn(f"Could not save your progress to {path}: {err}", stacklevel=3)


def record_quiz(lesson: str, question_id: str, score: float, correct: bool) -> None:
    state = read()
    entry = state["quizzes"].setdefault(lesson, {}).setdefault(question_id, {"best": 0.0, "tries": 0})
    entry["tries"] += 1
    entry["best"] = max(entry["best"], round(score, 3))
    entry["correct"] = entry.get("correct", False) or correct
    _write(state)


def record_exercise(lesson: str, exercise_id: str, status: str) -> None:
    """Record a check. "Not attempted" (the placeholder is still there) is not a try: it is not
    recorded unless the exercise was already tried."""
    state = read()
    exercises = state["exercises"].setdefault(lesson, {})
    if status == "not attempted" and exercise_id not in exercises:
        if not exercises:
            del state["exercises"][lesson]
        return
    entry = exercises.setdefault(exercise_id, {"checks": 0, "status": status})
    entry["checks"] += 1
    if entry["status"] != "correct":
        entry["status"] = status
    _write(state)


def _totals(lesson: str) -> tuple[int | None, int | None]:
    """How many questions and exercises a lesson has (None when it has no bank or no tasks)."""
    from .checks.engine import load_exercises
    from .quizzes.bank import load_bank

    counts = []
    for loader in (load_bank, load_exercises):
        try:
            counts.append(len(list(loader(lesson))))
        except (KeyError, OSError, ValueError):
            counts.append(None)
    return counts[0], counts[1]


def _of(done: int, total: int | None) -> str:
    return f"{done} of {total}" if total is not None else str(done)


def summary():
    """A table of what has been done, one row per lesson of the course: exercises whose check said
    Correct and quiz questions answered correctly, each out of the lesson's total ("3 of 4"), and
    the quiz score (the best score of each question, added up)."""
    import pandas as pd

    from .quizzes.bank import lesson_names

    state = read()
    lessons = sorted(set(lesson_names()) | set(state["quizzes"]) | set(state["exercises"]))
    rows = []
    for lesson in lessons:
        quizzes = state["quizzes"].get(lesson, {})
        exercises = state["exercises"].get(lesson, {})
        n_questions, n_exercises = _totals(lesson)
        rows.append({
            "lesson": lesson,
            "exercises": _of(sum(e["status"] == "correct" for e in exercises.values()), n_exercises),
            "questions": _of(sum(bool(q.get("correct")) for q in quizzes.values()), n_questions),
            "quiz score": round(sum(q["best"] for q in quizzes.values()), 2),
        })
    return pd.DataFrame(rows, columns=["lesson", "exercises", "questions", "quiz score"])
