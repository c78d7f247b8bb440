"""Fast unit tests of course/grading/values.py (issue 20): what a test reads, and the JSON trip of
answers out of the sandbox (numbers, text, containers, dates, numpy and pandas objects with their
dtypes), what is refused and how, and the size limit. Everything runs in this process."""
from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from course.grading import values


def trip(value):
    """encode -> strict JSON text -> decode, as between the student's kernel and the judge."""
    return values.decode(json.loads(json.dumps(values.encode(value), allow_nan=False)))


# -- names_read / names_bound -------------------------------------------------------------------------


def test_names_read_without_builtins_or_names_set_here_each_once():
    source = ("import numpy as np, os.path\nfrom m import y as yy\nz = a + b\n"
              "def f(arg, *rest, key=1):\n    return arg + c + key\nclass K: pass\n"
              "try:\n    d\nexcept ValueError as err:\n    err\n"
              "for i in e: i\nassert len(a) and print(b) and K and f and yy and np and os and z and a")
    got = values.names_read(source)
    assert sorted(got) == ["a", "b", "c", "d", "e"] and len(got) == 5


def test_names_read_counts_a_name_tested_as_text_in_globals_locals_or_dir():
    assert values.names_read('assert "x" in globals()') == ["x"]
    assert values.names_read('assert "x" in locals() and "y" not in dir()') == ["x", "y"]
    assert values.names_read('assert "x" in names()') == ["names"]  # another function: a string only
    assert values.names_read('assert "not an id" in globals()') == []
    assert values.names_read('assert 3 in globals()') == []
    assert values.names_read('assert "len" in globals()') == []  # a builtin is never carried
    assert values.names_read('assert "q" in m.globals()') == ["m"]


def test_names_read_understands_ipython_syntax_and_gives_up_on_broken_code():
    assert "answer" in values.names_read("!ls\nassert answer == 3")
    assert values.names_read("def (:") == []
    assert values.names_bound("def (:") == set()


def test_names_read_skips_async_functions_and_handlers_without_names():
    source = "async def g(): return w\ntry:\n    pass\nexcept Exception:\n    v\nassert g and u"
    assert sorted(values.names_read(source)) == ["u", "v", "w"]


def test_names_bound_lists_what_a_cell_sets():
    source = ("a = 1\nb, (c, d) = 2, (3, 4)\nimport numpy as np, os.path\nfrom m import y as yy, z\n"
              "def f(x):\n    inner = x\n    return inner\nasync def g(): pass\nclass K: pass\nprint(e)")
    assert values.names_bound(source) == {"a", "b", "c", "d", "np", "os", "yy", "z", "f", "g", "K", "inner"}
    assert "q" in values.names_bound("!ls\nq = 1")


# -- plain Python values ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**70, 1.5, -0.25, "", "Stepanakert/Khankendi ü", b"\x00\xff", bytearray(b"ab"),
    [1, "a", None], (1, (2, 3)), {1, 2}, frozenset({"a"}), {"a": [1, 2.5], (1, 2): {3}, None: False},
    dt.datetime(2023, 9, 19, 12, 30, 5, 7), dt.datetime(2023, 9, 19, tzinfo=dt.UTC),
    dt.date(2020, 11, 10), dt.time(23, 59, 1, 5), dt.timedelta(days=-2, seconds=5, microseconds=7), [],
])
def test_plain_values_come_back_equal_and_of_the_same_type(value):
    got = trip(value)
    want = bytes(value) if isinstance(value, bytearray) else value
    assert type(got) is type(want) and got == want


def test_special_floats_cross_strict_json():
    assert math.isnan(trip(float("nan")))
    assert trip(float("inf")) == math.inf and trip(float("-inf")) == -math.inf
    assert values.encode(float("inf")) == {"t": "float", "v": "inf"}
    assert values.encode(float("-inf")) == {"t": "float", "v": "-inf"}
    assert values.encode(float("nan")) == {"t": "float", "v": "nan"}
    assert values.encode(2.5) == {"t": "float", "v": 2.5}


def test_int_subclasses_keep_the_number_and_bools_stay_bools():
    import enum

    class Level(enum.IntEnum):
        HIGH = 3

    assert values.encode(Level.HIGH) == {"t": "int", "v": 3}
    assert type(trip(Level.HIGH)) is int and trip(Level.HIGH) == 3
    assert values.encode(True) == {"t": "bool", "v": True}
    assert type(trip(np.bool_(True))) is np.bool_ and trip(np.bool_(False)) == np.False_


