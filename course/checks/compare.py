"""Compare a student's value with the expected one the way a teacher would.

Each function returns None when the value is acceptable, or a message that says what is off
without printing the expected value.
"""
from __future__ import annotations

import math
from numbers import Real

DEFAULT_RTOL = 1e-6


def _is_number(value) -> bool:
    import numpy as np

    return isinstance(value, (Real, np.number)) and not isinstance(value, (bool, np.bool_))


def number(got, expected, tolerance: float | None = None) -> str | None:
    if not _is_number(got):
        return f"Expected a number, but your answer is a {type(got).__name__}."
    got = float(got)
    if math.isnan(got):
        return "Your answer is NaN (not a number): check for missing values."
    tol = tolerance if tolerance is not None else DEFAULT_RTOL * max(1.0, abs(expected))
    if abs(got - expected) <= tol:
        return None
    return f"Your number ({got:g}) is too {'high' if got > expected else 'low'}."


def text(got, expected, **_) -> str | None:
    if not isinstance(got, str):
        return f"Expected text (a string), but your answer is a {type(got).__name__}."
    if got.strip().casefold() == str(expected).strip().casefold():
        return None
    return "That text is not the one asked for."


def boolean(got, expected, **_) -> str | None:
    if not isinstance(got, bool):
        return f"Expected True or False, but your answer is a {type(got).__name__}."
    return None if got == expected else "Not that one: think again about the question."


def collection(got, expected, ordered: bool = False, **_) -> str | None:
    import pandas as pd

    if isinstance(got, (pd.Series, pd.Index)):
        got = got.tolist()
    if isinstance(got, (str, bytes, dict)) or not hasattr(got, "__iter__"):
        return f"Expected a list, but your answer is a {type(got).__name__}."
    got, expected = list(got), list(expected)
    if ordered:
        if got == expected:
            return None
        if sorted(map(str, got)) == sorted(map(str, expected)):
            return "The right items, but not in the asked order."
    elif set(map(str, got)) == set(map(str, expected)) and len(got) == len(expected):
        return None
    extra = len(set(map(str, got)) - set(map(str, expected)))
    missing = len(set(map(str, expected)) - set(map(str, got)))
    parts = []
    if extra:
        parts.append(f"{extra} item(s) that do not belong")
    if missing:
        parts.append(f"{missing} item(s) missing")
    if not parts:
        parts.append("repeated items")
    return "Your list has " + " and ".join(parts) + "."


def _index_as_columns(frame):
    """Turn meaningful row labels (a named or non-default index) into ordinary columns."""
    import pandas as pd

    default = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None \
        and frame.index.start == 0 and frame.index.step == 1
    return frame.reset_index(drop=True) if default else frame.reset_index()


def _normalise_frame(frame, columns, ordered: bool):
    """Plain dtypes, the expected column order, and (unless order matters) sorted rows."""
    import pandas as pd

    frame = frame.reset_index(drop=True)
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].astype(object)
    frame = frame[list(columns)]
    if not ordered:
        try:
            frame = frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)
        except TypeError:
            pass
    return frame


def _column_differs(got, expected, tolerance) -> bool:
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(expected) and pd.api.types.is_numeric_dtype(got) \
            and not pd.api.types.is_bool_dtype(expected):
        a = got.astype("float64").to_numpy()
        b = expected.astype("float64").to_numpy()
        rtol = tolerance if tolerance is not None else DEFAULT_RTOL
        return not np.allclose(a, b, rtol=rtol, atol=rtol, equal_nan=True)
    if pd.api.types.is_datetime64_any_dtype(expected):
        return not pd.to_datetime(got, errors="coerce").equals(expected)
    a = got.astype(object).where(got.notna(), None).tolist()
    b = expected.astype(object).where(expected.notna(), None).tolist()
    return a != b


