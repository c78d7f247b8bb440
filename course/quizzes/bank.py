"""Question banks: one YAML file per lesson in `course/banks/`, validated on load.

The schema is the table `FIELDS` below (what each kind of question needs) plus the checks in
`_check_question` (answers among the options, sources that exist, ids unique). Any problem
raises `BankError` naming the file, the question id and the field.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from . import model

BANKS_DIR = Path(__file__).resolve().parent.parent / "banks"
QUESTION_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEFAULT_TRIES = 3
SEED_SOURCES = {"seeds:endnotes", "seeds:article"}  # the article's endnotes table, its record

COMMON = {"id": str, "kind": str, "prompt": str, "explanation": str, "source": (str, list)}
# Learner-path fields (notebooks/AUTHORING.md): the level of thinking a question asks for, the
# lesson objective(s) it assesses, whether it is a transfer item on new material, and for a
# numeric question on a data set, code that recomputes the answer and its neighbours.
LEVELS = ("remember", "understand", "apply", "analyse")
OPTIONAL = {"tries": int, "level": str, "objective": (str, list), "transfer": bool, "data_value": dict}
FIELDS = {  # kind -> required fields beyond COMMON, and optional ones
    "single": ({"options": list}, {}),
    "multiple": ({"options": list}, {}),
    "numeric": ({"answer": (int, float), "tolerance": (int, float)},
                {"unit": str, "feedback_low": str, "feedback_high": str, "feedback_correct": str}),
    "ordering": ({"items": list}, {}),
    "matching": ({"pairs": list}, {"distractors": list}),
}
PART_FIELDS = {  # the fields of one option / item / pair
    "options": ({"id": str, "text": str, "feedback": str}, {"correct": bool}),
    "items": ({"id": str, "text": str, "feedback": str}, {}),
    "pairs": ({"left": str, "right": str, "feedback": str}, {}),
}


class BankError(ValueError):
    """A bank breaks the schema: the message names the file, the question id and the field."""


@dataclass(frozen=True)
class Bank:
    lesson: str
    title: str
    questions: tuple[model.Question, ...]
    path: Path

    def __iter__(self):
        return iter(self.questions)

    def __len__(self):
        return len(self.questions)

    def __getitem__(self, question_id: str) -> model.Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(f"no question {question_id!r} in {self.path.name}; "
                       f"there are: {', '.join(q.id for q in self.questions)}")

    def select(self, ids=None) -> tuple[model.Question, ...]:
        return self.questions if ids is None else tuple(self[i] for i in ids)


def _type_name(expected) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if set(kinds) == {int, float}:
        return "a number"
    names = {str: "text", list: "a list", int: "a whole number", float: "a number", bool: "true/false"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _check_fields(entry: dict, required: dict, optional: dict, where: str) -> None:
    for key in required:
        if key not in entry or entry[key] is None:
            raise BankError(f"{where}, field {key!r}: missing")
    for key, value in entry.items():
        expected = required.get(key, optional.get(key))
        if expected is None:
            raise BankError(f"{where}, field {key!r}: unknown field (allowed: {sorted(required) + sorted(optional)})")
        if isinstance(value, bool) and expected is not bool and bool not in (
                expected if isinstance(expected, tuple) else (expected,)):
            raise BankError(f"{where}, field {key!r}: expected {_type_name(expected)}, got true/false")
        if not isinstance(value, expected):
            raise BankError(f"{where}, field {key!r}: expected {_type_name(expected)}, got {value!r}")
        if isinstance(value, str) and not value.strip() and key != "unit":
            raise BankError(f"{where}, field {key!r}: is empty")


def _valid_sources() -> tuple[set[str], set[str]]:
    from .. import data, seeds

    return set(seeds.claims()), set(data.names())


def _check_source(sources: list[str], where: str) -> None:
    claim_ids, data_sets = _valid_sources()
    if not sources:
        raise BankError(f"{where}, field 'source': give at least one source")
    for src in sources:
        if not isinstance(src, str):
            raise BankError(f"{where}, field 'source': {src!r} is not text")
        if src in SEED_SOURCES:
            continue
        if src.startswith("data:"):
            if src[5:] not in data_sets:
                raise BankError(f"{where}, field 'source': unknown data set {src[5:]!r} "
                                f"(known: {', '.join(sorted(data_sets))})")
        elif src not in claim_ids:
            raise BankError(f"{where}, field 'source': unknown claim id {src!r} (not in seeds/claims.yaml; "
                            f"other sources: data:<data set>, {', '.join(sorted(SEED_SOURCES))})")


DATA_VALUE = {"code": str, "name": str, "own": (int, float, str), "others": list}


def _check_learner_path(entry: dict, where: str) -> None:
    """The learner-path fields, when present: a known level, objective ids, a complete data_value."""
    if "level" in entry and entry["level"] not in LEVELS:
        raise BankError(f"{where}, field 'level': {entry['level']!r} is not one of {', '.join(LEVELS)}")
    if "objective" in entry:
        from ..learner_path import objective_problem

        problem = objective_problem(entry["objective"])
        if problem:
            raise BankError(f"{where}, field 'objective': {problem}")
    if "data_value" in entry:
        if entry["kind"] != "numeric":
            raise BankError(f"{where}, field 'data_value': only a numeric question recomputes its answer")
        _check_fields(entry["data_value"], DATA_VALUE, {}, f"{where}, field 'data_value'")
        if not entry["data_value"]["others"]:
            raise BankError(f"{where}, field 'data_value', field 'others': name at least one neighbouring setting")


def _parts(entry: dict, key: str, where: str) -> list[dict]:
    required, optional = PART_FIELDS[key]
    parts = entry[key]
    if len(parts) < 2:
        raise BankError(f"{where}, field {key!r}: needs at least two entries")
    for pos, part in enumerate(parts, start=1):
        if not isinstance(part, dict):
            raise BankError(f"{where}, field {key!r}, entry {pos}: expected a mapping")
        _check_fields(part, required, optional, f"{where}, field {key!r}, entry {pos}")
    ids = [p.get("id", p.get("left")) for p in parts]
    if len(set(ids)) != len(ids):
        raise BankError(f"{where}, field {key!r}: duplicate entry {next(i for i in ids if ids.count(i) > 1)!r}")
    return parts


def build_question(entry, file_name: str, position: int) -> model.Question:
    """Validate one bank entry and build its question object."""
    if not isinstance(entry, dict):
        raise BankError(f"{file_name}, question #{position}: expected a mapping")
    qid = entry.get("id")
    where = f"{file_name}, question {qid if isinstance(qid, str) else f'#{position}'}"
    kind = entry.get("kind")
    if kind not in FIELDS:
        raise BankError(f"{where}, field 'kind': {kind!r} is not one of {sorted(FIELDS)}")
    required, optional = FIELDS[kind]
    _check_fields(entry, {**COMMON, **required}, {**OPTIONAL, **optional}, where)
    if not QUESTION_ID.match(qid):
        raise BankError(f"{where}, field 'id': use lower-case words joined by hyphens")
    sources = [entry["source"]] if isinstance(entry["source"], str) else entry["source"]
    _check_source(sources, where)
    _check_learner_path(entry, where)
    tries = entry.get("tries", DEFAULT_TRIES)
    if tries < 1:
        raise BankError(f"{where}, field 'tries': must be at least 1")
    common = dict(id=qid, kind=kind, prompt=entry["prompt"], explanation=entry["explanation"],
                  sources=tuple(sources), tries=tries)

    if kind in ("single", "multiple"):
        options = tuple(model.Option(o["id"], o["text"], o["feedback"], o.get("correct", False))
                        for o in _parts(entry, "options", where))
        n_correct = sum(o.correct for o in options)
        if kind == "single" and n_correct != 1:
            raise BankError(f"{where}, field 'options': a single-choice question needs exactly one "
                            f"correct option, found {n_correct}")
        if kind == "multiple" and n_correct < 1:
            raise BankError(f"{where}, field 'options': the answer is not among the options "
                            f"(no option is marked correct)")
        return model.KINDS[kind](**common, options=options)
    if kind == "numeric":
        if entry["tolerance"] < 0:
            raise BankError(f"{where}, field 'tolerance': must not be negative")
        return model.Numeric(**common, value=float(entry["answer"]), tolerance=float(entry["tolerance"]),
                             **{k: entry[k] for k in optional if k in entry})
    if kind == "ordering":
        items = tuple(model.Item(i["id"], i["text"], i["feedback"]) for i in _parts(entry, "items", where))
        return model.Ordering(**common, items=items)
    pairs = tuple(model.Pair(p["left"], p["right"], p["feedback"]) for p in _parts(entry, "pairs", where))
    distractors = tuple(entry.get("distractors", ()))
    if any(not isinstance(d, str) for d in distractors):
        raise BankError(f"{where}, field 'distractors': every distractor must be text")
    return model.Matching(**common, pairs=pairs, distractors=distractors)


def parse_bank(document, path: Path) -> Bank:
    """Validate a parsed YAML document and build the bank."""
    name = path.name
    if not isinstance(document, dict):
        raise BankError(f"{name}: expected a mapping with 'lesson', 'title' and 'questions'")
    for key in ("lesson", "title", "questions"):
        if key not in document:
            raise BankError(f"{name}, field {key!r}: missing")
    if document["lesson"] != path.stem:
        raise BankError(f"{name}, field 'lesson': {document['lesson']!r} does not match the file name")
    if not isinstance(document["questions"], list) or not document["questions"]:
        raise BankError(f"{name}, field 'questions': expected a non-empty list")
    questions = [build_question(entry, name, pos) for pos, entry in enumerate(document["questions"], start=1)]
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise BankError(f"{name}, question {q.id}, field 'id': duplicate id")
        seen.add(q.id)
    return Bank(document["lesson"], document["title"], tuple(questions), path)


def lesson_names() -> list[str]:
    return sorted(p.stem for p in BANKS_DIR.glob("*.yaml"))


def resolve(lesson: str, folder: Path = BANKS_DIR, suffix: str = ".yaml") -> Path:
    """Find a lesson's file by its full name ('02_constitution') or its topic ('constitution')."""
    exact = folder / f"{lesson}{suffix}"
    if exact.is_file():
        return exact
    matches = [p for p in folder.glob(f"*{suffix}") if p.stem.split("_", 1)[-1] == lesson]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(sorted(p.stem for p in folder.glob(f"*{suffix}")))
    raise KeyError(f"no lesson {lesson!r} in {folder.name}/; the lessons are: {known}")


def load_file(path: Path) -> Bank:
    import yaml

    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise BankError(f"{Path(path).name}: not valid YAML: {err}") from err
    return parse_bank(document, Path(path))


@functools.cache
def load_bank(lesson: str) -> Bank:
    """The validated question bank of a lesson."""
    return load_file(resolve(lesson))
