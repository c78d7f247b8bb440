"""The geography of lesson 04: great-circle distances and the map of the Meghri stretch.

`haversine_km(lat1, lon1, lat2, lon2)` works on single numbers and on whole pandas columns
(numpy does the arithmetic element by element). `distances_from(place_id)` gives the distance
from one gazetteer place to all the others. `meghri_map()` draws southern Armenia between
mainland Azerbaijan and the Nakhchivan exclave, with Iran across the Araks.
Straight-line distances are a lower bound: a road or railway along a river is longer.
"""
from __future__ import annotations

EARTH_RADIUS_KM = 6371.0  # the mean radius; the Earth is not a perfect sphere (error < 0.5 %)

# The places of the Meghri map, west (Nakhchivan) to east (mainland Azerbaijan), and its view.
MEGHRI_PLACES = ["nakhchivan", "julfa_az", "ordubad", "agarak", "meghri", "kapan", "goris", "zangilan",
                 "horadiz"]
MEGHRI_EXTENT = (44.9, 47.7, 38.45, 39.95)  # lon_min, lon_max, lat_min, lat_max


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km between points given in degrees (numbers, arrays or Series)."""
    import numpy as np

    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlam = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def distances_from(place_id: str):
    """Distance in km from one gazetteer place to every place, nearest first (a Series by place_id)."""
    from ..data import load

    places = load("gazetteer").set_index("place_id")
    if place_id not in places.index:
        raise KeyError(f"unknown place id {place_id!r}; see load('gazetteer')['place_id']")
    here = places.loc[place_id]
    km = haversine_km(places["lat"], places["lon"], here["lat"], here["lon"])
    return km.rename("km").sort_values()


def meghri_map(title: str = "The Meghri stretch: southern Armenia between mainland Azerbaijan and Nakhchivan",
               figsize=(10, 6.5)):
    """The lesson-04 map: countries, the route's towns, Syunik/'Zangezur' and the Araks labelled."""
    import matplotlib.pyplot as plt

    from .maps import SOURCE_NOTE, draw_countries, draw_places

    fig, ax = plt.subplots(figsize=figsize)
    draw_countries(ax, MEGHRI_EXTENT)
    draw_places(ax, MEGHRI_PLACES)
    notes = {  # (lon, lat) -> label; region names, not gazetteer points
        (45.25, 39.55): "NAKHCHIVAN\n(Azerbaijani exclave)",
        (45.95, 39.45): "SYUNIK province (Armenia)\n'Zangezur' in Azerbaijani usage",
        (47.0, 39.75): "MAINLAND\nAZERBAIJAN",
        (45.9, 38.62): "IRAN",
        (46.95, 38.93): "Araks river:\nthe border with Iran",
    }
    for (lon, lat), text in notes.items():
        ax.text(lon, lat, text, fontsize=8, ha="center", va="center", style="italic", color="#333")
    ax.annotate("Meghri stretch: about 40–45 km of Armenia\n(42, 43, 45 km by source; data: border_facts)",
                xy=(46.24, 38.90), xytext=(46.55, 38.52), fontsize=8, ha="left",
                arrowprops={"arrowstyle": "->", "color": "#9c2a00"}, color="#9c2a00")
    ax.set_title(title, fontsize=11)
    fig.text(0.01, 0.005, SOURCE_NOTE + " Region labels added by the course; at this scale the river "
             "border is simplified, so Agarak and Julfa can seem to sit on the wrong bank.",
             fontsize=7, ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


__all__ = ["EARTH_RADIUS_KM", "MEGHRI_EXTENT", "MEGHRI_PLACES", "distances_from", "haversine_km", "meghri_map"]
