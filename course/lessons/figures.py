"""Figures every student can read: a text alternative a screen reader reaches, safe colours.

`with_alt(fig, alt)` gives a matplotlib figure a text alternative and returns the figure. The
helpers that draw (maps, timelines, charts) end with it, so a notebook's `fig = chart(...)` is
unchanged: when the figure is shown (at the end of the cell by matplotlib's inline backend, or
by `plt.show()`, or as a cell's last expression) it goes out as

- `text/html`: `<figure class="course-figure"><img alt="…" src="data:image/png;base64,…"></figure>`.
  JupyterLab 4 renders this with the `alt` attribute, in a trusted notebook and in an untrusted
  one (its sanitizer keeps `img`, `alt` and a `data:` source). Its image renderer would not:
  for `image/png` output it sets only `src`, `width` and `height` (checked in JupyterLab 4.6).
- `image/png` with `{"alt": …}` in its metadata, for nbconvert's HTML export and tools that read
  the metadata key proposed for this (jupyter/enhancement-proposals#120).
- `text/plain`: the text alternative itself (a terminal, or a reader without images).

A text alternative says what the figure SHOWS, its finding ("Azerbaijan's military spending was
2.7 times Armenia's in 2023"), not only what it is ("a line chart"). The helpers compute it from
the same data they draw, so it can never drift from the picture. The caption under a figure (a
Markdown cell in the lesson) stays: it names the source; the text alternative replaces the picture.

Colours: `OKABE_ITO`, the palette of Okabe and Ito (2008), which readers with the common forms of
colour blindness can tell apart. No figure carries a meaning by colour alone: lines also differ
by line style and marker, arrows by line style, and every colour has a label or a legend entry.

This module also writes the text alternatives of helpers in other modules (maps, the lesson-04
map, the lesson-05 charts), so that those modules only call `with_alt(fig, …_alt(…))`.
"""
from __future__ import annotations

import html
from functools import partial

OKABE_ITO = {  # name -> hex; Okabe & Ito, "Color Universal Design" (2008)
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
# An order for series: the dark, high-contrast colours first; yellow (weak on white) last.
PALETTE = tuple(OKABE_ITO[c] for c in ("blue", "vermillion", "bluish green", "reddish purple", "orange",
                                       "sky blue", "black", "yellow"))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")        # one per series, with the colour
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))  # one per series, with the colour


def with_alt(fig, alt: str):
    """Give `fig` the text alternative `alt` (shown to screen readers in place of the picture).

    Returns `fig` itself, so existing code that uses the figure (axes, titles, savefig) keeps
    working; `fig.alt_text` holds the text.
    """
    alt = " ".join(str(alt).split())
    if not alt:
        raise ValueError("a figure needs a non-empty text alternative")
    fig.alt_text = alt
    fig._repr_mimebundle_ = partial(figure_bundle, fig)
    return fig


def png_base64(fig) -> str:
    """The figure as a base64 PNG, drawn as the inline backend draws it (tight bounding box)."""
    from IPython.core.pylabtools import print_figure

    kwargs = {"bbox_inches": "tight"}
    try:  # the notebook's own settings for inline figures, where a kernel has them
        from matplotlib_inline.config import InlineBackend

        kwargs.update(InlineBackend.instance().print_figure_kwargs)
    except Exception:  # noqa: BLE001 - no inline backend: the defaults above
        pass
    return print_figure(fig, "png", base64=True, **kwargs)


def figure_html(alt: str, png: str) -> str:
    return (f'<figure class="course-figure" style="margin:0">'
            f'<img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,{png}"></figure>')


def figure_bundle(fig, include=None, exclude=None):
    """(data, metadata) for IPython's display system: HTML with alt, PNG with alt, plain text."""
    png = png_base64(fig)
    data = {"text/html": figure_html(fig.alt_text, png), "image/png": png, "text/plain": fig.alt_text}
    if include:
        data = {k: v for k, v in data.items() if k in include}
    if exclude:
        data = {k: v for k, v in data.items() if k not in exclude}
    return data, {"image/png": {"alt": fig.alt_text}}


