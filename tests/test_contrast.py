"""The quiz feedback colours meet WCAG AA (4.5:1) on JupyterLab's light and dark themes.

The colours are read from the widget's own code (`course.quizzes.widget.FEEDBACK_COLOURS`, and
the CSS and HTML it produces from them), the backgrounds from the theme files of the installed
JupyterLab (`--jp-layout-color0`, the notebook's background, and `--jp-layout-color1`, the
panels'), so neither side is a copy that could drift.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from course.lessons import negotiation_widget
from course.quizzes import widget

AA = 4.5
THEMES = {  # theme extension -> the palette of colours the widget uses there
    "theme-light-extension": "light",
    "theme-dark-extension": "dark",
    "theme-dark-high-contrast-extension": "dark",
}


def luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.x) of '#rgb' or '#rrggbb'."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


NAMED = {"white": "#ffffff", "black": "#000000"}


def theme_css(name: str) -> str:
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("lab", "themes", "@jupyterlab", name):
        css = Path(folder) / "index.css"
        if css.is_file():
            return css.read_text(encoding="utf-8")
    pytest.skip(f"JupyterLab theme {name} not installed")


def background(css: str, variable: str) -> str:
    """The value of a theme variable, following var(--x, #fallback) and var(--y) references."""
    value = re.search(rf"{re.escape(variable)}:\s*([^;}}]+)", css).group(1).strip()
    for _ in range(5):
        value = NAMED.get(value, value)
        if value.startswith("#"):
            return value
        fallback = re.fullmatch(r"var\((--[\w-]+)(?:,\s*([^)]+))?\)", value)
        assert fallback, f"cannot read {variable} = {value!r}"
        inner = re.search(rf"{re.escape(fallback.group(1))}:\s*([^;}}]+)", css)
        value = (inner.group(1) if inner else fallback.group(2)).strip()
    raise AssertionError(f"{variable} does not resolve to a colour")


def backgrounds() -> list[tuple[str, str, str]]:
    """(theme, variable, hex) for the notebook's and the panels' background of every theme."""
    out = []
    for theme in THEMES:
        css = theme_css(theme)
        for variable in ("--jp-layout-color0", "--jp-layout-color1"):
            out.append((theme, variable, background(css, variable)))
    return out


CASES = [(theme, variable, colour, tone)
         for theme, variable, colour in backgrounds()
         for tone in widget.FEEDBACK_COLOURS]


@pytest.mark.parametrize(("theme", "variable", "bg", "tone"), CASES,
                         ids=[f"{t.split('-extension')[0]}-{v[-1]}-{tone}" for t, v, _, tone in CASES])
def test_feedback_colour_meets_aa(theme, variable, bg, tone):
    colour = widget.FEEDBACK_COLOURS[tone][THEMES[theme]]
    ratio = contrast(colour, bg)
    assert ratio >= AA, f"{tone} {colour} on {theme} {variable} {bg}: {ratio:.2f}:1 < {AA}:1"


def test_the_widget_uses_these_colours():
    """The feedback HTML takes its colour from the theme's CSS variable, which STYLE sets per theme."""
    for tone, colours in widget.FEEDBACK_COLOURS.items():
        html = widget._status_html("x", tone)
        assert f"var(--course-quiz-{tone}, {colours['light']})" in html
        assert f"--course-quiz-{tone}:{colours['light']}" in widget.STYLE
        assert f"--course-quiz-{tone}:{colours['dark']}" in widget.STYLE
    assert 'body[data-jp-theme-light="false"] .course-quiz{' in widget.STYLE


def test_a_real_panel_shows_feedback_in_these_colours(tmp_path):
    from course.quizzes import load_file

    fixtures = Path(__file__).resolve().parent / "fixtures"
    quiz = widget.Quiz(load_file(fixtures / "sample_bank.yaml"), ids=["chain-start"])
    panel = quiz.panels[0]
    panel.input.value = next(o.id for o in panel.question.options if o.correct)
    panel.check()
    assert "var(--course-quiz-right" in panel.feedback.value and "✔" in panel.feedback.value
    assert widget.STYLE in quiz.children[0].value


def test_contrast_formula():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


def test_negotiation_verdict_uses_the_checked_theme_colours():
    """The negotiation panel colours its verdict with the quiz's feedback colours (checked above
    against both themes), switched by the same theme rule, never with a fixed colour."""
    import re

    panel = negotiation_widget.NegotiationPanel()
    header = panel.children[0].value
    for tone, colours in widget.FEEDBACK_COLOURS.items():
        assert f"--course-neg-{tone}:{colours['light']}" in header
        assert f"--course-neg-{tone}:{colours['dark']}" in header
    assert 'data-jp-theme-light="false"' in header
    for sentence in ("Both sides could accept this package.", "Not both sides could accept it."):
        marked = negotiation_widget._tone(sentence)
        assert "var(--course-neg-" in marked and ("✔" in marked or "✘" in marked)
    assert "var(--course-neg-info" in panel.verdict.value
    assert not re.search(r"color:\s*#", panel.verdict.value), "a fixed colour ignores the theme"
