"""The negotiation model of lesson 06 as ipywidgets: `NegotiationPanel()` in a notebook.

Three dropdowns choose the package (one treatment per deadlock); for each side and deadlock a
slider sets the weight (0-10) and another the red line (0-2). Every change redraws the verdict:
what each side makes of the chosen package and why, and the zone of possible agreement. The
verdict sits in an HTML widget marked `role="status"` so screen readers announce it.

All judging lives in `course/negotiation.py`; this module only wires controls to it and turns
its plain-text explanations into HTML (escaped, so nothing in the defaults file can inject markup).
Where widgets cannot render (GitHub, nbviewer, a terminal) the panel shows the same verdict as text.
"""
from __future__ import annotations

import html

import ipywidgets as w

from ..quizzes.widget import FEEDBACK_COLOURS
from . import negotiation as neg

RED_LINE_OPTIONS = [("none", 0), ("refuses worst", 1), ("best only", 2)]


def _colour(tone: str) -> str:
    """The quiz's feedback colour for `tone` on the current theme (light or dark: THEME_CSS)."""
    return f"var(--course-neg-{tone}, {FEEDBACK_COLOURS[tone]['light']})"


# The same checked colours as the quiz feedback (tests/test_contrast.py), switched with the theme.
THEME_CSS = "<style>{}{}</style>".format(
    ".course-negotiation{" + ";".join(f"--course-neg-{t}:{c['light']}" for t, c in FEEDBACK_COLOURS.items()) + "}",
    'body[data-jp-theme-light="false"] .course-negotiation{'
    + ";".join(f"--course-neg-{t}:{c['dark']}" for t, c in FEEDBACK_COLOURS.items()) + "}")
GREEN, RED, GREY = _colour("right"), _colour("wrong"), _colour("info")


