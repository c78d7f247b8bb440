"""A framework-agreement teaching model for lesson 06: three deadlocks, three treatments, two sides.

This is a TEACHING MODEL whose assumptions the student sets. It is not a forecast, and it does
not say what either government would accept. Its default settings are the course's reading of
how the article describes each side's position; the file that holds them,
`course/lesson_data/06_negotiation_defaults.yaml`, names the claim of the article behind each one.

The whole model is five rules:

1. A *package* gives each deadlock (`constitution`, `border`, `route`) one *treatment*:
   `settle` (settle it now), `defer` (acknowledge the principle, leave the details for later) or
   `omit` (leave it out). There are 3 x 3 x 3 = 27 packages.
2. For every deadlock each side ranks the three treatments (`prefers`: best, middle, worst),
   gives the deadlock a *weight* from 0 to 10 (how much it cares), and draws a *red line*:
   0 = no red line, 1 = refuses its worst treatment, 2 = accepts only its best one.
3. A side's *score* for a package adds up, deadlock by deadlock: its best treatment +weight,
   its middle one 0, its worst one -weight.
4. A side *could accept* a package when it crosses none of the side's red lines AND its score is
   above zero, i.e. the side can point to more progress than concession, by its own weights.
5. The *zone of possible agreement* is the set of packages both sides could accept.

Everything else (the labels, the wording of each treatment, the default numbers and their
sources) is content in the YAML file. `load_defaults()` reads and validates it and raises
`NegotiationError` naming the file and the field when something is wrong.

    >>> from course.lessons import negotiation as neg
    >>> model = neg.load_defaults()
    >>> neg.zone(model)
    [Package(constitution='defer', border='defer', route='defer')]
    >>> print(neg.explain(model, neg.Package("settle", "defer", "defer")))   # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
from pathlib import Path
from typing import NamedTuple

DEADLOCKS = ("constitution", "border", "route")
TREATMENTS = ("settle", "defer", "omit")
WEIGHT_MIN, WEIGHT_MAX = 0, 10
RED_LINE_MIN, RED_LINE_MAX = 0, 2
RED_LINES = {  # the rule behind each red-line setting, in words
    0: "no red line",
    1: "refuses its least-preferred treatment",
    2: "accepts only its preferred treatment",
}
RANK_WORDS = ("its preferred treatment", "its middle choice", "its least-preferred treatment")

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "lesson_data" / "06_negotiation_defaults.yaml"


class NegotiationError(ValueError):
    """A defaults file or a setting breaks the model's rules: the message names the field."""


class Package(NamedTuple):
    """One treatment per deadlock, e.g. `Package("defer", "defer", "defer")`."""

    constitution: str
    border: str
    route: str

    @classmethod
    def of(cls, value) -> Package:
        """A Package from a Package, a tuple of three treatments or a {deadlock: treatment} dict."""
        if isinstance(value, dict):
            missing = [d for d in DEADLOCKS if d not in value]
            if missing:
                raise NegotiationError(f"package: no treatment given for {', '.join(missing)}")
            unknown = sorted(set(value) - set(DEADLOCKS))
            if unknown:
                raise NegotiationError(f"package: unknown deadlock(s) {unknown}; the deadlocks are {DEADLOCKS}")
            value = tuple(value[d] for d in DEADLOCKS)
        value = tuple(value)
        if len(value) != len(DEADLOCKS):
            raise NegotiationError(f"package: give one treatment for each of {DEADLOCKS}")
        for deadlock, treatment in zip(DEADLOCKS, value):
            if treatment not in TREATMENTS:
                raise NegotiationError(f"package, {deadlock}: {treatment!r} is not one of {TREATMENTS}")
        return cls(*value)

    def short(self) -> str:
        return " · ".join(f"{d}: {t}" for d, t in zip(DEADLOCKS, self))


@dataclasses.dataclass(frozen=True)
class Treatment:
    label: str  # e.g. "Acknowledge the principle, defer the details"
    text: str  # what this treatment means for this deadlock
    source: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Deadlock:
    key: str
    label: str
    treatments: dict[str, Treatment]


