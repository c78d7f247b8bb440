"""The data layer: every data set loads with proper dtypes, the facts the lessons lean on hold,
the data package validates, and a broken CSV is reported by file, row and field."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from course import data

EXPECTED_ROWS = {"timeline": 52, "gazetteer": 20, "villages_2024": 4, "border_facts": 18, "fact_notes": 9,
                 "milex": 125, "gdp": 120, "population": 125, "outlines": 1741, "readings": 25}


def test_names_lists_every_data_set():
    assert data.names() == list(EXPECTED_ROWS)


@pytest.mark.parametrize("name", EXPECTED_ROWS)
def test_each_data_set_loads_with_its_row_count(name):
    frame = data.load(name)
    assert len(frame) == EXPECTED_ROWS[name]
    assert list(frame.columns)[: len(data.fields(name))][0] == data.fields(name)[0]["name"]


def test_load_returns_a_copy_that_callers_may_change():
    first = data.load("villages_2024")
    first.loc[0, "adjacent_armenian_village"] = "changed"
    assert data.load("villages_2024").loc[0, "adjacent_armenian_village"] == "Baghanis"


def test_timeline_dtypes_keep_date_precision():
    t = data.load("timeline")
    assert pd.api.types.is_datetime64_any_dtype(t["date"])
    assert isinstance(t["category"].dtype, pd.CategoricalDtype)
    month_rows = t[t["date_precision"] == "month"]
    assert set(month_rows["date_text"]) == {"1993-04"}  # the Zurich Protocols' day (10 Oct 2009) is now sourced
    assert (month_rows["date"].dt.day == 1).all()  # first of the month, flagged as month precision
    alma_ata = t[t["date_text"] == "1991-12-21"]
    assert alma_ata["event"].str.contains("Alma-Ata").all()


def test_numbers_are_numbers_and_blanks_are_missing():
    milex = data.load("milex")
    assert milex["year"].dtype == "Int64"
    assert milex["milex_current_usd_m"].dtype == "float64"
    turkey = milex[milex["iso3"] == "TUR"]
    assert turkey["milex_per_capita_current_usd"].isna().all()  # blank, not zero (export artefact)
    row = milex[(milex["iso3"] == "AZE") & (milex["year"] == 2023)].iloc[0]
    assert row["milex_current_usd_m"] == pytest.approx(3561.7)


def test_the_2023_ratios_in_facts_md_hold():
    milex = data.load("milex").set_index(["iso3", "year"])["milex_current_usd_m"]
    gdp = data.load("gdp").set_index(["iso3", "year"])["gdp_current_usd"]
    pop = data.load("population").set_index(["iso3", "year"])["population"]
    assert milex[("AZE", 2023)] / milex[("ARM", 2023)] == pytest.approx(2.7, abs=0.05)
    assert gdp[("AZE", 2023)] / gdp[("ARM", 2023)] == pytest.approx(3.0, abs=0.05)
    assert pop[("AZE", 2023)] / pop[("ARM", 2023)] == pytest.approx(3.4, abs=0.05)


def test_nakhchivan_is_a_separate_polygon_of_azerbaijan():
    outlines = data.load("outlines")
    aze = outlines[(outlines["iso_a3"] == "AZE") & (outlines["ring"] == 0)]
    pieces = aze.groupby("polygon")["piece"].first()
    assert pieces[0] == "Nakhchivan exclave"
    assert aze["polygon"].nunique() == 3
    from matplotlib.path import Path

    city = data.load("gazetteer").set_index("place_id").loc[["nakhchivan", "baku"]]
    exclave = Path(aze[aze["polygon"] == 0][["lon", "lat"]].to_numpy())
    mainland = Path(aze[aze["polygon"] == 1][["lon", "lat"]].to_numpy())
    assert exclave.contains_point(tuple(city.loc["nakhchivan", ["lon", "lat"]]))
    assert not mainland.contains_point(tuple(city.loc["nakhchivan", ["lon", "lat"]]))
    assert mainland.contains_point(tuple(city.loc["baku", ["lon", "lat"]]))


def test_gazetteer_gives_both_names_where_they_differ():
    places = data.load("gazetteer").set_index("place_id")
    # places in or claimed across the conflict carry an Armenian and an Azerbaijani name
    for pid in ["stepanakert_khankendi", "shushi_shusha", "lachin_berdzor", "nakhchivan", "zangilan",
                "julfa_az", "kapan", "meghri", "yerevan"]:
        row = places.loc[pid]
        assert pd.notna(row["name_armenian_usage"]) and pd.notna(row["name_azerbaijani_usage"]), pid
    assert places.loc["lachin_berdzor", "name_armenian_usage"] == "Berdzor"
    assert places.loc["lachin_berdzor", "name_azerbaijani_usage"] == "Laçın"
    assert places.loc["stepanakert_khankendi", "name_en"] == "Khankendi / Stepanakert"  # in Azerbaijan: its name first
    assert places["name_armenian_script"].notna().all()


def test_villages_are_adjacent_villages_not_two_names():
    villages = data.load("villages_2024")
    assert set(villages["adjacent_armenian_village"]) == {"Baghanis", "Voskepar", "Kirants", "Berkaber"}
    assert (villages["handed_over"] == pd.Timestamp("2024-05-24")).all()


def test_border_lengths_keep_the_disagreeing_figures():
    facts = data.load("border_facts").set_index("fact")["value"]
    lengths = {v for k, v in facts.items() if k.startswith("Armenia–Azerbaijan border")}
    assert {996, 566, 221, 1007} <= lengths


def test_source_names_origin_licence_and_citation():
    text = data.source("milex")
    assert "SIPRI" in text and "2025" in text and "Licence" in text and "Cite as" in text
    assert "vintage" in data.source("gdp")


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="timeline"):
        data.load("no-such-data")


def test_data_package_validates_with_frictionless():
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(data.PACKAGE_FILE))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])[:5]


@pytest.mark.parametrize(("breakage", "expected"), [
    (lambda lines: lines.__setitem__(3, lines[3].replace(",2002,", ",twenty,")),
     r"row 4, field 'year'.*not a whole number"),
    (lambda lines: lines.__setitem__(5, lines[5].replace("Armenia,", "Armenia;", 1)), r"row 6: 7 fields, expected 8"),
    (lambda lines: lines.__setitem__(5, lines[5].replace("Armenia,", "Armenien,", 1)),
     r"row 6, field 'country'.*not one of"),
    (lambda lines: lines.__setitem__(2, lines[2] + ",extra"), r"row 3: 9 fields, expected 8"),
    (lambda lines: lines.__setitem__(0, lines[0].replace("year", "yr")), r"the header is"),
    (lambda lines: lines.insert(3, lines[2]), r"row 4, field 'iso3\+year': ARM, 2001 repeats row 3"),
])
def test_a_broken_csv_names_file_row_and_field(tmp_path, breakage, expected):
    broken = tmp_path / "sipri_milex_caucasus_2000_2024.csv"
    lines = data.path("milex").read_text(encoding="utf-8").splitlines()
    breakage(lines)
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(data.DataError, match=expected) as err:
        data.check_file("milex", broken)
    assert "sipri_milex_caucasus_2000_2024.csv" in str(err.value)


def test_a_good_copy_passes_check_file(tmp_path):
    copy = tmp_path / "villages.csv"
    shutil.copy(data.path("villages_2024"), copy)
    assert len(data.check_file("villages_2024", copy)) == 4


def test_nothing_is_read_at_import():
    import subprocess
    import sys

    code = ("import course, course.data, course.seeds, course.quizzes, course.checks, sys; "
            "print(int(course.data._cached.cache_info().currsize), int('pandas' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "0"], "importing the course must not load data or pandas"
