"""Lessons 04 (the route through southern Armenia) and 05 (power, Armenia–Türkiye).

The map and the charts render with their titles, labels, legends and sources, and the map says
itself where its simplified outline misplaces a town; the distance and indicator helpers compute
what the lessons say; the numbers the lessons and their exercises' meanings state still follow
from the data; the stakeholder table cites real sources; and the fact-check's fixes stay fixed.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course import load  # noqa: E402
from course.checks.engine import load_exercises  # noqa: E402
from course.lessons.geo import (  # noqa: E402
    EARTH_RADIUS_KM,
    MEGHRI_PLACES,
    ON_THE_RIVER,
    distances_from,
    haversine_km,
    meghri_map,
    position_table,
    route_km,
)
from course.lessons.indicators import EVENTS, MEASURES, panel, ratio_chart, ratios, side_by_side, spending_chart  # noqa: E402
from course.lessons.maps import both_names  # noqa: E402
from course.quizzes.bank import load_bank  # noqa: E402
from course.seeds import claims  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ("04_corridor", "05_power")
STAKEHOLDERS = ROOT / "course" / "lesson_data" / "04_stakeholders.csv"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _save(fig, tmp_path, name) -> Path:
    out = tmp_path / f"{name}.png"
    fig.savefig(out, dpi=80)
    assert out.stat().st_size > 10_000, f"{name}: the PNG is (nearly) empty"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return out


def _all_text(fig) -> str:
    ax = fig.axes[0]
    return "\n".join(t.get_text() for t in [*fig.texts, *ax.texts])


# -- the map -----------------------------------------------------------------------------------

def test_meghri_map_renders_with_title_labels_legend_and_source(tmp_path):
    fig = meghri_map()
    _save(fig, tmp_path, "meghri_map")
    ax = fig.axes[0]
    assert "Meghri" in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"Armenia", "Azerbaijan", "Iran", "Türkiye"} <= set(legend)
    text = _all_text(fig)
    assert "Natural Earth" in text and "GeoNames" in text  # the source under the map
    # every place under the course's naming convention (maps.both_names), the region under both names
    places = load("gazetteer").set_index("place_id", drop=False)
    for place_id in MEGHRI_PLACES:
        label = both_names(places.loc[place_id])
        assert label in text, f"the map lacks the label {label!r}"
    for label in ("Zangezur", "SYUNIK", "NAKHCHIVAN", "TÜRKIYE", "IRAN", "40–45 km"):
        assert label in text, f"the map lacks the label {label!r}"


def test_towns_on_the_river_get_a_leader_line_and_a_note_on_the_map():
    """At 1:50m Agarak (Armenia's crossing to Iran) falls on the Iranian side: the map says so itself."""
    ax = meghri_map().axes[0]
    places = load("gazetteer").set_index("place_id", drop=False)
    notes = {a.get_text(): a for a in ax.texts if hasattr(a, "xy") and a.arrow_patch is not None}
    assert set(ON_THE_RIVER) >= {"agarak"}
    for place_id in ON_THE_RIVER:
        row = places.loc[place_id]
        found = [a for t, a in notes.items() if t.startswith(both_names(row) + ":")]
        assert found, f"no boxed label with a leader line for {place_id}"
        label = found[0]
        assert label.xy == pytest.approx((row["lon"], row["lat"]))  # the line ends at the true dot
        assert label.xyann != pytest.approx(label.xy)                 # the text is set off from it
        assert "north" in label.get_text() and "simplified" in label.get_text()
    agarak = next(a for t, a in notes.items() if t.startswith("Agarak"))
    assert "Armenia" in agarak.get_text()


def test_meghri_map_shows_the_route_between_its_two_ends():
    ax = meghri_map().axes[0]
    lon_min, lon_max = ax.get_xlim()
    lat_min, lat_max = ax.get_ylim()
    places = load("gazetteer").set_index("place_id").loc[MEGHRI_PLACES]
    assert places["lon"].between(lon_min, lon_max).all() and places["lat"].between(lat_min, lat_max).all()
    # the view reaches Iran south of the Araks (Agarak sits on the river, around 38.87 N) and
    # Türkiye west of Nakhchivan (defect: Nakhchivan borders Türkiye as well as Armenia and Iran)
    assert lat_min < places.loc["agarak", "lat"] - 0.3
    outlines = load("outlines")
    turkey = outlines[(outlines["iso_a3"] == "TUR") & outlines["lon"].between(lon_min, lon_max)
                      & outlines["lat"].between(lat_min, lat_max)]
    assert len(turkey) > 0, "the map should show where Nakhchivan meets Türkiye"


# -- distances ---------------------------------------------------------------------------------

def test_haversine_known_distances():
    assert haversine_km(40.0, 45.0, 40.0, 45.0) == 0
    one_degree = 2 * math.pi * EARTH_RADIUS_KM / 360
    assert haversine_km(0, 0, 1, 0) == pytest.approx(one_degree)
    assert haversine_km(0, 10, 90, 10) == pytest.approx(math.pi * EARTH_RADIUS_KM / 2)
    # along a parallel the great circle is shorter than the parallel itself
    assert haversine_km(40, 44, 40, 50) < 6 * one_degree * math.cos(math.radians(40))
    assert haversine_km(40.17765, 44.5126, 40.37767, 49.89201) == pytest.approx(456.8, abs=0.1)


def test_haversine_is_vectorised_and_symmetric():
    places = load("gazetteer").set_index("place_id")
    km = haversine_km(places["lat"], places["lon"], 40.17765, 44.5126)
    assert isinstance(km, pd.Series) and list(km.index) == list(places.index)
    one_by_one = [haversine_km(lat, lon, 40.17765, 44.5126) for lat, lon in zip(places["lat"], places["lon"])]
    assert np.allclose(km.to_numpy(), one_by_one)
    back = haversine_km(40.17765, 44.5126, places["lat"], places["lon"])
    assert np.allclose(km.to_numpy(), back.to_numpy())


def test_distances_from_meghri():
    km = distances_from("meghri")
    assert km.index[0] == "meghri" and km.iloc[0] == 0
    assert km.is_monotonic_increasing
    assert km.index[1] == "agarak" and km["agarak"] < 10  # the Armenia–Iran crossing next door
    assert km["ordubad"] < 20  # "Meghri and Ordubad, in Nakhchivan, are under 20 km apart"
    with pytest.raises(KeyError, match="unknown place id"):
        distances_from("atlantis")


def test_route_km_adds_straight_legs():
    assert route_km(["meghri", "ordubad"]) == pytest.approx(distances_from("meghri")["ordubad"])
    three = route_km(["baku", "tbilisi", "kars"])
    assert three == pytest.approx(distances_from("baku")["tbilisi"] + distances_from("tbilisi")["kars"])
    assert route_km(("kars", "tbilisi", "baku")) == pytest.approx(three)  # any sequence, either way
    with pytest.raises(KeyError, match="unknown place id"):
        route_km(["baku", "atlantis"])
    with pytest.raises(ValueError, match="two stops"):
        route_km(["baku"])


def test_the_way_round_is_about_twice_as_long_as_the_lesson_says():
    """Exercise 1's meaning: about 435 km along the Araks, about 890 km round by Georgia and Türkiye."""
    along = route_km(["baku", "horadiz", "meghri", "ordubad", "nakhchivan"])
    north = route_km(["baku", "tbilisi", "kars", "nakhchivan"])
    assert round(along, -1) == 430 or round(along, -1) == 440
    assert 880 <= north <= 900
    assert round(north / along, 1) == 2.0
    q1 = load_exercises("04_corridor").q1
    assert q1.expected == pytest.approx(north / along)
    assert "twice" in q1.spec["meaning"] and "435" in q1.spec["meaning"] and "890" in q1.spec["meaning"]


def test_route_figures_in_the_data_are_the_ones_the_lesson_states():
    facts = load("border_facts")
    railway = facts[facts["fact"].str.contains("railway", case=False)]
    assert sorted(railway["value"]) == [42, 43, 45]
    assert list(railway["value"]) == [42, 43, 45]  # the order corridor-iran-bank's data_value relies on
    overchuk = railway[railway["as_stated_by"].str.contains("Overchuk")]
    assert "~50 km" in overchuk["note"].iloc[0]
    assert (50 - 42) / 42 * 100 == pytest.approx(load_bank("04_corridor")["corridor-iran-bank"].answer, abs=1.5)
    iran_border = facts.loc[facts["fact"] == "Armenia–Iran border", "value"].iloc[0]
    assert 40 <= iran_border <= 50  # why a filter on the value alone catches it (exercise 2)


# -- indicators --------------------------------------------------------------------------------

def test_panel_joins_on_the_code_and_keeps_or_drops_2024():
    inner = panel(how="inner")
    assert len(inner) == 48 and inner["year"].max() == 2023
    outer = panel()
    assert len(outer) == 50 and outer.loc[outer["year"] == 2024, "gdp_current_usd"].isna().all()
    everyone = panel(countries=("ARM", "AZE", "GEO", "IRN", "TUR"), how="inner")
    assert set(everyone["iso3"]) == {"ARM", "AZE", "GEO", "IRN", "TUR"}  # despite the different names


def test_ratios_2023_match_the_lesson():
    r = ratios(panel()).loc[2023]
    assert round(r["milex_current_usd_m"], 1) == 2.7
    assert round(r["gdp_current_usd"], 1) == 3.0
    assert round(r["population"], 1) == 3.4
    bank = load_bank("05_power")
    for qid, column in (("power-milex-ratio-2023", "milex_current_usd_m"),
                        ("power-population-ratio-2023", "population")):
        question = bank[qid]
        assert r[column] == pytest.approx(question.answer, abs=question.tolerance)


def test_side_by_side_puts_the_two_countries_next_to_each_other():
    table = panel()
    wide = side_by_side(table, "milex_current_usd_m")
    assert list(wide.columns) == ["ARM", "AZE"] and list(wide.index) == list(range(2000, 2025))
    assert wide.loc[2023, "AZE"] == pytest.approx(3561.7) and wide.loc[2023, "ARM"] == pytest.approx(1326.2)
    assert (wide["AZE"] / wide["ARM"]).equals(ratios(table)["milex_current_usd_m"].rename(None)) or np.allclose(
        (wide["AZE"] / wide["ARM"]).to_numpy(), ratios(table)["milex_current_usd_m"].to_numpy())
    assert np.isnan(side_by_side(table, "gdp_current_usd").loc[2024, "AZE"])  # no 2024 GDP yet


def test_the_exercises_of_lesson_05_mean_what_their_meaning_says():
    ex = load_exercises("05_power")
    ratio = ex.q1.expected
    assert ratio.idxmax() == 2012 and round(ratio.max(), 1) == 8.5
    assert round(ratio[2020], 1) == 3.5 and round(ratio[2023], 1) == 2.7 and round(ratio[2024], 1) == 2.7
    assert ex.q2.expected == pytest.approx(2359.1 - 2195.8, abs=0.05) and "163" in ex.q2.spec["meaning"]
    table = panel()
    shares = ex.q3.expected.set_axis(pd.MultiIndex.from_frame(table[["iso3", "year"]]))
    assert round(shares[("ARM", 2023)], 1) == 5.5 and round(shares[("AZE", 2023)], 1) == 4.9
    assert "5.5 %" in ex.q3.spec["meaning"] and "4.9 %" in ex.q3.spec["meaning"]
    assert ex.q4.expected < 0.05


def test_the_numbers_lesson_05_states_still_follow_from_the_data():
    milex = load("milex").set_index(["iso3", "year"])
    spend = milex["milex_current_usd_m"]
    ratio = (spend.xs("AZE") / spend.xs("ARM"))
    assert ratio.idxmax() == 2012 and round(ratio.max(), 1) == 8.5
    assert round(ratio[2020], 1) == 3.5
    assert ratio[2023] < ratio.loc[2006:2022].min() and ratio[2005] < ratio[2023]  # lowest since 2005
    gap = spend.xs("AZE") - spend.xs("ARM")
    assert [round(gap[y]) for y in (2022, 2023, 2024)] == [2196, 2236, 2359]
    assert ratio[2024] < ratio[2022] and gap[2024] > gap[2022]  # ratio falls, gap widens
    real = milex["milex_constant_2023_usd_m"].xs("ARM")
    assert (real[2023] / real[2022] - 1) * 100 == pytest.approx(47.1, abs=0.05)
    table = panel(how="inner")
    own = table["milex_current_usd_m"] * 1e6 / table["gdp_current_usd"] * 100
    gap_pp = (own - table["milex_share_of_gdp_pct"]).abs().max()
    assert 0.03 < gap_pp < 0.05  # "to within about 0.04 percentage points"


def test_ratio_chart_renders_with_title_labels_legend_events_and_source(tmp_path):
    fig = ratio_chart(ratios(panel()))
    _save(fig, tmp_path, "ratio_chart")
    ax = fig.axes[0]
    assert ax.get_title() and ax.get_xlabel() == "Year" and "÷" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(MEASURES.values())
    event_lines = {line.get_xdata()[0] for line in ax.lines if len(line.get_xdata()) == 2
                   and line.get_xdata()[0] == line.get_xdata()[1]}
    assert set(EVENTS) <= event_lines
    text = _all_text(fig)
    assert "SIPRI" in text and "2025 release" in text and "World Bank" in text
    assert "2020 war" in text and "Sep 2023" in text
    years = ax.lines[0].get_xdata()
    assert min(years) == 2000 and max(years) == 2024


def test_spending_chart_renders_with_both_countries(tmp_path):
    fig = spending_chart(panel())
    _save(fig, tmp_path, "spending_chart")
    ax = fig.axes[0]
    assert "SIPRI 2025 release" in ax.get_title()
    assert ax.get_xlabel() == "Year" and "US$ million" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Armenia", "Azerbaijan"]
    top = max(max(line.get_ydata()) for line in ax.lines[:2])
    assert top == pytest.approx(3777.1)
    assert ax.get_ylim()[1] > top  # the event labels have room above the data


# -- the stakeholder table ---------------------------------------------------------------------

def test_stakeholder_table_cites_real_sources():
    table = pd.read_csv(STAKEHOLDERS)
    assert table.equals(position_table())  # the lesson reads it through the helper
    assert list(table.columns) == ["actor", "actor_type", "stance", "main_interest", "source", "as_of"]
    assert table["actor"].is_unique
    assert set(table["stance"]) <= {"supports", "conditional", "opposes"}
    known = set(claims())
    timeline_days = set(load("timeline")["date_text"])
    for _, row in table.iterrows():
        assert re.fullmatch(r"\d{4}-\d{2}", row["as_of"])
        for src in (s.strip() for s in row["source"].split(";")):
            if src.startswith("data:timeline "):
                assert src.split(" ", 1)[1] in timeline_days, f"{row['actor']}: no timeline row {src}"
                assert row["as_of"] > "2024-11", "a timeline-sourced row postdates the article"
            else:
                assert src in known, f"{row['actor']}: unknown claim id {src!r}"
                assert src.startswith("corridor.") and row["as_of"] == "2024-11"


# -- the notebooks -----------------------------------------------------------------------------

def _notebook(lesson):
    return json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text(encoding="utf-8"))


