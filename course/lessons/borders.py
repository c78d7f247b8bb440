"""The Armenia–Azerbaijan border in lesson 03: the disagreeing length figures and the 2024 map.

- `border_totals()`: the three totals of the Armenia–Azerbaijan border in the course data, one
  per source (km). The older CIA Factbook editions give two parts (566 km with mainland
  Azerbaijan, 221 km with Nakhchivan), so that total is their sum.
- `section_km()`: the length of the line delimited in 2024 (Tavush–Gazakh), from the data.
- `totals_chart()`: the three totals as bars, each labelled with the 2024 section's share.
- `village_map()`: a map of the Tavush–Gazakh border area with the four 2024 village pairs.
  The course data have no coordinates for the villages, so the map marks Ijevan (capital of
  Tavush province, in the gazetteer) and lists the pairs beside the map; it invents no points.
"""
from __future__ import annotations

from .figures import OKABE_ITO, count_word, day, with_alt

# label -> the `fact` rows of border_facts whose values add up to that source's total
TOTALS = {
    "CIA Factbook, 2016+ editions": ["Armenia–Azerbaijan border, total"],
    "CIA Factbook, older editions (566 + 221)": [
        "Armenia–Azerbaijan border, main part (Azerbaijan proper)",
        "Armenia–Azerbaijan border, with Nakhchivan",
    ],
    "Azerbaijani official figure": ["Armenia–Azerbaijan border, total (Azerbaijani official figure)"],
}
SECTION_2024 = "Border line delimited in 2024 (Tavush–Gazakh)"
TAVUSH_VIEW = (43.9, 46.9, 39.95, 41.85)  # lon_min, lon_max, lat_min, lat_max: Yerevan to Tbilisi
CONTEXT_PLACES = ["yerevan", "tbilisi"]
VILLAGE_NOTE = ("Villages: course data villages_2024 (no coordinates in the course data, so none are "
                "plotted); Ijevan from the gazetteer (GeoNames).")


def _facts():
    from ..data import load

    return load("border_facts").set_index("fact")["value"]


def border_totals():
    """The Armenia–Azerbaijan border length by source, in km (a pandas Series named 'km')."""
    import pandas as pd

    facts = _facts()
    return pd.Series({label: float(facts[rows].sum()) for label, rows in TOTALS.items()}, name="km")


def section_km() -> float:
    """Length of the border line delimited in 2024 on the Tavush–Gazakh section, in km."""
    return float(_facts()[SECTION_2024])


