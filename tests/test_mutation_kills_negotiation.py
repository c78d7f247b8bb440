"""course/lessons/negotiation.py, pinned where mutation testing found the suite let a change through
(issue 20). The model is built from the course's defaults file with made-up labels and settings, so
the texts below change only when the model's wording does, not when the lesson's defaults do.
Run tests/mutation/run_mutation.py negotiation to see what still survives.
"""
from __future__ import annotations

import copy

import pytest
import yaml

from course.lessons import negotiation as neg

DOC = yaml.safe_load(neg.DEFAULTS_FILE.read_text(encoding="utf-8"))
SETTINGS = {  # side -> deadlock -> (prefers, weight, red line)
    "east": {"constitution": (["settle", "defer", "omit"], 5, 1), "border": (["settle", "defer", "omit"], 3, 0),
             "route": (["omit", "defer", "settle"], 2, 2)},
    "west": {"constitution": (["omit", "defer", "settle"], 4, 1), "border": (["defer", "settle", "omit"], 6, 1),
             "route": (["defer", "omit", "settle"], 2, 0)},
}


def made_up_document() -> dict:
    doc = copy.deepcopy(DOC)
    doc["treatments"] = {"settle": "Settle Now", "defer": "Defer It", "omit": "Leave Out"}
    for d, label in zip(neg.DEADLOCKS, ("Constitution", "Border", "Route")):
        doc["deadlocks"][d]["label"] = label
    east, west = doc["sides"]
    east["key"], east["label"], west["key"], west["label"] = "east", "East", "west", "West"
    for side in (east, west):
        for d, (prefers, weight, red) in SETTINGS[side["key"]].items():
            stance = side["stances"][d]
            stance["prefers"], stance["weight"], stance["red_line"] = prefers, weight, red
            stance["reason"] = f"{side['label']} on {d}"
    return doc


MODEL = neg.parse_defaults(made_up_document(), "made_up.yaml")
EXPLAIN_OUTSIDE = [
    'Package: Constitution: defer it; Border: settle now; Route: leave out',
    '',
    'East could accept this package.',
    '  - Score +5 = Constitution: its middle choice (0, weight 5); Border: its preferred treatment'
    ' (+3, weight 3); Route: its preferred treatment (+2, weight 2).',
    '  - The score is above zero: by its own weights this side gains more than it concedes.',
    'West could not accept this package: its score is not above zero.',
    '  - Score 0 = Constitution: its middle choice (0, weight 4); Border: its middle choice (0,'
    ' weight 6); Route: its middle choice (0, weight 2).',
    '  - The score is zero: gains and concessions cancel out, so this side has no progress to point'
    ' to (rule 4 asks for a score above zero).',
    '',
    'Not both sides could accept it: the package is outside the zone of possible agreement.',
    '(A teaching model under the settings you chose, not a forecast.)',
]

EXPLAIN_CROSSED = [
    'Package: Constitution: settle now; Border: defer it; Route: defer it',
    '',
    'East could not accept this package: it crosses a red line.',
    "  - Red line crossed on Route: the package chooses 'defer it', and this side's red line"
    " (accepts only its preferred treatment) leaves only 'leave out'.",
    '  - Score +5 = Constitution: its preferred treatment (+5, weight 5); Border: its middle choice'
    ' (0, weight 3); Route: its middle choice (0, weight 2).',
    '  - The score is above zero: by its own weights this side gains more than it concedes.',
    'West could not accept this package: it crosses a red line.',
    "  - Red line crossed on Constitution: the package chooses 'settle now', and this side's red"
    " line (refuses its least-preferred treatment) leaves only 'leave out' or 'defer it'.",
    '  - Score +4 = Constitution: its least-preferred treatment (-4, weight 4); Border: its'
    ' preferred treatment (+6, weight 6); Route: its preferred treatment (+2, weight 2).',
    '  - The score is above zero: by its own weights this side gains more than it concedes.',
    '',
    'Not both sides could accept it: the package is outside the zone of possible agreement.',
    '(A teaching model under the settings you chose, not a forecast.)',
]

ZONE_ONE = [
    'What the red lines leave open, deadlock by deadlock:',
    "  - Constitution: East 'settle now' or 'defer it'; West 'leave out' or 'defer it'. Both: 'defer it'.",
    "  - Border: East 'settle now', 'defer it' or 'leave out'; West 'defer it' or 'settle now'."
    " Both: 'settle now' or 'defer it'.",
    "  - Route: East 'leave out'; West 'defer it', 'leave out' or 'settle now'. Both: 'leave out'.",
    '',
    'Packages each side could accept (of 27): East 5; West 10.',
    'Zone of possible agreement: 1 package(s).',
    '  - constitution: defer · border: defer · route: omit',
    '(A teaching model under the settings you chose, not a forecast.)',
]

