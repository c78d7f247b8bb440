"""Exercise checks: `ex = exercises("01_war_to_talks")`, then `ex.q1.check()`, `.hint()`, `.solution()`.

Exercises are declared in `course/tasks/<lesson>.yaml`: the variable the student fills in,
the kind of value, a reference solution (Python run on the course data), hints in levels, and
known mistakes, each a piece of code that produces a plausible wrong answer with the message
that answer deserves. The expected value is computed from the solution the first time it is
needed. Checks read the student's variable by name from the notebook's namespace.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

from . import compare

TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"
REQUIRED = {"variable": str, "kind": str, "solution": str, "hints": list, "mistakes": list}
OPTIONAL = {"tolerance": (int, float), "ordered": bool, "ignore_index": bool, "calls": list,
            "title": str,
            # learner path (notebooks/AUTHORING.md): the question about the talks the exercise
            # answers, what the right result means, the objective(s) it assesses, the card idioms
            "question": str, "meaning": str, "objective": (str, list), "idioms": list}
KINDS = set(compare.COMPARERS) | {"function"}

CORRECT, INCORRECT, NOT_ATTEMPTED = "correct", "incorrect", "not attempted"


class TaskError(ValueError):
    """A tasks file is malformed: names the file, the exercise and the field."""


@dataclass(frozen=True)
class Outcome:
    status: str
    message: str
    exercise: str = ""

    @property
    def correct(self) -> bool:
        return self.status == CORRECT

    def __str__(self) -> str:
        label = {CORRECT: "Correct", INCORRECT: "Incorrect", NOT_ATTEMPTED: "Not attempted"}[self.status]
        return f"{self.exercise}: {label}. {self.message}".strip()

    def _repr_html_(self) -> str:
        from ..quizzes.render import escape

        colour = {CORRECT: "#1b6e20", INCORRECT: "#9c2a00", NOT_ATTEMPTED: "#555"}[self.status]
        return f'<div role="status" style="color:{colour}"><b>{escape(str(self))}</b></div>'


def _display(obj) -> None:
    """Show a result in a notebook (rich) or a terminal (text)."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(obj) if isinstance(obj, str) else obj)
            return
    except ImportError:  # pragma: no cover - IPython comes with jupyterlab
        pass
    print(obj)


def _run(code: str, setup: str, where: str) -> dict:
    namespace: dict = {"__name__": "__course_task__"}
    try:
        exec(compile(setup + "\n" + code, where, "exec"), namespace)
    except Exception as err:
        raise TaskError(f"{where}: the code fails: {type(err).__name__}: {err}") from err
    return namespace


