"""The learner path's two reference cards: the Python card and the glossary.

- `python_card()` shows the course's small Python toolbox (`course/lesson_data/idioms.yaml`);
- `glossary(term=None)` shows the glossary (`course/lesson_data/glossary.yaml`), or one term;
- `course glossary --write` regenerates `notebooks/glossary.md` from the YAML.

The rules these serve are in notebooks/AUTHORING.md.
"""
from __future__ import annotations

import argparse
import functools
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
IDIOMS_FILE = HERE / "lesson_data" / "idioms.yaml"
GLOSSARY_FILE = HERE / "lesson_data" / "glossary.yaml"
GLOSSARY_MD = HERE.parent / "notebooks" / "glossary.md"
LESSONS = ("00_start_here", "01_war_to_talks", "02_constitution", "03_border", "04_corridor",
           "05_power", "06a_framework", "06b_memo")
TERM = re.compile(r"^[a-z][a-z -]*[a-z]$")


OBJECTIVE_ID = re.compile(r"^O[1-9][0-9]*$")


def objective_problem(value) -> str | None:
    """What is wrong with a bank question's or a task's `objective:` (an id such as O1, or a list)."""
    objectives = [value] if isinstance(value, str) else value
    if not isinstance(objectives, list):
        return f"use objective ids such as O1 or [O1, O2], got {value!r}"
    bad = [o for o in objectives if not (isinstance(o, str) and OBJECTIVE_ID.match(o))]
    if not objectives or bad:
        return f"use objective ids such as O1 or [O1, O2], got {bad or objectives!r}"
    return None


class CardError(ValueError):
    """idioms.yaml or glossary.yaml breaks its schema: names the file, the entry and the field."""


def _yaml(path: Path):
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def idioms() -> dict[str, dict]:
    """The Python card as {id: entry}, validated."""
    entries = _yaml(IDIOMS_FILE)["idioms"]
    found: dict[str, dict] = {}
    for pos, entry in enumerate(entries, start=1):
        where = f"{IDIOMS_FILE.name}, idiom {entry.get('id', f'#{pos}')}"
        for field in ("id", "line", "lesson", "example", "recognise"):
            if field not in entry:
                raise CardError(f"{where}, field {field!r}: missing")
        if entry["lesson"] not in LESSONS:
            raise CardError(f"{where}, field 'lesson': {entry['lesson']!r} is not one of {LESSONS}")
        if entry["id"] in found:
            raise CardError(f"{where}: duplicate id")
        found[entry["id"]] = entry
    return found


def idiom_line(idiom_id: str) -> str:
    """The card line of one idiom, as the first hint quotes it: 'Python card → filter: keep the rows that match'."""
    card = idioms()
    if idiom_id not in card:
        raise KeyError(f"no idiom {idiom_id!r} on the Python card; the card has: {', '.join(card)}")
    return f"Python card → {idiom_id}: {card[idiom_id]['line']}"


def python_card():
    """The Python card as a table: what each idiom does, an example, and the lesson that teaches it."""
    import pandas as pd

    rows = [{"idiom": i, "what it does": e["line"], "example": e["example"], "taught in": e["lesson"]}
            for i, e in idioms().items()]
    return _shown(pd.DataFrame(rows).set_index("idiom"))


def _shown(table):
    """In a notebook, a left-aligned table that does not cut long text; elsewhere the DataFrame."""
    if not _in_notebook():
        return table
    return table.style.set_properties(**{"text-align": "left", "white-space": "normal"}).set_table_styles(
        [{"selector": "th", "props": [("text-align", "left")]}])


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        return get_ipython() is not None
    except ImportError:  # pragma: no cover - IPython comes with jupyterlab
        return False


@functools.cache
def terms() -> list[dict]:
    """The glossary entries, validated, in file order."""
    entries = _yaml(GLOSSARY_FILE)["terms"]
    anchors: set[str] = set()
    for pos, entry in enumerate(entries, start=1):
        where = f"{GLOSSARY_FILE.name}, term {entry.get('term', f'#{pos}')!r}"
        for field in ("term", "anchor", "definition", "first_lesson"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise CardError(f"{where}, field {field!r}: missing or not text")
        if not TERM.match(entry["term"]):
            raise CardError(f"{where}, field 'term': use lower-case letters, spaces and hyphens only, so "
                            "that the heading's link works in JupyterLab and on GitHub")
        if entry["anchor"] != slug(entry["term"]):
            raise CardError(f"{where}, field 'anchor': must be {slug(entry['term'])!r} (the term's heading link)")
        if entry["anchor"] in anchors:
            raise CardError(f"{where}, field 'anchor': duplicate")
        if entry["first_lesson"] not in LESSONS:
            raise CardError(f"{where}, field 'first_lesson': {entry['first_lesson']!r} is not one of {LESSONS}")
        anchors.add(entry["anchor"])
    return entries


def slug(heading: str) -> str:
    """The link target a heading gets: GitHub lower-cases and drops punctuation, JupyterLab keeps
    case and punctuation; both turn spaces into hyphens. Terms are kept lower-case letters, spaces
    and hyphens, so both give this."""
    return heading.strip().lower().replace(" ", "-")


def glossary_markdown() -> str:
    """The text of notebooks/glossary.md, generated from glossary.yaml."""
    lines = ["# Glossary", "",
             "<!-- Generated from course/lesson_data/glossary.yaml by `python -m course glossary --write`;",
             "     edit the YAML, not this file. -->", "",
             "The terms of the course, in the order the lessons meet them. In a notebook,",
             "`glossary()` shows this table and `glossary(\"delimitation\")` one term.", ""]
    for entry in terms():
        lines += [f"## {entry['term']}", "", " ".join(entry["definition"].split()), ""]
        if entry.get("example"):
            lines += [f"*Example:* {entry['example']}", ""]
        lines += [f"*First met in:* [{entry['first_lesson']}]({entry['first_lesson']}.ipynb)", ""]
    return "\n".join(lines)


def glossary(term: str | None = None):
    """The glossary as a table, or one term's definition: `glossary("demarcation")`."""
    import pandas as pd

    rows = [{"term": e["term"], "definition": " ".join(e["definition"].split()), "first met in": e["first_lesson"]}
            for e in terms()]
    table = pd.DataFrame(rows).set_index("term")
    if term is None:
        return _shown(table)
    key = term.strip().lower().replace("-", " ")
    matches = [e for e in terms() if e["term"] == key or e["anchor"] == slug(term) or key in e["term"]]
    if not matches:
        raise KeyError(f"no term {term!r} in the glossary; the terms are: {', '.join(table.index)}")
    return _shown(table.loc[[m["term"] for m in matches]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course glossary",
                                     description="Print notebooks/glossary.md as generated from "
                                                 "course/lesson_data/glossary.yaml, or write it (--write).")
    parser.add_argument("--write", action="store_true", help="write notebooks/glossary.md")
    parser.add_argument("--check", action="store_true", help="exit 1 when notebooks/glossary.md is stale")
    args = parser.parse_args(argv)
    text = glossary_markdown()
    if args.check:
        current = GLOSSARY_MD.read_text(encoding="utf-8") if GLOSSARY_MD.exists() else ""
        if current != text:
            print("notebooks/glossary.md is stale: run `python -m course glossary --write`")
            return 1
        return 0
    if args.write:
        GLOSSARY_MD.write_text(text, encoding="utf-8")
        print(f"wrote {GLOSSARY_MD.name} ({len(terms())} terms)")
        return 0
    print(text)
    return 0