ZONE_BLOCKED = [
    'What the red lines leave open, deadlock by deadlock:',
    "  - Constitution: East 'settle now'; West 'leave out'. Both: nothing.",
    "  - Border: East 'settle now', 'defer it' or 'leave out'; West 'defer it' or 'settle now'."
    " Both: 'settle now' or 'defer it'.",
    "  - Route: East 'settle now'; West 'leave out'. Both: nothing.",
    '',
    'Packages each side could accept (of 27): East 3; West 2.',
    'Zone of possible agreement: empty. The red lines leave no common treatment on Constitution and Route.',
    '(A teaching model under the settings you chose, not a forecast.)',
]


def _blocked_model():
    m = MODEL.adjust("west", "constitution", red_line=2).adjust("east", "constitution", red_line=2)
    m = m.adjust("east", "route", red_line=2, prefers=["settle", "defer", "omit"])
    return m.adjust("west", "route", red_line=2, prefers=["omit", "defer", "settle"])


def test_explain_texts_word_for_word():
    assert neg.explain(MODEL, ("defer", "settle", "omit")) == "\n".join(EXPLAIN_OUTSIDE)
    assert neg.explain(MODEL, ("settle", "defer", "defer")) == "\n".join(EXPLAIN_CROSSED)
    inside = neg.explain(MODEL, ("defer", "defer", "omit")).splitlines()
    assert inside[-2] == "Both sides could accept it: the package is inside the zone of possible agreement."


def test_explain_zone_texts_word_for_word():
    assert neg.explain_zone(MODEL) == "\n".join(ZONE_ONE)
    assert neg.explain_zone(_blocked_model()) == "\n".join(ZONE_BLOCKED)


def test_explain_zone_when_red_lines_leave_room_but_no_score_does():
    m = MODEL
    for side, prefers in (("east", ["settle", "defer", "omit"]), ("west", ["omit", "defer", "settle"])):
        for d in neg.DEADLOCKS:
            m = m.adjust(side, d, red_line=0, weight=10, prefers=prefers)
    assert neg.zone(m) == []
    assert neg.explain_zone(m).splitlines()[-2] == (
        "Zone of possible agreement: empty. Some packages pass both sides' red lines, but in each of them at "
        "least one side's score is not above zero.")


@pytest.mark.parametrize(("package", "verdict", "last_reason"), [
    (("settle", "settle", "settle"), "East could not accept this package: it crosses a red line.",
     "The score is above zero: by its own weights this side gains more than it concedes."),
    (("settle", "settle", "defer"), "East could accept this package.",
     "The score is above zero: by its own weights this side gains more than it concedes."),
    (("defer", "settle", "settle"),
     "East could not accept this package: it crosses a red line and its score is not above zero.",
     "The score is zero: gains and concessions cancel out, so this side has no progress to point to (rule 4 "
     "asks for a score above zero)."),
    (("defer", "settle", "defer"), "East could not accept this package: its score is not above zero.",
     "The score is zero: gains and concessions cancel out, so this side has no progress to point to (rule 4 "
     "asks for a score above zero)."),
    (("omit", "settle", "settle"),
     "East could not accept this package: it crosses a red line and its score is not above zero.",
     "The score is below zero: by its own weights this side concedes more than it gains."),
])
def test_verdicts_at_scores_one_zero_and_below(package, verdict, last_reason):
    m = MODEL.adjust("east", "constitution", weight=1).adjust("east", "border", weight=0)
    m = m.adjust("east", "route", weight=0, red_line=1)
    assessment = neg.assess(m, "east", package)
    assert neg.verdict_line(assessment) == verdict
    assert neg.reasons(m, assessment)[-1] == last_reason


def test_word_lists():
    assert neg._or_list(["a"]) == "'a'"
    assert neg._or_list(["a", "b", "c"]) == "'a', 'b' or 'c'"
    assert neg._and_list(["A"]) == "A"
    assert neg._and_list(["A", "B", "C"]) == "A, B and C"
    assert neg._signed(0) == "0" and neg._signed(3) == "+3" and neg._signed(-2) == "-2"
    assert neg.Package("settle", "defer", "omit").short() == "constitution: settle · border: defer · route: omit"


def test_tables_columns_and_joined_cells():
    table = neg.treatments_table(MODEL)
    assert list(table.columns) == ["deadlock", "treatment", "key", "what the package says", "source"]
    for d in neg.DEADLOCKS:
        for t in neg.TREATMENTS:
            row = table[(table["deadlock"] == MODEL.deadlocks[d].label) & (table["key"] == t)].iloc[0]
            source = DOC["deadlocks"][d]["treatments"][t]["source"]
            assert row["source"] == (source if isinstance(source, str) else ", ".join(source))
    settings = neg.settings_table(MODEL)
    assert list(settings.columns) == ["side", "deadlock", "prefers (best first)", "weight", "red line",
                                      "leaves open", "basis", "reason"]
    first = settings.iloc[0]
    basis = DOC["sides"][0]["stances"]["constitution"]["basis"]
    assert (first["prefers (best first)"], first["leaves open"], first["reason"]) == \
        ("settle > defer > omit", "settle, defer", "East on constitution")
    assert first["basis"] == (basis if isinstance(basis, str) else ", ".join(basis))