class Exercise:
    """One exercise of a lesson; the student's handle is `ex.q1`."""

    def __init__(self, lesson: str, key: str, spec: dict, setup: str, file_name: str):
        self.lesson, self.key, self.spec, self.setup = lesson, key, spec, setup
        self.where = f"{file_name}, exercise {key}"
        self.variable = spec["variable"]
        self.kind = spec["kind"]

    @functools.cached_property
    def expected(self):
        namespace = _run(self.spec["solution"], self.setup, self.where + ", field 'solution'")
        if self.variable not in namespace:
            raise TaskError(f"{self.where}, field 'solution': does not define {self.variable!r}")
        return namespace[self.variable]

    def _compare(self, got) -> str | None:
        options = {k: self.spec[k] for k in ("tolerance", "ordered", "ignore_index") if k in self.spec}
        if self.kind != "function":
            return compare.COMPARERS[self.kind](got, self.expected, **options)
        if not callable(got):
            return f"Expected a function, but {self.variable} is a {type(got).__name__}."
        for call in self.spec["calls"]:
            args = eval(call, _run("", self.setup, self.where))  # calls are trusted bank content
            try:
                mine = got(*args)
            except Exception as err:
                return f"Your function fails when called as {self.variable}{call}: {type(err).__name__}: {err}"
            problem = compare.auto(mine, self.expected(*args), **options)
            if problem:
                return f"Called as {self.variable}{call}: {problem}"
        return None

    @functools.cached_property
    def mistakes(self) -> list[tuple[object, str]]:
        """The known wrong answers as (value, message), computed once from their code."""
        found = []
        for pos, mistake in enumerate(self.spec["mistakes"], start=1):
            namespace = _run(mistake["code"], self.setup, f"{self.where}, mistake {pos}")
            if self.variable not in namespace:
                raise TaskError(f"{self.where}, mistake {pos}: does not define {self.variable!r}")
            found.append((namespace[self.variable], mistake["message"]))
        return found

    def _mistake_message(self, got) -> str | None:
        for wrong, message in self.mistakes:
            try:
                if self._compare_to(got, wrong) is None:
                    return message
            except Exception:  # a mistake that cannot be compared simply does not match
                continue
        return None

    def _compare_to(self, got, reference):
        saved = self.__dict__.get("expected")
        self.__dict__["expected"] = reference
        try:
            return self._compare(got)
        finally:
            self.__dict__["expected"] = saved

    def evaluate(self, namespace: dict) -> Outcome:
        """Judge the student's value in `namespace` (no display, no progress record)."""
        name = self.key
        if self.variable not in namespace:
            return Outcome(NOT_ATTEMPTED, f"Define `{self.variable}` in the answer cell and run it first.", name)
        got = namespace[self.variable]
        if got is Ellipsis or got is None:
            return Outcome(NOT_ATTEMPTED, f"Replace the `...` in `{self.variable} = ...` with your answer.", name)
        if self.kind == "function" and callable(got):
            try:
                probe = got(*eval(self.spec["calls"][0], _run("", self.setup, self.where)))
            except Exception:
                probe = True
            if probe is None or probe is Ellipsis:
                return Outcome(NOT_ATTEMPTED, f"Your function `{self.variable}` returns nothing yet.", name)
        problem = self._compare(got)
        if problem is None:
            meaning = " ".join(self.spec.get("meaning", "").split())
            return Outcome(CORRECT, f"Well done. {meaning}".strip(), name)
        return Outcome(INCORRECT, self._mistake_message(got) or problem, name)

    def check(self, namespace: dict | None = None) -> None:
        """Check your answer (reads your variable from the notebook)."""
        namespace = namespace if namespace is not None else sys._getframe(1).f_globals
        outcome = self.evaluate(namespace)
        from .. import tracking

        tracking.record_exercise(self.lesson, self.key, outcome.status)
        _display(outcome)

    def assert_correct(self, namespace: dict | None = None) -> None:
        """For graded notebooks: raise AssertionError with the check's message unless correct."""
        namespace = namespace if namespace is not None else sys._getframe(1).f_globals
        outcome = self.evaluate(namespace)
        assert outcome.correct, str(outcome)

    def card_lines(self) -> str:
        """The Python-card lines this exercise needs, e.g. 'Python card → filter: keep the rows that match'."""
        from ..learner_path import idiom_line

        lines = [idiom_line(i) for i in self.spec.get("idioms", [])]
        return "; ".join([lines[0]] + [line.replace("Python card → ", "") for line in lines[1:]]) if lines else ""

    def hint(self, level: int = 1) -> None:
        hints = self.spec["hints"]
        level = max(1, min(int(level), len(hints)))
        more = f" (call `.hint({level + 1})` for another)" if level < len(hints) else ""
        text = hints[level - 1]
        if level == 1 and self.card_lines():
            text = f"{self.card_lines()} (see `python_card()`). {text}"
        _display(f"**Hint {level} of {len(hints)}**{more}: {text}")

    def solution(self) -> None:
        _display(f"**One solution:**\n\n```python\n{self.spec['solution'].strip()}\n```")

    def __repr__(self) -> str:
        return f"<exercise {self.lesson}.{self.key}: fill in `{self.variable}`, then call .check()>"