def text_to_html(text: str) -> str:
    """Plain-text explanation -> HTML: lines '  - ...' become list items, the rest paragraphs."""
    out, in_list = [], False
    for line in text.splitlines():
        if line.startswith("  - "):
            if not in_list:
                out.append("<ul style='margin:2px 0 6px 0'>")
                in_list = True
            out.append(f"<li>{html.escape(line[4:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.strip():
            out.append(f"<div>{_tone(line)}</div>")
    if in_list:
        out.append("</ul>")
    return "".join(out)


def _tone(line: str) -> str:
    """Colour verdict sentences (with a mark, so colour is never the only signal)."""
    safe = html.escape(line)
    bad = ("could not accept this package" in line or line.startswith("Not both sides")
           or line.startswith("Zone of possible agreement: empty"))
    good = ("could accept this package" in line or line.startswith("Both sides could accept")
            or line.startswith("Zone of possible agreement:"))
    if bad:
        return f"<b style='color:{RED}'>✘ {safe}</b>"
    if good:
        return f"<b style='color:{GREEN}'>✔ {safe}</b>"
    return safe


class NegotiationPanel(w.VBox):
    """Package dropdowns, per-side sliders, a reset button and the verdict."""

    def __init__(self, model: neg.Model | None = None):
        self.base = model or neg.load_defaults()
        m = self.base
        self.treatments = {
            d: w.Dropdown(options=[(m.deadlocks[d].treatments[t].label, t) for t in neg.TREATMENTS],
                          value="defer", description=m.deadlocks[d].label,
                          style={"description_width": "12em"}, layout=w.Layout(width="36em"))
            for d in neg.DEADLOCKS}
        self.weights: dict[str, dict[str, w.IntSlider]] = {}
        self.red_lines: dict[str, dict[str, w.SelectionSlider]] = {}
        self.refuses: dict[str, dict[str, w.HTML]] = {}
        columns = [self._side_box(side) for side in m.sides]
        self.reset_button = w.Button(description="Reset to the defaults", tooltip="Back to the article-based defaults",
                                     layout=w.Layout(width="auto"))
        self.reset_button.on_click(lambda _b: self.reset())
        self.verdict = w.HTML()
        for control in self._controls():
            control.observe(self._changed, names="value")
        header = w.HTML(f"{THEME_CSS}<h3 style='font-size:1.15em;margin:0.4em 0'>{html.escape(m.title)}</h3>"
                        f"<p><i>{html.escape(m.note)}</i></p>")
        package_box = w.VBox([w.HTML("<b>Your package</b> (one treatment per deadlock):"),
                              *self.treatments.values()])
        super().__init__([header, package_box, w.HBox(columns), self.reset_button, self.verdict],
                         layout=w.Layout(border="1px solid #ccc", padding="6px"))
        self.add_class("course-negotiation")
        self.refresh()

    # -- building ---------------------------------------------------------------------------------
    def _side_box(self, side: neg.Side) -> w.VBox:
        self.weights[side.key], self.red_lines[side.key], self.refuses[side.key] = {}, {}, {}
        rows = [w.HTML(f"<h5 style='margin:4px 0'>{html.escape(side.label)}</h5>")]
        for d in neg.DEADLOCKS:
            stance = side.stances[d]
            label = self.base.deadlocks[d].label
            weight = w.IntSlider(value=stance.weight, min=neg.WEIGHT_MIN, max=neg.WEIGHT_MAX, step=1,
                                 description="weight", continuous_update=False,
                                 tooltip=f"{side.label}: how much it cares about {label}",
                                 style={"description_width": "5em"})
            red = w.SelectionSlider(options=RED_LINE_OPTIONS, value=stance.red_line, description="red line",
                                    continuous_update=False,
                                    tooltip=f"{side.label}: what it refuses on {label}",
                                    style={"description_width": "5em"})
            refuses = w.HTML()
            self.weights[side.key][d], self.red_lines[side.key][d], self.refuses[side.key][d] = weight, red, refuses
            prefers = " &gt; ".join(html.escape(self.base.deadlocks[d].treatments[t].label.lower())
                                    for t in stance.prefers)
            rows += [w.HTML(f"<b>{html.escape(label)}</b><br><small>prefers: {prefers}</small>"),
                     weight, red, refuses]
        return w.VBox(rows, layout=w.Layout(width="50%", padding="0 8px"))

    def _controls(self):
        yield from self.treatments.values()
        for side in self.base.sides:
            yield from self.weights[side.key].values()
            yield from self.red_lines[side.key].values()

    # -- state ------------------------------------------------------------------------------------
    @property
    def package(self) -> neg.Package:
        return neg.Package.of({d: dd.value for d, dd in self.treatments.items()})

    @property
    def model(self) -> neg.Model:
        """The base model with the sliders' current values."""
        m = self.base
        for side in self.base.sides:
            for d in neg.DEADLOCKS:
                m = m.adjust(side.key, d, weight=self.weights[side.key][d].value,
                             red_line=self.red_lines[side.key][d].value)
        return m

    def text(self) -> str:
        model = self.model
        return neg.explain(model, self.package) + "\n\n" + neg.explain_zone(model)

    def _changed(self, _change) -> None:
        self.refresh()

    def refresh(self) -> None:
        model = self.model
        for side in model.sides:
            for d in neg.DEADLOCKS:
                stance = side.stances[d]
                refused = [t for t in neg.TREATMENTS if stance.crosses(t)]
                words = ", ".join(model.deadlocks[d].treatments[t].label.lower() for t in refused)
                self.refuses[side.key][d].value = (f"<small>refuses: {html.escape(words)}</small>" if refused
                                                   else "<small>refuses: nothing</small>")
        body = (f"<h5 style='margin:6px 0'>Verdict on your package</h5>{text_to_html(neg.explain(model, self.package))}"
                f"<h5 style='margin:6px 0'>All 27 packages</h5>{text_to_html(neg.explain_zone(model))}")
        self.verdict.value = f'<div role="status" aria-live="polite" style="color:{GREY}">{body}</div>'

    def reset(self) -> None:
        """Back to the defaults: package defer/defer/defer and the defaults file's settings."""
        for dropdown in self.treatments.values():
            dropdown.value = "defer"
        for side in self.base.sides:
            for d in neg.DEADLOCKS:
                self.weights[side.key][d].value = side.stances[d].weight
                self.red_lines[side.key][d].value = side.stances[d].red_line
        self.refresh()

    # -- where widgets cannot render ---------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.text()
        bundle["text/html"] = "<pre>" + html.escape(self.text()) + "</pre>"
        return bundle

    def __repr__(self) -> str:
        return self.text()


def negotiation_panel(model: neg.Model | None = None) -> NegotiationPanel:
    """The panel with the default settings (or the model given)."""
    return NegotiationPanel(model)


__all__ = ["NegotiationPanel", "negotiation_panel", "text_to_html"]
