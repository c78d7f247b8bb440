"""Loading banks: a malformed bank fails with a message naming file, question id and field."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from course.quizzes import BankError, load_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"

SAMPLE = yaml.safe_load((FIXTURES / "sample_bank.yaml").read_text(encoding="utf-8"))


def write(tmp_path, document, name="sample_bank.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def with_change(index, change):
    document = copy.deepcopy(SAMPLE)
    change(document["questions"][index])
    return document


def test_the_sample_bank_loads_every_kind():
    bank = load_file(FIXTURES / "sample_bank.yaml")
    assert [q.kind for q in bank] == ["single", "multiple", "numeric", "ordering", "matching"]
    assert bank["chain-start"].answer == "declaration"
    assert bank["deadlocks"].answer == {"constitution", "border", "route"}
    assert bank["order-events"].answer == ("decl", "almaata", "bishkek")
    assert bank["who-holds-what"].answer["Baku"] == "Security guarantees for route users"
    assert bank["milex-ratio"].sources == ("data:milex",)


def test_the_endnotes_table_is_a_valid_source(tmp_path):
    document = with_change(0, lambda q: q.__setitem__("source", ["seeds:endnotes", "constitution.baku-demand"]))
    assert load_file(write(tmp_path, document))["chain-start"].sources[0] == "seeds:endnotes"


@pytest.mark.parametrize(("index", "change", "message"), [
    (0, lambda q: q.__setitem__("source", "constitution.no-such-claim"),
     r"sample_bank.yaml, question chain-start, field 'source': unknown claim id 'constitution.no-such-claim'"),
    (2, lambda q: q.__setitem__("source", ["data:milex", "seeds:interviews"]),
     r"question milex-ratio, field 'source': unknown claim id 'seeds:interviews'"),
    (2, lambda q: q.__setitem__("source", "data:weather"),
     r"question milex-ratio, field 'source': unknown data set 'weather'"),
    (0, lambda q: [o.__setitem__("correct", False) for o in q["options"]],
     r"question chain-start, field 'options': a single-choice question needs exactly one correct option"),
    (1, lambda q: [o.pop("correct", None) for o in q["options"]],
     r"question deadlocks, field 'options': the answer is not among the options"),
    (0, lambda q: q.pop("explanation"), r"question chain-start, field 'explanation': missing"),
    (0, lambda q: q["options"][1].pop("feedback"),
     r"question chain-start, field 'options', entry 2, field 'feedback': missing"),
    (2, lambda q: q.__setitem__("answer", "two point seven"),
     r"question milex-ratio, field 'answer': expected a number"),
    (2, lambda q: q.__setitem__("tolerance", -1), r"question milex-ratio, field 'tolerance': must not be negative"),
    (3, lambda q: q["items"].append(dict(q["items"][0])),
     r"question order-events, field 'items': duplicate entry 'decl'"),
    (4, lambda q: q.__setitem__("kind", "essay"), r"question who-holds-what, field 'kind': 'essay' is not one of"),
    (0, lambda q: q.__setitem__("hint", "x"), r"question chain-start, field 'hint': unknown field"),
    (0, lambda q: q.__setitem__("id", "Chain Start"), r"field 'id': use lower-case words"),
    (0, lambda q: q.__setitem__("prompt", "   "), r"question chain-start, field 'prompt': is empty"),
    (0, lambda q: q.__setitem__("tries", 0), r"field 'tries': must be at least 1"),
    (0, lambda q: q.__setitem__("level", "evaluate"), r"question chain-start, field 'level': 'evaluate' is not one of"),
    (0, lambda q: q.__setitem__("objective", "first"), r"question chain-start, field 'objective': use objective ids"),
    (0, lambda q: q.__setitem__("transfer", "yes"), r"question chain-start, field 'transfer': expected true/false"),
    (0, lambda q: q.__setitem__("data_value", {"code": "value = 1", "name": "YEAR", "own": 2023, "others": []}),
     r"question chain-start, field 'data_value': only a numeric question"),
    (2, lambda q: q.__setitem__("data_value", {"code": "value = 1", "name": "YEAR", "own": 2023}),
     r"question milex-ratio, field 'data_value', field 'others': missing"),
])
def test_malformed_questions_are_named(tmp_path, index, change, message):
    with pytest.raises(BankError, match=message):
        load_file(write(tmp_path, with_change(index, change)))


def test_duplicate_question_id(tmp_path):
    document = copy.deepcopy(SAMPLE)
    document["questions"].append(copy.deepcopy(document["questions"][0]))
    with pytest.raises(BankError, match=r"sample_bank.yaml, question chain-start, field 'id': duplicate id"):
        load_file(write(tmp_path, document))


def test_not_yaml_and_wrong_shapes(tmp_path):
    bad = tmp_path / "sample_bank.yaml"
    bad.write_text("questions: [unclosed", encoding="utf-8")
    with pytest.raises(BankError, match=r"sample_bank.yaml: not valid YAML"):
        load_file(bad)
    with pytest.raises(BankError, match=r"field 'questions': missing"):
        load_file(write(tmp_path, {"lesson": "sample_bank", "title": "t"}))
    with pytest.raises(BankError, match=r"field 'lesson': 'other' does not match the file name"):
        load_file(write(tmp_path, {**SAMPLE, "lesson": "other"}))
    with pytest.raises(BankError, match=r"question #1: expected a mapping"):
        load_file(write(tmp_path, {**SAMPLE, "questions": ["just text"]}))


def test_lessons_resolve_by_full_name_or_topic():
    from course.quizzes.bank import lesson_names, load_bank

    names = lesson_names()
    if not names:
        pytest.skip("no lesson banks yet")
    full = names[-1]
    assert load_bank(full) is load_bank(full)
    assert load_bank(full.split("_", 1)[1]).lesson == full
    with pytest.raises(KeyError, match="the lessons are"):
        load_bank("astrology")
