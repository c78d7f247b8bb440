"""A timeline chart of the course's dated events: one lane per category, one dot per event.

`timeline_chart(load("timeline"), start="2020-01-01", end="2024-12-31")` returns a matplotlib
figure with a title, labelled axes, a legend and a source line. By default only rows whose
`status` is "verified" are drawn; the source line says how many others were left out, so a
reader can see that the chart hides nothing silently.
"""
from __future__ import annotations

from .figures import PALETTE as PALETTE_8
from .figures import day, listing, with_alt

CATEGORY_LABELS = {  # category in the timeline data -> label on the chart
    "origins": "Origins",
    "war_ceasefire": "War and ceasefires",
    "mediation": "Mediation",
    "borders": "Borders",
    "constitution": "Constitution",
    "displacement": "Displacement",
    "armenia_turkey": "Armenia–Türkiye",
    "corridor": "Transit route",
    "cop29": "COP29",
    "peace_treaty": "Peace treaty",
    "armenia_politics": "Armenian politics",
}
# One colour per category, in the order above: the Okabe–Ito palette (safe for colour-blind
# readers; course/lessons/figures.py), repeated past eight. The colour only echoes the lane: each
# category has its own row, named on the axis, so no meaning rests on the colour.
PALETTE = tuple(PALETTE_8[i % len(PALETTE_8)] for i in range(len(CATEGORY_LABELS)))
SOURCE = "Source: course timeline (data set `timeline`; each row lists its own sources and their types)."
LABEL_HEIGHT = 14  # points between a dot and its caption
EDGE = 0.12  # captions of dots this close to either end of the time axis run inwards


def select(events, start=None, end=None, verified_only: bool = True, categories=None):
    """The rows between `start` and `end` (inclusive, dates as 'YYYY-MM-DD'), sorted by date.

    With `verified_only`, rows whose status is not exactly "verified" are dropped; with
    `categories` (a list of category names), only those categories are kept.
    """
    rows = events
    if categories is not None:
        unknown = set(categories) - set(events["category"].astype("string"))
        if unknown:
            raise KeyError(f"no category {sorted(unknown)[0]!r} in the timeline; the categories are "
                           f"{', '.join(CATEGORY_LABELS)}")
        rows = rows[rows["category"].astype("string").isin(list(categories))]
    if start is not None:
        rows = rows[rows["date"] >= start]
    if end is not None:
        rows = rows[rows["date"] <= end]
    if verified_only:
        rows = rows[rows["status"].astype("string") == "verified"]
    return rows.sort_values("date", kind="stable")


