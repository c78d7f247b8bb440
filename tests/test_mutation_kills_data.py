"""course.data, pinned where mutation testing found the suite let a change through (issue 20).

The checks use small made-up descriptions and files (not the course's data sets, which change),
so each test says exactly which rule it keeps. Run tests/mutation/run_mutation.py data to see
what still survives.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from course import data


def _field(kind: str, **constraints) -> dict:
    return {"name": "f", "type": kind, "constraints": constraints}


@pytest.mark.parametrize(("value", "field", "message"), [
    ("", _field("string", required=True), "is empty but required"),
    ("", _field("integer"), None),
    ("1.5", _field("integer"), "'1.5' is not a whole number"),
    ("abc", _field("number"), "'abc' is not a number"),
    ("1e3", _field("number"), None),
    ("2020-13", _field("date"), "'2020-13' is not a date (YYYY-MM-DD)"),
    ("2020-01-02", _field("date"), None),
    ("x", _field("string", enum=["a", "b"]), "'x' is not one of ['a', 'b']"),
    ("ab1", _field("string", pattern="[a-z]+"), "'ab1' does not match the pattern [a-z]+"),
    ("abc", _field("string", pattern="[a-z]+"), None),
    ("-1", _field("integer", minimum=0), "-1 is below the minimum 0"),
    ("0", _field("integer", minimum=0), None),
    ("11", _field("integer", maximum=10), "11 is above the maximum 10"),
    ("-0.5", _field("number", minimum=0), "-0.5 is below the minimum 0"),
    ("10.5", _field("number", maximum=10), "10.5 is above the maximum 10"),
    ("10", _field("number", maximum=10), None),
    ("5", _field("string", maximum=1), None),  # a range applies to numbers only
])
def test_check_cell_messages(value, field, message):
    assert data._check_cell(value, field) == message


def _resource(tmp_path, header: str, *rows: str, primary=None, **fields):
    file = tmp_path / "made_up.csv"
    file.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    schema = {"fields": [{"name": n, "type": t[0], "constraints": t[1]} for n, t in fields.items()]}
    if primary:
        schema["primaryKey"] = primary
    return {"name": "made_up", "path": file.name, "schema": schema}, file


def test_a_unique_field_refuses_a_repeat_even_without_a_primary_key(tmp_path):
    res, file = _resource(tmp_path, "id,n", "a,1", "b,2", "a,3",
                          id=("string", {"unique": True}), n=("integer", {}))
    with pytest.raises(data.DataError) as err:
        data._read_checked(res, file)
    assert str(err.value) == "made_up.csv, row 4, field 'id': a repeats row 2"
    res, file = _resource(tmp_path, "id,n", "a,1", "b,2", "a,3", id=("string", {}), n=("integer", {}))
    assert len(data._read_checked(res, file)) == 3


def test_an_empty_file_and_an_unreadable_file_are_named(tmp_path):
    res, file = _resource(tmp_path, "id", id=("string", {}))
    file.write_text("", encoding="utf-8")
    with pytest.raises(data.DataError) as err:
        data._read_checked(res, file)
    assert str(err.value) == "made_up.csv: the header is None, expected ['id']"
    file.write_bytes(b"id\n\xff\xfe\n")
    with pytest.raises(data.DataError) as err:
        data._read_checked(res, file)
    assert str(err.value).startswith("made_up.csv: cannot read the file: ")


def test_a_quoted_line_break_inside_a_cell_is_kept(tmp_path):
    res, file = _resource(tmp_path, "id,note", id=("string", {}), note=("string", {}))
    file.write_bytes(b'id,note\r\na,"first line\r\nsecond line"\r\n')
    assert data._read_checked(res, file) == [{"id": "a", "note": "first line\r\nsecond line"}]


def test_unknown_data_set_message_lists_the_names():
    with pytest.raises(KeyError) as err:
        data.source("no-such-set")
    assert err.value.args[0] == f"no data set called 'no-such-set'; the data sets are: {', '.join(data.names())}"


def test_source_text_line_by_line():
    package = json.loads(data.PACKAGE_FILE.read_text(encoding="utf-8"))
    for res in package["resources"]:
        lines = [f"{res['title']} ({res['path']})", "", res["description"], "", "Sources:"]
        lines += [f"  - {s['title']}" + (f" <{s['path']}>" if "path" in s else "") for s in res.get("sources", [])]
        lines.append("Licence: " + "; ".join(f"{lic['name']} ({lic['title']})" for lic in res.get("licenses", [])))
        lines.append(f"Cite as: {res['citation']}")
        assert data.source(res["name"]) == "\n".join(lines)
    linked = [r for r in package["resources"] if any("path" in s for s in r.get("sources", []))]
    assert linked and " <" in data.source(linked[0]["name"])
    licensed = [r for r in package["resources"] if len(r.get("licenses", [])) > 1]
    assert licensed and "; " in data.source(licensed[0]["name"]).splitlines()[-2]


def test_source_of_a_data_set_without_sources_or_licences(monkeypatch):
    bare = {"name": "bare", "title": "Bare", "path": "bare.csv", "description": "Nothing else.", "citation": "Us"}
    monkeypatch.setattr(data, "_resource", lambda name: bare)
    assert data.source("bare") == "Bare (bare.csv)\n\nNothing else.\n\nSources:\nLicence: \nCite as: Us"


def test_to_frame_types_and_blanks(tmp_path):
    res, file = _resource(tmp_path, "whole,real,day,kind,free", "1,1.5,2020-01-02,a,x", ",,,,",
                          whole=("integer", {}), real=("number", {}), day=("date", {}),
                          kind=("string", {"enum": ["b", "a"]}), free=("string", {}))
    frame = data._to_frame(res, data._read_checked(res, file))
    assert list(frame.columns) == ["whole", "real", "day", "kind", "free"]
    assert str(frame["whole"].dtype) == "Int64" and frame["whole"].iloc[0] == 1 and frame["whole"].isna().iloc[1]
    assert str(frame["real"].dtype) == "float64" and frame["real"].iloc[0] == 1.5
    assert frame["day"].iloc[0] == pd.Timestamp("2020-01-02") and pd.isna(frame["day"].iloc[1])
    assert list(frame["kind"].cat.categories) == ["b", "a"] and frame["kind"].iloc[0] == "a"
    assert str(frame["free"].dtype) == "string" and frame["free"].iloc[0] == "x" and pd.isna(frame["free"].iloc[1])


def test_timeline_keeps_the_written_date_beside_the_real_one(tmp_path):
    res, file = _resource(tmp_path, "date,date_precision", "1991-12-21,day", "2009-10,month",
                          date=("string", {}), date_precision=("string", {}))
    res["name"] = "timeline"
    frame = data._to_frame(res, data._read_checked(res, file))
    assert list(frame.columns) == ["date", "date_text", "date_precision"]
    assert list(frame["date"]) == [pd.Timestamp("1991-12-21"), pd.Timestamp("2009-10-01")]
    assert list(frame["date_text"]) == ["1991-12-21", "2009-10"] and str(frame["date_text"].dtype) == "string"


def test_a_file_with_a_header_only_gives_an_empty_table_with_its_columns(tmp_path):
    res, file = _resource(tmp_path, "id,n", id=("string", {}), n=("integer", {}))
    frame = data._to_frame(res, data._read_checked(res, file))
    assert list(frame.columns) == ["id", "n"] and len(frame) == 0


def test_files_are_read_as_utf8_whatever_the_locale(tmp_path, run_in_c_locale):
    """A student's computer may not use UTF-8 by default (Windows): the loader names the encoding."""

    res, file = _resource(tmp_path, "name", "Ստեփանակերտ", name=("string", {}))
    assert data._read_checked(res, file) == [{"name": "Ստեփանակերտ"}]  # in-process too: mutmut maps tests by it
    code = ("import json, sys; from pathlib import Path; from course import data; "
            "print(json.dumps(data._read_checked(json.loads(sys.argv[1]), Path(sys.argv[2]))))")
    assert run_in_c_locale(code, json.dumps(res), str(file)) == [{"name": "Ստեփանակերտ"}]
