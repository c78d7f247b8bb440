"""The lesson 06 negotiation model: its five rules, its edge cases and its defaults file."""
from __future__ import annotations

import copy
import itertools

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from course.lessons import negotiation as neg
from course.seeds import claims

ALL_DEFER = neg.Package("defer", "defer", "defer")
SIDES = ("armenia", "azerbaijan")


@pytest.fixture(scope="module")
def model():
    return neg.load_defaults()


@pytest.fixture
def document():
    return yaml.safe_load(neg.DEFAULTS_FILE.read_text(encoding="utf-8"))


def with_all(model, **setting):
    for side in SIDES:
        for d in neg.DEADLOCKS:
            model = model.adjust(side, d, **setting)
    return model


# -- rule 1: the packages --------------------------------------------------------------------------

def test_there_are_27_distinct_packages():
    found = neg.packages()
    assert len(found) == 27 == len(set(found))
    assert set(found) == {neg.Package(*c) for c in itertools.product(neg.TREATMENTS, repeat=3)}


def test_package_of_accepts_dicts_and_rejects_bad_treatments():
    assert neg.Package.of({"route": "omit", "border": "settle", "constitution": "defer"}) == \
        neg.Package("defer", "settle", "omit")
    with pytest.raises(neg.NegotiationError, match="border: 'sign' is not one of"):
        neg.Package.of(("defer", "sign", "omit"))
    with pytest.raises(neg.NegotiationError, match="no treatment given for route"):
        neg.Package.of({"constitution": "defer", "border": "defer"})
    with pytest.raises(neg.NegotiationError, match="unknown deadlock"):
        neg.Package.of({"constitution": "defer", "border": "defer", "route": "defer", "water": "omit"})
    with pytest.raises(neg.NegotiationError, match="one treatment for each"):
        neg.Package.of(("defer", "defer"))


# -- rules 2 and 3: every treatment of every deadlock, for both sides ------------------------------

@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("deadlock", neg.DEADLOCKS)
@pytest.mark.parametrize("treatment", neg.TREATMENTS)
def test_every_treatment_scores_by_its_rank(model, side, deadlock, treatment):
    stance = model.side(side).stances[deadlock]
    rank = stance.prefers.index(treatment)
    package = neg.Package.of({**ALL_DEFER._asdict(), deadlock: treatment})
    assessment = neg.assess(model, side, package)
    assert assessment.points[deadlock] == {0: stance.weight, 1: 0, 2: -stance.weight}[rank]
    assert assessment.score == sum(assessment.points.values())
    # the red line at its default (1) refuses exactly the least-preferred treatment
    assert (deadlock in assessment.crossed) == (rank == 2)


def test_red_line_settings_leave_the_right_treatments_open(model):
    stance = model.side("armenia").stances["constitution"]  # prefers omit > defer > settle
    assert stance.prefers == ("omit", "defer", "settle")
    for red_line, expected in [(0, ("omit", "defer", "settle")), (1, ("omit", "defer")), (2, ("omit",))]:
        adjusted = model.adjust("armenia", "constitution", red_line=red_line)
        assert adjusted.side("armenia").stances["constitution"].allowed() == expected


# -- rules 4 and 5 under the defaults ----------------------------------------------------------------

def test_default_zone_is_the_articles_framework(model):
    """The defaults reproduce the article's proposal: acknowledge and defer on all three deadlocks."""
    assert neg.zone(model) == [ALL_DEFER]
    table = neg.open_treatments(model)
    assert all(table[d]["both"] == ("defer",) for d in neg.DEADLOCKS)


def test_settling_the_constitution_now_crosses_yerevans_red_line(model):
    package = neg.Package("settle", "defer", "defer")
    armenia, azerbaijan = neg.assess(model, "armenia", package), neg.assess(model, "azerbaijan", package)
    assert armenia.crossed == ("constitution",) and not armenia.accepts
    assert azerbaijan.accepts
    text = neg.explain(model, package)
    assert "Armenia (Yerevan) could not accept this package: it crosses a red line" in text
    assert "Red line crossed on Armenia's constitution" in text
    assert "Azerbaijan (Baku) could accept this package." in text
    assert "outside the zone of possible agreement" in text
    assert "not a forecast" in text


def test_leaving_the_route_out_crosses_bakus_red_line(model):
    assessment = neg.assess(model, "azerbaijan", neg.Package("defer", "defer", "omit"))
    assert assessment.crossed == ("route",)
    assert "Red line crossed on The transit route" in neg.reasons(model, assessment)[0]


def test_acceptable_sets_are_consistent_with_assess(model):
    for side in SIDES:
        found = neg.acceptable(model, side)
        assert found == [p for p in neg.packages() if neg.assess(model, side, p).accepts]
    assert set(neg.zone(model)) == set(neg.acceptable(model, "armenia")) & set(neg.acceptable(model, "azerbaijan"))


# -- the sliders' extremes -----------------------------------------------------------------------------

