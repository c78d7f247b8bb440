"""Lessons 00 (Start here) and 01 (From war to the negotiating table): figures, helper, notebooks.

- the region map of lesson 00 and the timeline chart of lesson 01 render to PNG with a title,
  labelled axes, a legend and a source line;
- `course.lessons.timelines` selects, labels and refuses bad input as documented;
- the notebooks link to the next lesson, date their bold dates to verified rows and teach the
  corrections. (Hygiene, citations, quiz coverage and the run with the reference solutions are
  checked for every lesson in tests/test_notebooks.py.)
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course import load  # noqa: E402
from course.lessons.timelines import CATEGORY_LABELS, select, timeline_chart  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = {lesson: ROOT / "notebooks" / f"{lesson}.ipynb" for lesson in ("00_start_here", "01_war_to_talks")}
MAP_PLACES = ["yerevan", "baku", "tbilisi", "nakhchivan", "stepanakert_khankendi", "lachin_berdzor",
              "gyumri", "kars", "ijevan", "meghri", "horadiz", "margara"]
CHART_LABELS = {"2020-09-27": "_War begins", "2020-11-10": "Trilateral statement",
                "2023-09-19": "Operation in Karabakh", "2023-09-30": "Over 100,000 arrivals counted"}
CHART_CATEGORIES = ["war_ceasefire", "mediation", "borders", "displacement"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _cells(lesson: str) -> list[dict]:
    return json.loads(NOTEBOOKS[lesson].read_text(encoding="utf-8"))["cells"]


def _text(lesson: str, kind: str | None = None) -> str:
    return "\n".join("".join(c["source"]) for c in _cells(lesson) if kind in (None, c["cell_type"]))


def _saved(fig, path: Path) -> Path:
    fig.savefig(path, dpi=80)
    assert path.stat().st_size > 10_000, f"{path.name} is suspiciously small"
    return path


# -- the figures -----------------------------------------------------------------------------

def test_region_map_of_lesson_00_renders_with_both_names(tmp_path):
    from course.lessons.maps import region_map

    fig = region_map(MAP_PLACES, title="The South Caucasus: the countries and places of this course")
    _saved(fig, tmp_path / "region_map.png")
    ax = fig.axes[0]
    assert ax.get_title().startswith("The South Caucasus")
    assert ax.get_xlabel() and ax.get_ylabel()
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["Armenia", "Azerbaijan", "Georgia", "Türkiye", "Iran"]
    labels = {t.get_text() for t in ax.texts}
    assert {"Stepanakert / Khankendi", "Lachin / Berdzor", "Nakhijevan / Naxçıvan"} <= labels
    assert len(labels) == len(MAP_PLACES)
    assert any("Natural Earth" in t.get_text() for t in fig.texts), "the source line is missing"


def test_region_map_labels_do_not_overlap(tmp_path):
    """The lesson picks its places so that no two labels collide at the default size."""
    from course.lessons.maps import region_map

    fig = region_map(MAP_PLACES, title="overlap check")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    clashes = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    assert not clashes


def test_timeline_chart_of_lesson_01_renders(tmp_path):
    fig = timeline_chart(load("timeline"), start="2020-01-01", end="2024-12-31", labels=CHART_LABELS,
                         categories=CHART_CATEGORIES, title="From war to the negotiating table")
    _saved(fig, tmp_path / "timeline_chart.png")
    ax = fig.axes[0]
    assert ax.get_title() == "From war to the negotiating table"
    assert ax.get_xlabel() == "Date" and ax.get_ylabel() == "Category of event"
    assert ax.get_legend() is not None
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert lanes == ["Displacement", "Borders", "Mediation", "War and ceasefires"]
    captions = {t.get_text() for t in ax.texts}
    assert captions == {"War begins", "Trilateral statement", "Operation in Karabakh",
                        "Over 100,000 arrivals counted"}
    source = " ".join(t.get_text() for t in fig.texts)
    timeline = load("timeline")
    in_lanes = timeline[timeline["category"].astype("string").isin(CHART_CATEGORIES)
                        & timeline["date"].dt.year.between(2020, 2024)]
    shown = int((in_lanes["status"].astype("string") == "verified").sum())
    left_out = len(in_lanes) - shown
    assert left_out >= 1  # the Sochi row of 26 Nov 2021 is only partly verified
    assert f"Verified rows only: {shown} shown, {left_out} not fully verified left out." in source
    plotted = sum(len(c.get_offsets()) for c in ax.collections)
    assert plotted == shown


def test_chart_captions_do_not_overlap(tmp_path):
    labels = {"2020-09-27": "_War begins", "2020-11-10": "Trilateral statement",
              "2022-04-06": "Brussels meeting", "2022-09-13": "_Border fighting",
              "2022-10-06": "Prague meeting", "2023-09-19": "Operation in Karabakh",
              "2023-09-28": "_Dissolution decree", "2023-09-30": "Over 100,000 arrivals counted",
              "2024-05-15": "Border protocol (four villages)"}  # the lesson's captions
    fig = timeline_chart(load("timeline"), "2020-01-01", "2024-12-31", labels=labels,
                         categories=CHART_CATEGORIES, title="overlap check")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) == len(labels)
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    title_box = fig.axes[0].title.get_window_extent(renderer)
    assert not any(b.overlaps(title_box) for b in boxes)


def test_whole_timeline_chart_shows_month_only_dates():
    fig = timeline_chart(load("timeline"), verified_only=False, title="All events")
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == len(CATEGORY_LABELS)
    assert "event, month only" in [t.get_text() for t in ax.get_legend().get_texts()]


# -- the helper ------------------------------------------------------------------------------

def test_select_keeps_verified_rows_in_the_period_in_date_order():
    rows = select(load("timeline"), "2021-01-01", "2021-12-31")
    assert list(rows["date_text"]) == ["2021-12-15", "2021-12-18"]  # the partly verified Sochi row is out
    everything = select(load("timeline"), "2021-01-01", "2021-12-31", verified_only=False)
    assert "2021-11-26" in set(everything["date_text"])
    assert rows["date"].is_monotonic_increasing


def test_caption_with_underscore_goes_below_its_dot():
    fig = timeline_chart(load("timeline"), "2020-01-01", "2020-12-31",
                         labels={"2020-09-27": "_below", "2020-11-10": "above"})
    offsets = {t.get_text(): t.xyann[1] for t in fig.axes[0].texts}
    assert offsets["below"] < 0 < offsets["above"]


def test_chart_refuses_bad_input():
    timeline = load("timeline")
    with pytest.raises(KeyError, match="2020-11-09"):
        timeline_chart(timeline, "2020-01-01", "2020-12-31", labels={"2020-11-09": "signed"})
    with pytest.raises(KeyError, match="no category 'war'"):
        timeline_chart(timeline, categories=["war"])
    with pytest.raises(ValueError, match="no events"):
        timeline_chart(timeline, "2000-01-01", "2000-12-31")


# -- the notebooks ---------------------------------------------------------------------------

@pytest.mark.parametrize(("lesson", "next_file"), [("00_start_here", "01_war_to_talks.ipynb"),
                                                   ("01_war_to_talks", "02_constitution.ipynb")])
def test_notebook_links_to_the_next_lesson(lesson, next_file):
    assert f"]({next_file})" in "".join(_cells(lesson)[-1]["source"])


def test_lesson_01_bold_dates_are_verified_rows():
    """The dates the lesson sets in bold are the dates of verified rows (20 Oct 2023 is inside one)."""
    import pandas as pd

    timeline = load("timeline")
    verified = set(timeline.loc[timeline["status"].astype("string") == "verified", "date_text"])
    inside_a_row = {"2023-10-20"}  # the 30 Sep 2023 row gives the 20 Oct figure too
    days = re.findall(r"\*\*[^*]*?(\d{1,2} [A-Z][a-z]+ \d{4})\*\*", _text("01_war_to_talks", "markdown"))
    assert len(days) >= 15
    for day in days:
        iso = pd.Timestamp(day).strftime("%Y-%m-%d")
        assert iso in verified | inside_a_row, f"{day} is not the date of a verified timeline row"


def test_lesson_01_teaches_the_corrections():
    text = _text("01_war_to_talks", "markdown")
    for needle in ("signed late on 9 November", "00:00 Moscow time", "9 November statement",
                   "10.11.2020", "**5 May 1994**", "**12 May 1994**", "**100,417**", "**101,848**",
                   "30 September 2023", "20 October 2023", "Each side blamed the other"):
        assert needle in text, f"lesson 01 lacks {needle!r}"


def test_lesson_01_numbers_match_the_data():
    import pandas as pd

    timeline = load("timeline").set_index("date_text")
    assert "100,417" in timeline.loc["2023-09-30", "event"] and "101,848" in timeline.loc["2023-09-30", "event"]
    assert "9 Nov" in timeline.loc["2020-11-10", "note"]
    assert "00:00 Moscow time" in timeline.loc["2020-11-10", "event"]
    assert (pd.Timestamp("2023-09-19") - pd.Timestamp("2020-11-10")).days == 1043
    facts = load("border_facts").set_index("fact")["value"]
    assert facts["Russian peacekeeping contingent (2020 statement)"] == 1960
    assert facts["Lachin corridor width (2020 statement)"] == 5

