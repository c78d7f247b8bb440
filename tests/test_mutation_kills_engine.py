"""course.checks.engine (exercise checks), pinned where mutation testing found the suite let a change
through (issue 20). A made-up tasks file keeps each rule visible; messages are asserted whole.
Run tests/mutation/run_mutation.py checks to see what still survives.
"""
from __future__ import annotations

import pytest
import yaml

from course import tracking
from course.checks import engine
from course.checks.engine import CORRECT, INCORRECT, NOT_ATTEMPTED, Outcome, TaskError
from course.learner_path import idiom_line, idioms

TASKS = {
    "lesson": "made_up",
    "setup": "import pandas as pd\nn = 3",
    "exercises": {
        "q1": {"variable": "total", "kind": "number", "solution": "total = 10 if __name__ == '__course_task__' else 0",
               "tolerance": 0.5, "hints": ["Add them.", "Use sum."],
               "mistakes": [{"code": "total = 'x'", "message": "Never shown."},
                            {"code": "total = 9", "message": "Off by one."}]},
        "f1": {"variable": "double", "kind": "function", "solution": "def double(x):\n    return 2 * x",
               "calls": ["(n,)", "(4,)"], "tolerance": 0.5, "meaning": "Twice  the\nnumber.",
               "hints": ["Multiply."], "mistakes": [{"code": "def double(x):\n    return x + 2",
                                                     "message": "Multiply, do not add."}]},
        "l1": {"variable": "names", "kind": "list", "solution": "names = ['a', 'b']", "ordered": True,
               "hints": ["List them."], "mistakes": [{"code": "names = ['a']", "message": "One is missing."}]},
        "s1": {"variable": "s", "kind": "series", "solution": "s = pd.Series([1, 2])", "ignore_index": True,
               "hints": ["A Series."], "mistakes": [{"code": "s = pd.Series([2, 1])", "message": "Swapped."}],
               "idioms": list(idioms())[:2]},
    },
}


@pytest.fixture
def ex(tmp_path):
    file = tmp_path / "made_up.yaml"
    file.write_text(yaml.safe_dump(TASKS, sort_keys=False), encoding="utf-8")
    return engine.load_tasks_file(file)


def _load(tmp_path, document, name="made_up.yaml"):
    file = tmp_path / name
    file.write_text(yaml.safe_dump(document, sort_keys=False) if not isinstance(document, str) else document,
                    encoding="utf-8")
    with pytest.raises(TaskError) as err:
        engine.load_tasks_file(file)
    return str(err.value)


def test_outcome_text_and_html():
    assert str(Outcome(CORRECT, "Well done.", "q1")) == "q1: Correct. Well done."
    assert str(Outcome(INCORRECT, "No.", "q1")) == "q1: Incorrect. No."
    assert str(Outcome(NOT_ATTEMPTED, "Run it.", "q1")) == "q1: Not attempted. Run it."
    assert Outcome(CORRECT, "Yes.", "q1")._repr_html_() == \
        '<div role="status" style="color:#1b6e20"><b>q1: Correct. Yes.</b></div>'
    assert Outcome(INCORRECT, "<no>", "q1")._repr_html_() == \
        '<div role="status" style="color:#9c2a00"><b>q1: Incorrect. &lt;no&gt;</b></div>'
    assert Outcome(NOT_ATTEMPTED, "", "q1")._repr_html_() == \
        '<div role="status" style="color:#555"><b>q1: Not attempted.</b></div>'


def test_not_attempted_messages(ex):
    assert ex.q1.evaluate({}) == Outcome(NOT_ATTEMPTED, "Define `total` in the answer cell and run it first.", "q1")
    assert ex.q1.evaluate({"total": ...}) == \
        Outcome(NOT_ATTEMPTED, "Replace the `...` in `total = ...` with your answer.", "q1")
    assert ex.q1.evaluate({"total": None}).status == NOT_ATTEMPTED


