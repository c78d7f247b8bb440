"""course.quizzes (model, render, text), pinned where mutation testing found the suite let a change
through (issue 20). A student reads every one of these strings, so they are asserted whole.
Run tests/mutation/run_mutation.py quizzes to see what still survives.
"""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from course.quizzes import load_file, model, render, text
from course.quizzes.model import (
    Item,
    Matching,
    MultipleChoice,
    Numeric,
    Option,
    Ordering,
    Pair,
    ResponseError,
    Result,
    SingleChoice,
)
from course.quizzes.widget import shuffled

FIXTURES = Path(__file__).resolve().parent / "fixtures"
COMMON = dict(prompt="?", explanation="", sources=(), tries=3)


@pytest.mark.parametrize(("n", "word", "expected"), [
    (1, "item", "1 item"), (2, "item", "2 items"), (0, "match", "0 matches"), (2, "bus", "2 buses"),
    (2, "dish", "2 dishes"), (3, "box", "3 boxes"), (1, "box", "1 box"), (2, "option", "2 options"),
])
def test_plural(n, word, expected):
    assert model._plural(n, word) == expected


# -- single and multiple choice -------------------------------------------------------------------------
def _single() -> SingleChoice:
    return SingleChoice(id="s", kind="single", options=(Option("first", "First", "No."),
                                                        Option("second", "Second", "Yes.", True)), **COMMON)


def test_single_choice_messages():
    with pytest.raises(ResponseError) as err:
        _single().grade(2)
    assert str(err.value) == "choose one option (an option id such as 'first'), not int"
    with pytest.raises(ResponseError) as err:
        _single().grade("third")
    assert str(err.value) == "'third' is not an option here; the options are first, second"


def _multiple() -> MultipleChoice:
    options = (Option("a", "Alpha", "A is right.", True), Option("b", "Beta", "", True),
               Option("c", "Gamma", "C does not apply.", False), Option("d", "Delta", "D neither.", False))
    return MultipleChoice(id="m", kind="multiple", options=options, **COMMON)


def test_multiple_choice_feedback_and_messages():
    q = _multiple()
    assert q.grade(["b", "a"]) == Result(True, 1.0, "A is right.")  # only right options' feedback, none empty
    assert q.grade(["a", "c", "d"]) == Result(False, 0.0, "C does not apply. D neither. "
                                                          "You left out 1 option that also apply.")
    assert q.grade(["a"]) == Result(False, 0.5, "You left out 1 option that also apply.")
    assert q.answer_text() == "Alpha; Beta"
    both = MultipleChoice(id="m2", kind="multiple",
                          options=(Option("a", "A", "One.", True), Option("b", "B", "Two.", True)),
                          **COMMON)
    assert both.grade(["a", "b"]).feedback == "One. Two."
    for response, message in ((("a"), "tick every option that applies (a list of option ids)"),
                              (3, "tick every option that applies (a list of option ids)"),
                              ([], "tick at least one option")):
        with pytest.raises(ResponseError) as err:
            q.grade(response)
        assert str(err.value) == message


# -- numeric --------------------------------------------------------------------------------------------
def _numeric(**kw) -> Numeric:
    return Numeric(id="n", kind="numeric", **{**dict(value=2.69, tolerance=0.05, unit="×"), **kw}, **COMMON)


def test_numeric_feedback():
    q = _numeric(feedback_low="Divide the other way.", feedback_high="Use 2023.", feedback_correct="Right.")
    assert q.grade(2.7) == Result(True, 1.0, "Right.")
    assert q.grade(1.0) == Result(False, 0.0, "Divide the other way.")
    assert q.grade(4.0) == Result(False, 0.0, "Use 2023.")
    plain = _numeric()
    assert plain.grade(1.0) == Result(False, 0.0, "Too low.")
    assert plain.grade(4.0) == Result(False, 0.0, "Too high.")


def test_numeric_messages_and_answer_text():
    with pytest.raises(ResponseError) as err:
        _numeric().grade("2.7")
    assert str(err.value) == "type a number (in ×), not str"
    with pytest.raises(ResponseError) as err:
        _numeric(unit="").grade(True)
    assert str(err.value) == "type a number, not bool"
    with pytest.raises(ResponseError) as err:
        _numeric().grade(math.inf)
    assert str(err.value) == "type a finite number"
    assert _numeric().answer_text() == "2.69 × (± 0.05)"
    assert _numeric(value=3.0, tolerance=0.5, unit="").answer_text() == "3 (± 0.5)"