def totals_chart(title: str = "One border, three totals: the 2024 section's share under each"):
    """Bars of the three border totals (km), each labelled with the 2024 section's share of it."""
    import matplotlib.pyplot as plt

    totals = border_totals().sort_values()
    part = section_km()
    fig, ax = plt.subplots(figsize=(9, 3.4))
    ax.barh(totals.index, totals.values, color=OKABE_ITO["sky blue"], edgecolor="#555")
    for pos, km in enumerate(totals.values):
        ax.text(15, pos, f"{km:,.0f} km, of which the {part:g} km section is {part / km:.2%}", va="center",
                fontsize=9)
    ax.set_xlim(0, totals.max() * 1.08)
    ax.set_xlabel("Length of the Armenia–Azerbaijan border (km)")
    ax.set_ylabel("Source of the figure")
    ax.set_title(title)
    fig.text(0.01, 0.005, "Data: course data border_facts (CIA World Factbook editions; Azerbaijani official "
             "figure; 12.7 km: office of Azerbaijan's Deputy Prime Minister, 24 May 2024).", fontsize=7,
             ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    shares = [f"{km:,.0f} km ({label}), of which the section is {part / km:.2%}" for label, km in totals.items()]
    return with_alt(fig, f"Bar chart: {title}. The {part:g} km of border delimited in 2024 is under "
                         f"{part / totals.min():.1%} of the Armenia–Azerbaijan border whichever total is used. "
                         f"The three totals, by source: {'; '.join(shares)}. They differ by "
                         f"{totals.max() - totals.min():,.0f} km.")


def village_map(title: str = "The 2024 Tavush–Gazakh section: four village sites and their neighbours"):
    """Map of the Tavush–Gazakh border area with a table of the four village pairs of 2024."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ..data import load
    from .maps import COUNTRY_STYLE, SOURCE_NOTE, both_names, draw_countries, draw_places

    fig, (ax, side) = plt.subplots(1, 2, figsize=(12, 6.2), gridspec_kw={"width_ratios": [1.35, 1]})
    draw_countries(ax, TAVUSH_VIEW, label=False)
    draw_places(ax, CONTEXT_PLACES)
    gazetteer = load("gazetteer").set_index("place_id")
    ijevan = gazetteer.loc["ijevan"]
    ax.plot(ijevan["lon"], ijevan["lat"], marker="*", color=OKABE_ITO["vermillion"], markersize=15, zorder=6,
            linestyle="none")
    ax.annotate(f"{both_names(ijevan)}, capital of Tavush province.\nThe four 2024 sections lie on the\n"
                "Tavush–Gazakh border in this area\n(exact points not in the course data)",
                (ijevan["lon"], ijevan["lat"]), xytext=(-150, -75), textcoords="offset points", fontsize=8,
                zorder=7, arrowprops=dict(arrowstyle="->", color=OKABE_ITO["vermillion"]),
                bbox=dict(boxstyle="round", facecolor="white", edgecolor=OKABE_ITO["vermillion"]))
    ax.set_title("Where: north-east Armenia / north-west Azerbaijan", fontsize=10)
    countries = [Patch(facecolor=COUNTRY_STYLE[iso][0], edgecolor="#555", label=COUNTRY_STYLE[iso][1])
                 for iso in ("ARM", "AZE", "GEO", "TUR")]
    marks = [Line2D([0], [0], marker="*", color=OKABE_ITO["vermillion"], markersize=12, linestyle="none",
                    label="Ijevan (gazetteer point)"),
             Line2D([0], [0], marker="o", color="#222", markersize=4, linestyle="none",
                    label="other gazetteer places")]
    ax.legend(handles=countries + marks, loc="lower right", fontsize=8, framealpha=0.95)

    villages = load("villages_2024")
    side.axis("off")
    side.set_title("What: the four village pairs", fontsize=10)
    rows = [[str(v.azerbaijani_village_returned), str(v.adjacent_armenian_village)]
            for v in villages.itertuples()]
    table = side.table(cellText=rows, colLabels=["Azerbaijani village site\n(Gazakh) → Azerbaijan",
                                                  "Adjacent Armenian village\n(Tavush) stays in Armenia"],
                       loc="upper center", cellLoc="center", colLoc="center", bbox=(0.0, 0.42, 1.0, 0.5))
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    for (r, _c), cell in table.get_celld().items():
        if r == 0:
            cell.set_facecolor("#eeeeee")
            cell.set_text_props(weight="bold", fontsize=8.5)
    agreed, handed = villages["agreed"].min(), villages["handed_over"].min()
    side.text(0.0, 0.36, f"Agreed on {agreed:%d %B %Y}; Azerbaijan's border service took control\n"
              f"of the four village areas on {handed:%d %B %Y}.\n\n"
              "Each row is two different villages, one on each side of the line;\n"
              "they are not two names for one place.", fontsize=8.5, va="top", transform=side.transAxes)
    fig.suptitle(title, fontsize=12)
    fig.text(0.01, 0.005, SOURCE_NOTE + "\n" + VILLAGE_NOTE, fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.09, 1, 0.96))
    pairs = "; ".join(f"{a} (to Azerbaijan) beside {b} (stays in Armenia)" for a, b in rows)
    return with_alt(fig, f"Map and table: {title}. In 2024 {count_word(len(rows))} Azerbaijani village sites on the "
                         "Tavush–Gazakh section went to Azerbaijan, each beside a different Armenian village "
                         f"that stays in Armenia: {pairs}. Agreed on {day(agreed)}; Azerbaijan's border "
                         f"service took control of the {count_word(len(rows))} village areas on {day(handed)}. The map "
                         "shows north-east Armenia and north-west Azerbaijan between Yerevan and Tbilisi, with "
                         f"{both_names(ijevan)}, capital of Tavush province, marked by a star; the sections lie on "
                         "the border in this area (the course data have no coordinates for the villages, so "
                         "none are plotted).")


__all__ = ["TOTALS", "border_totals", "section_km", "totals_chart", "village_map"]
