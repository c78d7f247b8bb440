"""The quiz through real ipywidgets, without a browser: set values, click Check, read feedback."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from course.quizzes import load_file
from course.quizzes.bank import parse_bank
from course.quizzes.widget import Quiz

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def quiz():
    return Quiz(load_file(FIXTURES / "sample_bank.yaml"))


def panel(quiz, qid):
    return next(p for p in quiz.panels if p.question.id == qid)


def test_single_choice_wrong_then_right(quiz):
    p = panel(quiz, "chain-start")
    p.input.value = "alma-ata"
    p.check_button.click()
    assert "Not yet" in p.feedback.value and "borders between former Soviet republics" in p.feedback.value
    assert 'aria-live="polite"' in p.feedback.value and 'role="status"' in p.feedback.value
    assert "2 tries left" in p.feedback.value
    p.input.value = "declaration"
    p.check_button.click()
    assert "Correct" in p.feedback.value and "1989 joint decision" in p.feedback.value
    assert "Source: constitution.preamble-chain" in p.feedback.value
    assert "Score: 1 / 5" in quiz.score.value


def test_multiple_choice_partial_credit_shown(quiz):
    p = panel(quiz, "deadlocks")
    for option_id, box in p.boxes:
        box.value = option_id in ("constitution", "border")
    p.check_button.click()
    assert "partial credit 67%" in p.feedback.value
    for option_id, box in p.boxes:
        box.value = option_id != "gas"
    p.check_button.click()
    assert "Correct" in p.feedback.value


def test_numeric_accepts_typed_numbers_and_explains_bad_input(quiz):
    p = panel(quiz, "milex-ratio")
    p.number.value = "two"
    p.check_button.click()
    assert "is not a number" in p.feedback.value and p.tries == 0  # not counted as a try
    p.number.value = "2.0"
    p.check_button.click()
    assert "Too low" in p.feedback.value
    p.number.value = "2.7"
    p.check_button.click()
    assert "Correct" in p.feedback.value


def test_ordering_needs_every_slot_then_grades(quiz):
    p = panel(quiz, "order-events")
    p.slots[0].value = "decl"
    p.check_button.click()
    assert "Fill every position" in p.feedback.value and p.tries == 0
    for slot, item_id in zip(p.slots, ["decl", "almaata", "bishkek"]):
        slot.value = item_id
    p.check_button.click()
    assert "Correct" in p.feedback.value
    for slot, item_id in zip(p.slots, ["decl", "decl", "bishkek"]):
        slot.value = item_id
    p.check_button.click()
    assert "exactly once" in p.feedback.value


def test_matching(quiz):
    p = panel(quiz, "who-holds-what")
    answer = p.question.answer
    for _left, dropdown in p.matches:
        dropdown.value = "Closing the border"
    p.check_button.click()
    assert "0 matches of 2" in p.feedback.value
    for left, dropdown in p.matches:
        dropdown.value = answer[left]
    p.check_button.click()
    assert "Correct" in p.feedback.value


def test_answer_revealed_after_the_set_number_of_tries(quiz):
    p = panel(quiz, "chain-start")
    p.input.value = "bishkek"
    for _ in range(2):
        p.check_button.click()
        assert "The answer:" not in p.feedback.value
    p.check_button.click()
    assert "The answer:" in p.feedback.value and "1990 Declaration of Independence" in p.feedback.value
    assert p.revealed


def test_option_order_is_shuffled_but_stable_across_restarts():
    bank = load_file(FIXTURES / "sample_bank.yaml")
    first = [o for _, o in Quiz(bank).panels[0].input.options]
    again = [o for _, o in Quiz(bank).panels[0].input.options]
    assert first == again
    orders = {tuple(s.options[1:]) for s in Quiz(bank).panels[3].slots}
    assert [v for _, v in next(iter(orders))] != ["decl", "almaata", "bishkek"]  # never pre-solved


def test_bank_html_is_shown_as_text(tmp_path):
    document = yaml.safe_load((FIXTURES / "sample_bank.yaml").read_text(encoding="utf-8"))
    q = document["questions"][0]
    q["prompt"] = "Which? <script>alert(1)</script> <img src=x onerror=alert(2)> [link](javascript:alert(3))"
    q["options"][1]["feedback"] = "<b onmouseover=alert(4)>no</b>"
    q["explanation"] = "<iframe src=x></iframe>"
    bank = parse_bank(document, tmp_path / "sample_bank.yaml")
    p = Quiz(bank).panels[0]
    assert "<script>" not in p.prompt.value and "&lt;script&gt;" in p.prompt.value
    assert "<img" not in p.prompt.value and "javascript:" not in p.prompt.value.split("href=")[-1][:20]
    p.input.value = "alma-ata"
    p.check_button.click()
    assert "<b onmouseover" not in p.feedback.value and "&lt;b onmouseover" in p.feedback.value
    p.input.value = "declaration"
    p.check_button.click()
    assert "<iframe" not in p.feedback.value


def test_text_version_lists_questions_without_answers(quiz):
    text = quiz.text()
    assert "Question 5" in text and "Alma-Ata Declaration signed" in text
    assert "( ) The 1990 Declaration of Independence" in text
    assert "2.69" not in text and "Correct" not in text
    assert "insists" not in text  # no feedback leaks into the text version
    bundle = quiz._repr_mimebundle_()
    assert bundle["text/plain"] == text
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "<script" not in bundle["text/html"]


def test_widgets_are_keyboard_reachable_controls(quiz):
    import ipywidgets as w

    for p in quiz.panels:
        assert isinstance(p.check_button, w.Button) and p.check_button.description == "Check"
        controls = [c for c in p.input.children] if isinstance(p.input, w.Box) else [p.input]
        flat = []
        for c in controls:
            flat.extend(c.children if isinstance(c, w.Box) else [c])
        assert any(isinstance(c, (w.RadioButtons, w.Checkbox, w.Text, w.Dropdown)) for c in flat)


def test_checks_are_recorded_in_progress(quiz, isolated_progress):
    p = panel(quiz, "chain-start")
    p.input.value = "alma-ata"
    p.check_button.click()
    p.input.value = "declaration"
    p.check_button.click()
    state = json.loads(isolated_progress.read_text(encoding="utf-8"))
    entry = state["quizzes"]["sample_bank"]["chain-start"]
    assert entry == {"best": 1.0, "tries": 2, "correct": True}


def test_selecting_a_subset_of_questions():
    bank = load_file(FIXTURES / "sample_bank.yaml")
    q = Quiz(bank, ids=["milex-ratio"])
    assert [p.question.id for p in q.panels] == ["milex-ratio"]
    with pytest.raises(KeyError, match="no question 'nope'"):
        Quiz(bank, ids=["nope"])
