"""course.quizzes.bank (the bank validator and loader), pinned where mutation testing found the
suite let a change through (issue 20). Each test edits one field of the sample bank and checks
the whole message an author would read. Run tests/mutation/run_mutation.py quizzes to see what
still survives.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from course import quizzes
from course.quizzes import BankError, bank
from course.quizzes.bank import parse_bank

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = yaml.safe_load((FIXTURES / "sample_bank.yaml").read_text(encoding="utf-8"))
WHERE = "sample_bank.yaml, question"


def _load(change=None, qid=None):
    document = copy.deepcopy(SAMPLE)
    if change is not None:
        target = next(q for q in document["questions"] if q["id"] == qid) if qid else document
        change(target)
    return parse_bank(document, FIXTURES / "sample_bank.yaml")


def _refused(change, qid=None) -> str:
    with pytest.raises(BankError) as err:
        _load(change, qid)
    return str(err.value)


# -- a sibling of bug 3: the feedback of ordering items and matching pairs reaches the student -----------------
def test_item_and_pair_feedback_is_carried_into_the_questions():
    loaded = _load()
    order = next(q for q in loaded.questions if q.id == "order-events")
    assert [i.feedback for i in order.items] == [i["feedback"] for i in _sample("order-events")["items"]]
    match = next(q for q in loaded.questions if q.id == "who-holds-what")
    assert [p.feedback for p in match.pairs] == [p["feedback"] for p in _sample("who-holds-what")["pairs"]]


def _sample(qid: str) -> dict:
    return next(q for q in SAMPLE["questions"] if q["id"] == qid)


# -- limits that are allowed exactly at their edge --------------------------------------------------------
def test_one_correct_option_is_enough_for_a_multiple_choice_question():
    def one_correct(q):
        for option in q["options"][1:]:
            option.pop("correct", None)
    assert _load(one_correct, "deadlocks")["deadlocks"].answer == frozenset({"constitution"})


def test_one_try_is_allowed_and_zero_is_not():
    assert _load(lambda q: q.__setitem__("tries", 1), "chain-start")["chain-start"].tries == 1
    assert _refused(lambda q: q.__setitem__("tries", 0), "chain-start") == \
        f"{WHERE} chain-start, field 'tries': must be at least 1"


def test_an_empty_unit_is_allowed_but_no_other_empty_text():
    assert _load(lambda q: q.__setitem__("unit", ""), "milex-ratio")["milex-ratio"].unit == ""
    assert _refused(lambda q: q.__setitem__("feedback_low", " "), "milex-ratio") == \
        f"{WHERE} milex-ratio, field 'feedback_low': is empty"


# -- messages -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("qid", "change", "message"), [
    ("chain-start", lambda q: q.__setitem__("tries", True),
     "chain-start, field 'tries': expected a whole number, got true/false"),
    ("chain-start", lambda q: q.__setitem__("source", True),
     "chain-start, field 'source': expected text or a list, got true/false"),
    ("milex-ratio", lambda q: q.__setitem__("answer", True),
     "milex-ratio, field 'answer': expected a number, got true/false"),
    ("milex-ratio", lambda q: q.__setitem__("answer", "2.69"),
     "milex-ratio, field 'answer': expected a number, got '2.69'"),
    ("chain-start", lambda q: q.__setitem__("options", "a"), "chain-start, field 'options': expected a list, got 'a'"),
    ("chain-start", lambda q: q.__setitem__("prompt", 3), "chain-start, field 'prompt': expected text, got 3"),
    ("chain-start", lambda q: q.__setitem__("source", []), "chain-start, field 'source': give at least one source"),
    ("chain-start", lambda q: q.__setitem__("source", [3]), "chain-start, field 'source': 3 is not text"),
    ("chain-start", lambda q: q.__setitem__("source", ["seeds:article", "no.such-claim"]),
     "chain-start, field 'source': unknown claim id 'no.such-claim' (not in seeds/claims.yaml; other sources: "
     "data:<data set>, seeds:article, seeds:endnotes)"),
    ("chain-start", lambda q: q.__setitem__("options", q["options"][:1]),
     "chain-start, field 'options': needs at least two entries"),
    ("chain-start", lambda q: q["options"].__setitem__(1, "alma-ata"),
     "chain-start, field 'options', entry 2: expected a mapping"),
    ("chain-start", lambda q: q["options"][2].__setitem__("id", "alma-ata"),
     "chain-start, field 'options': duplicate entry 'alma-ata'"),
    ("who-holds-what", lambda q: q.__setitem__("distractors", [3]),
     "who-holds-what, field 'distractors': every distractor must be text"),
    ("chain-start", lambda q: q.__setitem__("level", "guess"),
     "chain-start, field 'level': 'guess' is not one of remember, understand, apply, analyse"),
    ("chain-start", lambda q: q.__setitem__("objective", []),
     "chain-start, field 'objective': use objective ids such as O1 or [O1, O2], got []"),
    ("chain-start", lambda q: q.__setitem__("objective", ["O1", "x"]),
     "chain-start, field 'objective': use objective ids such as O1 or [O1, O2], got ['x']"),
    ("milex-ratio", lambda q: q.__setitem__("data_value", {"code": "x", "name": "n", "own": 1, "others": []}),
     "milex-ratio, field 'data_value', field 'others': name at least one neighbouring setting"),
])
def test_validator_messages(qid, change, message):
    assert _refused(change, qid) == f"{WHERE} {message}"


def test_a_source_list_is_checked_past_a_seeds_source():
    assert "unknown data set 'nope'" in _refused(
        lambda q: q.__setitem__("source", ["seeds:endnotes", "data:nope"]), "chain-start")
    message = _refused(lambda q: q.__setitem__("source", "data:nope"), "chain-start")
    from course import data
    assert message.endswith(f"(known: {', '.join(sorted(data.names()))})")


def test_a_question_without_an_id_is_named_by_its_position():
    assert _refused(lambda q: q.__setitem__("id", 3), "chain-start") == \
        "sample_bank.yaml, question #1, field 'id': expected text, got 3"


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.__setitem__("questions", "abc"), "sample_bank.yaml, field 'questions': expected a non-empty list"),
    (lambda d: d.__setitem__("questions", []), "sample_bank.yaml, field 'questions': expected a non-empty list"),
])
def test_bank_level_messages(change, message):
    assert _refused(change) == message
    with pytest.raises(BankError) as err:
        parse_bank(["not", "a", "mapping"], FIXTURES / "sample_bank.yaml")
    assert str(err.value) == "sample_bank.yaml: expected a mapping with 'lesson', 'title' and 'questions'"


@pytest.mark.parametrize(("expected", "name"), [
    (str, "text"), (list, "a list"), (int, "a whole number"), (float, "a number"), (bool, "true/false"),
    ((int, float), "a number"), ((str, list), "text or a list"), (dict, "dict"), ((int, float, str), "a whole number "
                                                                                 "or a number or text"),
])
def test_type_names(expected, name):
    assert bank._type_name(expected) == name


# -- finding a bank -------------------------------------------------------------------------------------------
def test_resolve_by_topic_and_its_messages(tmp_path):
    for name in ("00_start_here", "02_constitution", "plain"):
        (tmp_path / f"{name}.yaml").write_text("", encoding="utf-8")
    assert bank.resolve("start_here", tmp_path).name == "00_start_here.yaml"
    assert bank.resolve("constitution", tmp_path).name == "02_constitution.yaml"
    assert bank.resolve("plain", tmp_path).name == "plain.yaml"
    with pytest.raises(KeyError) as err:
        bank.resolve("here", tmp_path)
    assert err.value.args[0] == f"no lesson 'here' in {tmp_path.name}/; the lessons are: 00_start_here, " \
                                "02_constitution, plain"


def test_an_unknown_question_id_lists_the_known_ones():
    loaded = _load()
    with pytest.raises(KeyError) as err:
        loaded["nope"]
    assert err.value.args[0] == ("no question 'nope' in sample_bank.yaml; there are: "
                                 + ", ".join(q["id"] for q in SAMPLE["questions"]))


def test_show_builds_the_quiz_of_a_lesson_or_some_of_its_questions():
    lesson = bank.lesson_names()[0]
    questions = bank.load_bank(lesson).questions
    assert [p.question.id for p in quizzes.show(lesson).panels] == [q.id for q in questions]
    assert [p.question.id for p in quizzes.show(lesson, [questions[-1].id]).panels] == [questions[-1].id]


def test_banks_are_read_as_utf8_whatever_the_locale(tmp_path, run_in_c_locale):

    document = copy.deepcopy(SAMPLE)
    document["title"] = "Ստեփանակերտ → Khankendi"
    file = tmp_path / "sample_bank.yaml"
    file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    assert bank.load_file(file).title == "Ստեփանակերտ → Khankendi"  # in-process too: mutmut maps tests by it
    code = "import json, sys; from course.quizzes import load_file; print(json.dumps(load_file(sys.argv[1]).title))"
    assert run_in_c_locale(code, str(file)) == "Ստեփանակերտ → Khankendi"