@dataclasses.dataclass(frozen=True)
class Stance:
    """One side's settings on one deadlock."""

    prefers: tuple[str, str, str]  # best first
    weight: int
    red_line: int
    basis: tuple[str, ...]  # claim ids (or data:<name>) that the default rests on
    reason: str  # the default's basis in words

    def rank(self, treatment: str) -> int:
        """0 for the preferred treatment, 1 for the middle one, 2 for the least preferred."""
        return self.prefers.index(treatment)

    def points(self, treatment: str) -> int:
        """Rule 3: +weight, 0 or -weight."""
        return (1 - self.rank(treatment)) * self.weight

    def allowed(self) -> tuple[str, ...]:
        """Rule 2: the treatments this side's red line leaves open, best first."""
        return self.prefers[: len(TREATMENTS) - self.red_line]

    def crosses(self, treatment: str) -> bool:
        return treatment not in self.allowed()


@dataclasses.dataclass(frozen=True)
class Side:
    key: str
    label: str
    stances: dict[str, Stance]


@dataclasses.dataclass(frozen=True)
class Model:
    title: str
    note: str
    deadlocks: dict[str, Deadlock]
    sides: tuple[Side, Side]

    def side(self, key: str) -> Side:
        for side in self.sides:
            if side.key == key:
                return side
        raise NegotiationError(f"no side {key!r}; the sides are {[s.key for s in self.sides]}")

    def adjust(self, side: str, deadlock: str, *, weight: int | None = None, red_line: int | None = None,
               prefers=None) -> Model:
        """A copy of the model with one side's setting on one deadlock changed."""
        if deadlock not in DEADLOCKS:
            raise NegotiationError(f"no deadlock {deadlock!r}; the deadlocks are {DEADLOCKS}")
        where = f"{side}.{deadlock}"
        old = self.side(side).stances[deadlock]
        changes = {}
        if weight is not None:
            changes["weight"] = _check_int(weight, WEIGHT_MIN, WEIGHT_MAX, f"{where}.weight")
        if red_line is not None:
            changes["red_line"] = _check_int(red_line, RED_LINE_MIN, RED_LINE_MAX, f"{where}.red_line")
        if prefers is not None:
            changes["prefers"] = _check_prefers(prefers, f"{where}.prefers")
        stance = dataclasses.replace(old, **changes)
        sides = tuple(dataclasses.replace(s, stances={**s.stances, deadlock: stance}) if s.key == side else s
                      for s in self.sides)
        return dataclasses.replace(self, sides=sides)

    def settings(self) -> dict:
        """The current settings as {side: {deadlock: (weight, red_line)}} (handy for comparing)."""
        return {s.key: {d: (st.weight, st.red_line) for d, st in s.stances.items()} for s in self.sides}


# -- rules 1-5 ------------------------------------------------------------------------------------

def packages() -> list[Package]:
    """Rule 1: all 27 packages, in a fixed order (settle before defer before omit)."""
    return [Package(*combo) for combo in itertools.product(TREATMENTS, repeat=len(DEADLOCKS))]


@dataclasses.dataclass(frozen=True)
class Assessment:
    """How one side sees one package under the model's rules."""

    side: Side
    package: Package
    score: int
    points: dict[str, int]  # deadlock -> points
    crossed: tuple[str, ...]  # deadlocks where the package crosses the side's red line

    @property
    def accepts(self) -> bool:
        """Rule 4."""
        return not self.crossed and self.score > 0


def assess(model: Model, side: str, package) -> Assessment:
    """Rules 3 and 4 for one side and one package."""
    package = Package.of(package)
    the_side = model.side(side)
    points = {d: the_side.stances[d].points(t) for d, t in zip(DEADLOCKS, package)}
    crossed = tuple(d for d, t in zip(DEADLOCKS, package) if the_side.stances[d].crosses(t))
    return Assessment(the_side, package, sum(points.values()), points, crossed)


def acceptable(model: Model, side: str) -> list[Package]:
    """The packages one side could accept (rule 4)."""
    return [p for p in packages() if assess(model, side, p).accepts]


def zone(model: Model) -> list[Package]:
    """Rule 5: the zone of possible agreement, the packages both sides could accept."""
    return [p for p in packages() if all(assess(model, s.key, p).accepts for s in model.sides)]