def test_a_str_subclass_arrives_as_text():
    class Name(str):
        pass

    assert trip(Name("Lachin")) == "Lachin" and type(trip(Name("x"))) is str


def test_an_unknown_collection_subclass_is_carried_as_its_base():
    class MyList(list):
        pass

    assert trip(MyList([1, 2])) == [1, 2] and type(trip(MyList())) is list


# -- numpy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.int8(-3), np.uint16(7), np.int64(2**40), np.float32(1.5), np.float64(-2.25)])
def test_numpy_numbers_keep_their_dtype(value):
    got = trip(value)
    assert type(got) is type(value) and got == value


def test_numpy_special_floats_and_text():
    assert math.isnan(trip(np.float64("nan"))) and type(trip(np.float64("nan"))) is np.float64
    assert trip(np.float32("inf")) == np.inf
    assert trip(np.str_("abc")) == "abc" and type(trip(np.str_("abc"))) is str
    assert trip(np.bytes_(b"ab")) == b"ab"


def test_numpy_dates_become_pandas_timestamps():
    assert trip(np.datetime64("2024-03-01T10:00")) == pd.Timestamp("2024-03-01T10:00")
    assert trip(np.timedelta64(5, "s")) == pd.Timedelta(seconds=5)


@pytest.mark.parametrize("array", [
    np.array([[1, 2, 3], [4, 5, 6]], dtype="int32"), np.array([1.5, np.nan, np.inf, -np.inf]),
    np.array([True, False]), np.array(["ab", "c"]), np.array([b"x", b"yz"]), np.array([1, "a", None], dtype=object),
    np.array(["2024-01-01", "NaT"], dtype="datetime64[s]"), np.array([1, 2], dtype="timedelta64[ms]"),
    np.array([], dtype="float32"), np.array([[[1]], [[2]]], dtype="uint8"),
])
def test_numpy_arrays_keep_shape_and_values(array):
    got = trip(array)
    assert isinstance(got, np.ndarray) and got.shape == array.shape
    if array.dtype.kind in "US":
        assert got.tolist() == array.tolist()
    else:
        assert got.dtype == array.dtype
        np.testing.assert_array_equal(got, array)


def test_a_complex_array_is_refused_with_its_dtype():
    assert values.encode(np.array([1j])) == {"t": "unsupported", "type": "numpy array of complex128"}
    assert isinstance(trip(np.array([1j])), values.NotCheckable)
    assert values.encode(np.complex128(1j)) == {"t": "unsupported", "type": "complex128"}


# -- pandas ------------------------------------------------------------------------------------------


def _same_frame(frame):
    pd.testing.assert_frame_equal(trip(frame), frame, check_exact=True)


def test_a_frame_keeps_dtypes_index_and_column_labels():
    frame = pd.DataFrame({"year": [1994, 2020, 2023], "share": [0.5, np.nan, 1.25], "side": ["am", "az", None],
                          "ok": [True, False, True]}, index=pd.Index(["a", "b", "c"], name="key"))
    frame["kind"] = pd.Categorical(["x", "y", "x"], categories=["y", "x"], ordered=True)
    frame["when"] = pd.to_datetime(["2020-11-10", None, "2023-09-19"])
    frame["tz"] = pd.to_datetime(["2020-11-10", "2021-01-01", None]).tz_localize("Asia/Yerevan")
    frame["gap"] = pd.to_timedelta([1, 2, None], unit="D")
    frame["n"] = pd.array([1, None, 3], dtype="Int64")
    frame["f"] = pd.array([0.5, None, 2.0], dtype="Float64")
    frame["b"] = pd.array([True, None, False], dtype="boolean")
    frame["s"] = pd.array(["a", None, "c"], dtype="string")
    frame["u8"] = pd.array([1, 2, None], dtype="UInt8")
    _same_frame(frame)


def test_frames_with_range_and_multi_indexes():
    _same_frame(pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(5, 9, 2, name="r")))
    multi = pd.MultiIndex.from_arrays([["x", "x", "y"], [1, 2, 1]], names=["letter", None])
    _same_frame(pd.DataFrame({"v": [1.0, 2.0, 3.0]}, index=multi))
    columns = pd.MultiIndex.from_tuples([("a", 1), ("b", 2)])
    _same_frame(pd.DataFrame([[1, 2]], columns=columns))
    _same_frame(pd.DataFrame({1: [1], 2.5: ["x"]}))
    _same_frame(pd.DataFrame())


