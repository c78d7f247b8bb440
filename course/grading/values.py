"""Carry a student's answers out of the sandbox as JSON, so the tests can judge them elsewhere.

The tests of a graded notebook never run in the student's kernel (where the student's own code
could replace the comparison functions or rewrite every `assert`). Instead, at each test cell:

1. the grader asks the student's kernel for the values the test reads (`names_read`: the names
   a test cell reads and does not set itself), and the kernel answers with `dump`: one JSON text,
   never pickle, so reading it can never run the student's code;
2. a separate "judge" process, which never ran student code, puts the values back (`inject`,
   which only builds plain Python, numpy and pandas objects from the JSON) and runs the test.

What travels: None, True/False, numbers (Python and numpy), text, bytes, lists, tuples, sets,
dicts, dates and times, numpy arrays, and pandas DataFrames, Series and Indexes with their
dtypes, index and column labels. Anything else (a function, a module, an open file) arrives as a
`NotCheckable` stand-in whose text says what it was, so a test on it fails with a clear message.
"""
from __future__ import annotations

import ast
import base64
import builtins
import datetime as _dt
import json
import math

MIME = "application/x-course-grading-values"
MAX_BYTES = 64 * 1024 * 1024  # one answer set larger than this is not carried
MAX_DEPTH = 20


class NotCheckable:
    """Stands in for a value that cannot be carried out of the sandbox."""

    def __init__(self, name: str, why: str):
        self.name, self.why = name, why

    def __repr__(self) -> str:
        return f"<{self.name}: {self.why}>"

    __str__ = __repr__


# -- which names a test reads ------------------------------------------------------------------------
def _parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))


def names_read(source: str) -> list[str]:
    """The names a cell reads without setting them itself (builtins left out), in order of use.

    A name only mentioned as text in `"name" in globals()` counts as read too."""
    try:
        tree = _parse(source)
    except SyntaxError:
        return []
    read: list[str] = []
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                read.append(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str) and node.left.value.isidentifier() \
                and any(isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                        and c.func.id in ("globals", "locals", "dir") for c in node.comparators):
            read.append(node.left.value)
    seen, out = set(), []
    for name in read:
        if name not in bound and not hasattr(builtins, name) and name not in seen:
            seen.add(name)
            out.append(name)
    return out


def names_bound(source: str) -> set[str]:
    """The names a cell sets at its top level (assignments, imports, definitions)."""
    try:
        tree = _parse(source)
    except SyntaxError:
        return set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
    return bound


# -- encoding (runs in the student's kernel) -----------------------------------------------------------
def _float(x: float):
    return x if math.isfinite(x) else ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf"))


def _unfloat(x) -> float:
    return float(x) if isinstance(x, str) else x


def _column(values) -> dict:
    """A one-dimensional array-like (Series values, Index) with its dtype."""
    import numpy as np
    import pandas as pd

    if type(values) is pd.arrays.NumpyExtensionArray:  # a Series' .array over a plain numpy column
        values = values.to_numpy()
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cat = pd.Categorical(values)
        return {"dtype": "category", "ordered": bool(dtype.ordered), "codes": [int(c) for c in cat.codes],
                "categories": _column(pd.Index(cat.categories))}
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = pd.DatetimeIndex(values).tz_convert("UTC").tz_localize(None)
        return {"dtype": "datetimetz", "tz": str(dtype.tz), "unit": dtype.unit,
                "v": [None if pd.isna(x) else int(x) for x in naive.asi8]}
    if isinstance(dtype, np.dtype) and dtype.kind in "mM":
        ints = np.asarray(values).view("i8")
        nat = pd.isna(np.asarray(values))
        return {"dtype": str(dtype), "v": [None if n else int(i) for i, n in zip(ints.tolist(), nat.tolist())]}
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return {"dtype": str(dtype), "v": [_float(float(x)) for x in np.asarray(values).tolist()]}
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return {"dtype": str(dtype), "v": np.asarray(values).tolist()}
    if isinstance(dtype, np.dtype) and dtype.kind in "US":
        return {"dtype": "object", "v": [encode(x) for x in np.asarray(values).tolist()]}
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return {"dtype": "object", "v": [encode(x) for x in list(values)]}
    # pandas extension dtypes: nullable integers, floats, booleans, strings
    name = str(dtype)
    out = []
    for x in list(values):
        if x is pd.NA or x is None or (isinstance(x, float) and math.isnan(x)):
            out.append(None)
        elif isinstance(x, (float, np.floating)):
            out.append(_float(float(x)))
        elif isinstance(x, (np.integer, np.bool_)):
            out.append(x.item())
        elif isinstance(x, (bool, int, str)):
            out.append(x)
        else:
            return {"dtype": "object", "v": [encode(y) for y in list(values)]}
    na = "nan" if getattr(dtype, "na_value", None) is not pd.NA and name in ("str", "string") else None
    return {"dtype": name, "v": out, **({"na": na} if na else {})}