def timeline_chart(events, start=None, end=None, labels=None, title="Dated events",
                   verified_only: bool = True, categories=None, figsize=None):
    """Draw the events between `start` and `end` as dots in one lane per category.

    `labels` maps a row's `date_text` (e.g. "2020-11-10") to a short caption, written above
    the dot, or below it when the caption starts with "_" (the "_" is not shown). When two
    rows share a date, the caption goes to the first. An unknown date raises KeyError, so a
    typo never drops a caption silently. Returns the matplotlib figure.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = select(events, start, end, verified_only, categories)
    if rows.empty:
        raise ValueError("no events to draw in that period")
    left_out = len(select(events, start, end, False, categories)) - len(rows)
    present = [c for c in CATEGORY_LABELS if c in set(rows["category"].astype("string"))]
    present += sorted(set(rows["category"].astype("string")) - set(present))
    lane = {cat: pos for pos, cat in enumerate(reversed(present))}
    fig, ax = plt.subplots(figsize=figsize or (10, max(4.6, 1.8 + 0.42 * len(lane))))
    for cat in present:
        part = rows[rows["category"].astype("string") == cat]
        exact = part["date_precision"].astype("string") == "day"
        colour = PALETTE[list(CATEGORY_LABELS).index(cat)] if cat in CATEGORY_LABELS else "#000"
        ax.scatter(part.loc[exact, "date"], [lane[cat]] * int(exact.sum()), s=42, color=colour,
                   edgecolor="#222", linewidth=0.5, zorder=3)
        if (~exact).any():
            ax.scatter(part.loc[~exact, "date"], [lane[cat]] * int((~exact).sum()), s=42,
                       facecolor="white", edgecolor=colour, linewidth=1.5, zorder=3)
    ax.set_yticks(list(lane.values()), [CATEGORY_LABELS.get(c, c) for c in lane])
    ax.set_ylim(-0.7, len(lane) - 0.3)
    ax.set_xlabel("Date")
    ax.set_ylabel("Category of event")
    ax.set_title(title)
    ax.grid(axis="x", color="#ddd", linewidth=0.6)
    ax.set_axisbelow(True)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    span = rows["date"].max() - rows["date"].min()
    pad = max(span * 0.04, _days(20))
    ax.set_xlim(rows["date"].min() - pad, rows["date"].max() + pad)
    _add_labels(ax, rows, lane, labels or {})

    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color="#888", markeredgecolor="#222",
                      label="event, exact day")]
    if (rows["date_precision"].astype("string") != "day").any():
        handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
                              markeredgecolor="#888", label="event, month only"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              title="Marker", title_fontsize=8)

    note = SOURCE
    if verified_only:
        note += f" Verified rows only: {len(rows)} shown"
        note += f", {left_out} not fully verified left out." if left_out else "."
    fig.text(0.01, 0.01, note, fontsize=7.5, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return with_alt(fig, timeline_alt(rows, title, labels or {}, present, left_out if verified_only else 0))


def timeline_alt(rows, title: str, labels: dict, present: list, left_out: int = 0) -> str:
    """The text alternative of a timeline: span, count per category, and the labelled events."""
    counts = rows["category"].astype("string").value_counts()
    per_category = listing(f"{CATEGORY_LABELS.get(c, c)} {int(counts[c])}" for c in present)
    text = (f"Timeline: {title}. {len(rows)} dated events from {day(rows['date'].min())} to "
            f"{day(rows['date'].max())}, one row per category.")
    busiest = counts.idxmax()
    if len(present) > 1 and (counts == counts.max()).sum() == 1:
        text += f" The most events fall under {CATEGORY_LABELS.get(busiest, busiest)}."
    text += f" Events per category: {per_category}."
    if labels:
        by_date = rows.set_index(rows["date_text"].astype("string"))
        marked = []
        for date_text, caption in labels.items():
            row = by_date.loc[[date_text]].iloc[0]
            when = day(row["date"]) if str(row["date_precision"]) == "day" else f"{row['date']:%B %Y}"
            marked.append((row["date"], f"{when}: {caption.lstrip('_')}"))
        text += " Labelled on the chart, in date order: " + "; ".join(m for _, m in sorted(marked)) + "."
    if left_out:
        text += f" {left_out} events not fully verified are left out."
    return text


def _days(n: int):
    import pandas as pd

    return pd.Timedelta(days=n)


def _add_labels(ax, rows, lane, labels) -> None:
    """Write each caption above its dot (below when it starts with "_").

    A caption is centred on its dot, except near the ends of the time axis, where it runs
    inwards from the dot so that it stays inside the plot.
    """
    import matplotlib.dates as mdates

    low, high = ax.get_xlim()
    by_date = rows.set_index(rows["date_text"].astype("string"))
    unknown = [d for d in labels if d not in by_date.index]
    if unknown:
        raise KeyError(f"no event dated {unknown[0]!r} among the rows drawn "
                       f"(use the `date_text` of a row inside the period)")
    for date_text, caption in labels.items():
        row = by_date.loc[[date_text]].iloc[0]
        below = caption.startswith("_")
        dy = -LABEL_HEIGHT if below else LABEL_HEIGHT
        where = (mdates.date2num(row["date"]) - low) / (high - low)
        align = "left" if where < EDGE else "right" if where > 1 - EDGE else "center"
        ax.annotate(caption.lstrip("_"), (row["date"], lane[str(row["category"])]), xytext=(0, dy),
                    textcoords="offset points",
                    ha=align, va="bottom" if dy > 0 else "top", fontsize=8,
                    arrowprops=dict(arrowstyle="-", color="#777", linewidth=0.6),
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85),
                    zorder=4)


__all__ = ["CATEGORY_LABELS", "select", "timeline_alt", "timeline_chart"]