def _broken(change) -> str:
    doc = made_up_document()
    change(doc)
    with pytest.raises(neg.NegotiationError) as err:
        neg.parse_defaults(doc, "made_up.yaml")
    return str(err.value)


def _pop(path: list, key):
    def change(doc):
        target = doc
        for step in path:
            target = target[step]
        del target[key]
    return change


def _set(path: list, key, value):
    def change(doc):
        target = doc
        for step in path:
            target = target[step]
        target[key] = value
    return change


@pytest.mark.parametrize(("change", "message"), [
    (_pop(["treatments"], "omit"), "made_up.yaml, field treatments.omit: missing"),
    (_set(["deadlocks", "border"], "extra", 1),
     "made_up.yaml, field deadlocks.border.extra: unknown field (expected ['label', 'treatments'])"),
    (_pop(["deadlocks", "route", "treatments"], "defer"),
     "made_up.yaml, field deadlocks.route.treatments.defer: missing"),
    (_set(["deadlocks", "route", "treatments", "defer"], "extra", 1),
     "made_up.yaml, field deadlocks.route.treatments.defer.extra: unknown field (expected ['text', 'source'])"),
    (_set(["deadlocks", "route", "treatments", "defer"], "text", " "),
     "made_up.yaml, field deadlocks.route.treatments.defer.text: missing or empty (expected text)"),
    (_set(["deadlocks", "route", "treatments", "defer"], "source", "nope"),
     "made_up.yaml, field deadlocks.route.treatments.defer.source: unknown claim id 'nope' (not in seeds/claims.yaml)"),
    (_set(["deadlocks", "route", "treatments", "defer"], "source", [3]),
     "made_up.yaml, field deadlocks.route.treatments.defer.source: 3 is not text"),
    (_set(["deadlocks", "border"], "label", ""), "made_up.yaml, field deadlocks.border.label: missing or empty "
                                                  "(expected text)"),
    (_set(["sides"], 0, "east"), "made_up.yaml, field sides[1]: expected a mapping, got str"),
    (_set(["sides", 1], "extra", 1),
     "made_up.yaml, field sides[2].extra: unknown field (expected ['key', 'label', 'stances'])"),
    (_set(["sides", 0], "key", ""), "made_up.yaml, field sides[1].key: missing or empty (expected text)"),
    (_set(["treatments"], "defer", ""), "made_up.yaml, field treatments.defer: missing or empty (expected text)"),
    (_set(["sides", 1], "label", " "), "made_up.yaml, field sides.west.label: missing or empty (expected text)"),
    (_set([], "title", ""), "made_up.yaml.title: missing or empty (expected text)"),
    (_set([], "note", ""), "made_up.yaml.note: missing or empty (expected text)"),
    (_set([], "extra", 1), "made_up.yaml.extra: unknown field (expected ['title', 'note', 'treatments', "
                           "'deadlocks', 'sides'])"),
])
def test_defaults_errors_name_the_field(change, message):
    assert _broken(change) == message


def test_defaults_accept_a_data_set_as_a_source_and_keep_the_deadlock_key():
    model = neg.parse_defaults(_with_data_source(), "made_up.yaml")
    assert model.deadlocks["route"].treatments["defer"].source == ("data:timeline",)
    assert [model.deadlocks[d].key for d in neg.DEADLOCKS] == list(neg.DEADLOCKS)
    with pytest.raises(neg.NegotiationError) as err:
        neg.parse_defaults([], "made_up.yaml")
    assert str(err.value) == "made_up.yaml: expected a mapping, got list"


def _with_data_source() -> dict:
    doc = made_up_document()
    doc["deadlocks"]["route"]["treatments"]["defer"]["source"] = "data:timeline"
    return doc


def test_adjust_messages_and_prefers_must_be_a_list():
    with pytest.raises(neg.NegotiationError) as err:
        MODEL.adjust("east", "border", prefers=["settle"])
    assert str(err.value) == ("east.border.prefers: list each of ['settle', 'defer', 'omit'] exactly once, "
                              "best first; got ['settle']")
    with pytest.raises(neg.NegotiationError):
        MODEL.adjust("east", "border", prefers={"settle", "defer", "omit"})  # a set has no order
    with pytest.raises(neg.NegotiationError) as err:
        neg.Package.of({"constitution": "settle"})
    assert str(err.value) == "package: no treatment given for border, route"


def test_defaults_files_are_read_as_utf8_whatever_the_locale(tmp_path, run_in_c_locale):

    doc = made_up_document()
    doc["title"] = "Ստեփանակերտ / Khankendi"
    file = tmp_path / "made_up.yaml"
    file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert neg.load_file(file).title == "Ստեփանակերտ / Khankendi"  # in-process too: mutmut maps tests by it
    code = ("import json, sys; from course.lessons import negotiation as neg; "
            "print(json.dumps(neg.load_file(sys.argv[1]).title))")
    assert run_in_c_locale(code, str(file)) == "Ստեփանակերտ / Khankendi"
