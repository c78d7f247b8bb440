"""The quiz as ipywidgets: one panel per question, a Check button, feedback, a running score.

The widget only wires inputs to `Question.grade`; all judging lives in `model.py`. Feedback
goes into an HTML widget marked as a polite live region so screen readers announce it. Options
are shuffled with a seed made from the lesson and question id, so the order survives a restart.
After `question.tries` wrong tries the correct answer is shown.

Keyboard (tests/browser/test_keyboard.py): Tab / Shift+Tab reach every option and input, each with
a visible focus ring; Space chooses an option or opens a dropdown (then arrows and Enter); Enter on
"Check" checks. In a notebook JupyterLab itself takes ArrowUp/ArrowDown on anything that is not a
text field (they move between cells), so the quiz never relies on them. Feedback colours suit the
light and the dark themes (FEEDBACK_COLOURS; tests/test_contrast.py).
"""
from __future__ import annotations

import random

import ipywidgets as w
from ipywidgets.widgets.widget_bool import CheckboxStyle
from ipywidgets.widgets.widget_description import DescriptionStyle
from ipywidgets.widgets.widget_string import HTMLStyle, LabelStyle, TextStyle

from . import model, text
from .render import escape, inline_html, markdown_html, plain

CHOOSE = "— choose —"
# Feedback colours per tone, for JupyterLab's light themes and its dark ones (tests/test_contrast.py
# checks each against the theme's backgrounds: WCAG AA, 4.5:1). A mark (✔/✘) always goes with
# the colour, so colour is never the only signal.
FEEDBACK_COLOURS = {
    "right": {"light": "#1b6e20", "dark": "#81c995"},
    "wrong": {"light": "#9c2a00", "dark": "#ff9e80"},
    "info": {"light": "#444444", "dark": "#d0d0d0"},
}
# A focus ring that every input of a quiz shows when reached by keyboard (ipywidgets' own is a
# 1 px border colour change on some inputs, none on others).
FOCUS_RING = "2px solid var(--jp-brand-color1, #1976d2)"


def _theme_css() -> str:
    light = ";".join(f"--course-quiz-{tone}:{c['light']}" for tone, c in FEEDBACK_COLOURS.items())
    dark = ";".join(f"--course-quiz-{tone}:{c['dark']}" for tone, c in FEEDBACK_COLOURS.items())
    return (f".course-quiz{{{light}}}"
            f"body[data-jp-theme-light=\"false\"] .course-quiz{{{dark}}}"
            f".course-quiz .course-quiz-question :focus-visible{{outline:{FOCUS_RING} !important;outline-offset:1px}}"
            # visually hidden, still read: the matching dropdowns' labels
            ".course-quiz .course-match .widget-label{position:absolute !important;width:1px !important;"
            "height:1px !important;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;margin:0;padding:0}")


# ipywidgets gives each radio option a fixed 20 px line, so a long option would wrap over the
# one below (seen in the browser test). This lets an option grow to as many lines as it needs.
STYLE = ("<style>.course-quiz .widget-radio-box label{display:flex;flex-direction:row-reverse;"
         "justify-content:flex-end;align-items:flex-start;height:auto;"
         "min-height:var(--jp-widgets-radio-item-height);line-height:1.4;padding:2px 0}"
         ".course-quiz .widget-radio-box label input{float:none;flex:none;margin-top:2px}"
         + _theme_css() + "</style>")


def shuffled(seq, seed: str) -> list:
    """A stable shuffle that never leaves an ordering question in its correct order."""
    items = list(seq)
    random.Random(seed).shuffle(items)
    if len(items) > 1 and items == list(seq):
        items = items[1:] + items[:1]
    return items


class Shared:
    """Layout and style models that all widgets of one quiz share.

    ipywidgets otherwise creates a Layout and a Style model for every widget, which was most of
    the time spent building a quiz (tests/benchmarks/bench_engine.py); sharing one model among
    many widgets is supported by ipywidgets.
    """

    def __init__(self):
        self._models: dict[tuple, w.Widget] = {}

    def layout(self, **settings) -> w.Layout:
        return self._get(w.Layout, settings)

    def style(self, kind, **settings):
        return self._get(kind, settings)

    def _get(self, kind, settings: dict):
        key = (kind, *sorted(settings.items()))
        if key not in self._models:
            self._models[key] = kind(**settings)
        return self._models[key]

    def html(self, value: str = "") -> w.HTML:
        return w.HTML(value, layout=self.layout(), style=self.style(HTMLStyle))