def test_all_weights_zero_means_no_side_can_point_to_progress(model):
    flat = with_all(model, weight=0)
    assert neg.acceptable(flat, "armenia") == [] and neg.acceptable(flat, "azerbaijan") == []
    assert neg.zone(flat) == []
    text = neg.explain(flat, ALL_DEFER)
    assert "The score is zero" in text
    assert "in each of them at least one side's score is not above zero" in neg.explain_zone(flat)


def test_all_weights_ten_keeps_the_default_zone(model):
    assert neg.zone(with_all(model, weight=10)) == [ALL_DEFER]


def test_no_red_lines_lets_trade_offs_into_the_zone(model):
    loose = with_all(model, red_line=0)
    found = neg.zone(loose)
    assert ALL_DEFER in found and len(found) == 4
    # e.g. the constitution settled now in exchange for the border settled now
    assert neg.Package("settle", "settle", "defer") in found
    for package in found:
        assert all(neg.assess(loose, s, package).score > 0 for s in SIDES)


def test_strictest_red_lines_leave_each_side_only_its_ideal(model):
    strict = with_all(model, red_line=2)
    for side in SIDES:
        ideal = neg.Package(*(strict.side(side).stances[d].prefers[0] for d in neg.DEADLOCKS))
        assert neg.acceptable(strict, side) == [ideal]
    assert neg.zone(strict) == []
    text = neg.explain_zone(strict)
    assert ("The red lines leave no common treatment on Armenia's constitution, Border delimitation and "
            "The transit route.") in text


def test_without_a_red_line_the_score_rule_still_decides(model):
    """Armenia without a red line on the constitution: the weight it gives it decides the score."""
    package = neg.Package("settle", "defer", "defer")
    loosened = model.adjust("armenia", "constitution", red_line=0)
    assert package not in neg.zone(loosened)  # weight 9: score -9 + 6 < 0
    assert package in neg.zone(loosened.adjust("armenia", "constitution", weight=5))  # -5 + 6 > 0
    assert package not in neg.zone(loosened.adjust("armenia", "constitution", weight=6))  # exactly 0


def test_the_score_rule_applies_even_when_no_red_line_moves(model):
    """Lesson 06a: rule 4's two conditions always both apply. With every red line at its default,
    Baku's border weight 0 empties the zone, because Baku's score for all-defer falls to zero."""
    changed = neg.changed(model, "azerbaijan", "border", weight=0)
    assert changed.settings()["azerbaijan"]["border"] == (0, 1)  # the red line is unchanged
    assessment = neg.assess(changed, "azerbaijan", ALL_DEFER)
    assert assessment.crossed == () and assessment.score == 0 and not assessment.accepts
    assert neg.changed(model, "armenia", "route", red_line=2).settings() == \
        model.adjust("armenia", "route", red_line=2).settings()


def test_a_zero_weight_on_the_only_gain_removes_the_default_deal(model):
    changed = model.adjust("azerbaijan", "border", weight=0)
    assert neg.zone(changed) == []
    assert "Azerbaijan (Baku) could not accept this package: its score is not above zero." in \
        neg.explain(changed, ALL_DEFER)


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("weight", 11, "armenia.border.weight: 11 is outside the allowed range 0 to 10"),
    ("weight", -1, "outside the allowed range 0 to 10"),
    ("weight", 2.5, "expected a whole number from 0 to 10"),
    ("weight", True, "expected a whole number"),
    ("red_line", 3, "armenia.border.red_line: 3 is outside the allowed range 0 to 2"),
    ("prefers", ["settle", "settle", "omit"], "list each of"),
])
def test_adjust_rejects_values_beyond_the_sliders(model, setting, value, message):
    with pytest.raises(neg.NegotiationError, match=message):
        model.adjust("armenia", "border", **{setting: value})


def test_adjust_rejects_unknown_sides_and_deadlocks_and_leaves_the_original_alone(model):
    with pytest.raises(neg.NegotiationError, match="no side 'turkey'"):
        model.adjust("turkey", "border", weight=3)
    with pytest.raises(neg.NegotiationError, match="no deadlock 'water'"):
        model.adjust("armenia", "water", weight=3)
    before = model.settings()
    changed = model.adjust("armenia", "border", weight=2, red_line=0, prefers=["omit", "defer", "settle"])
    assert model.settings() == before
    assert changed.side("armenia").stances["border"].prefers == ("omit", "defer", "settle")
    assert changed.settings()["armenia"]["border"] == (2, 0)


@settings(max_examples=60, deadline=None)
@given(side=st.sampled_from(SIDES), deadlock=st.sampled_from(neg.DEADLOCKS),
       low=st.integers(0, 2), high=st.integers(0, 2))
def test_a_stricter_red_line_never_adds_packages(side, deadlock, low, high):
    base = neg.load_defaults()
    low, high = min(low, high), max(low, high)
    loose = set(neg.acceptable(base.adjust(side, deadlock, red_line=low), side))
    strict = set(neg.acceptable(base.adjust(side, deadlock, red_line=high), side))
    assert strict <= loose


