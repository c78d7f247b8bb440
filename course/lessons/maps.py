"""Small maps of the region, drawn with matplotlib from the course's own data.

Outlines: Natural Earth 1:50m (de jure lines of 2018, generalised at rivers; overview only).
Places: the gazetteer, labelled by `both_names`.

The course's naming convention, the same in maps and text:
- a place in Armenia or Azerbaijan is named first as the country where it lies names it, then
  by the other side's name where the two differ: "Khankendi / Stepanakert", "Lachin / Berdzor",
  "Shusha / Shushi" (in Azerbaijan); "Kapan / Qafan", "Yerevan / İrəvan" (in Armenia);
- a mere difference of spelling is not a second name: "Meghri", not "Meghri / Meğri";
- an undisputed place outside the two countries (Georgia, Türkiye, Iran) gets its usual English
  name only: "Tbilisi", "Kars", "Tehran".
Regions follow the same rule: Syunik (Armenia), which Azerbaijan calls "Zangezur".
"""
from __future__ import annotations

COUNTRY_STYLE = {  # iso_a3 -> (fill colour, label); muted, no colour carries a judgement
    "ARM": ("#f2d8a7", "Armenia"),
    "AZE": ("#b9d7ea", "Azerbaijan"),
    "GEO": ("#dfe8c9", "Georgia"),
    "TUR": ("#e8e1f0", "Türkiye"),
    "IRN": ("#f0e0dc", "Iran"),
}
SOUTH_CAUCASUS = (41.5, 51.0, 37.8, 42.5)  # lon_min, lon_max, lat_min, lat_max
SOURCE_NOTE = ("Outlines: Natural Earth 1:50m v4.1.0 (public domain; de jure 2018 lines, not the 2024 "
               "delimitation). Places: GeoNames via the course gazetteer.")


def both_names(row) -> str:
    """The course's label for a gazetteer place (see the convention in the module docstring).

    `row` is a gazetteer row (a pandas Series or a dict). The name of the country where the
    place lies comes first, in its English spelling (the first part of `name_en`); the other
    side's name follows where it is a different name, not only a different spelling.
    """
    import pandas as pd

    def text(key):
        value = row.get(key)
        return "" if value is None or pd.isna(value) else str(value).strip()

    local = text("name_en").split(" / ")[0].split(" (")[0]
    country = text("country_iso2")
    if country == "AM":
        local, other = text("name_armenian_usage") or local, text("name_azerbaijani_usage")
    elif country == "AZ":
        other = text("name_armenian_usage")
    else:  # Georgia, Türkiye, Iran: the usual English name only
        return local
    if other and _spelling_fold(other) != _spelling_fold(local):
        return f"{local} / {other}"
    return local


_SPELLINGS = {"ə": "e", "x": "kh", "ç": "ch", "ş": "sh", "ğ": "gh", "c": "j", "ı": "i", "i̇": "i"}


def _spelling_fold(name: str) -> str:
    """Fold Azerbaijani and English spellings of one name together: 'Meğri' and 'Meghri' match."""
    import unicodedata

    name = name.casefold()
    for letter, sound in _SPELLINGS.items():
        name = name.replace(letter, sound)
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def draw_countries(ax, extent=SOUTH_CAUCASUS, label: bool = True):
    """Fill the five countries' outlines on `ax` and set the view to `extent`."""
    from ..data import load

    outlines = load("outlines")
    # Holes need no drawing: each is filled by the other country's exclave polygon, which is
    # drawn on top (small polygons last), e.g. Artsvashen (ARM) inside Azerbaijan.
    exteriors = outlines[outlines["ring"] == 0]
    for (iso, _polygon), part in exteriors.groupby(["iso_a3", "polygon"], observed=True):
        colour, _ = COUNTRY_STYLE[iso]
        ax.fill(part["lon"], part["lat"], facecolor=colour, edgecolor="#555", linewidth=0.6,
                zorder=2 if len(part) < 20 else 1)
    lon_min, lon_max, lat_min, lat_max = extent
    ax.set_xlim(lon_min, lon_max)
    ax.set_ylim(lat_min, lat_max)
    ax.set_aspect(1 / 0.77)  # about 1/cos(40°): keeps shapes right at this latitude
    ax.set_xlabel("Longitude (°E)")
    ax.set_ylabel("Latitude (°N)")
    if label:
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=c, edgecolor="#555", label=name) for c, name in COUNTRY_STYLE.values()]
        ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    return ax


def draw_places(ax, place_ids=None, fontsize: int = 8):
    """Mark gazetteer places (all, or the ids given), each labelled by `both_names`."""
    from ..data import load

    places = load("gazetteer")
    if place_ids is not None:
        unknown = set(place_ids) - set(places["place_id"])
        if unknown:
            raise KeyError(f"unknown place id(s) {sorted(unknown)}; see load('gazetteer')['place_id']")
        places = places[places["place_id"].isin(place_ids)]
    for _, row in places.iterrows():
        ax.plot(row["lon"], row["lat"], "o", color="#222", markersize=3, zorder=5)
        ax.annotate(both_names(row), (row["lon"], row["lat"]), xytext=(3, 3), textcoords="offset points",
                    fontsize=fontsize, zorder=6)
    return ax


def region_map(place_ids=None, extent=SOUTH_CAUCASUS, title="The South Caucasus", figsize=(9, 6.5)):
    """A ready map: countries, places, title and the source line. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    draw_countries(ax, extent)
    draw_places(ax, place_ids)
    ax.set_title(title)
    fig.text(0.01, 0.005, SOURCE_NOTE, fontsize=7, ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    from .figures import region_map_alt, with_alt  # the text alternative screen readers get

    return with_alt(fig, region_map_alt(place_ids, extent, title))
