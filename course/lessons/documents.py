"""The chain of documents behind Baku's constitutional demand (lesson 02).

`load_documents()` reads `lesson_data/02_documents.csv`: one row per document, with the
document it refers to (`refers_to`, a `doc_id`) and how (`relation`: cites, amends, rejects,
orders a new draft of). `chain_figure(docs)` draws the documents on a time axis with an arrow
from each one to the document it refers to.
"""
from __future__ import annotations

from pathlib import Path

from .figures import OKABE_ITO, day, with_alt

DOCUMENTS_FILE = Path(__file__).resolve().parent.parent / "lesson_data" / "02_documents.csv"
RELATION_STYLE = {  # relation -> arrow colour (Okabe–Ito, course/lessons/figures.py); the legend explains each
    "cites": OKABE_ITO["vermillion"],
    "amends": OKABE_ITO["blue"],
    "rejects": OKABE_ITO["black"],
    "orders a new draft of": OKABE_ITO["reddish purple"],
}
RELATION_LINE = {  # relation -> line style, so no arrow is told apart by its colour alone
    "cites": "-",
    "amends": "--",
    "rejects": ":",
    "orders a new draft of": "-.",
}
SOURCE_NOTE = ("Data: course/lesson_data/02_documents.csv; dates from the course timeline "
               "(data: timeline) and the article's claim constitution.preamble-chain.")


def load_documents():
    """The documents table as a DataFrame, with `date` as a real date."""
    import pandas as pd

    docs = pd.read_csv(DOCUMENTS_FILE, dtype="string", keep_default_na=False)
    docs = docs.replace("", pd.NA)
    docs["date"] = pd.to_datetime(docs["date"], format="%Y-%m-%d")
    return docs


def chain_figure(docs=None, title: str = "Armenia's constitution and the documents it refers to"):
    """Documents as boxes in date order; an arrow runs from each document to the one it refers to.

    The top row holds the chain of citations (documents that cite or are cited), the bottom row
    the other documents. The horizontal axis is the order of the dates, not a time scale.
    """
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    docs = load_documents() if docs is None else docs
    docs = docs.sort_values("date").reset_index(drop=True)
    cites = docs[docs["relation"] == "cites"]
    in_chain = set(cites["doc_id"]) | set(cites["refers_to"])
    place = {doc["doc_id"]: (pos, 1 if doc["doc_id"] in in_chain else 0) for pos, doc in docs.iterrows()}
    fig, ax = plt.subplots(figsize=(12, 4.8))
    boxes = {}
    for _, doc in docs.iterrows():
        x, y = place[doc["doc_id"]]
        boxes[doc["doc_id"]] = ax.text(
            x, y, textwrap.fill(str(doc["document"]), 19), ha="center", va="center", fontsize=7.2, zorder=3,
            bbox=dict(boxstyle="round,pad=0.35", facecolor="#fff8e6" if y else "#eef3f7", edgecolor="#777"))
    for _, doc in docs.iterrows():
        target = doc["refers_to"]
        if isinstance(target, str) and target in boxes:
            source, aim = boxes[doc["doc_id"]], boxes[target]
            bend = 0.25 if place[doc["doc_id"]][1] != place[target][1] else -0.12  # cross-lane arrows arch up
            ax.annotate("", xy=(0.5, 0.5), xycoords=aim, xytext=(0.5, 0.5), textcoords=source, zorder=2,
                        arrowprops=dict(arrowstyle="-|>", color=RELATION_STYLE[doc["relation"]], lw=1.8,
                                        linestyle=RELATION_LINE[doc["relation"]],
                                        mutation_scale=14, patchA=source.get_bbox_patch(),
                                        patchB=aim.get_bbox_patch(), connectionstyle=f"arc3,rad={bend}"))
    ax.set_xticks(list(docs.index), [f"{d:%d %b %Y}" for d in docs["date"]], fontsize=8)
    ax.set_yticks([0, 1], ["other documents", "chain of citations"], fontsize=8)
    ax.set_xlim(-0.6, len(docs) - 0.4)
    ax.set_ylim(-0.6, 1.6)
    ax.set_xlabel("Date of the document (in date order, not to scale)")
    ax.set_title(title)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    used = [r for r in RELATION_STYLE if r in set(docs["relation"].dropna())]
    handles = [Line2D([0], [0], color=RELATION_STYLE[r], linestyle=RELATION_LINE[r], lw=1.8, label=r)
               for r in used]
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9, title_fontsize=8,
              title="Each arrow points to the\ndocument referred to, which it…")
    fig.text(0.01, 0.005, SOURCE_NOTE, fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return with_alt(fig, chain_alt(docs))


def chain_alt(docs) -> str:
    """The text alternative of the chain figure: the chain of citations, then every other link."""
    by_id = docs.set_index("doc_id")

    def name(doc_id) -> str:
        return f"{by_id.loc[doc_id, 'document']} ({day(by_id.loc[doc_id, 'date'])})"

    links = docs[docs["refers_to"].notna() & docs["refers_to"].isin(by_id.index)]
    cites = {row["doc_id"]: row["refers_to"] for _, row in links[links["relation"] == "cites"].iterrows()}
    cited = set(cites.values())
    text = "Diagram."
    for head in [d for d in cites if d not in cited]:  # the latest document of each chain
        chain, step = [head], head
        while step in cites and cites[step] not in chain:
            step = cites[step]
            chain.append(step)
        text += " Chain of citations: the " + ", which cites the ".join(name(d) for d in chain) + "."
    others = [f"{name(row['doc_id'])} {row['relation']} {name(row['refers_to'])}"
              for _, row in links[links["relation"] != "cites"].iterrows()]
    if others:
        text += " Other links: " + "; ".join(others) + "."
    return text + (f" The diagram places the {len(docs)} documents in date order, with an arrow from each to "
                   "the document it refers to.")


__all__ = ["chain_alt", "chain_figure", "load_documents"]