def dataframe(got, expected, tolerance: float | None = None, ordered: bool = False,
              ignore_index: bool = True, **_) -> str | None:
    """Tolerates column order, dtype differences and (by default) the index; floats with tolerance.

    With `ignore_index=False` the row labels count: a named or non-default index is compared as
    if it were a column.
    """
    import pandas as pd

    if isinstance(got, pd.Series) and isinstance(expected, pd.DataFrame) and len(expected.columns) == 1:
        got = got.to_frame(expected.columns[0])
    if not isinstance(got, pd.DataFrame):
        return f"Expected a pandas DataFrame (a table), but your answer is a {type(got).__name__}."
    if not ignore_index:
        got, expected = _index_as_columns(got), _index_as_columns(expected)
    missing = [c for c in expected.columns if c not in got.columns]
    if missing:
        return f"Your table lacks the column(s) {', '.join(map(repr, missing))}."
    extra = [c for c in got.columns if c not in expected.columns]
    if extra:
        return f"Your table has column(s) the task does not ask for: {', '.join(map(repr, extra))}."
    if len(got) != len(expected):
        return (f"Your table has {len(got)} rows, {'more' if len(got) > len(expected) else 'fewer'} than "
                f"expected: check your filter.")
    exp = _normalise_frame(expected, expected.columns, ordered)
    mine = _normalise_frame(got, expected.columns, ordered)
    for col in exp.columns:
        if _column_differs(mine[col], exp[col], tolerance):
            if ordered and sorted(map(str, mine[col])) == sorted(map(str, exp[col])):
                return f"The right rows, but not in the asked order (look at the sorting, column {col!r})."
            return f"The number of rows is right, but some values in column {col!r} differ."
    return None


def series(got, expected, tolerance: float | None = None, ordered: bool = False,
           ignore_index: bool = False, **_) -> str | None:
    """Compares index labels and values (the index often carries the answer, e.g. per year)."""
    import pandas as pd

    if isinstance(got, pd.DataFrame) and got.shape[1] == 1:
        got = got.iloc[:, 0]
    if not isinstance(got, pd.Series):
        return f"Expected a pandas Series (one column), but your answer is a {type(got).__name__}."
    name = expected.name if expected.name is not None else "value"
    labels = expected.index.name or "label"
    frame_got = got.rename(name).rename_axis(labels).to_frame()
    frame_exp = expected.rename(name).rename_axis(labels).to_frame()
    if not ignore_index:
        frame_got, frame_exp = frame_got.reset_index(), frame_exp.reset_index()
    message = dataframe(frame_got, frame_exp, tolerance=tolerance, ordered=ordered)
    if message and expected.name is None:  # 'value' is our own label: don't name it to the student
        message = message.replace(" in column 'value'", "").replace(", column 'value'", "")
    if message and expected.index.name is None:
        message = message.replace("some values in column 'label' differ", "some labels (the index) differ")
    return message and message.replace("table", "Series").replace("rows", "entries")


def auto(got, expected, **options) -> str | None:
    """Compare by the type of the expected value (used for what a function returns)."""
    import numpy as np
    import pandas as pd

    if isinstance(expected, pd.DataFrame):
        return dataframe(got, expected, **options)
    if isinstance(expected, (pd.Series, np.ndarray)):
        if isinstance(got, np.ndarray):
            got = pd.Series(got)
        return series(got, pd.Series(expected), ignore_index=True, **options)
    if _is_number(expected):
        if isinstance(got, (pd.Series, np.ndarray)) and len(got) == 1:
            got = got[0] if isinstance(got, np.ndarray) else got.iloc[0]
        return number(got, expected, options.get("tolerance"))
    if isinstance(expected, bool):
        return boolean(got, expected)
    if isinstance(expected, str):
        return text(got, expected)
    return collection(got, expected, **options)


COMPARERS = {"number": number, "text": text, "boolean": boolean, "list": collection,
             "dataframe": dataframe, "series": series}