def test_a_series_keeps_its_name_and_index():
    series = pd.Series([3, 1, 2], index=pd.Index([10, 20, 30], name="k"), name=("a", 1), dtype="int16")
    pd.testing.assert_series_equal(trip(series), series, check_exact=True)
    dated = pd.Series([1.5], index=pd.DatetimeIndex(["2024-01-01"], name="d"), name="v")
    pd.testing.assert_series_equal(trip(dated), dated, check_exact=True)
    objects = pd.Series([[1, 2], {"a": 1}, (3,)])
    got = trip(objects)
    assert got.tolist() == [[1, 2], {"a": 1}, (3,)]


def test_an_index_comes_back_as_an_index():
    index = pd.Index(["b", "a"], name="n")
    pd.testing.assert_index_equal(trip(index), index, exact=True)
    pd.testing.assert_index_equal(trip(pd.RangeIndex(3)), pd.RangeIndex(3), exact=True)
    categories = pd.CategoricalIndex(["a", "b", "a"], name="c")
    pd.testing.assert_index_equal(trip(categories), categories, exact=True)


def test_pandas_scalars():
    assert trip(pd.NA) is pd.NA and trip(pd.NaT) is pd.NaT
    stamp = pd.Timestamp("2023-09-19 10:00:00.123456789")
    assert trip(stamp) == stamp and trip(stamp).unit == "ns"
    seconds = pd.Timestamp("2023-09-19").as_unit("s")
    assert trip(seconds).unit == "s" and trip(seconds) == seconds
    aware = pd.Timestamp("2023-09-19 10:00", tz="Asia/Baku")
    assert trip(aware) == aware and str(trip(aware).tz) in ("+04:00", "UTC+04:00", "Asia/Baku")
    delta = pd.Timedelta("1 days 00:00:00.000000005")
    assert trip(delta) == delta and trip(pd.Timedelta(seconds=3).as_unit("s")).unit == "s"


def test_text_columns_keep_their_missing_value():
    for dtype in ("string", "str") if hasattr(pd, "StringDtype") else ("string",):
        try:
            series = pd.Series(["a", None], dtype=dtype)
        except TypeError:
            continue
        pd.testing.assert_series_equal(trip(series), series, check_exact=True)


def test_object_columns_of_containers_cross():
    got = trip(pd.Series([[1, 2], {"a": 1}, (3,)]))
    assert got.dtype == object and got.tolist() == [[1, 2], {"a": 1}, (3,)]


# Was a bug: an object column of plain values (a Series' .array has a NumpyEADtype) was written
# unencoded and could not be read back, so the judge saw "not checkable" instead of the answer.
@pytest.mark.parametrize("data", [["a", None], [1, "a", None, 2.5]])
def test_object_columns_of_plain_values_cross(data):
    series = pd.Series(data, dtype=object)
    pd.testing.assert_series_equal(trip(series), series, check_exact=True)
    frame = pd.DataFrame({"c": series})
    pd.testing.assert_frame_equal(trip(frame), frame, check_exact=True)


# -- what cannot be carried ------------------------------------------------------------------------


def test_unsupported_values_arrive_as_not_checkable_with_a_clear_message():
    got = trip(lambda: 1)
    assert isinstance(got, values.NotCheckable)
    assert repr(got) == str(got) == ("<value: a function, which the grader cannot carry out of the sandbox to check "
                                     "it (answers must be numbers, text, lists, dicts or tables)>")
    assert values.decode({"t": "unsupported"}, "x").why.startswith("a value, which")
    assert values.decode({"t": "unsupported", "type": "module"}, "np").name == "np"


def test_deep_nesting_is_cut_at_the_limit():
    value = inner = []
    for _ in range(values.MAX_DEPTH + 5):
        inner.append([])
        inner = inner[0]
    data = values.encode(value)
    for _ in range(values.MAX_DEPTH):
        data = data["v"][0]
    assert data["t"] == "list"
    assert data["v"][0] == {"t": "unsupported", "type": "nested too deeply"}
    shallow = [[[]]]
    assert trip(shallow) == shallow
    assert values.encode([1], depth=values.MAX_DEPTH) == {"t": "list", "v": [
        {"t": "unsupported", "type": "nested too deeply"}]}
    assert values.encode(1, depth=values.MAX_DEPTH) == {"t": "int", "v": 1}


