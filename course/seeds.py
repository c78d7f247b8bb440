"""The article the course is built on: its record, its claims (by id) and its endnotes.

The files live in the repository's top-level `seeds/` folder; a wheel carries a copy inside
the package (`course/seeds_data/`, see pyproject.toml), so an installed course finds them too.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

CLAIM_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$")
KINDS = ("report", "analysis", "fact")
REQUIRED = ("id", "section", "note", "kind", "claim")


class SeedError(ValueError):
    """The seeds digest is malformed: names the file, the claim and the field."""


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    note: int | None
    kind: str
    claim: str
    correction: str | None = None

    def citation(self) -> str:
        note = f", note {self.note}" if self.note else ""
        return f"Niazi 2024 [{self.id}{note}]"


def seeds_dir() -> Path:
    package = Path(__file__).resolve().parent
    for candidate in (package / "seeds_data", package.parent / "seeds"):
        if (candidate / "claims.yaml").is_file():
            return candidate
    raise SeedError("cannot find the seeds digest (claims.yaml) beside the course package")


def parse_claims(entries, file_name: str = "claims.yaml") -> dict[str, Claim]:
    """Validate a list of claim mappings and return them by id."""
    if not isinstance(entries, list):
        raise SeedError(f"{file_name}: expected a list of claims")
    claims: dict[str, Claim] = {}
    for pos, entry in enumerate(entries, start=1):
        where = f"{file_name}, claim {entry.get('id', f'#{pos}') if isinstance(entry, dict) else f'#{pos}'}"
        if not isinstance(entry, dict):
            raise SeedError(f"{where}: expected a mapping")
        for key in REQUIRED:
            if key not in entry:
                raise SeedError(f"{where}, field {key!r}: missing")
        unknown = set(entry) - set(REQUIRED) - {"correction"}
        if unknown:
            raise SeedError(f"{where}: unknown field(s) {sorted(unknown)}")
        if not isinstance(entry["id"], str) or not CLAIM_ID.match(entry["id"]):
            raise SeedError(f"{where}, field 'id': {entry['id']!r} is not of the form section.slug-words")
        if entry["id"] in claims:
            raise SeedError(f"{where}, field 'id': duplicate id {entry['id']!r}")
        if entry["kind"] not in KINDS:
            raise SeedError(f"{where}, field 'kind': {entry['kind']!r} is not one of {KINDS}")
        note = entry["note"]
        if note is not None and not (isinstance(note, int) and 1 <= note <= 10):
            raise SeedError(f"{where}, field 'note': {note!r} is not an endnote number 1-10 or null")
        if not isinstance(entry["claim"], str) or len(entry["claim"].split()) < 5:
            raise SeedError(f"{where}, field 'claim': expected a sentence")
        claims[entry["id"]] = Claim(**entry)
    return claims


@functools.cache
def claims() -> dict[str, Claim]:
    """Every claim of the article, by id."""
    import yaml

    path = seeds_dir() / "claims.yaml"
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise SeedError(f"{path.name}: not valid YAML: {err}") from err
    return parse_claims(entries, path.name)


def claim(claim_id: str) -> Claim:
    try:
        return claims()[claim_id]
    except KeyError:
        raise KeyError(f"no claim {claim_id!r} in seeds/claims.yaml") from None


def cite(claim_id: str) -> str:
    """A short citation of a claim, e.g. 'Niazi 2024 [constitution.baku-demand, note 1]'."""
    return claim(claim_id).citation()


def endnotes():
    """The article's ten endnotes as a DataFrame (note, interviewee, role_kind, side, city, month)."""
    import pandas as pd

    frame = pd.read_csv(seeds_dir() / "endnotes.csv", dtype={"note": "int64"})
    for col in ("role_kind", "side", "city"):
        frame[col] = frame[col].astype("category")
    return frame


def record() -> dict:
    """The bibliographic record of the article."""
    import yaml

    return yaml.safe_load((seeds_dir() / "article.yaml").read_text(encoding="utf-8"))