def _status_html(body: str, tone: str = "") -> str:
    # The theme's colour through a CSS variable (set in STYLE); the light one where STYLE is absent.
    style = (f"color:var(--course-quiz-{tone}, {FEEDBACK_COLOURS[tone]['light']});"
             if tone in FEEDBACK_COLOURS else "")
    return f'<div role="status" aria-live="polite" style="{style}">{body}</div>'


class QuestionPanel(w.VBox):
    """One question: prompt, an input for its kind, a Check button and feedback."""

    def __init__(self, question: model.Question, lesson: str, number: int, on_scored=None,
                 shared: Shared | None = None):
        self.shared = shared = shared or Shared()
        self.question = question
        self.lesson = lesson
        self.tries = 0
        self.best = 0.0
        self.solved = False
        self.revealed = False
        self._on_scored = on_scored
        seed = f"{lesson}:{question.id}"
        self.prompt = shared.html(f"<b>Question {number}.</b> {markdown_html(question.prompt)}")
        self.input = self._build_input(seed)
        self.check_button = w.Button(description="Check", button_style="primary",
                                     tooltip="Check your answer", style=shared.style(w.ButtonStyle),
                                     layout=shared.layout(width="auto", align_self="flex-start"))
        self.check_button.on_click(lambda _button: self.check())
        self.feedback = shared.html(_status_html(""))
        super().__init__([self.prompt, self.input, self.check_button, self.feedback],
                         layout=shared.layout(border="1px solid #ccc", padding="6px", margin="6px 0"))
        self.add_class("course-quiz-question")

    # -- inputs, one per kind -------------------------------------------------------------
    def _build_input(self, seed: str) -> w.Widget:
        q, shared = self.question, self.shared
        auto = shared.layout(width="auto")
        if isinstance(q, model.MultipleChoice):
            self.boxes = [(o.id, w.Checkbox(value=False, description=plain(o.text), indent=False, layout=auto,
                                            style=shared.style(CheckboxStyle)))
                          for o in shuffled(q.options, seed)]
            return w.VBox([box for _, box in self.boxes], layout=shared.layout())
        if isinstance(q, model.SingleChoice):
            return w.RadioButtons(options=[(plain(o.text), o.id) for o in shuffled(q.options, seed)], value=None,
                                  layout=auto, style=shared.style(DescriptionStyle))
        if isinstance(q, model.Numeric):
            self.number = w.Text(placeholder="type a number", layout=shared.layout(width="12em"),
                                 style=shared.style(TextStyle))
            unit = w.Label(q.unit, layout=shared.layout(), style=shared.style(LabelStyle))
            return w.HBox([self.number, unit], layout=shared.layout())
        if isinstance(q, model.Ordering):
            items = shuffled(q.items, seed)
            choices = [(CHOOSE, None)] + [(plain(item.text), item.id) for item in items]
            self.slots = [w.Dropdown(options=choices, value=None, description=f"{pos}.", layout=auto,
                                     style=shared.style(DescriptionStyle, description_width="2em"))
                          for pos in range(1, len(items) + 1)]
            hint = shared.html("<i>Pick an item for each position, first (earliest) at the top.</i>")
            return w.VBox([hint, *self.slots], layout=shared.layout())
        assert isinstance(q, model.Matching)
        choices = [(CHOOSE, None)] + [(plain(c), c) for c in shuffled(q.choices, seed)]
        self.matches = []
        rows = []
        for pair in shuffled(q.pairs, seed + ":left"):
            # The item is also the dropdown's description: a <label> tied to the <select>, so a
            # screen reader names the dropdown after the item it matches. On screen the bold item
            # shows it; the label is visually hidden (class course-match, see STYLE).
            dropdown = w.Dropdown(options=choices, value=None, description=plain(pair.left), layout=auto,
                                  style=shared.style(DescriptionStyle))
            dropdown.add_class("course-match")
            self.matches.append((pair.left, dropdown))
            rows.append(w.HBox([shared.html(f"<b>{escape(pair.left)}</b>&nbsp;→&nbsp;"), dropdown],
                               layout=shared.layout()))
        return w.VBox(rows, layout=shared.layout())

    def response(self):
        """The current input as a response for `grade` (None where nothing is chosen yet)."""
        q = self.question
        if isinstance(q, model.MultipleChoice):
            return [option_id for option_id, box in self.boxes if box.value]
        if isinstance(q, model.SingleChoice):
            return self.input.value
        if isinstance(q, model.Numeric):
            raw = self.number.value.strip().replace(",", "")
            if not raw:
                return None
            try:
                return float(raw)
            except ValueError:
                raise model.ResponseError(f"{self.number.value!r} is not a number") from None
        if isinstance(q, model.Ordering):
            return [slot.value for slot in self.slots]
        return {left: dropdown.value for left, dropdown in self.matches}

    def _incomplete(self, response) -> str | None:
        if response is None:
            return "Choose or type an answer first."
        if isinstance(response, list) and any(r is None for r in response):
            return "Fill every position first."
        if isinstance(response, dict) and any(v is None for v in response.values()):
            return "Match every item first."
        return None

    # -- checking ---------------------------------------------------------------------------
    def check(self) -> model.Result | None:
        try:
            response = self.response()
            missing = self._incomplete(response)
            if missing:
                self.feedback.value = _status_html(escape(missing), "info")
                return None
            result = self.question.grade(response)
        except model.ResponseError as err:
            self.feedback.value = _status_html(escape(f"Can't check that: {err}."), "info")
            return None
        self.tries += 1
        self.best = max(self.best, result.score)
        self.solved = self.solved or result.correct
        self._show(result)
        from .. import tracking

        tracking.record_quiz(self.lesson, self.question.id, result.score, result.correct)
        if self._on_scored:
            self._on_scored()
        return result

    def _show(self, result: model.Result) -> None:
        q = self.question
        parts = []
        if result.correct:
            parts.append("<b>✔ Correct.</b>")
        else:
            credit = f" (partial credit {result.score:.0%})" if 0 < result.score < 1 else ""
            parts.append(f"<b>✘ Not yet{credit}.</b>")
        if result.feedback:
            parts.append(inline_html(result.feedback))
        left = q.tries - self.tries
        if not result.correct and left > 0:
            parts.append(f"<i>{left} {'try' if left == 1 else 'tries'} left before the answer is shown.</i>")
        if not result.correct and left <= 0:
            self.revealed = True
            parts.append(f"<br><b>The answer:</b> {inline_html(q.answer_text())}")
        if result.correct or self.revealed:
            parts.append(f"<br>{inline_html(q.explanation)}")
            parts.append(f"<br><small>Source: {escape(', '.join(q.sources))}</small>")
        self.feedback.value = _status_html(" ".join(parts), "right" if result.correct else "wrong")


