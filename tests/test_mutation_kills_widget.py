"""course.quizzes.widget, pinned where mutation testing found the suite let a change through (issue 20):
the inputs each kind of question gets, in the student's shuffled order, their first state, and every
message and feedback line word for word. Run tests/mutation/run_mutation.py quizzes to see what
still survives (mostly layout values: widths, borders, CSS).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from course.quizzes import load_file
from course.quizzes.render import plain
from course.quizzes.widget import (
    CHOOSE,
    FEEDBACK_COLOURS,
    STYLE,
    QuestionPanel,
    Quiz,
    _status_html,
    _theme_css,
    shuffled,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BANK = load_file(FIXTURES / "sample_bank.yaml")
EMPTY_STATUS = '<div role="status" aria-live="polite" style=""></div>'


def _panel(qid: str) -> QuestionPanel:
    return QuestionPanel(BANK[qid], BANK.lesson, 1)


def _seed(qid: str) -> str:
    return f"{BANK.lesson}:{qid}"


def test_status_html_and_theme_colours():
    assert _status_html("x") == '<div role="status" aria-live="polite" style="">x</div>'
    assert _status_html("x", "right") == \
        '<div role="status" aria-live="polite" style="color:var(--course-quiz-right, #1b6e20);">x</div>'
    assert _status_html("x", "nope") == '<div role="status" aria-live="polite" style="">x</div>'
    css = _theme_css()
    light = ";".join(f"--course-quiz-{t}:{c['light']}" for t, c in FEEDBACK_COLOURS.items())
    dark = ";".join(f"--course-quiz-{t}:{c['dark']}" for t, c in FEEDBACK_COLOURS.items())
    assert css.startswith(f".course-quiz{{{light}}}body[data-jp-theme-light=\"false\"] .course-quiz{{{dark}}}")
    assert css.endswith(".course-quiz .course-match .widget-label{position:absolute !important;width:1px !important;"
                        "height:1px !important;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;margin:0;"
                        "padding:0}")
    assert STYLE.startswith("<style>") and STYLE.endswith(css + "</style>")


@pytest.mark.parametrize("n", [2, 3, 5])
def test_shuffled_never_keeps_the_given_order(n):
    for k in range(30):
        items = list(range(n))
        assert shuffled(items, f"seed{k}") != items
    assert shuffled([7], "s") == [7] and shuffled([], "s") == []


def test_a_panel_starts_empty_with_its_check_button():
    panel = _panel("chain-start")
    assert (panel.tries, panel.best, panel.solved, panel.revealed) == (0, 0.0, False, False)
    assert panel.solved is False and panel.revealed is False
    button = panel.check_button
    assert (button.description, button.button_style, button.tooltip) == ("Check", "primary", "Check your answer")
    assert (button.layout.width, button.layout.align_self) == ("auto", "flex-start")
    assert panel.feedback.value == EMPTY_STATUS
    assert (panel.layout.border, panel.layout.padding, panel.layout.margin) == ("1px solid #ccc", "6px", "6px 0")
    assert "course-quiz-question" in panel._dom_classes
    assert panel.children == (panel.prompt, panel.input, panel.check_button, panel.feedback)


def test_single_choice_input():
    panel = _panel("chain-start")
    q = BANK["chain-start"]
    assert list(panel.input.options) == [(plain(o.text), o.id) for o in shuffled(q.options, _seed(q.id))]
    assert panel.input.value is None and panel.input.layout.width == "auto"


def test_multiple_choice_input():
    panel = _panel("deadlocks")
    q = BANK["deadlocks"]
    order = shuffled(q.options, _seed(q.id))
    assert [option_id for option_id, _ in panel.boxes] == [o.id for o in order]
    for (_, box), option in zip(panel.boxes, order):
        assert (box.value, box.description, box.indent, box.layout.width) == (False, plain(option.text), False, "auto")
    assert list(panel.input.children) == [box for _, box in panel.boxes]


def test_numeric_input():
    panel = _panel("milex-ratio")
    assert (panel.number.placeholder, panel.number.layout.width) == ("type a number", "12em")
    unit = panel.input.children[1]
    assert unit.value == BANK["milex-ratio"].unit and panel.input.children[0] is panel.number


def test_ordering_input():
    panel = _panel("order-events")
    q = BANK["order-events"]
    order = shuffled(q.items, _seed(q.id))
    hint = panel.input.children[0]
    assert hint.value == "<i>Pick an item for each position, first (earliest) at the top.</i>"
    assert list(panel.input.children[1:]) == panel.slots and len(panel.slots) == len(q.items)
    for pos, slot in enumerate(panel.slots, start=1):
        assert slot.description == f"{pos}." and slot.value is None and slot.style.description_width == "2em"
        assert list(slot.options) == [(CHOOSE, None)] + [(plain(i.text), i.id) for i in order]


def test_matching_input():
    panel = _panel("who-holds-what")
    q = BANK["who-holds-what"]
    lefts = [p.left for p in shuffled(q.pairs, _seed(q.id) + ":left")]
    assert [left for left, _ in panel.matches] == lefts
    choices = [(CHOOSE, None)] + [(plain(c), c) for c in shuffled(q.choices, _seed(q.id))]
    for left, dropdown in panel.matches:
        assert (dropdown.description, dropdown.value, list(dropdown.options)) == (plain(left), None, choices)
        assert "course-match" in dropdown._dom_classes


@pytest.mark.parametrize(("qid", "message"), [
    ("chain-start", "Choose or type an answer first."),
    ("milex-ratio", "Choose or type an answer first."),
    ("order-events", "Fill every position first."),
    ("who-holds-what", "Match every item first."),
])
def test_an_incomplete_answer_is_not_checked(qid, message):
    panel = _panel(qid)
    assert panel.check() is None
    assert panel.feedback.value == _status_html(message, "info") and panel.tries == 0


def test_an_unreadable_number_says_why():
    panel = _panel("milex-ratio")
    panel.number.value = "abc"
    assert panel.check() is None
    assert panel.feedback.value == _status_html("Can&#x27;t check that: &#x27;abc&#x27; is not a number.", "info")


def test_feedback_lines_until_the_answer_is_shown():
    panel = _panel("deadlocks")
    q = BANK["deadlocks"]
    boxes = dict(panel.boxes)
    boxes["constitution"].value = True
    result = panel.check()
    assert not result.correct and panel.tries == 1 and panel.best == pytest.approx(1 / 3)
    assert panel.feedback.value == _status_html(
        "<b>✘ Not yet (partial credit 33%).</b> You left out 2 options that also apply. "
        "<i>2 tries left before the answer is shown.</i>", "wrong")
    panel.check()
    assert "<i>1 try left before the answer is shown.</i>" in panel.feedback.value
    panel.check()
    assert panel.revealed is True and panel.solved is False
    assert panel.feedback.value.endswith(
        f"<br><b>The answer:</b> {q.answer_text()} <br>{q.explanation} <br><small>Source: "
        f"{', '.join(q.sources)}</small></div>")


def test_feedback_of_a_right_answer():
    panel = _panel("chain-start")
    q = BANK["chain-start"]
    panel.input.value = q.answer
    assert panel.check().correct and panel.solved is True
    option = next(o for o in q.options if o.correct)
    assert panel.feedback.value == _status_html(
        f"<b>✔ Correct.</b> {option.feedback} <br>{q.explanation} <br><small>Source: {', '.join(q.sources)}"
        "</small>", "right")


def test_the_quiz_counts_its_score():
    quiz = Quiz(BANK)
    n = len(BANK.questions)
    assert quiz.score.value == _status_html(f"Score: 0 / {n} &nbsp; (0 of {n} answered)", "info")
    assert "course-quiz" in quiz._dom_classes
    assert quiz.children[0].value == (f"{STYLE}<h3 style='font-size:1.15em;margin:0.4em 0'>Quiz: {BANK.title}</h3>")
    panel = quiz.panels[0]
    panel.input.value = panel.question.answer
    panel.check()
    assert quiz.score.value == _status_html(f"Score: 1 / {n} &nbsp; (1 of {n} answered)", "info")
    assert [p.prompt.value.split("</b>")[0] for p in quiz.panels] == [f"<b>Question {k}." for k in range(1, n + 1)]
    some = Quiz(BANK, [BANK.questions[-1].id])
    assert [p.question.id for p in some.panels] == [BANK.questions[-1].id]
    assert some.text().startswith(f"Quiz: {BANK.title}\n") and some.text().count("\nQuestion ") == 1
