"""Lessons 00 (Start here) and 01 (From war to the negotiating table): figures, helper, notebooks.

- the region map of lesson 00 and the timeline chart of lesson 01 render to PNG with a title,
  labelled axes, a legend and a source line;
- `course.lessons.timelines` selects, labels and refuses bad input as documented;
- the notebooks link to the next lesson; lesson 01 leaves its dates to the charts (few full
  dates in prose, each a verified row), teaches the corrections and computes its days from the
  data. (Hygiene, citations, quiz coverage and the run with the reference solutions are checked
  for every lesson in tests/test_notebooks.py.)
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
    # the course's convention (issue 16, defect 8): the name of the country where the place lies first
    assert {"Khankendi / Stepanakert", "Lachin / Berdzor", "Nakhchivan / Nakhijevan"} <= labels
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
    if left_out:  # the source line says how many rows it hid, and only then
        assert f"Verified rows only: {shown} shown, {left_out} not fully verified left out." in source
    else:
        assert f"Verified rows only: {shown} shown." in source
    plotted = sum(len(c.get_offsets()) for c in ax.collections)
    assert plotted == shown


def test_source_line_counts_the_rows_left_out():
    """A row that is not fully verified is left out of the chart, and the source line says so."""
    timeline = load("timeline").copy()
    timeline["status"] = timeline["status"].astype("string")
    timeline.loc[timeline["date_text"] == "2022-04-06", "status"] = "partly verified"
    fig = timeline_chart(timeline, "2022-01-01", "2022-12-31", categories=CHART_CATEGORIES)
    source = " ".join(t.get_text() for t in fig.texts)
    assert "not fully verified left out" in source and ", 1 not fully verified" in source


def _lesson_01_charts():
    """Run the chart cells of lesson 01 as the student does; return their figures."""
    figures = []
    for cell in _cells("01_war_to_talks"):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "timeline_chart(" in source:
            namespace = {"timeline": load("timeline"), "timeline_chart": timeline_chart}
            exec(source, namespace)  # the lesson's own code
            figures.append(namespace["fig"])
    return figures


def test_lesson_01_chart_captions_do_not_overlap():
    figures = _lesson_01_charts()
    assert len(figures) == 2, "lesson 01 draws two charts: 1988–1994 and 2020–2024"
    for fig in figures:
        ax = fig.axes[0]
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = {t.get_text(): t.get_window_extent(renderer) for t in ax.texts}
        clashes = [(a, b) for i, (a, box) in enumerate(boxes.items())
                   for b, other in list(boxes.items())[i + 1:] if box.overlaps(other)]
        assert not clashes, f"{ax.get_title()}: captions overlap: {clashes}"
        title_box = ax.title.get_window_extent(renderer)
        assert not [t for t, b in boxes.items() if b.overlaps(title_box)], ax.get_title()
        frame = ax.get_window_extent(renderer)
        outside = [t for t, b in boxes.items() if b.x0 < frame.x0 - 1 or b.x1 > frame.x1 + 1]
        assert not outside, f"{ax.get_title()}: captions run past the plot: {outside}"


def test_whole_timeline_chart_shows_month_only_dates():
    fig = timeline_chart(load("timeline"), verified_only=False, title="All events")
    ax = fig.axes[0]
    assert len(ax.get_yticklabels()) == len(CATEGORY_LABELS)
    assert "event, month only" in [t.get_text() for t in ax.get_legend().get_texts()]


# -- the helper ------------------------------------------------------------------------------

def test_select_keeps_verified_rows_in_the_period_in_date_order():
    timeline = load("timeline")
    rows = select(timeline, "2021-01-01", "2021-12-31")
    in_2021 = timeline[timeline["date"].dt.year == 2021]
    assert set(rows["date_text"]) == set(in_2021.loc[in_2021["status"].astype("string") == "verified", "date_text"])
    assert rows["date"].is_monotonic_increasing
    # "verified (scheduled only)" is not "verified": the 7 June 2026 election is left out
    assert "2026-06-07" not in set(select(timeline, "2026-01-01", "2026-12-31")["date_text"])
    assert "2026-06-07" in set(select(timeline, "2026-01-01", "2026-12-31", verified_only=False)["date_text"])


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


def _running_text(lesson: str) -> str:
    """Markdown prose without the sources lines, the further reading and code."""
    lines = []
    for line in _text(lesson, "markdown").splitlines():
        if line.startswith("## Further reading"):
            break
        if not line.startswith("*Sources for this section:*"):
            lines.append(line)
    return re.sub(r"`[^`]*`", " ", "\n".join(lines))


def test_lesson_01_leaves_its_dates_to_the_charts():
    """Issue 13: the old lesson had 39 full dates in prose. The few left are verified rows (or a
    date given inside one: the signature of 9 Nov 2020, the 20 Oct 2023 figure, the decree's
    1 Jan 2024 deadline)."""
    import pandas as pd

    timeline = load("timeline")
    verified = set(timeline.loc[timeline["status"].astype("string") == "verified", "date_text"])
    inside_a_row = {"2020-11-09", "2023-10-20", "2024-01-01"}
    days = re.findall(r"\b\d{1,2} [A-Z][a-z]+ \d{4}\b", _running_text("01_war_to_talks"))
    assert len(days) <= 10, f"{len(days)} full dates in the prose: put dates in the chart"
    for day in days:
        iso = pd.Timestamp(day).strftime("%Y-%m-%d")
        assert iso in verified | inside_a_row, f"{day} is not the date of a verified timeline row"


def test_lesson_01_teaches_the_corrections():
    text = " ".join(_text("01_war_to_talks", "markdown").split())
    for needle in ("signed late on 9 November", "00:00 Moscow time", "9 November statement",
                   "10.11.2020", "5 May 1994", "12 May 1994", "100,417", "101,848",
                   "30 September 2023", "20 October", "each side blamed the other",
                   # issue 16, defect 1: the article puts Yerevan's adjustment before the takeover
                   "adjusted step by step to the new balance *before* Azerbaijan's September 2023",
                   # issue 16, defect 10: one wording for September 2023 across the course
                   "Azerbaijan's September 2023 military operation",
                   # FACTS.md correction 13: the Yerevan protests are confirmed
                   "RFE/RL's Armenian service"):
        assert needle in text, f"lesson 01 lacks {needle!r}"
    for wrong in ("after September 2023 Pashinyan's government accepted", "since 1988", "war of 2023",
                  "2023 war"):
        assert wrong not in text, f"lesson 01 still says {wrong!r}"


def test_bank_01_places_the_adjustment_before_the_takeover():
    """Issue 16, defect 1, in the questions that teach the author's reading."""
    from course.quizzes import load_bank

    bank = load_bank("01_war_to_talks")
    right = next(o for o in bank["after-2023-article"].options if o.correct)
    assert "before the takeover" in right.text
    wrong = next(o for o in bank["after-2023-article"].options if o.id == "accepted-after")
    assert not wrong.correct and "before the takeover" in " ".join(wrong.feedback.split())
    options = {o.id: o for o in bank["analysis-or-event"].options}
    assert options["adjusted-before"].correct and "by September 2023" in options["adjusted-before"].text


def test_lesson_01_numbers_match_the_data():
    import pandas as pd

    timeline = load("timeline").set_index("date_text")
    assert "100,417" in timeline.loc["2023-09-30", "event"] and "101,848" in timeline.loc["2023-09-30", "event"]
    assert "9 Nov" in timeline.loc["2020-11-10", "note"]
    assert "00:00 Moscow time" in timeline.loc["2020-11-10", "event"]
    assert (pd.Timestamp("2023-09-19") - pd.Timestamp("2020-11-10")).days == 1043
    assert (timeline.loc["1994-05-12", "date"] - timeline.loc["1994-05-05", "date"]).days == 7
    assert "00:01" in timeline.loc["1994-05-12", "event"]
    assert "Wikipedia" in timeline.loc["1994-05-05", "note"]
    facts = load("border_facts").set_index("fact")["value"]
    assert facts["Russian peacekeeping contingent (2020 statement)"] == 1960
    assert facts["Lachin corridor width (2020 statement)"] == 5

