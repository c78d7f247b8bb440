"""Every figure a lesson helper draws carries a text alternative, and no meaning rests on colour alone.

`FIGURES` calls each helper as a lesson does. `test_every_figure_helper_is_listed` finds the
helpers by reading course/lessons/*.py (any function that calls `plt.subplots` or `plt.figure`),
so a new helper that draws cannot be missed. The browser test (tests/browser/test_accessibility.py)
checks that the same text reaches JupyterLab's page as the image's `alt` attribute.
"""
from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course.lessons import figures  # noqa: E402

LESSONS = Path(figures.__file__).resolve().parent


def _timeline():
    from course.data import load
    from course.lessons.timelines import timeline_chart

    return timeline_chart(load("timeline"), start="2020-01-01", end="2024-12-31",
                          labels={"2020-11-10": "Trilateral statement", "2020-09-27": "_War begins"})


def _chain():
    from course.lessons.documents import chain_figure

    return chain_figure()


def _totals():
    from course.lessons.borders import totals_chart

    return totals_chart()


def _villages():
    from course.lessons.borders import village_map

    return village_map()


def _region():
    from course.lessons.maps import region_map

    return region_map(["yerevan", "baku", "tbilisi", "nakhchivan", "kars"], title="The South Caucasus")


def _meghri():
    from course.lessons.geo import meghri_map

    return meghri_map()


def _indicators():
    from course.lessons.indicators import panel

    return panel()


def _ratio():
    from course.lessons.indicators import ratio_chart, ratios

    return ratio_chart(ratios(_indicators()))


def _spending():
    from course.lessons.indicators import spending_chart

    return spending_chart(_indicators())


# "module.function" -> (how a lesson calls it, words or figures its text alternative must contain)
FIGURES = {
    "timelines.timeline_chart": (_timeline, ["28 dated events", "10 November 2020: Trilateral statement"]),
    "documents.chain_figure": (_chain, ["Chain of citations", "which cites"]),
    "borders.totals_chart": (_totals, ["787 km", "996 km", "1,007 km", "12.7 km"]),
    "borders.village_map": (_villages, ["Ijevan", "Voskepar", "19 April 2024", "24 May 2024"]),
    "maps.region_map": (_region, ["Yerevan", "Baku", "km east", "Georgia: Tbilisi"]),
    "geo.meghri_map": (_meghri, ["Meghri", "Nakhchivan", "Araks", "km"]),
    "indicators.ratio_chart": (_ratio, ["times", "Population"]),
    "indicators.spending_chart": (_spending, ["2.7 times Armenia's", "In 2023"]),
}


def drawing_functions() -> set[str]:
    """'module.function' for every function in course/lessons that creates a figure."""
    found = set()
    for path in sorted(LESSONS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            source = ast.get_source_segment(path.read_text(encoding="utf-8"), node) or ""
            if re.search(r"\bplt\.(subplots|figure)\(", source):
                found.add(f"{path.stem}.{node.name}")
    return found


def test_every_figure_helper_is_listed():
    assert drawing_functions() == set(FIGURES), "a helper that draws a figure is missing from FIGURES (or gone)"


@pytest.fixture(params=sorted(FIGURES), ids=sorted(FIGURES))
def drawn(request):
    call, must = FIGURES[request.param]
    fig = call()
    yield request.param, fig, must
    plt.close(fig)


def test_figure_has_a_text_alternative_that_says_what_it_shows(drawn):
    name, fig, must = drawn
    alt = getattr(fig, "alt_text", "")
    assert alt, f"{name} returns a figure without a text alternative"
    assert re.search(r"\d", alt), f"{name}: the text alternative states no figure or date: {alt!r}"
    for part in must:
        assert part in alt, f"{name}: {part!r} missing from {alt!r}"


def test_figure_is_shown_with_its_alt(drawn):
    """The bundle JupyterLab renders: <img alt> in HTML; image/png with alt metadata; the text."""
    name, fig, _ = drawn
    data, metadata = fig._repr_mimebundle_()
    escaped = html.escape(fig.alt_text, quote=True)
    assert re.fullmatch(rf'<figure class="course-figure"[^>]*><img alt="{re.escape(escaped)}" '
                        r'src="data:image/png;base64,[A-Za-z0-9+/=]+"></figure>', data["text/html"]), name
    assert data["image/png"] and metadata["image/png"]["alt"] == fig.alt_text
    assert data["text/plain"] == fig.alt_text


def test_ipython_displays_the_figure_with_its_alt(drawn):
    """IPython's own formatter (what `display(fig)` and the inline backend use) picks the bundle up."""
    from IPython.core.formatters import DisplayFormatter

    name, fig, _ = drawn
    data, metadata = DisplayFormatter().format(fig)
    assert 'alt="' in data["text/html"] and data["text/plain"] == fig.alt_text, name
    assert metadata["image/png"]["alt"] == fig.alt_text


def test_no_meaning_by_colour_alone(drawn):
    """Lines named in a legend differ in line style or marker, not only in colour."""
    name, fig, _ = drawn
    for ax in fig.axes:
        labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        looks = [(line.get_linestyle(), line.get_marker()) for line in labelled]
        assert len(set(looks)) == len(looks), f"{name}: lines told apart by colour only: {looks}"


def test_lines_and_arrows_use_the_okabe_ito_palette(drawn):
    name, fig, _ = drawn
    allowed = {c.lower() for c in figures.OKABE_ITO.values()} | {"#222222", "#777777", "#555555", "#000000",
                                                                 "#888888", "#dddddd", "#333333", "#444444"}
    for ax in fig.axes:
        for line in ax.get_lines():
            colour = matplotlib.colors.to_hex(line.get_color())
            assert colour in allowed, f"{name}: line colour {colour} is not from the Okabe–Ito palette"


def test_arrows_of_the_chain_differ_by_line_style():
    from course.lessons.documents import RELATION_LINE, RELATION_STYLE

    assert set(RELATION_LINE) == set(RELATION_STYLE)
    assert len(set(RELATION_LINE.values())) == len(RELATION_LINE)
    assert all(c in figures.OKABE_ITO.values() for c in RELATION_STYLE.values())


def test_with_alt_refuses_an_empty_text():
    fig, _ = plt.subplots()
    try:
        with pytest.raises(ValueError):
            figures.with_alt(fig, "  ")
    finally:
        plt.close(fig)


def test_alt_text_is_escaped_in_the_html():
    fig, _ = plt.subplots()
    try:
        figures.with_alt(fig, 'A "quoted" <b>claim</b> & more')
        page = fig._repr_mimebundle_()[0]["text/html"]
        assert "<b>" not in page and "&lt;b&gt;" in page and "&quot;quoted&quot;" in page
    finally:
        plt.close(fig)


def test_bearing_words():
    assert figures.bearing_word(40, 44, 40, 50) == "east"
    assert figures.bearing_word(40, 44, 42, 44) == "north"
    assert figures.bearing_word(40, 44, 39, 43) == "south-west"
