"""Regression tests for bugs that the rest of the suite once let through (issue 20).

Each test is named after the bug it kills; the bug was planted by hand and survived every other
test. Keep them small and exact: each one fails when its bug comes back.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from course import data
from course.checks import compare
from course.quizzes import BankError, load_file
from course.quizzes.bank import parse_bank
from course.quizzes.model import Item, Ordering
from course.quizzes.widget import Quiz

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = yaml.safe_load((FIXTURES / "sample_bank.yaml").read_text(encoding="utf-8"))
INJECTION = "<script>alert(1)</script>"


def _ordering(n: int) -> Ordering:
    items = tuple(Item(f"i{k}", f"Item {k}", f"Feedback {k}") for k in range(n))
    return Ordering(id="o", kind="ordering", prompt="?", explanation="", sources=(), tries=3, items=items)


# 1. Ordering feedback counted "items in the right place" off by one (zip(response[1:], ...)).
@pytest.mark.parametrize(("response", "placed"), [
    (["i0", "i1", "i3", "i2"], 2),   # a swap at the end: the first two are in place
    (["i1", "i0", "i2", "i3"], 2),   # a swap at the start: the last two are in place
    (["i3", "i2", "i1", "i0"], 0),   # reversed: none in place
    (["i0", "i2", "i3", "i1"], 1),   # only the first in place
])
def test_ordering_feedback_counts_items_in_their_place(response, placed):
    result = _ordering(4).grade(response)
    assert not result.correct
    expected = f"{placed} item{'s' if placed != 1 else ''} of 4 in the right place"
    assert result.feedback.startswith(expected), result.feedback


def test_ordering_feedback_names_the_first_misplaced_item():
    result = _ordering(4).grade(["i0", "i2", "i1", "i3"])
    assert "Look again at: Item 1. Feedback 1" in result.feedback


# 2. A matching pair's left label, a right-hand choice or a distractor rendered without escaping.
def _sample_with(change) -> dict:
    document = copy.deepcopy(SAMPLE)
    change(next(q for q in document["questions"] if q["id"] == "who-holds-what"))
    return document


def _matching_panel(document, tmp_path):
    quiz = Quiz(parse_bank(document, tmp_path / "sample_bank.yaml"))
    return quiz, next(p for p in quiz.panels if p.question.id == "who-holds-what")


def _all_html(widget) -> str:
    parts = [getattr(widget, "value", "")] if isinstance(getattr(widget, "value", None), str) else []
    for child in getattr(widget, "children", ()):
        parts.append(_all_html(child))
    return " ".join(parts)


def test_matching_left_label_is_escaped_in_the_widget_and_the_feedback(tmp_path):
    document = _sample_with(lambda q: q["pairs"][0].__setitem__("left", f"Baku {INJECTION}"))
    quiz, panel = _matching_panel(document, tmp_path)
    assert INJECTION not in _all_html(panel) and "&lt;script&gt;" in _all_html(panel)
    for _left, dropdown in panel.matches:
        dropdown.value = "Closing the border"
    for _ in range(panel.question.tries):  # wrong every time, until the answer is revealed
        panel.check_button.click()
        assert INJECTION not in panel.feedback.value
    assert panel.revealed
    bundle = quiz._repr_mimebundle_()
    assert INJECTION not in bundle["text/html"]


def test_matching_distractor_and_choices_are_escaped_in_the_text_version(tmp_path):
    document = _sample_with(lambda q: q.__setitem__("distractors", [f"Closing {INJECTION}"]))
    quiz, panel = _matching_panel(document, tmp_path)
    assert INJECTION not in _all_html(panel)
    html = quiz._repr_mimebundle_()["text/html"]
    assert INJECTION not in html and "&lt;script&gt;" in html


# 3. An ordering item's or a matching pair's required `feedback` no longer required.
@pytest.mark.parametrize(("qid", "key"), [("order-events", "items"), ("who-holds-what", "pairs")])
def test_item_and_pair_feedback_is_required(tmp_path, qid, key):
    document = copy.deepcopy(SAMPLE)
    question = next(q for q in document["questions"] if q["id"] == qid)
    del question[key][1]["feedback"]
    path = tmp_path / "sample_bank.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(BankError, match=rf"question {qid}, field '{key}', entry 2.*'feedback'"):
        load_file(path)


# 4. compare.series / compare.dataframe ignoring the tolerance they are given.
def test_series_honours_its_tolerance():
    expected = pd.Series([2.70, 3.50], index=[2023, 2020])
    near = pd.Series([2.74, 3.46], index=[2023, 2020])
    assert compare.series(near, expected, tolerance=0.05) is None
    assert compare.series(near, expected, tolerance=0.001) is not None
    assert compare.series(near, expected) is not None  # the default is strict


def test_dataframe_honours_its_tolerance():
    expected = pd.DataFrame({"year": [2022, 2023], "ratio": [3.76, 2.69]})
    near = pd.DataFrame({"year": [2022, 2023], "ratio": [3.80, 2.70]})
    assert compare.dataframe(near, expected, tolerance=0.05) is None
    message = compare.dataframe(near, expected, tolerance=0.001)
    assert message and "'ratio'" in message
    assert compare.dataframe(near, expected) is not None


# 5. Timeline dates of day precision truncated to the first of the month.
def test_day_precision_dates_keep_their_day():
    timeline = data.load("timeline")
    alma_ata = timeline[timeline["date_text"] == "1991-12-21"]
    assert len(alma_ata) == 1
    assert alma_ata["date"].iloc[0] == pd.Timestamp("1991-12-21")
    days = timeline[timeline["date_precision"] == "day"]
    assert (days["date"].dt.strftime("%Y-%m-%d") == days["date_text"].astype(str)).all()
    months = timeline[timeline["date_precision"] == "month"]
    assert (months["date"].dt.day == 1).all()


# 6. and 7. A blank required cell, or a value outside a field's minimum/maximum, passing validation.
def _broken_copy(tmp_path, name: str, row: int, column: str, value: str) -> Path:
    """A copy of a data file with one cell changed; `row` counts data rows from 0 (the file's row row + 2)."""
    source = data.path(name)
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.loc[row, column] = value
    broken = tmp_path / source.name
    frame.to_csv(broken, index=False)
    return broken


def _constrained(name: str, key: str) -> list[dict]:
    return [f for f in data.fields(name) if key in f.get("constraints", {})]


def test_a_blank_required_cell_is_refused(tmp_path):
    required = _constrained("milex", "required")
    assert required, "the milex data set declares required fields"
    field = required[0]["name"]
    broken = _broken_copy(tmp_path, "milex", 2, field, "")
    with pytest.raises(ValueError, match=rf"row 4, field '{field}'.*empty but required"):
        data.check_file("milex", broken)


@pytest.mark.parametrize("bound", ["minimum", "maximum"])
def test_values_outside_the_declared_range_are_refused(tmp_path, bound):
    for name in data.names():
        fields = _constrained(name, bound)
        if fields:
            break
    else:
        pytest.fail(f"no data set declares a {bound}: the range check would be untested")
    field = fields[0]
    limit = field["constraints"][bound]
    outside = limit - 1 if bound == "minimum" else limit + 1
    inside = limit
    text = str(int(outside)) if field["type"] == "integer" else str(outside)
    broken = _broken_copy(tmp_path, name, 0, field["name"], text)
    word = "below the minimum" if bound == "minimum" else "above the maximum"
    with pytest.raises(ValueError, match=rf"row 2, field '{field['name']}'.*{word}"):
        data.check_file(name, broken)
    at_limit = _broken_copy(tmp_path, name, 0, field["name"],
                            str(int(inside)) if field["type"] == "integer" else str(inside))
    assert len(data.check_file(name, at_limit)) == len(data.load(name))