def changed(model: Model, side: str, deadlock: str, *, weight: int | None = None,
            red_line: int | None = None) -> Model:
    """A copy of `model` with one side's weight and/or red line on one deadlock changed.

    The same as `model.adjust(...)`, written as a helper call so that a lesson's exercise needs
    only the course's helpers: `neg.changed(model, "azerbaijan", "border", weight=0)`.
    """
    return model.adjust(side, deadlock, weight=weight, red_line=red_line)


def open_treatments(model: Model) -> dict[str, dict[str, tuple[str, ...]]]:
    """Per deadlock, the treatments each side's red line leaves open, and their overlap ('both')."""
    table = {}
    for d in DEADLOCKS:
        row = {s.key: s.stances[d].allowed() for s in model.sides}
        row["both"] = tuple(t for t in TREATMENTS if all(t in row[s.key] for s in model.sides))
        table[d] = row
    return table


# -- the reasons, in words --------------------------------------------------------------------------

def _treatment_words(model: Model, deadlock: str, treatment: str) -> str:
    return f"{model.deadlocks[deadlock].label}: {model.deadlocks[deadlock].treatments[treatment].label.lower()}"


def reasons(model: Model, assessment: Assessment) -> list[str]:
    """Why a side could or could not accept a package, one sentence per point."""
    side, pkg = assessment.side, assessment.package
    lines = []
    for d in assessment.crossed:
        stance = side.stances[d]
        lines.append(f"Red line crossed on {model.deadlocks[d].label}: the package chooses "
                     f"'{model.deadlocks[d].treatments[pkg._asdict()[d]].label.lower()}', and this side's red "
                     f"line ({RED_LINES[stance.red_line]}) leaves only "
                     f"{_or_list([model.deadlocks[d].treatments[t].label.lower() for t in stance.allowed()])}.")
    parts = []
    for d, t in zip(DEADLOCKS, pkg):
        stance = side.stances[d]
        parts.append(f"{model.deadlocks[d].label}: {RANK_WORDS[stance.rank(t)]} "
                     f"({_signed(assessment.points[d])}, weight {stance.weight})")
    lines.append(f"Score {_signed(assessment.score)} = " + "; ".join(parts) + ".")
    if assessment.score > 0:
        lines.append("The score is above zero: by its own weights this side gains more than it concedes.")
    elif assessment.score == 0:
        lines.append("The score is zero: gains and concessions cancel out, so this side has no progress "
                     "to point to (rule 4 asks for a score above zero).")
    else:
        lines.append("The score is below zero: by its own weights this side concedes more than it gains.")
    return lines


def _signed(number: int) -> str:
    return f"{number:+d}" if number else "0"


