"""Lesson 05: Azerbaijan and Armenia side by side in SIPRI and World Bank figures.

`panel()` joins military spending (SIPRI, 2025 release), GDP and population (World Bank) on
`iso3` and `year`; it joins on the code because the files spell some countries differently
("Iran" / "Iran, Islamic Rep.", "Türkiye" / "Turkiye"). `side_by_side(table, column)` puts one
measure of the two countries next to each other, one row per year; `ratios(table)` divides one
country's figures by another's for every measure. `ratio_chart` and `spending_chart` draw them with the 2020
war and the September 2023 operation marked. A ratio compares resources, not fighting power.
"""
from __future__ import annotations

MEASURES = {  # column -> label in charts
    "milex_current_usd_m": "Military spending (current US$)",
    "milex_constant_2023_usd_m": "Military spending (constant 2023 US$)",
    "gdp_current_usd": "GDP (current US$)",
    "population": "Population",
}
EVENTS = {  # year -> label; dates in the course timeline (data: timeline)
    2020: "2020 war\n(27 Sep–10 Nov 2020)",
    2023: "Sep 2023: Azerbaijan's\noperation in Karabakh",
}
_LABEL_HEIGHT = {2020: 0.97, 2023: 0.84}  # fractions of the y range, staggered so labels never overlap
SOURCE_NOTE = ("Sources: SIPRI Military Expenditure Database, 2025 release (revised every year); "
               "World Bank WDI NY.GDP.MKTP.CD (to 2023) and SP.POP.TOTL. Events: course timeline.")


def panel(countries=("ARM", "AZE"), how: str = "outer"):
    """One row per country and year: SIPRI spending and shares, World Bank GDP and population.

    `how="outer"` keeps 2024, where the World Bank GDP file has no value yet; `"inner"` keeps
    only the years every file covers.
    """
    from ..data import load

    milex = load("milex")
    keep = ["iso3", "year", "milex_current_usd_m", "milex_constant_2023_usd_m", "milex_share_of_gdp_pct"]
    table = milex.loc[milex["iso3"].isin(countries), keep]
    for name, column in (("gdp", "gdp_current_usd"), ("population", "population")):
        other = load(name)
        table = table.merge(other.loc[other["iso3"].isin(countries), ["iso3", "year", column]],
                            on=["iso3", "year"], how=how)
    table["iso3"] = table["iso3"].astype(str)
    return table.sort_values(["iso3", "year"]).reset_index(drop=True)


def ratios(table, top: str = "AZE", bottom: str = "ARM", columns=tuple(MEASURES)):
    """`top` ÷ `bottom` for each measure, one row per year (float; missing where either is missing)."""
    columns = list(columns)
    upper = table[table["iso3"] == top].set_index("year")[columns].astype("float64")
    lower = table[table["iso3"] == bottom].set_index("year")[columns].astype("float64")
    return (upper / lower).sort_index()


def side_by_side(table, column: str):
    """One column of `table` with the countries side by side: one row per year, one column per
    country code (`ARM`, `AZE`). Then `s["AZE"] / s["ARM"]` or `s["AZE"] - s["ARM"]` compares
    the two countries year by year."""
    wide = table.pivot(index="year", columns="iso3", values=column).astype("float64")
    wide.columns.name = None
    return wide.sort_index()


def _mark_events(ax):
    for year, label in EVENTS.items():
        ax.axvline(year, color="#777", linestyle=":", linewidth=1)
        height = ax.get_ylim()[1] * _LABEL_HEIGHT.get(year, 0.97)
        ax.text(year - 0.15, height, label, fontsize=7, ha="right", va="top", color="#444",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})


def ratio_chart(ratio_table, title="Azerbaijan ÷ Armenia, 2000–2024: how many times larger?"):
    """Line chart of the ratios by year, with a line at 1 (equal) and the 2020/2023 events."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5))
    styles = {"milex_current_usd_m": "-", "milex_constant_2023_usd_m": "--", "gdp_current_usd": "-.",
              "population": ":"}
    from .figures import MARKERS, PALETTE, ratio_chart_alt, with_alt  # Okabe–Ito colours, one marker per line

    for n, column in enumerate(ratio_table.columns):
        ax.plot(ratio_table.index, ratio_table[column], styles.get(column, "-"), marker=MARKERS[n % len(MARKERS)],
                markersize=3, color=PALETTE[n % len(PALETTE)], label=MEASURES.get(column, column))
    ax.axhline(1, color="#222", linewidth=0.8)
    ax.text(2000, 1.1, "1 = the same size", fontsize=7, color="#222")
    ax.set_ylim(0, max(9.0, float(ratio_table.max().max()) * 1.1))
    _mark_events(ax)
    ax.set_xlabel("Year")
    ax.set_ylabel("Azerbaijan's figure ÷ Armenia's figure (times)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, bbox_to_anchor=(0.0, 0.93))
    fig.text(0.01, 0.005, SOURCE_NOTE, fontsize=7, ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return with_alt(fig, ratio_chart_alt(ratio_table, MEASURES))


def spending_chart(table, title="Military spending, Armenia and Azerbaijan, 2000–2024 (SIPRI 2025 release)"):
    """The two countries' spending in current US$ million, with the 2020/2023 events."""
    import matplotlib.pyplot as plt

    names = {"ARM": "Armenia", "AZE": "Azerbaijan"}
    fig, ax = plt.subplots(figsize=(9, 5))
    from .figures import LINESTYLES, MARKERS, PALETTE, spending_chart_alt, with_alt

    for n, (iso3, part) in enumerate(table.groupby("iso3")):  # colour, line style and marker per country
        ax.plot(part["year"], part["milex_current_usd_m"], marker=MARKERS[n % len(MARKERS)], markersize=3,
                linestyle=LINESTYLES[n % len(LINESTYLES)], color=PALETTE[n % len(PALETTE)],
                label=names.get(iso3, iso3))
    ax.set_ylim(0, float(table["milex_current_usd_m"].max()) * 1.35)  # room for the event labels
    _mark_events(ax)
    ax.set_xlabel("Year")
    ax.set_ylabel("Military spending (US$ million, current prices)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.text(0.01, 0.005, SOURCE_NOTE, fontsize=7, ha="left", va="bottom", wrap=True)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return with_alt(fig, spending_chart_alt(table))


__all__ = ["EVENTS", "MEASURES", "panel", "ratio_chart", "ratios", "side_by_side", "spending_chart"]
