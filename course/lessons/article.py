"""The article's claims as one table, joined with the endnote each one rests on (lesson 06b).

`course.seeds` keeps the claims (`seeds/claims.yaml`) and the endnotes (`seeds/endnotes.csv`)
apart. A student should not have to join two tables, so this helper does it:

    >>> from course.lessons.article import claims_table
    >>> claims = claims_table()
    >>> list(claims.columns)
    ['id', 'section', 'kind', 'note', 'interviewee', 'city', 'claim']

One row per claim. `note` is the endnote number (empty when the article gives none);
`interviewee` and `city` come from that endnote, as the article describes the person.
"""
from __future__ import annotations

from .. import seeds

COLUMNS = ["id", "section", "kind", "note", "interviewee", "city", "claim"]


def claims_table():
    """Every claim of the article, with the interviewee and city of its endnote (if any)."""
    import pandas as pd

    rows = [{"id": c.id, "section": c.section, "kind": c.kind, "note": c.note, "claim": c.claim}
            for c in seeds.claims().values()]
    frame = pd.DataFrame(rows)
    frame["note"] = frame["note"].astype("Int64")
    notes = seeds.endnotes()[["note", "interviewee", "city"]].copy()
    notes["note"] = notes["note"].astype("Int64")
    notes["city"] = notes["city"].astype(str)
    joined = frame.merge(notes, on="note", how="left")
    return joined[COLUMNS]