def _or_list(words: list[str]) -> str:
    quoted = [f"'{w}'" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def verdict_line(assessment: Assessment) -> str:
    label = assessment.side.label
    if assessment.accepts:
        return f"{label} could accept this package."
    why = "it crosses a red line" if assessment.crossed else "its score is not above zero"
    if assessment.crossed and assessment.score <= 0:
        why = "it crosses a red line and its score is not above zero"
    return f"{label} could not accept this package: {why}."


def explain(model: Model, package) -> str:
    """The verdict on one package for both sides, with the reasons, as plain text."""
    pkg = Package.of(package)
    lines = ["Package: " + "; ".join(_treatment_words(model, d, t) for d, t in zip(DEADLOCKS, pkg)), ""]
    verdicts = [assess(model, s.key, pkg) for s in model.sides]
    for a in verdicts:
        lines.append(verdict_line(a))
        lines += [f"  - {r}" for r in reasons(model, a)]
    lines.append("")
    if all(a.accepts for a in verdicts):
        lines.append("Both sides could accept it: the package is inside the zone of possible agreement.")
    else:
        lines.append("Not both sides could accept it: the package is outside the zone of possible agreement.")
    lines.append("(A teaching model under the settings you chose, not a forecast.)")
    return "\n".join(lines)


def explain_zone(model: Model) -> str:
    """Which packages both sides could accept, and why the zone is that size, as plain text."""
    table = open_treatments(model)
    lines = ["What the red lines leave open, deadlock by deadlock:"]
    blocked = []
    for d in DEADLOCKS:
        row = table[d]
        sides = "; ".join(f"{s.label} {_or_list([model.deadlocks[d].treatments[t].label.lower() for t in row[s.key]])}"
                          for s in model.sides)
        both = _or_list([model.deadlocks[d].treatments[t].label.lower() for t in row["both"]]) if row["both"] \
            else "nothing"
        lines.append(f"  - {model.deadlocks[d].label}: {sides}. Both: {both}.")
        if not row["both"]:
            blocked.append(model.deadlocks[d].label)
    counts = {s.key: len(acceptable(model, s.key)) for s in model.sides}
    lines.append("")
    lines.append("Packages each side could accept (of 27): "
                 + "; ".join(f"{s.label} {counts[s.key]}" for s in model.sides) + ".")
    found = zone(model)
    if found:
        lines.append(f"Zone of possible agreement: {len(found)} package(s).")
        lines += [f"  - {p.short()}" for p in found]
    elif blocked:
        lines.append("Zone of possible agreement: empty. The red lines leave no common treatment on "
                     + _and_list(blocked) + ".")
    else:
        lines.append("Zone of possible agreement: empty. Some packages pass both sides' red lines, but in "
                     "each of them at least one side's score is not above zero.")
    lines.append("(A teaching model under the settings you chose, not a forecast.)")
    return "\n".join(lines)


def treatments_table(model: Model):
    """What each treatment means for each deadlock, with its source, as a pandas DataFrame."""
    import pandas as pd

    rows = [{"deadlock": dl.label, "treatment": tr.label, "key": t, "what the package says": tr.text,
             "source": ", ".join(tr.source)}
            for dl in model.deadlocks.values() for t, tr in dl.treatments.items()]
    return pd.DataFrame(rows)


def settings_table(model: Model):
    """The settings with the article's basis for each, as a pandas DataFrame (one row per side and deadlock)."""
    import pandas as pd

    rows = []
    for side in model.sides:
        for d in DEADLOCKS:
            st = side.stances[d]
            rows.append({"side": side.label, "deadlock": model.deadlocks[d].label,
                         "prefers (best first)": " > ".join(st.prefers), "weight": st.weight,
                         "red line": f"{st.red_line} ({RED_LINES[st.red_line]})",
                         "leaves open": ", ".join(st.allowed()), "basis": ", ".join(st.basis),
                         "reason": st.reason})
    return pd.DataFrame(rows)


# -- the defaults file ------------------------------------------------------------------------------

def _check_int(value, low: int, high: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise NegotiationError(f"{where}: expected a whole number from {low} to {high}, got {value!r}")
    if not low <= value <= high:
        raise NegotiationError(f"{where}: {value} is outside the allowed range {low} to {high}")
    return value


def _check_prefers(value, where: str) -> tuple[str, str, str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or sorted(value) != sorted(TREATMENTS):
        raise NegotiationError(f"{where}: list each of {list(TREATMENTS)} exactly once, best first; "
                               f"got {value!r}")
    return tuple(value)


def _check_text(mapping: dict, key: str, where: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value.strip():
        raise NegotiationError(f"{where}.{key}: missing or empty (expected text)")
    return value.strip()


def _check_mapping(value, where: str, keys=None) -> dict:
    if not isinstance(value, dict):
        raise NegotiationError(f"{where}: expected a mapping, got {type(value).__name__}")
    if keys is not None:
        missing = [k for k in keys if k not in value]
        if missing:
            raise NegotiationError(f"{where}.{missing[0]}: missing")
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise NegotiationError(f"{where}.{unknown[0]}: unknown field (expected {list(keys)})")
    return value


def _check_sources(value, where: str) -> tuple[str, ...]:
    from .. import data, seeds

    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise NegotiationError(f"{where}: give at least one claim id (or data:<name>)")
    claim_ids, data_sets = set(seeds.claims()), set(data.names())
    for item in items:
        if not isinstance(item, str):
            raise NegotiationError(f"{where}: {item!r} is not text")
        if item.startswith("data:"):
            if item[5:] not in data_sets:
                raise NegotiationError(f"{where}: unknown data set {item[5:]!r}")
        elif item not in claim_ids:
            raise NegotiationError(f"{where}: unknown claim id {item!r} (not in seeds/claims.yaml)")
    return tuple(items)


TOP_FIELDS = ("title", "note", "treatments", "deadlocks", "sides")
STANCE_FIELDS = ("prefers", "weight", "red_line", "basis", "reason")


def parse_defaults(document, file_name: str = DEFAULTS_FILE.name) -> Model:
    """Validate a parsed defaults document and build the model; errors name the field."""
    top = _check_mapping(document, file_name, TOP_FIELDS)
    labels = _check_mapping(top["treatments"], f"{file_name}, field treatments", TREATMENTS)
    treatment_labels = {t: _check_text(labels, t, f"{file_name}, field treatments") for t in TREATMENTS}

    deadlocks = {}
    raw_deadlocks = _check_mapping(top["deadlocks"], f"{file_name}, field deadlocks", DEADLOCKS)
    for d in DEADLOCKS:
        where = f"{file_name}, field deadlocks.{d}"
        entry = _check_mapping(raw_deadlocks[d], where, ("label", "treatments"))
        raw_t = _check_mapping(entry["treatments"], f"{where}.treatments", TREATMENTS)
        treatments = {}
        for t in TREATMENTS:
            tw = f"{where}.treatments.{t}"
            spec = _check_mapping(raw_t[t], tw, ("text", "source"))
            treatments[t] = Treatment(treatment_labels[t], _check_text(spec, "text", tw),
                                      _check_sources(spec["source"], f"{tw}.source"))
        deadlocks[d] = Deadlock(d, _check_text(entry, "label", where), treatments)

    raw_sides = top["sides"]
    if not isinstance(raw_sides, list) or len(raw_sides) != 2:
        raise NegotiationError(f"{file_name}, field sides: expected a list of exactly two sides")
    sides = []
    for pos, raw in enumerate(raw_sides, start=1):
        where = f"{file_name}, field sides[{pos}]"
        entry = _check_mapping(raw, where, ("key", "label", "stances"))
        key = _check_text(entry, "key", where)
        where = f"{file_name}, field sides.{key}"
        stances_raw = _check_mapping(entry["stances"], f"{where}.stances", DEADLOCKS)
        stances = {}
        for d in DEADLOCKS:
            sw = f"{where}.stances.{d}"
            spec = _check_mapping(stances_raw[d], sw, STANCE_FIELDS)
            stances[d] = Stance(prefers=_check_prefers(spec["prefers"], f"{sw}.prefers"),
                                weight=_check_int(spec["weight"], WEIGHT_MIN, WEIGHT_MAX, f"{sw}.weight"),
                                red_line=_check_int(spec["red_line"], RED_LINE_MIN, RED_LINE_MAX,
                                                    f"{sw}.red_line"),
                                basis=_check_sources(spec["basis"], f"{sw}.basis"),
                                reason=_check_text(spec, "reason", sw))
        sides.append(Side(key, _check_text(entry, "label", where), stances))
    if sides[0].key == sides[1].key:
        raise NegotiationError(f"{file_name}, field sides: the two sides share the key {sides[0].key!r}")
    return Model(_check_text(top, "title", file_name), _check_text(top, "note", file_name), deadlocks,
                 (sides[0], sides[1]))


def load_file(path) -> Model:
    """Read and validate a defaults file (e.g. an edited copy)."""
    import yaml

    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise NegotiationError(f"{path.name}: cannot read the file: {err}") from err
    except yaml.YAMLError as err:
        raise NegotiationError(f"{path.name}: not valid YAML: {err}") from err
    return parse_defaults(document, path.name)


@functools.cache
def _default_model() -> Model:
    return load_file(DEFAULTS_FILE)


def load_defaults() -> Model:
    """The model with the course's default settings (read once; the Model is immutable)."""
    return _default_model()


__all__ = ["DEADLOCKS", "RED_LINES", "TREATMENTS", "Assessment", "Model", "NegotiationError", "Package",
           "acceptable", "assess", "changed", "explain", "explain_zone", "load_defaults", "load_file",
           "open_treatments",
           "packages", "parse_defaults", "reasons", "settings_table", "treatments_table", "verdict_line", "zone"]
