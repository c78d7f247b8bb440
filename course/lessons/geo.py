"""The geography of lesson 04: straight-line distances and the map of the Meghri stretch.

`distances_from(place_id)` gives the distance from one gazetteer place to all the others, and
`route_km(stops)` the length of a journey through several places, leg by leg. Both are
straight lines on the globe (great circles, `haversine_km`), so they are a lower bound: a road
or a railway along a river valley is longer. `meghri_map()` draws southern Armenia between
mainland Azerbaijan and the Nakhchivan exclave, with Iran across the Araks.
"""
from __future__ import annotations

from pathlib import Path

EARTH_RADIUS_KM = 6371.0  # the mean radius; the Earth is not a perfect sphere (error < 0.5 %)

STAKEHOLDERS = Path(__file__).resolve().parent.parent / "lesson_data" / "04_stakeholders.csv"
# The places of the Meghri map, west (Nakhchivan) to east (mainland Azerbaijan), and its view.
MEGHRI_PLACES = ["nakhchivan", "julfa_az", "ordubad", "agarak", "meghri", "kapan", "goris", "zangilan",
                 "horadiz"]
MEGHRI_EXTENT = (44.55, 47.7, 38.45, 39.95)  # lon_min, lon_max, lat_min, lat_max (Türkiye at the west edge)
# Towns on the Araks that the 1:50m outline puts on the wrong bank: each gets a label set off
# into the country it belongs to, a leader line to its dot, and a note saying so on the map.
# place_id -> (label position lon, lat; the note under the name)
ON_THE_RIVER = {
    "agarak": ((45.72, 38.66), "Armenia's crossing to Iran. It lies on the\n"
                               "north (Armenian) bank of the Araks; the simplified\n"
                               "border line puts its dot just inside Iran."),
    "julfa_az": ((45.0, 39.02), "in Nakhchivan, on the north bank;\nthe simplified line puts its dot on the border"),
}


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km between points given in degrees (numbers, arrays or Series)."""
    import numpy as np

    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlam = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _places():
    from ..data import load

    return load("gazetteer").set_index("place_id")


def _check_ids(places, place_ids) -> None:
    unknown = [p for p in place_ids if p not in places.index]
    if unknown:
        raise KeyError(f"unknown place id {unknown[0]!r}; see load('gazetteer')['place_id']")


def distances_from(place_id: str):
    """Straight-line distance in km from one gazetteer place to every place, nearest first.

    A Series indexed by place_id: `distances_from("meghri").loc["ordubad"]` is one distance.
    """
    places = _places()
    _check_ids(places, [place_id])
    here = places.loc[place_id]
    km = haversine_km(places["lat"], places["lon"], here["lat"], here["lon"])
    return km.rename("km").sort_values()


def route_km(stops) -> float:
    """The length in km of a journey through the gazetteer places `stops`, in straight legs.

    `route_km(["baku", "tbilisi", "kars"])` adds Baku–Tbilisi and Tbilisi–Kars. Straight lines
    are a lower bound: the real road or railway is longer.
    """
    stops = list(stops)
    if len(stops) < 2:
        raise ValueError("a route needs at least two stops")
    places = _places()
    _check_ids(places, stops)
    legs = [haversine_km(places.loc[a, "lat"], places.loc[a, "lon"], places.loc[b, "lat"], places.loc[b, "lon"])
            for a, b in zip(stops, stops[1:])]
    return float(sum(legs))


def position_table():
    """Lesson 04's table of actors on the route (course/lesson_data/04_stakeholders.csv): one row per
    actor with its type, stance, main interest as reported, source(s) and the month of the source."""
    import pandas as pd

    return pd.read_csv(STAKEHOLDERS)


def meghri_map(title: str = "The Meghri stretch: southern Armenia between mainland Azerbaijan and Nakhchivan",
               figsize=(10.5, 6.5)):
    """The lesson-04 map: countries, the route's towns, Syunik/'Zangezur' and the Araks labelled.

    Agarak and Julfa sit on the river, where the simplified outline misplaces them: their labels
    are set off with a leader line and a note on the map itself.
    """
    import matplotlib.pyplot as plt

    from .maps import SOURCE_NOTE, both_names, draw_countries, draw_places

    fig, ax = plt.subplots(figsize=figsize)
    draw_countries(ax, MEGHRI_EXTENT)
    draw_places(ax, [p for p in MEGHRI_PLACES if p not in ON_THE_RIVER])
    places = _places()
    for place_id, ((lon, lat), note) in ON_THE_RIVER.items():
        row = places.loc[place_id]
        ax.plot(row["lon"], row["lat"], "o", color="#222", markersize=3, zorder=5)
        ax.annotate(f"{both_names(row)}: {note}", xy=(row["lon"], row["lat"]), xytext=(lon, lat),
                    fontsize=7.5, ha="center", va="center", zorder=7,
                    bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#555", "alpha": 0.95},
                    arrowprops={"arrowstyle": "-", "color": "#222", "linewidth": 0.8})
    notes = {  # (lon, lat) -> label; region names, not gazetteer points
        (45.25, 39.55): "NAKHCHIVAN\n(Azerbaijani exclave)",
        (45.95, 39.45): "SYUNIK province (Armenia)\n'Zangezur' in Azerbaijani usage",
        (47.0, 39.75): "MAINLAND\nAZERBAIJAN",
        (46.2, 38.55): "IRAN",
        (44.68, 39.78): "TÜRKIYE",
        (46.95, 38.93): "Araks river:\nthe border with Iran",
    }
    for (lon, lat), text in notes.items():
        ax.text(lon, lat, text, fontsize=8, ha="center", va="center", style="italic", color="#333")
    ax.annotate("Meghri stretch: about 40–45 km of Armenia\n(42, 43, 45 km by source; data: border_facts)",
                xy=(46.24, 38.90), xytext=(46.6, 38.52), fontsize=8, ha="left",
                arrowprops={"arrowstyle": "->", "color": "#9c2a00"}, color="#9c2a00")
    ax.set_title(title, fontsize=11)
    fig.text(0.01, 0.005, SOURCE_NOTE + " Region labels added by the course. At this scale the river "
             "border is simplified: the boxed labels say where a town really lies.",
             fontsize=7, ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    from .figures import meghri_map_alt, with_alt  # the text alternative screen readers get

    return with_alt(fig, meghri_map_alt(MEGHRI_PLACES))


__all__ = ["EARTH_RADIUS_KM", "MEGHRI_EXTENT", "MEGHRI_PLACES", "ON_THE_RIVER", "distances_from", "haversine_km",
           "meghri_map", "position_table", "route_km", "STAKEHOLDERS"]