def test_missing_values_raise_key_error_and_unknown_kinds_value_error():
    with pytest.raises(KeyError, match="answer"):
        values.decode({"t": "missing"}, "answer")
    with pytest.raises(ValueError, match="unknown kind 'evil'"):
        values.decode({"t": "evil"})
    with pytest.raises(ValueError, match="not a numpy number"):
        values.decode({"t": "np", "dtype": "complex128", "v": 1})
    with pytest.raises(ValueError, match="dtype complex128 not carried"):
        values.decode({"t": "ndarray", "shape": [1], "data": {"dtype": "complex128", "v": [1]}})
    with pytest.raises(ValueError, match="dtype V8 not carried"):
        values._dtype("V8")
    with pytest.raises(ValueError, match="not carried"):
        values._dtype("interval[int64, right]")
    assert values._dtype("object") == np.dtype("O")
    assert values._dtype("Int32") == pd.Int32Dtype() and values._dtype("boolean") == pd.BooleanDtype()


# -- dump and inject ------------------------------------------------------------------------------


@pytest.fixture
def published(monkeypatch):
    import IPython.display

    seen = []
    monkeypatch.setattr(IPython.display, "publish_display_data", lambda data: seen.append(data))
    return seen


def test_dump_publishes_one_json_text_with_missing_and_broken_values(published):
    class Broken:
        @property
        def dtype(self):
            raise RuntimeError

    namespace = {"a": [1, float("nan")], "f": print}
    values.dump(namespace, ["a", "gone", "f"])
    assert len(published) == 1 and list(published[0]) == [values.MIME]
    payload = json.loads(published[0][values.MIME])
    assert payload == {"a": {"t": "list", "v": [{"t": "int", "v": 1}, {"t": "float", "v": "nan"}]},
                       "gone": {"t": "missing"},
                       "f": {"t": "unsupported", "type": "builtin_function_or_method"}}


def test_dump_survives_a_value_that_breaks_the_encoder(published, monkeypatch):
    real = values.encode

    def boom(value, depth=0):
        if value == "bad":
            raise RuntimeError("no")
        return real(value, depth)

    monkeypatch.setattr(values, "encode", boom)
    values.dump({"x": "bad", "y": 2}, ["x", "y"])
    assert json.loads(published[0][values.MIME]) == {"x": {"t": "unsupported", "type": "str (RuntimeError)"},
                                                     "y": {"t": "int", "v": 2}}


def test_dump_refuses_every_value_when_the_whole_is_too_large(published, monkeypatch):
    monkeypatch.setattr(values, "MAX_BYTES", 40)
    values.dump({"a": "x" * 30, "b": 1}, ["a", "b"])
    assert json.loads(published[0][values.MIME]) == {
        name: {"t": "unsupported", "type": "too large to carry (over 64 MB as JSON)"} for name in ("a", "b")}
    published.clear()
    values.dump({"a": "x"}, ["a"])  # {"a": {"t": "str", "v": "x"}} is 28 characters: carried
    assert json.loads(published[0][values.MIME]) == {"a": {"t": "str", "v": "x"}}


def test_the_size_limit_is_64_mb():
    assert values.MAX_BYTES == 64 * 1024 * 1024 and values.MAX_DEPTH == 20


def test_inject_sets_values_removes_missing_ones_and_marks_unreadable_ones(tmp_path):
    payload = {"a": values.encode(pd.Series([1, 2])), "gone": {"t": "missing"}, "bad": {"t": "np", "dtype": "c16",
                                                                                      "v": 1},
               "not an id": {"t": "int", "v": 1}, "__import__('os')": {"t": "int", "v": 1}}
    file = tmp_path / "v.json"
    file.write_text(json.dumps(payload), encoding="utf-8")
    namespace = {"gone": 5, "keep": 1}
    values.inject(namespace, str(file))
    assert set(namespace) == {"a", "bad", "keep"}
    assert namespace["a"].tolist() == [1, 2]
    assert isinstance(namespace["bad"], values.NotCheckable)
    assert repr(namespace["bad"]) == "<bad: could not be read back (ValueError: not a numpy number)>"
    values.inject(namespace, str(file))  # missing twice: still absent, no error
    assert "gone" not in namespace


def test_units_and_infinities_inside_columns():
    aware = pd.Series(pd.to_datetime(["2020-11-10 01:02:03", None]).tz_localize("Asia/Baku").as_unit("s"))
    pd.testing.assert_series_equal(trip(aware), aware, check_exact=True)
    floats = pd.Series(pd.array([np.inf, None, -np.inf, np.nan], dtype="Float32"))
    got = trip(floats)
    assert str(got.dtype) == "Float32" and got[0] == np.inf and got[2] == -np.inf and got[1] is pd.NA
    seconds = pd.Series(np.array(["2024-01-01T00:00:01", "NaT"], dtype="datetime64[s]"))
    pd.testing.assert_series_equal(trip(seconds), seconds, check_exact=True)
    ints = pd.Categorical([3, 1, 3], categories=[1, 3])
    pd.testing.assert_series_equal(trip(pd.Series(ints)), pd.Series(ints), check_exact=True)