def _index(index) -> dict:
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "start": index.start, "stop": index.stop, "step": index.step,
                "name": encode(index.name)}
    if isinstance(index, pd.MultiIndex):
        return {"kind": "multi", "names": [encode(n) for n in index.names],
                "levels": [_column(index.get_level_values(i)) for i in range(index.nlevels)]}
    return {"kind": "index", "name": encode(index.name), "data": _column(index)}


def encode(value, depth: int = 0) -> dict:
    """A JSON-ready description of `value` (see the module's docstring for what is carried)."""
    import numpy as np
    import pandas as pd

    if depth > MAX_DEPTH:
        return {"t": "unsupported", "type": "nested too deeply"}
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value), **({"np": 1} if isinstance(value, np.bool_) else {})}
    if isinstance(value, np.generic) and not isinstance(value, (np.datetime64, np.timedelta64)):
        if value.dtype.kind in "iu":
            return {"t": "np", "dtype": str(value.dtype), "v": int(value)}
        if value.dtype.kind == "f":
            return {"t": "np", "dtype": str(value.dtype), "v": _float(float(value))}
        if value.dtype.kind in "US":
            return encode(value.item(), depth)
    if isinstance(value, int) and type(value) is not int:  # an int subclass: keep the number
        return {"t": "int", "v": int(value)}
    if type(value) is int:
        return {"t": "int", "v": value}
    if isinstance(value, float):
        return {"t": "float", "v": _float(float(value))}
    if isinstance(value, str):
        return {"t": "str", "v": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"t": "bytes", "v": base64.b64encode(bytes(value)).decode()}
    if value is pd.NA:
        return {"t": "na"}
    if value is pd.NaT:
        return {"t": "nat"}
    if isinstance(value, pd.Timestamp):
        return {"t": "timestamp", "v": value.isoformat(), "unit": value.unit}
    if isinstance(value, pd.Timedelta):
        return {"t": "timedelta", "v": int(value.value), "unit": value.unit}
    if isinstance(value, np.datetime64):
        return encode(pd.Timestamp(value), depth)
    if isinstance(value, np.timedelta64):
        return encode(pd.Timedelta(value), depth)
    if isinstance(value, _dt.datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, _dt.time):
        return {"t": "time", "v": value.isoformat()}
    if isinstance(value, _dt.timedelta):
        return {"t": "pytimedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, (list, tuple, set, frozenset)):
        kind = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset"}
        name = next((k for t, k in kind.items() if isinstance(value, t)), "list")
        return {"t": name, "v": [encode(x, depth + 1) for x in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, pd.DataFrame):
        return {"t": "frame", "index": _index(value.index), "columns": _index(value.columns),
                "data": [_column(value.iloc[:, i].array) for i in range(value.shape[1])]}
    if isinstance(value, pd.Series):
        return {"t": "series", "name": encode(value.name), "index": _index(value.index),
                "data": _column(value.array)}
    if isinstance(value, pd.Index):
        return {"t": "index", "v": _index(value)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufmMOUS":
            return {"t": "unsupported", "type": f"numpy array of {value.dtype}"}
        return {"t": "ndarray", "shape": list(value.shape), "data": _column(value.reshape(-1))}
    return {"t": "unsupported", "type": type(value).__name__}


def dump(namespace: dict, names: list[str]) -> None:
    """In the student's kernel: publish the named values as one JSON text (see `MIME`)."""
    from IPython.display import publish_display_data

    out = {}
    for name in names:
        if name not in namespace:
            out[name] = {"t": "missing"}
            continue
        try:
            out[name] = encode(namespace[name])
        except Exception as err:  # noqa: BLE001 - a strange value must not stop the others
            out[name] = {"t": "unsupported", "type": f"{type(namespace[name]).__name__} ({type(err).__name__})"}
    text = json.dumps(out, allow_nan=False)
    if len(text) > MAX_BYTES:
        text = json.dumps({name: {"t": "unsupported", "type": "too large to carry (over 64 MB as JSON)"}
                           for name in names})
    publish_display_data({MIME: text})


# -- decoding (runs in the judge) ------------------------------------------------------------------------
_ALLOWED_NUMPY = set("biufmM")


def _dtype(name: str):
    import numpy as np
    import pandas as pd

    if name == "object":
        return np.dtype("O")
    dtype = pd.api.types.pandas_dtype(name)
    if isinstance(dtype, np.dtype):
        if dtype.kind not in _ALLOWED_NUMPY:
            raise ValueError(f"dtype {name} not carried")
        return dtype
    if isinstance(dtype, (pd.StringDtype, pd.BooleanDtype)) or type(dtype).__name__.endswith(("IntegerDtype",)) \
            or isinstance(dtype, (pd.Int64Dtype, pd.Int32Dtype, pd.Int16Dtype, pd.Int8Dtype, pd.UInt64Dtype,
                                  pd.UInt32Dtype, pd.UInt16Dtype, pd.UInt8Dtype, pd.Float64Dtype, pd.Float32Dtype)):
        return dtype
    raise ValueError(f"dtype {name} not carried")


def _series(column, index, name=None):
    """A Series of exactly the column's dtype (pandas would otherwise read an object array of text as str)."""
    import pandas as pd

    return pd.Series(column, index=index, name=name, dtype=column.dtype)


def _uncolumn(data: dict):
    """A pandas array (or numpy array) from `_column`'s description."""
    import numpy as np
    import pandas as pd

    kind = data["dtype"]
    if kind == "category":
        categories = pd.Index(_uncolumn(data["categories"]))
        return pd.Categorical.from_codes(data["codes"], categories=categories, ordered=data["ordered"])
    if kind == "datetimetz":
        ints = np.array([np.iinfo("i8").min if x is None else x for x in data["v"]], dtype="i8")
        naive = pd.DatetimeIndex(ints.view("M8[ns]" if data.get("unit", "ns") == "ns" else f"M8[{data['unit']}]"))
        return naive.tz_localize("UTC").tz_convert(data["tz"]).array
    dtype = _dtype(kind)
    if isinstance(dtype, np.dtype) and dtype.kind in "mM":
        ints = np.array([np.iinfo("i8").min if x is None else x for x in data["v"]], dtype="i8")
        return ints.view(dtype)
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return np.array([_unfloat(x) for x in data["v"]], dtype=dtype)
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        out = np.empty(len(data["v"]), dtype=object)
        for i, x in enumerate(data["v"]):
            out[i] = decode(x)
        return out
    if isinstance(dtype, np.dtype):
        return np.array(data["v"], dtype=dtype)
    values = list(data["v"])
    if "Float" in kind:
        values = [_unfloat(x) for x in values]
    if data.get("na") == "nan":
        values = [np.nan if x is None else x for x in values]
    return pd.array(values, dtype=dtype)


def _unindex(data: dict):
    import pandas as pd

    if data["kind"] == "range":
        return pd.RangeIndex(data["start"], data["stop"], data["step"], name=decode(data["name"]))
    if data["kind"] == "multi":
        arrays = [_uncolumn(level) for level in data["levels"]]
        return pd.MultiIndex.from_arrays(arrays, names=[decode(n) for n in data["names"]])
    return pd.Index(_uncolumn(data["data"]), name=decode(data["name"]), tupleize_cols=False)


def decode(data: dict, name: str = "value"):
    """The value `encode` described (built from plain data only: no student code runs)."""
    import numpy as np
    import pandas as pd

    kind = data["t"]
    if kind == "none":
        return None
    if kind == "bool":
        return np.bool_(data["v"]) if data.get("np") else bool(data["v"])
    if kind == "int":
        return int(data["v"])
    if kind == "float":
        return float(_unfloat(data["v"]))
    if kind == "np":
        dtype = np.dtype(data["dtype"])
        if dtype.kind not in "iuf":
            raise ValueError("not a numpy number")
        return dtype.type(_unfloat(data["v"]))
    if kind == "str":
        return str(data["v"])
    if kind == "bytes":
        return base64.b64decode(data["v"])
    if kind == "na":
        return pd.NA
    if kind == "nat":
        return pd.NaT
    if kind == "timestamp":
        return pd.Timestamp(data["v"]).as_unit(data.get("unit", "ns"))
    if kind == "timedelta":
        return pd.Timedelta(int(data["v"]), unit="ns").as_unit(data.get("unit", "ns"))
    if kind == "datetime":
        return _dt.datetime.fromisoformat(data["v"])
    if kind == "date":
        return _dt.date.fromisoformat(data["v"])
    if kind == "time":
        return _dt.time.fromisoformat(data["v"])
    if kind == "pytimedelta":
        days, seconds, micro = data["v"]
        return _dt.timedelta(days=days, seconds=seconds, microseconds=micro)
    if kind in ("list", "tuple", "set", "frozenset"):
        items = [decode(x, name) for x in data["v"]]
        return {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[kind](items)
    if kind == "dict":
        return {decode(k, name): decode(v, name) for k, v in data["v"]}
    if kind == "frame":
        index, columns = _unindex(data["index"]), _unindex(data["columns"])
        frame = pd.DataFrame({i: _series(_uncolumn(col), index) for i, col in enumerate(data["data"])},
                             index=index)
        frame.columns = columns
        return frame
    if kind == "series":
        return _series(_uncolumn(data["data"]), _unindex(data["index"]), decode(data["name"]))
    if kind == "index":
        return _unindex(data["v"])
    if kind == "ndarray":
        return np.asarray(_uncolumn(data["data"])).reshape(data["shape"])
    if kind == "missing":
        raise KeyError(name)
    if kind == "unsupported":
        return NotCheckable(name, f"a {data.get('type', 'value')}, which the grader cannot carry out of the "
                                  "sandbox to check it (answers must be numbers, text, lists, dicts or tables)")
    raise ValueError(f"unknown kind {kind!r}")


def inject(namespace: dict, path: str) -> None:
    """In the judge: put the values of `path` (a JSON file written by the grader) into `namespace`;
    a name the student's kernel did not have is removed, so the test sees it missing too."""
    with open(path, encoding="utf-8") as handle:
        payload = json.load(handle)
    for name, data in payload.items():
        if not name.isidentifier():
            continue
        try:
            namespace[name] = decode(data, name)
        except KeyError:
            namespace.pop(name, None)
        except Exception as err:  # noqa: BLE001 - a value that does not decode is not checkable
            namespace[name] = NotCheckable(name, f"could not be read back ({type(err).__name__}: {err})")
