"""The exercise-check engine: outcomes, teacher-like comparisons, hints, solutions, bad task files."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from course import load
from course.checks import CORRECT, INCORRECT, NOT_ATTEMPTED, TaskError, compare, load_tasks_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EX = load_tasks_file(FIXTURES / "sample_tasks.yaml")


def events(year):
    t = load("timeline")
    return t[t["date"].dt.year == year]


def test_outcomes_for_the_three_states():
    assert EX.q1.evaluate({}).status == NOT_ATTEMPTED
    assert EX.q1.evaluate({"events_2023": ...}).status == NOT_ATTEMPTED
    assert EX.q1.evaluate({"events_2023": events(2023)}).status == CORRECT
    wrong = EX.q1.evaluate({"events_2023": events(2022)})
    assert wrong.status == INCORRECT and wrong.message == "Those are the events of 2022; the task asks for 2023."


def test_dataframes_compared_like_a_teacher():
    right = events(2023)
    shuffled = right.sample(frac=1, random_state=1)[list(reversed(right.columns))].reset_index(drop=True)
    assert EX.q1.evaluate({"events_2023": shuffled}).status == CORRECT
    as_objects = right.astype({"event": object, "category": object})
    assert EX.q1.evaluate({"events_2023": as_objects}).status == CORRECT
    too_many = EX.q1.evaluate({"events_2023": events(2023).pipe(lambda d: pd.concat([d, events(2022)]))})
    assert "more than expected" in too_many.message
    missing_col = EX.q1.evaluate({"events_2023": right.drop(columns=["note"])})
    assert "lacks the column(s) 'note'" in missing_col.message
    not_a_frame = EX.q1.evaluate({"events_2023": [1, 2]})
    assert "Expected a pandas DataFrame" in not_a_frame.message


def test_messages_never_print_the_expected_value():
    outcome = EX.q2.evaluate({"ratio_2023": 2.0})
    assert outcome.status == INCORRECT and "too low" in outcome.message
    assert "2.68" not in outcome.message and "2.69" not in outcome.message


def test_number_tolerance_and_types():
    assert compare.number(2.685, 2.6856, tolerance=0.01) is None
    assert "Expected a number" in compare.number("2.7", 2.7)
    assert "Expected a number" in compare.number(True, 1)
    assert "NaN" in compare.number(float("nan"), 1.0)
    assert compare.number(np.float64(3.0), 3) is None


def test_series_and_lists():
    expected = pd.Series([3, 5], index=pd.Index([2022, 2023], name="year"), name="events")
    assert compare.series(pd.Series([3.0, 5.0], index=pd.Index([2022, 2023], name="year")), expected) is None
    assert "differ" in compare.series(pd.Series([3, 6], index=pd.Index([2022, 2023], name="year")), expected)
    assert compare.collection(["b", "a"], ["a", "b"]) is None
    assert compare.collection(["b", "a"], ["a", "b"], ordered=True) == "The right items, but not in the asked order."
    assert "1 item(s) missing" in compare.collection(["a"], ["a", "b"])
    assert compare.text(" Yerevan ", "yerevan") is None
    assert compare.boolean(1, True).startswith("Expected True or False")


def test_function_exercise_calls_the_students_function():
    def good(lat1, lon1, lat2, lon2):
        return np.hypot(lat2 - lat1, lon2 - lon1)

    def crashes(lat1, lon1, lat2, lon2):
        raise ValueError("boom")

    assert EX.q3.evaluate({"distance": good}).status == CORRECT
    assert EX.q3.evaluate({"distance": lambda *a: 0.0}).message == "Your function always returns zero."
    assert "fails when called" in EX.q3.evaluate({"distance": crashes}).message
    assert EX.q3.evaluate({"distance": lambda *a: None}).status == NOT_ATTEMPTED
    assert "Expected a function" in EX.q3.evaluate({"distance": 3.0}).message


def test_check_reads_the_callers_namespace_and_records_progress(capsys, isolated_progress):
    # IPython runs a cell with the notebook's namespace as globals; exec does the same here.
    notebook = {"ex": EX, "events_2023": events(2023)}
    exec("ex.q1.check()", notebook)
    assert "q1: Correct" in capsys.readouterr().out
    state = json.loads(isolated_progress.read_text(encoding="utf-8"))
    assert state["exercises"]["sample_tasks"]["q1"] == {"checks": 1, "status": "correct"}


def test_assert_correct_for_graded_notebooks():
    EX.q2.assert_correct({"ratio_2023": 3561.7 / 1326.2})
    with pytest.raises(AssertionError, match="other way round"):
        EX.q2.assert_correct({"ratio_2023": 1326.2 / 3561.7})


def test_hints_in_levels_and_solution(capsys):
    EX.q1.hint()
    first = capsys.readouterr().out
    assert "Hint 1 of 2" in first and ".hint(2)" in first
    EX.q1.hint(2)
    assert "Hint 2 of 2" in capsys.readouterr().out
    EX.q1.hint(99)
    assert "Hint 2 of 2" in capsys.readouterr().out
    EX.q1.solution()
    assert 'events_2023 = timeline[timeline["date"].dt.year == 2023]' in capsys.readouterr().out


def test_correct_shows_the_meaning_and_the_first_hint_names_the_card_lines(tmp_path, capsys):
    def learner_path(e):
        e["q2"].update(meaning="Azerbaijan spent several times what Armenia spent.",
                       question="How many times Armenia's spending did Azerbaijan spend in 2023?",
                       objective="O1", idioms=["filter", "one-value", "arithmetic"])
        e["q2"]["hints"].append("A second hint.")
    ex = load_tasks_file(write_tasks(tmp_path, learner_path))
    outcome = ex.q2.evaluate({"ratio_2023": 3561.7 / 1326.2})
    assert outcome.correct and str(outcome).startswith("q2: Correct. Well done. Azerbaijan spent several")
    wrong = ex.q2.evaluate({"ratio_2023": 1.0})
    assert "several times" not in wrong.message, "the meaning is shown only after Correct"
    ex.q2.hint()
    first = capsys.readouterr().out
    assert "Python card → filter: keep the rows that match" in first
    assert "one-value: take one value out of a table" in first and "arithmetic:" in first
    ex.q2.hint(2)
    assert "Python card" not in capsys.readouterr().out, "only the first hint points to the card"


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.__setitem__("idioms", ["loops"]), r"field 'idioms': \['loops'\] not on the Python card"),
    (lambda s: s.__setitem__("objective", "objective 1"), r"field 'objective': use objective ids"),
    (lambda s: s.__setitem__("objective", ["O1", "B2"]), r"field 'objective': use objective ids"),
    (lambda s: s.__setitem__("meaning", "  "), r"field 'meaning': give it as text"),
    (lambda s: s.__setitem__("question", 3), r"field 'question': give it as text"),
])
def test_malformed_learner_path_fields_are_named(tmp_path, change, message):
    with pytest.raises(TaskError, match=r"exercise q1, " + message):
        load_tasks_file(write_tasks(tmp_path, lambda e: change(e["q1"])))


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(AttributeError, match="it has: q1, q2, q3"):
        EX.q9  # noqa: B018


def write_tasks(tmp_path, change):
    document = yaml.safe_load((FIXTURES / "sample_tasks.yaml").read_text(encoding="utf-8"))
    change(document["exercises"])
    path = tmp_path / "sample_tasks.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "message"), [
    (lambda e: e["q1"].pop("hints"), r"exercise q1, field 'hints': missing"),
    (lambda e: e["q1"].__setitem__("mistakes", []), r"exercise q1, field 'mistakes': give at least one"),
    (lambda e: e["q2"].__setitem__("kind", "essay"), r"exercise q2, field 'kind': 'essay' is not one of"),
    (lambda e: e["q3"].pop("calls"), r"exercise q3, field 'calls'"),
    (lambda e: e["q1"].__setitem__("colour", "red"), r"exercise q1: unknown field"),
    (lambda e: e["q1"]["mistakes"].append({"code": "x = 1"}), r"exercise q1, field 'mistakes', entry 2"),
])
def test_malformed_task_files_are_named(tmp_path, change, message):
    with pytest.raises(TaskError, match=message):
        load_tasks_file(write_tasks(tmp_path, change))


def test_a_broken_solution_is_reported_when_first_needed(tmp_path):
    ex = load_tasks_file(write_tasks(tmp_path, lambda e: e["q2"].__setitem__("solution", "ratio_2023 = 1 / 0")))
    with pytest.raises(TaskError, match=r"exercise q2, field 'solution': the code fails: ZeroDivisionError"):
        ex.q2.evaluate({"ratio_2023": 1.0})


def test_row_labels_count_when_the_index_is_not_ignored():
    by_year = pd.DataFrame({"events": [3, 5]}, index=pd.Index([2022, 2023], name="year"))
    assert compare.dataframe(by_year.copy(), by_year, ignore_index=False) is None
    wrong_labels = by_year.set_axis(pd.Index([2020, 2021], name="year"))
    assert "column 'year' differ" in compare.dataframe(wrong_labels, by_year, ignore_index=False)
    other_name = by_year.rename_axis("date")
    assert "lacks the column(s) 'year'" in compare.dataframe(other_name, by_year, ignore_index=False)
    assert compare.dataframe(wrong_labels, by_year) is None  # by default the index is ignored
    as_column = by_year.reset_index()
    assert compare.dataframe(as_column, by_year, ignore_index=False) is None


def test_series_labels_are_compared():
    expected = pd.Series([3, 5], index=pd.Index(["Armenia", "Azerbaijan"], name="side"))
    assert compare.series(expected.copy(), expected) is None
    swapped = pd.Series([5, 3], index=pd.Index(["Armenia", "Azerbaijan"], name="side"))
    assert "differ" in compare.series(swapped, expected)
    reordered = expected.iloc[::-1]
    assert compare.series(reordered, expected) is None
    assert "not in the asked order" in compare.series(reordered, expected, ordered=True)