class Quiz(w.VBox):
    """A lesson's quiz (or part of it). Shows a text version where widgets cannot render."""

    def __init__(self, bank, ids=None):
        self.bank = bank
        self.questions = bank.select(ids)
        shared = Shared()
        self.panels = [QuestionPanel(q, bank.lesson, n, on_scored=self._update_score, shared=shared)
                       for n, q in enumerate(self.questions, start=1)]
        self.score = shared.html()
        self._update_score()
        # h3: lessons put their quizzes under a level-2 section heading (axe-core's heading-order
        # rule flagged the h4 this used to be, which skipped a level).
        title = shared.html(f"{STYLE}<h3 style='font-size:1.15em;margin:0.4em 0'>Quiz: {escape(bank.title)}</h3>")
        super().__init__([title, *self.panels, self.score], layout=shared.layout())
        self.add_class("course-quiz")

    def _update_score(self) -> None:
        total = sum(p.best for p in self.panels)
        done = sum(p.tries > 0 for p in self.panels)
        self.score.value = _status_html(
            f"Score: {total:g} / {len(self.panels)} &nbsp; ({done} of {len(self.panels)} answered)", "info")

    def text(self) -> str:
        return text.as_text(self.bank.title, self.questions, self.bank.lesson)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.text()
        bundle["text/html"] = "<pre>" + escape(self.text()) + "</pre>"
        return bundle

    def __repr__(self) -> str:
        return self.text()