def test_nanosecond_time_zone_columns_cross():
    aware = pd.Series(pd.DatetimeIndex(["2020-11-10 01:02:03.000000001", "2023-09-19"]).tz_localize("UTC")
                      .as_unit("ns").tz_convert("Asia/Yerevan"))
    pd.testing.assert_series_equal(trip(aware), aware, check_exact=True)


def test_an_index_of_tuples_stays_a_flat_index():
    index = pd.Index([(1, 2), (3, 4)], tupleize_cols=False)
    got = trip(index)
    assert not isinstance(got, pd.MultiIndex) and list(got) == [(1, 2), (3, 4)]


def test_a_frame_without_columns_keeps_its_rows():
    frame = pd.DataFrame(index=pd.Index(["a", "b"], name="k"))
    _same_frame(frame)


def test_numpy_booleans_keep_their_value():
    assert trip(np.bool_(True)) is np.True_ and trip(np.bool_(False)) is np.False_


def test_nested_dicts_are_cut_at_the_same_depth_as_lists():
    deep_values = {}
    cursor = deep_values
    for _ in range(values.MAX_DEPTH + 5):
        cursor["k"] = {}
        cursor = cursor["k"]
    data = values.encode(deep_values)
    for _ in range(values.MAX_DEPTH):
        data = data["v"][0][1]
    assert data["t"] == "dict" and data["v"][0][1] == {"t": "unsupported", "type": "nested too deeply"}
    key = ()
    for _ in range(values.MAX_DEPTH + 5):
        key = (key,)
    data = values.encode({key: 1})["v"][0][0]
    for _ in range(values.MAX_DEPTH - 1):
        data = data["v"][0]
    assert data["t"] == "tuple" and data["v"][0] == {"t": "unsupported", "type": "nested too deeply"}


def test_a_value_inside_a_container_is_named_after_its_variable(tmp_path):
    file = tmp_path / "v.json"
    file.write_text(json.dumps({"answer": values.encode([print]), "table": values.encode({"k": print}),
                                "keys": values.encode({(1,): 1})}))
    namespace = {}
    values.inject(namespace, str(file))
    assert namespace["answer"][0].name == "answer"
    assert repr(namespace["answer"][0]).startswith("<answer: a builtin_function_or_method, which")
    assert namespace["table"]["k"].name == "table"
    with pytest.raises(KeyError, match="lst"):
        values.decode({"t": "list", "v": [{"t": "missing"}]}, "lst")
    with pytest.raises(KeyError, match="dct"):
        values.decode({"t": "dict", "v": [[{"t": "missing"}, {"t": "int", "v": 1}]]}, "dct")
    with pytest.raises(KeyError, match="dct"):
        values.decode({"t": "dict", "v": [[{"t": "int", "v": 1}, {"t": "missing"}]]}, "dct")


def test_inject_names_what_cannot_be_carried_and_skips_only_bad_names(tmp_path):
    file = tmp_path / "v.json"
    file.write_text(json.dumps({"1bad": {"t": "int", "v": 1}, "f": values.encode(print), "n": {"t": "int", "v": 2}}))
    namespace = {}
    values.inject(namespace, str(file))
    assert set(namespace) == {"f", "n"} and namespace["n"] == 2
    assert namespace["f"].name == "f"


def test_dump_carries_a_text_exactly_at_the_limit(published, monkeypatch):
    text = json.dumps({"a": {"t": "str", "v": "x"}}, allow_nan=False)
    monkeypatch.setattr(values, "MAX_BYTES", len(text))
    values.dump({"a": "x"}, ["a"])
    assert published[-1][values.MIME] == text
    monkeypatch.setattr(values, "MAX_BYTES", len(text) - 1)
    values.dump({"a": "x"}, ["a"])
    assert "too large" in published[-1][values.MIME]


def test_arrays_of_more_than_one_dimension_are_flattened_for_the_trip():
    for array in (np.array([[1.5, np.nan], [np.inf, 0.0]]), np.array([["a", "b"]]), np.array([[1, None]], dtype=object),
                  np.array([["2024-01-01"]], dtype="datetime64[D]")):
        assert values.encode(array)["data"]["v"] and all(not isinstance(v, list)
                                                          for v in values.encode(array)["data"]["v"])
        got = trip(array)
        assert got.shape == array.shape
        np.testing.assert_array_equal(got, array)