class Exercises:
    """The exercises of a lesson, as attributes: `ex.q1`, `ex.q2`, …"""

    def __init__(self, lesson: str, items: dict[str, Exercise]):
        self.lesson = lesson
        self._items = items

    def __getattr__(self, key: str) -> Exercise:
        items = self.__dict__.get("_items", {})
        if key in items:
            return items[key]
        raise AttributeError(f"lesson {self.__dict__.get('lesson')} has no exercise {key!r}; "
                             f"it has: {', '.join(items)}")

    def __iter__(self):
        return iter(self._items.values())

    def __dir__(self):
        return [*super().__dir__(), *self._items]

    def __repr__(self) -> str:
        return f"<exercises of {self.lesson}: {', '.join(self._items)}>"


def _validate(document, file_name: str) -> None:
    if not isinstance(document, dict) or not isinstance(document.get("exercises"), dict):
        raise TaskError(f"{file_name}: expected a mapping with 'lesson', 'setup' and 'exercises'")
    for key, spec in document["exercises"].items():
        where = f"{file_name}, exercise {key}"
        if not isinstance(spec, dict):
            raise TaskError(f"{where}: expected a mapping")
        for field, kind in REQUIRED.items():
            if field not in spec:
                raise TaskError(f"{where}, field {field!r}: missing")
            if not isinstance(spec[field], kind):
                raise TaskError(f"{where}, field {field!r}: expected {kind.__name__}")
        unknown = set(spec) - set(REQUIRED) - set(OPTIONAL)
        if unknown:
            raise TaskError(f"{where}: unknown field(s) {sorted(unknown)}")
        if spec["kind"] not in KINDS:
            raise TaskError(f"{where}, field 'kind': {spec['kind']!r} is not one of {sorted(KINDS)}")
        if spec["kind"] == "function" and not spec.get("calls"):
            raise TaskError(f"{where}, field 'calls': a function exercise needs example calls")
        if not spec["hints"] or not all(isinstance(h, str) and h.strip() for h in spec["hints"]):
            raise TaskError(f"{where}, field 'hints': give at least one hint, each as text")
        if not spec["mistakes"]:
            raise TaskError(f"{where}, field 'mistakes': give at least one plausible wrong answer")
        _validate_learner_path(spec, where)
        for pos, mistake in enumerate(spec["mistakes"], start=1):
            if not (isinstance(mistake, dict) and isinstance(mistake.get("code"), str)
                    and isinstance(mistake.get("message"), str)):
                raise TaskError(f"{where}, field 'mistakes', entry {pos}: needs 'code' and 'message' (text)")




def _validate_learner_path(spec: dict, where: str) -> None:
    """The learner-path fields, when present: text that is not empty, objective ids, card ids."""
    for field in ("question", "meaning"):
        if field in spec and not (isinstance(spec[field], str) and spec[field].strip()):
            raise TaskError(f"{where}, field {field!r}: give it as text that is not empty")
    if "objective" in spec:
        from ..learner_path import objective_problem

        problem = objective_problem(spec["objective"])
        if problem:
            raise TaskError(f"{where}, field 'objective': {problem}")
    if "idioms" in spec:
        from ..learner_path import idioms

        unknown = [i for i in spec["idioms"] if i not in idioms()]
        if not spec["idioms"] or unknown:
            raise TaskError(f"{where}, field 'idioms': {unknown or 'empty'} not on the Python card "
                            f"(course/lesson_data/idioms.yaml has: {', '.join(idioms())})")


def load_tasks_file(path: Path) -> Exercises:
    """Validate a tasks file and bind its exercises."""
    import yaml

    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise TaskError(f"{path.name}: not valid YAML: {err}") from err
    _validate(document, path.name)
    setup = document.get("setup", "")
    items = {key: Exercise(path.stem, key, spec, setup, path.name) for key, spec in document["exercises"].items()}
    return Exercises(path.stem, items)


@functools.cache
def load_exercises(lesson: str) -> Exercises:
    """The exercises of a lesson, from `course/tasks/<lesson>.yaml`."""
    from ..quizzes.bank import resolve

    return load_tasks_file(resolve(lesson, TASKS_DIR))