def test_number_exercise_uses_its_tolerance_its_mistakes_and_its_own_module_name(ex):
    assert ex.q1.evaluate({"total": 10.3}) == Outcome(CORRECT, "Well done.", "q1")
    assert ex.q1.evaluate({"total": 9}) == Outcome(INCORRECT, "Off by one.", "q1")
    assert ex.q1.evaluate({"total": 20}) == Outcome(INCORRECT, "Your number (20) is too high.", "q1")
    assert ex.q1.evaluate({"total": len}) == \
        Outcome(INCORRECT, "Expected a number, but your answer is a builtin_function_or_method.", "q1")


def test_function_exercise(ex):
    def nothing_for_the_first_call(x):
        return None if x == 3 else 2 * x

    assert ex.f1.evaluate({"double": lambda x: 2 * x + 0.3}) == Outcome(CORRECT, "Well done. Twice the number.", "f1")
    assert ex.f1.evaluate({"double": nothing_for_the_first_call}) == \
        Outcome(NOT_ATTEMPTED, "Your function `double` returns nothing yet.", "f1")
    assert ex.f1.evaluate({"double": lambda x: x + 2}) == Outcome(INCORRECT, "Multiply, do not add.", "f1")
    assert ex.f1.evaluate({"double": lambda x: 1 / 0}) == Outcome(
        INCORRECT, "Your function fails when called as double(n,): ZeroDivisionError: division by zero", "f1")
    assert ex.f1.evaluate({"double": 4}) == Outcome(INCORRECT, "Expected a function, but double is a int.", "f1")
    assert ex.f1.evaluate({"double": lambda x: 3 * x}) == \
        Outcome(INCORRECT, "Called as double(n,): Your number (9) is too high.", "f1")


def test_list_and_series_options_reach_the_comparison(ex):
    assert ex.l1.evaluate({"names": ["b", "a"]}) == \
        Outcome(INCORRECT, "The right items, but not in the asked order.", "l1")
    import pandas as pd

    assert ex.s1.evaluate({"s": pd.Series([1, 2], index=[5, 6])}).status == CORRECT


def test_check_records_and_shows_the_outcome(ex, isolated_progress, capsys):
    ex.q1.check({"total": 10})
    assert capsys.readouterr().out == "q1: Correct. Well done.\n"
    assert tracking.read()["exercises"]["made_up"]["q1"] == {"checks": 1, "status": "correct"}
    with pytest.raises(AssertionError, match=r"^q1: Incorrect\. Off by one\.$"):
        ex.q1.assert_correct({"total": 9})
    ex.q1.assert_correct({"total": 10})


