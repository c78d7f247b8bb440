"""Every lesson's bank and tasks, checked the same way: a new lesson is covered by adding its files.

- banks: validate, meet the design's bar (>= 8 questions of >= 3 kinds), the right answer is
  graded correct and every wrong option incorrect with its own teaching feedback;
- tasks: the solution passes, every known mistake fails with its intended message, and the
  untouched placeholder counts as not attempted.
"""
from __future__ import annotations

import itertools

import pytest

from course.checks import CORRECT, INCORRECT, NOT_ATTEMPTED
from course.checks.engine import TASKS_DIR, _run, load_exercises
from course.quizzes import bank as bank_mod
from course.quizzes import model

LESSON_BANKS = bank_mod.lesson_names()
LESSON_TASKS = sorted(p.stem for p in TASKS_DIR.glob("*.yaml"))
QUESTIONS = [(lesson, q.id) for lesson in LESSON_BANKS for q in bank_mod.load_bank(lesson)]
EXERCISES = [(lesson, ex.key) for lesson in LESSON_TASKS for ex in load_exercises(lesson)]


def test_there_are_lessons():
    assert LESSON_BANKS, "no question banks found in course/banks"


@pytest.mark.parametrize("lesson", LESSON_BANKS)
def test_bank_meets_the_design_bar(lesson):
    bank = bank_mod.load_bank(lesson)
    kinds = {q.kind for q in bank}
    if lesson.startswith("00_"):  # the practice quiz of "Start here" is short on purpose
        assert len(bank) >= 3
    else:
        assert len(bank) >= 8, f"{lesson}: {len(bank)} questions, the design asks for at least 8"
        assert len(kinds) >= 3, f"{lesson}: kinds {sorted(kinds)}, the design asks for at least 3"


def _wrong_responses(q):
    """Plausible wrong responses for a question, each with the feedback it must show."""
    if isinstance(q, model.MultipleChoice):
        for o in q.options:
            if not o.correct:
                yield sorted(q.answer | {o.id}), o.feedback
    elif isinstance(q, model.SingleChoice):
        for o in q.options:
            if not o.correct:
                yield o.id, o.feedback
    elif isinstance(q, model.Numeric):
        yield q.value + 10 * q.tolerance + 1, q.feedback_high or "Too high."
        yield q.value - 10 * q.tolerance - 1, q.feedback_low or "Too low."
    elif isinstance(q, model.Ordering):
        swapped = list(q.answer)
        swapped[0], swapped[1] = swapped[1], swapped[0]
        yield swapped, q.items[0].feedback
    elif isinstance(q, model.Matching):
        lefts = [p.left for p in q.pairs]
        rotated = dict(zip(lefts, [q.answer[x] for x in lefts[1:] + lefts[:1]]))
        first_wrong = next(p for p in q.pairs if rotated[p.left] != p.right)
        yield rotated, first_wrong.feedback


@pytest.mark.parametrize(("lesson", "qid"), QUESTIONS, ids=[f"{les}:{q}" for les, q in QUESTIONS])
def test_question_grades_right_and_wrong(lesson, qid):
    q = bank_mod.load_bank(lesson)[qid]
    answer = sorted(q.answer) if isinstance(q, model.MultipleChoice) else q.answer
    result = q.grade(answer)
    assert result.correct and result.score == 1.0
    for response, feedback in _wrong_responses(q):
        result = q.grade(response)
        assert not result.correct and result.score < 1.0
        assert feedback in result.feedback, f"{qid}: wrong answer {response!r} lacks its feedback"


@pytest.mark.parametrize("lesson", LESSON_BANKS)
def test_question_ids_unique_across_the_course(lesson):
    ids = [q.id for q in bank_mod.load_bank(lesson)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("lesson", "key"), EXERCISES, ids=[f"{les}:{k}" for les, k in EXERCISES])
def test_exercise_solution_mistakes_and_placeholder(lesson, key):
    ex = getattr(load_exercises(lesson), key)
    solved = _run(ex.spec["solution"], ex.setup, "solution")
    assert ex.evaluate(solved).status == CORRECT
    assert ex.evaluate({}).status == NOT_ATTEMPTED
    assert ex.evaluate({ex.variable: ...}).status == NOT_ATTEMPTED
    for mistake in ex.spec["mistakes"]:
        wrong = _run(mistake["code"], ex.setup, "mistake")
        outcome = ex.evaluate(wrong)
        assert outcome.status == INCORRECT, f"{key}: a known mistake passed: {mistake['code']}"
        assert outcome.message == mistake["message"]
        assert str(ex.expected) not in outcome.message or len(str(ex.expected)) < 3


@pytest.mark.parametrize("lesson", LESSON_TASKS)
def test_every_exercise_has_hints_in_levels(lesson):
    for ex in load_exercises(lesson):
        assert len(ex.spec["hints"]) >= 2, f"{lesson}.{ex.key}: give at least two hint levels"


def test_lessons_have_both_banks_and_tasks():
    for lesson in LESSON_TASKS:
        assert lesson in LESSON_BANKS, f"tasks for {lesson} but no question bank"
    # a lesson split in two takes letters: 06a_framework, 06b_memo
    assert not [a for a, b in itertools.pairwise(LESSON_BANKS) if a.split("_")[0] == b.split("_")[0]], \
        "two banks share a number"