# -- small helpers for writing text alternatives --------------------------------------------------
def listing(items, last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count_word(n: int) -> str:
    """'four' for 4 (up to ten), digits above."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else f"{n:,}"


def day(value) -> str:
    """A date as '5 May 1994'."""
    import pandas as pd

    stamp = pd.Timestamp(value)
    return f"{stamp.day} {stamp:%B %Y}"


COUNTRY_NAMES = {"AM": "Armenia", "AZ": "Azerbaijan", "GE": "Georgia", "TR": "Türkiye", "IR": "Iran"}
COMPASS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")


def bearing_word(lat1, lon1, lat2, lon2) -> str:
    """The direction from point 1 to point 2 as one of eight compass words."""
    import math

    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlam = math.radians(lon2 - lon1)
    x = math.sin(dlam) * math.cos(phi2)
    y = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlam)
    degrees = (math.degrees(math.atan2(x, y)) + 360) % 360
    return COMPASS[int((degrees + 22.5) // 45) % 8]


# -- text alternatives of helpers in other modules --------------------------------------------------
def region_map_alt(place_ids=None, extent=None, title: str = "The South Caucasus") -> str:
    """maps.region_map: the places shown, by country, and where each lies from the first one."""
    from ..data import load
    from .geo import haversine_km
    from .maps import both_names

    places = load("gazetteer")
    if place_ids is not None:
        order = {p: i for i, p in enumerate(place_ids)}
        places = places[places["place_id"].isin(order)].copy()
        places = places.iloc[places["place_id"].map(order).argsort()]
    if extent is not None:
        lon_min, lon_max, lat_min, lat_max = extent
        places = places[places["lon"].between(lon_min, lon_max) & places["lat"].between(lat_min, lat_max)]
    rows = [row for _, row in places.iterrows()]
    text = f"Map: {title}. Countries filled and named in the legend"
    if not rows:
        return text + "; no places marked."
    by_country: dict[str, list[str]] = {}
    for row in rows:
        by_country.setdefault(COUNTRY_NAMES.get(str(row["country_iso2"]), str(row["country_iso2"])), []).append(
            both_names(row))
    text += ". Places marked, by the country where they lie: " + "; ".join(
        f"{country}: {listing(names)}" for country, names in by_country.items()) + "."
    if len(rows) > 1:
        first = rows[0]
        legs = [f"{both_names(r)} {haversine_km(first['lat'], first['lon'], r['lat'], r['lon']):,.0f} km "
                f"{bearing_word(first['lat'], first['lon'], r['lat'], r['lon'])}" for r in rows[1:]]
        text += f" Straight-line distance and direction from {both_names(first)}: {'; '.join(legs)}."
    return text


def meghri_map_alt(places_west_to_east) -> str:
    """geo.meghri_map: the Meghri stretch separates Nakhchivan from mainland Azerbaijan."""
    from ..data import load
    from .maps import both_names

    gazetteer = load("gazetteer").set_index("place_id")
    rows = gazetteer.loc[[p for p in places_west_to_east if p in gazetteer.index]]
    facts = load("border_facts").set_index("fact")["value"]
    rail = sorted(float(v) for fact, v in facts.items() if "railway" in str(fact).lower()
                  and ("meghri" in str(fact).lower() or "armenian part" in str(fact).lower()))
    towns = "; ".join(f"{both_names(r)} ({COUNTRY_NAMES.get(str(r['country_iso2']), '')})"
                      for _, r in rows.sort_values("lon").iterrows())
    low = int(rail[0] // 5 * 5) if rail else 0
    stretch = (f" The map labels the Meghri stretch as about {low}–{rail[-1]:g} km of Armenia "
               f"({listing(f'{v:g}' for v in rail)} km by source; data: border_facts)." if rail else "")
    return ("Map: Armenia's Meghri stretch, the southern end of Syunik province ('Zangezur' in Azerbaijani "
            "usage), separates Azerbaijan's Nakhchivan exclave to the west from mainland Azerbaijan to the "
            "east; to the south the Araks river is the border with Iran; Türkiye is at the western edge."
            f"{stretch} Towns marked, west to east: {towns}.")


def _ratio_words(value: float) -> str:
    return f"{value:.1f} times"


def ratio_chart_alt(ratio_table, measures: dict) -> str:
    """indicators.ratio_chart: the spending ratio's peak and latest value, then every measure's latest."""
    text = (f"Line chart of Azerbaijan's figures divided by Armenia's, {int(ratio_table.index.min())}–"
            f"{int(ratio_table.index.max())}, one line style and marker per measure.")
    spend = next((c for c in ("milex_current_usd_m", "milex_constant_2023_usd_m") if c in ratio_table), None)
    if spend:
        series = ratio_table[spend].dropna()
        text += (f" {measures.get(spend, spend)}: Azerbaijan's was {_ratio_words(float(series.max()))} Armenia's "
                 f"at its highest, in {int(series.idxmax())}, and {_ratio_words(float(series.iloc[-1]))} in "
                 f"{int(series.index[-1])}; lowest {_ratio_words(float(series.min()))} in {int(series.idxmin())}.")
    parts = []
    for column in ratio_table.columns:
        series = ratio_table[column].dropna()
        if not series.empty:
            parts.append(f"{measures.get(column, column)} {_ratio_words(float(series.iloc[-1]))} "
                         f"({int(series.index[-1])})")
    return text + " Latest ratios: " + "; ".join(parts) + "."


def spending_chart_alt(table) -> str:
    """indicators.spending_chart: who spent more, by how much in 2023, and each side's peak."""
    wide = table.pivot(index="year", columns="iso3", values="milex_current_usd_m").astype("float64").dropna()
    if not {"ARM", "AZE"} <= set(wide.columns) or wide.empty:
        return "Line chart of military spending in current US$ million, one line per country."
    first, last = int(wide.index.min()), int(wide.index.max())
    more = (wide["AZE"] > wide["ARM"])
    year = 2023 if 2023 in wide.index else last
    aze, arm = wide.loc[year, "AZE"], wide.loc[year, "ARM"]
    text = (f"Line chart of military spending, Armenia and Azerbaijan, {first}–{last} (current US$ million, "
            f"SIPRI 2025 release). In {year} Azerbaijan's military spending was {aze / arm:.1f} times Armenia's "
            f"({aze:,.0f} against {arm:,.0f} US$ million). ")
    if more.all():
        text += f"Azerbaijan spent more than Armenia in every year from {first} to {last}. "
    else:
        text += (f"Azerbaijan spent more than Armenia in {int(more.sum())} of the {len(more)} years "
                 f"from {first} to {last}. ")
    for iso, name in (("AZE", "Azerbaijan"), ("ARM", "Armenia")):
        text += f"{name}'s highest year was {int(wide[iso].idxmax())} ({wide[iso].max():,.0f}). "
    return text.strip()


__all__ = ["LINESTYLES", "MARKERS", "OKABE_ITO", "PALETTE", "count_word", "day", "figure_bundle", "listing",
           "meghri_map_alt", "ratio_chart_alt", "region_map_alt", "spending_chart_alt", "with_alt"]
