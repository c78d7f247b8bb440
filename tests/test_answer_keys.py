"""Every quiz answer against a reviewed snapshot (issue 20, bug 9), and its siblings.

The bank validator checks that an answer key is consistent (one correct option for a single
choice, a tolerance that is not negative, ...), not that it is the *right* answer: a correct
option moved to a wrong one passed every other test. tests/fixtures/answer_keys.yaml keeps the
reviewed answer of every question; a change to an answer fails here until the snapshot is
rewritten on purpose (tests/tools/snapshot_answer_keys.py), so the change shows in review.

Siblings: the answer the bank loader builds must be the one the YAML file states (read here a
second way, straight from the YAML), and the grader must accept the answer and refuse others.
"""
from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
import yaml

from course.quizzes import bank
from course.quizzes.bank import parse_bank

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("snapshot_answer_keys", ROOT / "tests/tools/snapshot_answer_keys.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

SNAPSHOT = tool.read_snapshot()
CURRENT = tool.current_keys()
UPDATE = f"If the change is deliberate, update the snapshot with `{tool.COMMAND}` and commit it with the change."


# -- bug 9: an answer changed by accident -------------------------------------------------------------------
@pytest.mark.parametrize("lesson", sorted(set(SNAPSHOT) | set(CURRENT)))
def test_every_answer_matches_the_reviewed_snapshot(lesson):
    changes = tool.differences(SNAPSHOT, CURRENT, [lesson])
    assert not changes, ("the answer key differs from tests/fixtures/answer_keys.yaml:\n  "
                         + "\n  ".join(changes) + "\n" + UPDATE)


def _raw(lesson: str) -> dict:
    return yaml.safe_load(bank.resolve(lesson).read_text(encoding="utf-8"))


def _first(document: dict, kind: str) -> dict:
    return next(q for q in document["questions"] if q["kind"] == kind)


def _lesson_with(kind: str) -> str:
    for lesson in bank.lesson_names():
        if any(q["kind"] == kind for q in _raw(lesson)["questions"]):
            return lesson
    pytest.fail(f"no bank has a {kind} question: its answer key is untested")


def _moved(kind: str, change) -> list[str]:
    """The differences the snapshot test reports after `change` edits one question of a real bank."""
    lesson = _lesson_with(kind)
    document = copy.deepcopy(_raw(lesson))
    question = _first(document, kind)
    change(question)
    edited = parse_bank(document, bank.resolve(lesson))
    current = {lesson: {q.id: tool.answer_key(q) for q in edited.questions}}
    original = {lesson: {q.id: tool.answer_key(q) for q in bank.load_file(bank.resolve(lesson)).questions}}
    return question["id"], tool.differences(original, current, [lesson])


def _move_single(question):
    right = next(o for o in question["options"] if o.get("correct"))
    wrong = next(o for o in question["options"] if not o.get("correct"))
    right["correct"], wrong["correct"] = False, True


def _swap_first_two(key):
    def change(question):
        question[key][0], question[key][1] = question[key][1], question[key][0]
    return change


def _swap_rights(question):
    a, b = question["pairs"][0], question["pairs"][1]
    a["right"], b["right"] = b["right"], a["right"]


@pytest.mark.parametrize(("kind", "change", "field"), [
    ("single", _move_single, "correct"),
    ("multiple", lambda q: next(o for o in q["options"] if not o.get("correct")).__setitem__("correct", True),
     "correct"),
    ("numeric", lambda q: q.__setitem__("answer", q["answer"] + 1), "value"),
    ("numeric", lambda q: q.__setitem__("tolerance", q["tolerance"] * 2 + 1), "tolerance"),
    ("ordering", _swap_first_two("items"), "order"),
    ("matching", _swap_rights, "pairs"),
])
def test_a_moved_answer_is_reported_with_old_and_new(kind, change, field):
    qid, changes = _moved(kind, change)
    assert changes, f"moving the answer of a {kind} question went unnoticed"
    assert any(line.startswith(f"{_lesson_with(kind)}, question {qid}: {field} changed: was ") and ", now " in line
               for line in changes), changes


def test_added_and_removed_questions_are_reported():
    lesson = next(iter(CURRENT))
    questions = dict(CURRENT[lesson])
    first = next(iter(questions))
    removed = {lesson: {k: v for k, v in questions.items() if k != first}}
    assert tool.differences({lesson: questions}, removed) == [
        f"{lesson}, question {first}: removed (was {tool._short(questions[first])})"]
    assert "new, not in the snapshot" in tool.differences(removed, {lesson: questions})[0]
    assert tool.differences({}, {lesson: questions}) == [
        f"lesson {lesson}: not in the snapshot ({len(questions)} questions)"]
    assert tool.differences({lesson: questions}, {}) == [f"lesson {lesson}: in the snapshot but has no bank now"]


def test_the_snapshot_file_is_what_the_tool_writes():
    """Hand edits would drift from the format the tool writes (and from review)."""
    text = (ROOT / "tests/fixtures/answer_keys.yaml").read_text(encoding="utf-8")
    assert text == tool.dump(SNAPSHOT), f"answer_keys.yaml was edited by hand. {UPDATE}"


# -- siblings: the loader reads the answer the file states; the grader accepts it and only it -----------------
def _stated(entry: dict) -> dict:
    """The answer as the YAML entry states it, read without course.quizzes."""
    kind = entry["kind"]
    if kind in ("single", "multiple"):
        right = [o for o in entry["options"] if o.get("correct") is True]
        if kind == "single":
            return {"kind": kind, "correct": right[0]["id"], "text": right[0]["text"]}
        right.sort(key=lambda o: o["id"])
        return {"kind": kind, "correct": [o["id"] for o in right], "text": {o["id"]: o["text"] for o in right}}
    if kind == "numeric":
        return {"kind": kind, "value": float(entry["answer"]), "tolerance": float(entry["tolerance"]),
                "unit": entry.get("unit", "")}
    if kind == "ordering":
        return {"kind": kind, "order": [i["id"] for i in entry["items"]],
                "text": {i["id"]: i["text"] for i in entry["items"]}}
    return {"kind": kind, "pairs": [{p["left"]: p["right"]} for p in entry["pairs"]]}


@pytest.mark.parametrize("lesson", bank.lesson_names())
def test_the_loader_keeps_the_answer_the_bank_states(lesson):
    stated = {entry["id"]: _stated(entry) for entry in _raw(lesson)["questions"]}
    loaded = {q.id: tool.answer_key(q) for q in bank.load_file(bank.resolve(lesson)).questions}
    assert loaded == stated


def _right_and_wrong(question) -> tuple[object, list]:
    """The right response to a question and some wrong ones."""
    kind = question.kind
    if kind == "single":
        return question.answer, [o.id for o in question.options if not o.correct]
    if kind == "multiple":
        right = sorted(question.answer)
        wrong = [o.id for o in question.options if not o.correct]
        return right, [right + wrong[:1]] * bool(wrong) + [right[:-1]] * (len(right) > 1)
    if kind == "numeric":
        value, tolerance = question.value, question.tolerance
        off = tolerance * 1.01 + 1e-6 * max(1.0, abs(value))
        return value, [value - off, value + off]
    if kind == "ordering":
        order = list(question.answer)
        return order, [order[::-1]] if len(order) > 1 else []
    answer = question.answer
    lefts, rights = list(answer), list(answer.values())
    rotated = dict(zip(lefts, rights[1:] + rights[:1]))
    return answer, [rotated] if rotated != answer else []


@pytest.mark.parametrize("lesson", bank.lesson_names())
def test_the_grader_accepts_the_answer_and_refuses_others(lesson):
    for question in bank.load_file(bank.resolve(lesson)).questions:
        right, wrongs = _right_and_wrong(question)
        result = question.grade(right)
        assert result.correct and result.score == 1.0, (question.id, right, result)
        if question.kind == "numeric":
            for inside in (question.value - question.tolerance * 0.99, question.value + question.tolerance * 0.99):
                assert question.grade(inside).correct, (question.id, inside)
        for wrong in wrongs:
            result = question.grade(wrong)
            assert not result.correct and result.score < 1.0, (question.id, wrong, result)