def test_display_in_a_notebook_shows_markdown_or_the_object(monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display", shown.append)
    engine._display("**x**")
    outcome = Outcome(CORRECT, "", "q1")
    engine._display(outcome)
    assert isinstance(shown[0], IPython.display.Markdown) and shown[0].data == "**x**"
    assert shown[1] is outcome


def test_hints_and_card_lines(ex, capsys):
    ex.q1.hint()
    ex.q1.hint(2)
    ex.q1.hint(9)
    assert capsys.readouterr().out.splitlines() == [
        "**Hint 1 of 2** (call `.hint(2)` for another): Add them.", "**Hint 2 of 2**: Use sum.",
        "**Hint 2 of 2**: Use sum."]
    first, second = list(idioms())[:2]
    card = f"{idiom_line(first)}; {idiom_line(second).replace('Python card → ', '')}"
    assert ex.s1.card_lines() == card and ex.q1.card_lines() == ""
    ex.s1.hint()
    assert capsys.readouterr().out == f"**Hint 1 of 1**: {card} (see `python_card()`). A Series.\n"


def test_exercises_as_attributes(ex):
    assert repr(ex) == "<exercises of made_up: q1, f1, l1, s1>"
    assert [e.key for e in ex] == ["q1", "f1", "l1", "s1"]
    assert repr(ex.q1) == "<exercise made_up.q1: fill in `total`, then call .check()>"
    with pytest.raises(AttributeError) as err:
        _ = ex.zz
    assert str(err.value) == "lesson made_up has no exercise 'zz'; it has: q1, f1, l1, s1"
    bare = engine.Exercises.__new__(engine.Exercises)
    with pytest.raises(AttributeError) as err:
        _ = bare.q1
    assert str(err.value) == "lesson None has no exercise 'q1'; it has: "


def test_a_tasks_file_without_setup(tmp_path):
    document = {"lesson": "made_up", "exercises": {"q1": {**TASKS["exercises"]["q1"], "solution": "total = 10"}}}
    file = tmp_path / "made_up.yaml"
    file.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert engine.load_tasks_file(file).q1.evaluate({"total": 10}).status == CORRECT


def test_failing_task_code_names_file_exercise_and_field(tmp_path):
    document = {"lesson": "made_up", "exercises": {"q1": {**TASKS["exercises"]["q1"], "solution": "total = 1 / 0"}}}
    file = tmp_path / "made_up.yaml"
    file.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(TaskError) as err:
        engine.load_tasks_file(file).q1.evaluate({"total": 1})
    assert str(err.value) == ("made_up.yaml, exercise q1, field 'solution': the code fails: "
                              "ZeroDivisionError: division by zero")


def _with(key: str, **changes) -> dict:
    return {"lesson": "made_up", "exercises": {key: {**TASKS["exercises"][key], **changes}}}


@pytest.mark.parametrize(("document", "message"), [
    (["a"], "made_up.yaml: expected a mapping with 'lesson', 'setup' and 'exercises'"),
    ({"exercises": ["q1"]}, "made_up.yaml: expected a mapping with 'lesson', 'setup' and 'exercises'"),
    ({"exercises": {"q1": "total"}}, "made_up.yaml, exercise q1: expected a mapping"),
    (_with("q1", hints="Add them."), "made_up.yaml, exercise q1, field 'hints': expected list"),
    (_with("q1", hints=[]), "made_up.yaml, exercise q1, field 'hints': give at least one hint, each as text"),
    (_with("q1", hints=[3]), "made_up.yaml, exercise q1, field 'hints': give at least one hint, each as text"),
    (_with("q1", hints=[" "]), "made_up.yaml, exercise q1, field 'hints': give at least one hint, each as text"),
    (_with("q1", objective=[]), "made_up.yaml, exercise q1, field 'objective': use objective ids such as O1 or "
                                "[O1, O2], got []"),
    (_with("q1", objective=["O1", "X"]), "made_up.yaml, exercise q1, field 'objective': use objective ids such as "
                                         "O1 or [O1, O2], got ['X']"),
    (_with("q1", idioms=[]), "made_up.yaml, exercise q1, field 'idioms': empty not on the Python card "
                             f"(course/lesson_data/idioms.yaml has: {', '.join(idioms())})"),
    ("exercises: [unclosed", None),
])
def test_tasks_file_messages(tmp_path, document, message):
    got = _load(tmp_path, document)
    if message is None:
        assert got.startswith("made_up.yaml: not valid YAML: ")
    else:
        assert got == message


def test_objectives_given_as_one_id_or_a_list(tmp_path):
    for objective in ("O1", ["O1", "O2"]):
        file = tmp_path / "made_up.yaml"
        file.write_text(yaml.safe_dump(_with("q1", objective=objective)), encoding="utf-8")
        assert engine.load_tasks_file(file).q1.spec["objective"] == objective


def test_tasks_files_are_read_as_utf8_whatever_the_locale(tmp_path, run_in_c_locale):

    document = _with("q1", hints=["Ստեփանակերտ / Khankendi"])
    file = tmp_path / "made_up.yaml"
    file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    # in-process too: mutmut picks the tests of a mutant by the calls it saw
    assert engine.load_tasks_file(file).q1.spec["hints"][0] == "Ստեփանակերտ / Khankendi"
    code = ("import json, sys; from course.checks import engine; "
            "print(json.dumps(engine.load_tasks_file(sys.argv[1]).q1.spec['hints'][0]))")
    assert run_in_c_locale(code, str(file)) == "Ստեփանակերտ / Khankendi"