def _sources(nb, kind=None):
    return ["".join(c["source"]) for c in nb["cells"] if kind is None or c["cell_type"] == kind]


@pytest.mark.parametrize("lesson", LESSONS)
def test_notebook_states_nothing_the_fact_sheet_rules_out(lesson):
    text = "\n".join(_sources(_notebook(lesson))) + (ROOT / "course" / "banks" / f"{lesson}.yaml").read_text()
    assert not re.search(r"June 2026|referendum (on|date)", text), "nothing after February 2026"
    assert not re.search(r"\b1976\b", text)
    if "Zurich" in text:
        assert "October 2009" in text


def test_lesson_04_asks_what_distances_mean_not_for_a_formula():
    """The haversine exercise is gone: a helper computes distances, the student reads them."""
    nb = _notebook("04_corridor")
    code = "\n".join(_sources(nb, "code"))
    assert not re.search(r"^\s*def ", code, re.M), "no function definitions in lesson 04"
    assert "np.radians" not in code and "haversine" not in code.lower()
    for name in ("banks", "tasks"):
        text = (ROOT / "course" / name / "04_corridor.yaml").read_text(encoding="utf-8")
        assert "haversine" not in text.lower(), f"course/{name}/04_corridor.yaml still mentions haversine"


def test_lesson_04_names_each_term_for_the_route_as_someones_term():
    markdown = "\n".join(_sources(_notebook("04_corridor"), "markdown"))
    assert re.search(r"Zangezur corridor\"?\*? is the Azerbaijani and Turkish term", markdown)
    assert "Crossroads of Peace" in markdown and "TRIPP" in markdown
    assert "Türkiye" in markdown.split("Nakhchivan** belongs")[1].split("\n")[0]  # defect 18


def test_lesson_05_attributes_the_weakness_claim_to_the_author():
    markdown = "\n".join(_sources(_notebook("05_power"), "markdown"))
    sentence = next(line for line in re.split(r"(?<=\.) ", markdown) if "much weaker" in line)
    assert "In the author's view" in sentence  # defect 19: the article's claim, not the course's voice
    assert "framework.armenia-weakened" in markdown  # and cited in the section's Sources line


def test_no_cell_of_lesson_05_reads_an_answer_before_its_check():
    """Code cells outside the answer cells must not use the students' result variables."""
    nb = _notebook("05_power")
    results = {ex.variable for ex in load_exercises("05_power")}
    for source in _sources(nb, "code"):
        if re.match(r"^(" + "|".join(results) + r") = \.\.\.", source):
            continue
        used = {v for v in results if re.search(rf"\b{v}\b", source)}
        assert not used, f"a cell uses {used} before or without the student's answer: {source[:60]!r}"