# -- ordering and matching ------------------------------------------------------------------------------
def test_ordering_results():
    q = Ordering(id="o", kind="ordering", items=(Item("a", "A", "fa"), Item("b", "B", "fb")), **COMMON)
    assert q.grade(["a", "b"]) == Result(True, 1.0, "")
    wrong = q.grade(["b", "a"])
    assert wrong.correct is False and wrong.score == 0.0
    one = Ordering(id="o1", kind="ordering", items=(Item("a", "A", "fa"),), **COMMON)
    assert one.grade(["a"]) == Result(True, 1.0, "")
    with pytest.raises(ResponseError) as err:
        q.grade("ab")
    assert str(err.value) == "give the items as a list, first to last"


def _matching() -> Matching:
    pairs = (Pair("Baku", "Guarantees", "fb"), Pair("Yerevan", "Sovereignty", "fy"))
    return Matching(id="w", kind="matching", pairs=pairs,
                    distractors=("Closing",), **COMMON)


def test_matching_results():
    q = _matching()
    assert q.grade({"Baku": "Guarantees", "Yerevan": "Sovereignty"}) == Result(True, 1.0, "")
    wrong = q.grade({"Baku": "Guarantees", "Yerevan": "Closing"})
    assert wrong == Result(False, 0.5, "1 match of 2 right. Yerevan: fy")
    assert wrong.correct is False
    assert q.answer_text() == "Baku → Guarantees; Yerevan → Sovereignty"
    with pytest.raises(ResponseError) as err:
        q.grade([("Baku", "Guarantees")])
    assert str(err.value) == "give a mapping from each item on the left to one on the right"


# -- render ---------------------------------------------------------------------------------------------
def test_escape_escapes_quotes_too():
    assert render.escape("<a title=\"x\">it's</a>") == "&lt;a title=&quot;x&quot;&gt;it&#x27;s&lt;/a&gt;"


def test_plain_drops_markup_and_keeps_the_words():
    assert render.plain("Run `ex.q1.check()`, then **read** the __hint__.") == "Run ex.q1.check(), then read the hint."
    assert render.plain("2 * 3 and a_b") == "2 * 3 and a_b"


# -- the plain-text version -----------------------------------------------------------------------------
def _expected_text(bank) -> str:
    lines = [f"Quiz: {bank.title}",
             "(Interactive quiz: run this notebook in JupyterLab to answer and get feedback.)", ""]
    kinds = {"single": "one answer", "multiple": "tick all that apply"}
    for number, q in enumerate(bank.questions, start=1):
        seed = f"{bank.lesson}:{q.id}"
        lines += [f"Question {number} ({kinds.get(q.kind, q.kind)})", q.prompt.strip()]
        if q.kind in ("single", "multiple"):
            mark = "[ ]" if q.kind == "multiple" else "( )"
            lines += [f"  {mark} {o.text}" for o in shuffled(q.options, seed)]
        elif q.kind == "numeric":
            lines.append(f"  Answer: ________ {q.unit}".rstrip())
        elif q.kind == "ordering":
            lines.append("  Put in order, earliest first:")
            lines += [f"  - {item.text}" for item in shuffled(q.items, seed)]
        else:
            lines.append("  Match each item to one of: " + "; ".join(shuffled(q.choices, seed)))
            lines += [f"  - {p.left} → ____" for p in shuffled(q.pairs, seed + ":left")]
        lines.append("")
    return "\n".join(lines[:-1]) + "\n"


def test_the_text_version_of_the_sample_bank_line_by_line():
    bank = load_file(FIXTURES / "sample_bank.yaml")
    got = text.as_text(bank.title, bank.questions, bank.lesson)
    assert got == _expected_text(bank)
    assert got.startswith("Quiz: Sample bank with every kind of question\n(Interactive quiz: run this notebook "
                          "in JupyterLab to answer and get feedback.)\n\nQuestion 1 (one answer)\n")
    assert "Question 2 (tick all that apply)\n" in got and "  [ ] Border delimitation\n" in got
    assert "Question 3 (numeric)\n" in got and "  Answer: ________ ×\n" in got
    assert "  ( ) The 1991 Alma-Ata Declaration\n" in got


def test_the_text_version_shuffles_the_left_labels_on_their_own_seed():
    pairs = tuple(Pair(f"L{k}", f"R{k}", "") for k in range(6))
    q = Matching(id="many", kind="matching", pairs=pairs, **COMMON)
    got = text.as_text("T", [q], "lesson")
    lefts = [line for line in got.splitlines() if line.startswith("  - ")]
    assert lefts == [f"  - {p.left} → ____" for p in shuffled(pairs, "lesson:many:left")]
    assert text.as_text("T", [q], "lesson") == got  # the same order every time
    assert got.endswith("____\n") and not got.endswith("\n\n")
