"""Quiz questions and their grading, in plain Python (no widgets).

A question is built from one entry of a YAML bank (see `bank.py`, which validates first).
`question.grade(response)` returns a `Result`; a response of the wrong shape raises
`ResponseError` with a message a student can act on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real


class ResponseError(ValueError):
    """The response cannot be graded (wrong type, unknown option): says what was expected."""


@dataclass(frozen=True)
class Result:
    correct: bool
    score: float  # 0..1, partial credit for multiple choice, ordering and matching
    feedback: str


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    feedback: str
    correct: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: str
    explanation: str
    sources: tuple[str, ...]
    tries: int

    def grade(self, response) -> Result:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def answer_text(self) -> str:  # pragma: no cover
        raise NotImplementedError


def _plural(n: int, word: str) -> str:
    plural = word + ("es" if word.endswith(("ch", "s", "sh", "x")) else "s")
    return f"{n} {word if n == 1 else plural}"


@dataclass(frozen=True)
class SingleChoice(Question):
    options: tuple[Option, ...] = ()

    @property
    def answer(self) -> str:
        return next(o.id for o in self.options if o.correct)

    def _option(self, response) -> Option:
        if not isinstance(response, str):
            raise ResponseError(f"choose one option (an option id such as {self.options[0].id!r}), "
                                f"not {type(response).__name__}")
        for option in self.options:
            if option.id == response:
                return option
        raise ResponseError(f"{response!r} is not an option here; the options are "
                            f"{', '.join(o.id for o in self.options)}")

    def grade(self, response) -> Result:
        option = self._option(response)
        return Result(option.correct, 1.0 if option.correct else 0.0, option.feedback)

    def answer_text(self) -> str:
        return next(o.text for o in self.options if o.correct)


@dataclass(frozen=True)
class MultipleChoice(SingleChoice):
    @property
    def answer(self) -> frozenset[str]:
        return frozenset(o.id for o in self.options if o.correct)

    def grade(self, response) -> Result:
        if isinstance(response, str) or not hasattr(response, "__iter__"):
            raise ResponseError("tick every option that applies (a list of option ids)")
        chosen = [self._option(item) for item in response]
        if not chosen:
            raise ResponseError("tick at least one option")
        picked = {o.id for o in chosen}
        right = self.answer
        hits, false_picks = len(picked & right), len(picked - right)
        score = max(0.0, (hits - false_picks) / len(right))
        if picked == right:
            return Result(True, 1.0, " ".join(o.feedback for o in self.options if o.correct and o.feedback))
        notes = [o.feedback for o in self.options if o.id in picked - right]
        missed = len(right - picked)
        if missed:
            notes.append(f"You left out {_plural(missed, 'option')} that also apply.")
        return Result(False, score, " ".join(notes))

    def answer_text(self) -> str:
        return "; ".join(o.text for o in self.options if o.correct)


@dataclass(frozen=True)
class Numeric(Question):
    value: float = 0.0
    tolerance: float = 0.0
    unit: str = ""
    feedback_low: str = ""
    feedback_high: str = ""
    feedback_correct: str = ""

    @property
    def answer(self) -> float:
        return self.value

    def grade(self, response) -> Result:
        if isinstance(response, bool) or not isinstance(response, Real):
            raise ResponseError(f"type a number{f' (in {self.unit})' if self.unit else ''}, "
                                f"not {type(response).__name__}")
        if not math.isfinite(response):
            raise ResponseError("type a finite number")
        if abs(response - self.value) <= self.tolerance:
            return Result(True, 1.0, self.feedback_correct)
        if response < self.value:
            return Result(False, 0.0, self.feedback_low or "Too low.")
        return Result(False, 0.0, self.feedback_high or "Too high.")

    def answer_text(self) -> str:
        return f"{self.value:g}{f' {self.unit}' if self.unit else ''} (± {self.tolerance:g})"


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    feedback: str


@dataclass(frozen=True)
class Ordering(Question):
    items: tuple[Item, ...] = ()  # in the correct order

    @property
    def answer(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def grade(self, response) -> Result:
        if isinstance(response, str) or not hasattr(response, "__iter__"):
            raise ResponseError("give the items as a list, first to last")
        response = list(response)
        known = set(self.answer)
        unknown = [r for r in response if not isinstance(r, str) or r not in known]
        if unknown:
            raise ResponseError(f"{unknown[0]!r} is not one of the items to order")
        if sorted(response) != sorted(self.answer):
            raise ResponseError(f"place each of the {len(self.answer)} items exactly once")
        rank = {item_id: pos for pos, item_id in enumerate(self.answer)}
        pairs = [(a, b) for i, a in enumerate(response) for b in response[i + 1:]]
        in_order = sum(rank[a] < rank[b] for a, b in pairs)
        score = in_order / len(pairs) if pairs else 1.0
        if tuple(response) == self.answer:
            return Result(True, 1.0, "")
        misplaced = next(item for item, got in zip(self.items, response) if item.id != got)
        placed_right = sum(a == b for a, b in zip(response, self.answer))
        return Result(False, score, f"{_plural(placed_right, 'item')} of {len(self.answer)} in the right "
                                    f"place. Look again at: {misplaced.text}. {misplaced.feedback}")

    def answer_text(self) -> str:
        return " → ".join(item.text for item in self.items)


@dataclass(frozen=True)
class Pair:
    left: str
    right: str
    feedback: str


@dataclass(frozen=True)
class Matching(Question):
    pairs: tuple[Pair, ...] = ()
    distractors: tuple[str, ...] = field(default=())

    @property
    def answer(self) -> dict[str, str]:
        return {p.left: p.right for p in self.pairs}

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([p.right for p in self.pairs] + list(self.distractors)))

    def grade(self, response) -> Result:
        if not isinstance(response, dict):
            raise ResponseError("give a mapping from each item on the left to one on the right")
        lefts = [p.left for p in self.pairs]
        for key, value in response.items():
            if not isinstance(key, str) or key not in lefts:
                raise ResponseError(f"{key!r} is not an item on the left")
            if not isinstance(value, str) or value not in self.choices:
                raise ResponseError(f"{value!r} is not one of the choices on the right")
        missing = [left for left in lefts if left not in response]
        if missing:
            raise ResponseError(f"match every item; still open: {missing[0]!r}")
        wrong = [p for p in self.pairs if response[p.left] != p.right]
        score = 1 - len(wrong) / len(self.pairs)
        if not wrong:
            return Result(True, 1.0, "")
        return Result(False, score, f"{_plural(len(self.pairs) - len(wrong), 'match')} of {len(self.pairs)} "
                                    f"right. {wrong[0].left}: {wrong[0].feedback}")

    def answer_text(self) -> str:
        return "; ".join(f"{p.left} → {p.right}" for p in self.pairs)


KINDS = {"single": SingleChoice, "multiple": MultipleChoice, "numeric": Numeric,
         "ordering": Ordering, "matching": Matching}
