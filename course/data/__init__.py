"""The course's data sets: `names()`, `load(name)`, `source(name)`.

Every CSV is described in `datapackage.json` (a Frictionless Data Package). The loader reads
that description, checks each row against it, and turns the columns into pandas dtypes, so a
maintainer adds or fixes a data set by editing the CSV and the JSON, never this code.
Nothing is read at import time; `load` caches each data set and returns a fresh copy.
"""
from __future__ import annotations

import csv
import functools
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_FILE = HERE / "datapackage.json"


class DataError(ValueError):
    """A data file does not match its description: names the file, the row and the field."""


@functools.cache
def _package() -> dict:
    try:
        return json.loads(PACKAGE_FILE.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{PACKAGE_FILE.name}: cannot read the data package description: {err}") from err


def _resource(name: str) -> dict:
    for res in _package()["resources"]:
        if res["name"] == name:
            return res
    raise KeyError(f"no data set called {name!r}; the data sets are: {', '.join(names())}")


def names() -> list[str]:
    """The names of the data sets, in the order of the data package."""
    return [res["name"] for res in _package()["resources"]]


def source(name: str) -> str:
    """Where a data set comes from, its licence and how to cite it, as readable text."""
    res = _resource(name)
    lines = [f"{res['title']} ({res['path']})", "", res["description"], "", "Sources:"]
    for src in res.get("sources", []):
        lines.append(f"  - {src['title']}" + (f" <{src['path']}>" if "path" in src else ""))
    lines.append("Licence: " + "; ".join(f"{lic['name']} ({lic['title']})" for lic in res.get("licenses", [])))
    lines.append(f"Cite as: {res['citation']}")
    return "\n".join(lines)


def fields(name: str) -> list[dict]:
    """The field descriptions of a data set (name, type, description, unit, constraints)."""
    return _resource(name)["schema"]["fields"]


def path(name: str) -> Path:
    return HERE / _resource(name)["path"]


_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_INTEGER = re.compile(r"^-?\d+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_cell(value: str, field: dict) -> str | None:
    """Return why `value` breaks `field`'s description, or None when it fits."""
    cons = field.get("constraints", {})
    if value == "":
        return "is empty but required" if cons.get("required") else None
    kind = field["type"]
    if kind == "integer" and not _INTEGER.match(value):
        return f"{value!r} is not a whole number"
    if kind == "number" and not _NUMBER.match(value):
        return f"{value!r} is not a number"
    if kind == "date" and not _DATE.match(value):
        return f"{value!r} is not a date (YYYY-MM-DD)"
    if "enum" in cons and value not in cons["enum"]:
        return f"{value!r} is not one of {cons['enum']}"
    if "pattern" in cons and not re.fullmatch(cons["pattern"], value):
        return f"{value!r} does not match the pattern {cons['pattern']}"
    if kind in ("integer", "number"):
        num = float(value)
        if "minimum" in cons and num < cons["minimum"]:
            return f"{value} is below the minimum {cons['minimum']}"
        if "maximum" in cons and num > cons["maximum"]:
            return f"{value} is above the maximum {cons['maximum']}"
    return None


def _read_checked(res: dict, file: Path) -> list[dict]:
    """Read a CSV and check every row; the first problem raises DataError."""
    specs = res["schema"]["fields"]
    expected = [f["name"] for f in specs]
    try:
        with file.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header != expected:
                raise DataError(f"{file.name}: the header is {header}, expected {expected}")
            rows = []
            for line_no, cells in enumerate(reader, start=2):
                if len(cells) != len(expected):
                    raise DataError(f"{file.name}, row {line_no}: {len(cells)} fields, expected {len(expected)}")
                for cell, spec in zip(cells, specs):
                    problem = _check_cell(cell, spec)
                    if problem:
                        raise DataError(f"{file.name}, row {line_no}, field {spec['name']!r}: {problem}")
                rows.append(dict(zip(expected, cells)))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{file.name}: cannot read the file: {err}") from err
    keys = [[spec["name"]] for spec in specs if spec.get("constraints", {}).get("unique")]
    if res["schema"].get("primaryKey"):
        keys.append(res["schema"]["primaryKey"])
    for key in keys:
        seen: dict[tuple, int] = {}
        for line_no, row in enumerate(rows, start=2):
            value = tuple(row[name] for name in key)
            if value in seen:
                raise DataError(f"{file.name}, row {line_no}, field {'+'.join(key)!r}: "
                                f"{', '.join(value)} repeats row {seen[value]}")
            seen[value] = line_no
    return rows


def _to_frame(res: dict, rows: list[dict]):
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[f["name"] for f in res["schema"]["fields"]])
    for spec in res["schema"]["fields"]:
        col = spec["name"]
        blank = frame[col] == ""
        kind = spec["type"]
        if kind == "integer":
            frame[col] = pd.to_numeric(frame[col].mask(blank)).astype("Int64")
        elif kind == "number":
            frame[col] = pd.to_numeric(frame[col].mask(blank)).astype("float64")
        elif kind == "date":
            frame[col] = pd.to_datetime(frame[col].mask(blank), format="%Y-%m-%d")
        elif "enum" in spec.get("constraints", {}):
            frame[col] = pd.Categorical(frame[col].mask(blank), categories=spec["constraints"]["enum"])
        else:
            frame[col] = frame[col].mask(blank).astype("string")
    if res["name"] == "timeline":
        frame = _timeline_dates(frame)
    return frame


def _timeline_dates(frame):
    """Keep the written date as `date_text` and give `date` a real datetime.

    A month-precision date ("2009-10") becomes the first of that month; `date_precision`
    says so, so a lesson never reads a day into it.
    """
    import pandas as pd

    text = frame["date"].astype("string")
    padded = text.where(frame["date_precision"] == "day", text + "-01")
    frame.insert(1, "date_text", text)
    frame["date"] = pd.to_datetime(padded, format="%Y-%m-%d")
    return frame


@functools.cache
def _cached(name: str):
    res = _resource(name)
    return _to_frame(res, _read_checked(res, HERE / res["path"]))


def load(name: str):
    """Load a data set as a pandas DataFrame with proper dtypes (a fresh copy each time)."""
    return _cached(name).copy()


def check_file(name: str, file: str | Path):
    """Check a CSV (e.g. an edited copy) against the description of data set `name`.

    Returns the DataFrame when the file fits; raises DataError naming file, row and field.
    """
    res = _resource(name)
    return _to_frame(res, _read_checked(res, Path(file)))


__all__ = ["DataError", "check_file", "fields", "load", "names", "path", "source"]
