"""A plain-text version of a quiz for places where widgets cannot render (GitHub, nbviewer,
a terminal). It lists the questions and their options in the student's shuffled order and
never gives an answer away."""
from __future__ import annotations

from . import model


def _question_text(q: model.Question, number: int, seed: str) -> list[str]:
    from .widget import shuffled

    lines = [f"Question {number} ({q.kind.replace('single', 'one answer').replace('multiple', 'tick all that apply')})",
             q.prompt.strip()]
    if isinstance(q, model.SingleChoice):
        mark = "[ ]" if isinstance(q, model.MultipleChoice) else "( )"
        lines += [f"  {mark} {o.text}" for o in shuffled(q.options, seed)]
    elif isinstance(q, model.Numeric):
        lines.append(f"  Answer: ________ {q.unit}".rstrip())
    elif isinstance(q, model.Ordering):
        lines.append("  Put in order, earliest first:")
        lines += [f"  - {item.text}" for item in shuffled(q.items, seed)]
    elif isinstance(q, model.Matching):
        lines.append("  Match each item to one of: " + "; ".join(shuffled(q.choices, seed)))
        lines += [f"  - {p.left} → ____" for p in shuffled(q.pairs, seed + ":left")]
    return lines


def as_text(title: str, questions, lesson: str) -> str:
    lines = [f"Quiz: {title}",
             "(Interactive quiz: run this notebook in JupyterLab to answer and get feedback.)", ""]
    for number, q in enumerate(questions, start=1):
        lines += _question_text(q, number, f"{lesson}:{q.id}") + [""]
    return "\n".join(lines).rstrip() + "\n"
