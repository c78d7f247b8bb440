"""course.checks.compare, pinned where mutation testing found the suite let a change through (issue 20).

Each test names the behaviour it keeps; the messages are asserted whole, because a student reads
them: a changed word is a changed behaviour. Run tests/mutation/run_mutation.py checks to see
what still survives.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course.checks import compare


# -- wrong types: the message names the type the student gave ------------------------------------------
@pytest.mark.parametrize(("function", "got", "message"), [
    (compare.number, "3", "Expected a number, but your answer is a str."),
    (compare.number, np.True_, "Expected a number, but your answer is a bool."),
    (compare.text, 3, "Expected text (a string), but your answer is a int."),
    (compare.boolean, 1, "Expected True or False, but your answer is a int."),
    (compare.collection, "ab", "Expected a list, but your answer is a str."),
    (compare.collection, 5, "Expected a list, but your answer is a int."),
    (compare.dataframe, [1], "Expected a pandas DataFrame (a table), but your answer is a list."),
    (compare.series, [1], "Expected a pandas Series (one column), but your answer is a list."),
])
def test_a_wrong_type_is_named(function, got, message):
    expected = {compare.dataframe: pd.DataFrame({"v": [1]}), compare.series: pd.Series([1])}.get(function, 1)
    assert function(got, expected) == message


# -- number ---------------------------------------------------------------------------------------------
def test_number_messages_and_bounds():
    assert compare.number(float("nan"), 1.0) == "Your answer is NaN (not a number): check for missing values."
    assert compare.number(2, 1) == "Your number (2) is too high."
    assert compare.number(0, 1) == "Your number (0) is too low."
    assert compare.number(1.5, 1.0, tolerance=0.5) is None  # the tolerance itself is still right
    assert compare.number(np.float64(2.0), 2.0) is None


def test_number_default_tolerance_is_relative_to_large_values_only():
    assert compare.number(1e6 + 0.9, 1e6) is None          # 1e-6 of a million is 1
    assert compare.number(1e6 + 1.1, 1e6) is not None
    assert compare.number(1 + 1.5e-6, 1.0) is not None     # below 1 the margin stays 1e-6
    assert compare.number(1 + 0.5e-6, 1.0) is None


# -- text and boolean -----------------------------------------------------------------------------------
def test_text_and_boolean_messages():
    assert compare.text(" Yerevan ", "yerevan") is None
    assert compare.text("Baku", "Yerevan") == "That text is not the one asked for."
    assert compare.boolean(True, True) is None and compare.boolean(False, False) is None
    assert compare.boolean(True, False) == "Not that one: think again about the question."
    assert compare.boolean(False, True) == "Not that one: think again about the question."


# -- collection -----------------------------------------------------------------------------------------
def test_collection_messages():
    assert compare.collection(pd.Series(["a", "b"]), ["b", "a"]) is None
    assert compare.collection(pd.Index(["a", "b"]), ["a", "b"], ordered=True) is None
    assert compare.collection(["a", "c"], ["a", "b"]) == \
        "Your list has 1 item(s) that do not belong and 1 item(s) missing."
    assert compare.collection(["a", "b", "c"], ["a", "b"]) == "Your list has 1 item(s) that do not belong."
    assert compare.collection(["a"], ["a", "b"]) == "Your list has 1 item(s) missing."
    assert compare.collection(["a", "a", "b"], ["a", "b"]) == "Your list has repeated items."
    assert compare.collection(["b", "a"], ["a", "b"], ordered=True) == "The right items, but not in the asked order."


# -- dataframe ------------------------------------------------------------------------------------------
def test_dataframe_shape_messages():
    expected = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    assert compare.dataframe(pd.DataFrame({"c": [1, 2]}), expected) == "Your table lacks the column(s) 'a', 'b'."
    assert compare.dataframe(expected.assign(c=0, d=1), expected) == \
        "Your table has column(s) the task does not ask for: 'c', 'd'."
    assert compare.dataframe(expected.head(1), expected) == \
        "Your table has 1 rows, fewer than expected: check your filter."
    assert compare.dataframe(pd.concat([expected, expected]), expected) == \
        "Your table has 4 rows, more than expected: check your filter."


def test_dataframe_accepts_a_series_for_a_one_column_table():
    expected = pd.DataFrame({"v": [1, 2]})
    assert compare.dataframe(pd.Series([2, 1]), expected) is None
    assert compare.dataframe(pd.Series([2, 1], name="other"), expected) is None


def test_dataframe_ordered_compares_rows_in_the_given_order():
    unsorted = pd.DataFrame({"v": [3, 1, 2]})
    assert compare.dataframe(unsorted, unsorted, ordered=True) is None
    assert compare.dataframe(pd.DataFrame({"v": [1, 2, 3]}), unsorted, ordered=True) == \
        "The right rows, but not in the asked order (look at the sorting, column 'v')."


def test_dataframe_ignores_an_index_that_repeats_a_column():
    frame = pd.DataFrame({"year": [2020, 2021], "v": [1.0, 2.0]})
    assert compare.dataframe(frame.set_index(frame["year"]), frame) is None


def test_dataframe_with_ignore_index_false_compares_an_unnamed_index():
    got = pd.DataFrame({"v": [1, 2]}, index=[2020, 2021])
    assert compare.dataframe(got, pd.DataFrame({"v": [1, 2]}, index=[2021, 2022]), ignore_index=False) is not None
    assert compare.dataframe(got, got.copy(), ignore_index=False) is None


def test_dataframe_sorts_categories_by_value_not_by_category_order():
    got = pd.DataFrame({"x": pd.Categorical([1, 2], categories=[2, 1]), "y": [1, 2]})
    assert compare.dataframe(got, pd.DataFrame({"x": [2, 1], "y": [2, 1]})) is None
    got = pd.DataFrame({"x": pd.Categorical(["a", "b"], categories=["b", "a"]), "y": [1, 2]})
    assert compare.dataframe(got, pd.DataFrame({"x": ["b", "a"], "y": [2, 1]})) is None


def test_dataframe_numbers_as_text_are_not_numbers():
    assert compare.dataframe(pd.DataFrame({"v": ["1", "2"]}), pd.DataFrame({"v": [1, 2]})) == \
        "The number of rows is right, but some values in column 'v' differ."


def test_dataframe_boolean_columns_are_compared_exactly():
    expected = pd.DataFrame({"ok": [True, False]})
    assert compare.dataframe(pd.DataFrame({"ok": [0.5, 0.0]}), expected, tolerance=0.6) is not None
    assert compare.dataframe(pd.DataFrame({"ok": [True, False]}), expected, tolerance=0.6) is None


def test_dataframe_tolerance_is_relative_and_absolute():
    expected = pd.DataFrame({"v": [100.0, 0.0]})
    assert compare.dataframe(pd.DataFrame({"v": [104.0, 0.04]}), expected, tolerance=0.05) is None
    assert compare.dataframe(pd.DataFrame({"v": [100.0, 0.2]}), expected, tolerance=0.05) is not None


def test_dataframe_missing_values_in_the_same_place_agree():
    frame = pd.DataFrame({"v": [np.nan, 2.0]})
    assert compare.dataframe(frame, frame.copy()) is None


def test_dataframe_dates_given_as_text_are_read_as_dates():
    expected = pd.DataFrame({"d": pd.to_datetime(["2020-01-01", "2021-05-02"])})
    assert compare.dataframe(pd.DataFrame({"d": ["2020-01-01", "2021-05-02"]}), expected) is None
    assert compare.dataframe(pd.DataFrame({"d": ["not a date", "2021-05-02"]}), expected) == \
        "The number of rows is right, but some values in column 'd' differ."


# -- series ---------------------------------------------------------------------------------------------
def test_series_messages_speak_of_entries_and_hide_internal_labels():
    assert compare.series(pd.Series([1, 3]), pd.Series([1, 2])) == \
        "The number of entries is right, but some values differ."
    assert compare.series(pd.Series([1, 3], name="x"), pd.Series([1, 2], name="x")) == \
        "The number of entries is right, but some values in column 'x' differ."
    assert compare.series(pd.Series([1, 2], index=[1, 3]), pd.Series([1, 2], index=[1, 2])) == \
        "The number of entries is right, but some labels (the index) differ."
    year = pd.Index([1, 2], name="year")
    assert compare.series(pd.Series([1, 2], index=[1, 3]), pd.Series([1, 2], index=year)) == \
        "The number of entries is right, but some values in column 'year' differ."
    assert compare.series(pd.Series([2, 1]), pd.Series([1, 2]), ordered=True, ignore_index=True) == \
        "The right entries, but not in the asked order (look at the sorting)."
    assert compare.series(pd.Series([1, 2, 3]), pd.Series([1, 2])) == \
        "Your Series has 3 entries, more than expected: check your filter."


def test_series_accepts_a_one_column_table():
    expected = pd.Series([1, 2], name="v")
    assert compare.series(pd.DataFrame({"v": [1, 2]}), expected) is None
    assert compare.series(pd.DataFrame({"w": [1, 2]}), expected) is None
    assert compare.series(pd.DataFrame({"v": [1, 2], "w": [3, 4]}), expected).startswith("Expected a pandas Series")


# -- auto: the comparison follows the expected value's type ---------------------------------------------
def test_auto_dispatches_on_the_expected_type():
    frame = pd.DataFrame({"v": [1.0, 2.0]})
    assert compare.auto(frame.copy(), frame) is None
    assert compare.auto(frame + 0.04, frame, tolerance=0.05) is None
    assert compare.auto(frame + 1, frame) == "The number of rows is right, but some values in column 'v' differ."
    assert compare.auto(np.array([1.0, 2.0]), pd.Series([1.0, 2.0], index=[5, 6])) is None  # labels ignored
    assert compare.auto(np.array([1.04]), np.array([1.0]), tolerance=0.05) is None
    assert compare.auto(np.array([1.5]), np.array([1.0])) == "The number of entries is right, but some values differ."
    assert compare.auto(pd.Series([3.0], index=[7]), 3.0) is None
    assert compare.auto(np.array([3.0]), 3.0) is None
    assert compare.auto(pd.Series([3.0, 4.0]), 3.0) == "Expected a number, but your answer is a Series."
    assert compare.auto(3.2, 3.0, tolerance=0.5) is None
    assert compare.auto(3.2, 3.0) == "Your number (3.2) is too high."
    assert compare.auto(True, True) is None
    assert compare.auto(True, False) == "Not that one: think again about the question."
    assert compare.auto(" Yerevan", "yerevan") is None
    assert compare.auto("Baku", "Yerevan") == "That text is not the one asked for."
    assert compare.auto(["b", "a"], ["a", "b"]) is None
    assert compare.auto(["b", "a"], ["a", "b"], ordered=True) == "The right items, but not in the asked order."