@settings(max_examples=60, deadline=None)
@given(side=st.sampled_from(SIDES), deadlock=st.sampled_from(neg.DEADLOCKS), weight=st.integers(0, 10))
def test_scores_stay_within_the_weights(side, deadlock, weight):
    m = neg.load_defaults().adjust(side, deadlock, weight=weight)
    total = sum(s.weight for s in m.side(side).stances.values())
    for package in neg.packages():
        assert -total <= neg.assess(m, side, package).score <= total


# -- the defaults file -----------------------------------------------------------------------------------

def test_every_default_cites_existing_claims(model):
    known = set(claims())
    for side in model.sides:
        for d in neg.DEADLOCKS:
            stance = side.stances[d]
            assert stance.basis and set(stance.basis) <= known
            assert len(stance.reason.split()) >= 15
    for deadlock in model.deadlocks.values():
        for treatment in deadlock.treatments.values():
            assert set(treatment.source) <= known


def test_settings_table_lists_every_default_with_its_basis(model):
    table = neg.settings_table(model)
    assert len(table) == 6
    row = table[(table["side"] == "Armenia (Yerevan)") & (table["deadlock"] == "Armenia's constitution")].iloc[0]
    assert row["weight"] == 9 and row["red line"].startswith("1 ")
    assert "constitution.yerevan-risk" in row["basis"]


def write(tmp_path, document):
    path = tmp_path / "defaults.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_a_copy_of_the_defaults_loads_to_the_same_model(tmp_path, document, model):
    assert neg.load_file(write(tmp_path, document)) == model


def _set(document, dotted: str, value):
    target = document
    keys = dotted.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value


@pytest.mark.parametrize(("dotted", "value", "message"), [
    ("sides.0.stances.border.weight", 12, "field sides.armenia.stances.border.weight: 12 is outside"),
    ("sides.0.stances.border.weight", "high", "sides.armenia.stances.border.weight: expected a whole number"),
    ("sides.1.stances.route.red_line", 5, "field sides.azerbaijan.stances.route.red_line: 5 is outside"),
    ("sides.1.stances.route.red_line", KeyError, "sides.azerbaijan.stances.route.red_line: missing"),
    ("sides.0.stances.constitution.prefers", ["omit", "defer"], "sides.armenia.stances.constitution.prefers"),
    ("sides.0.stances.constitution.basis", ["constitution.no-such-claim"],
     "unknown claim id 'constitution.no-such-claim'"),
    ("sides.0.stances.constitution.basis", [], "basis: give at least one claim id"),
    ("sides.0.stances.constitution.reason", " ", "sides.armenia.stances.constitution.reason: missing or empty"),
    ("sides.0.stances.constitution.mood", "calm", "sides.armenia.stances.constitution.mood: unknown field"),
    ("sides.0.stances.water", {}, "sides.armenia.stances.water: unknown field"),
    ("deadlocks.route.treatments.defer.source", "data:nowhere", "unknown data set 'nowhere'"),
    ("deadlocks.border", KeyError, "field deadlocks.border: missing"),
    ("treatments.omit", KeyError, "field treatments.omit: missing"),
    ("title", KeyError, "title: missing"),
])
def test_bad_defaults_give_a_clear_error_naming_the_field(tmp_path, document, dotted, value, message):
    _set(document, dotted, value)
    with pytest.raises(neg.NegotiationError, match=message.replace(".", r"\.").replace("(", r"\(")):
        neg.load_file(write(tmp_path, document))


def test_the_error_names_the_file(tmp_path, document):
    _set(document, "sides.0.stances.border.weight", 12)
    with pytest.raises(neg.NegotiationError, match=r"^defaults\.yaml, field sides\.armenia"):
        neg.load_file(write(tmp_path, document))


def test_exactly_two_distinct_sides(tmp_path, document):
    three = copy.deepcopy(document)
    three["sides"].append(copy.deepcopy(document["sides"][0]))
    with pytest.raises(neg.NegotiationError, match="exactly two sides"):
        neg.load_file(write(tmp_path, three))
    twins = copy.deepcopy(document)
    twins["sides"][1]["key"] = twins["sides"][0]["key"]
    with pytest.raises(neg.NegotiationError, match="share the key 'armenia'"):
        neg.load_file(write(tmp_path, twins))


def test_unreadable_files_give_clear_errors(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("sides: [unclosed", encoding="utf-8")
    with pytest.raises(neg.NegotiationError, match="broken.yaml: not valid YAML"):
        neg.load_file(broken)
    with pytest.raises(neg.NegotiationError, match="missing.yaml: cannot read the file"):
        neg.load_file(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(neg.NegotiationError, match="empty.yaml: expected a mapping"):
        neg.load_file(empty)


def test_treatments_table_has_nine_rows_with_sources(model):
    table = neg.treatments_table(model)
    assert len(table) == 9
    assert set(table["key"]) == set(neg.TREATMENTS)
    assert table["source"].str.len().min() > 0
