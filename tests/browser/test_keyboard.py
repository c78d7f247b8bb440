"""Every quiz kind and the negotiation panel's sliders, answered with the keyboard alone.

One small notebook (written into the server's temporary root, not a lesson) shows the engine's
fixture bank, tests/fixtures/sample_bank.yaml, which has one question of every kind, and the
negotiation panel. It runs once for the module; each test then works on its own panel.

Each test starts with the focus on its question's prompt (reaching the quiz from the notebook
by keyboard is the job of test_lessons_in_browser.py::test_quiz_answered_with_the_keyboard_only),
moves with Tab / Shift+Tab only, chooses with Space (radio buttons, checkboxes), types (numbers),
opens a dropdown with Space and picks with Home / ArrowDown / Enter, moves a slider with the
arrow keys, presses Enter on "Check", and reads "✔ Correct." in the feedback. At every stop the
focused element must show a visible focus indicator.

What JupyterLab does with keys (found while writing these tests): in a notebook, ArrowUp and
ArrowDown on any focused element that is not a text field move to the previous/next CELL
(command mode, selector `.jp-Notebook.jp-mod-commandMode:not(.jp-mod-readWrite) :focus`). So
arrow keys do not move between radio buttons, nor change a closed dropdown; Tab / Shift+Tab
and Space do, and an open dropdown takes its arrows. ArrowLeft/ArrowRight are not bound, so the
sliders move with them. `test_arrow_down_on_a_radio_button_moves_to_the_next_cell` records this.
"""
from __future__ import annotations

import re
import shutil
import time

import pytest
from labdriver import FIXTURES, NotebookPage, why_no_browser

NO_BROWSER = why_no_browser()
if NO_BROWSER:
    pytest.skip(NO_BROWSER, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

from course.quizzes import load_file, model  # noqa: E402
from course.quizzes.render import plain  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.a11y]

BANK = load_file(FIXTURES / "sample_bank.yaml")
KINDS = {"single": "chain-start", "multiple": "deadlocks", "numeric": "milex-ratio",
         "ordering": "order-events", "matching": "who-holds-what"}

# What has the focus, and whether it shows a focus indicator: an outline of 2 px or more, or a
# background / border / shadow that differs from the same element unfocused (`unfocused`).
FOCUS = """() => {
    const e = document.activeElement;
    const cs = getComputedStyle(e);
    const label = e.closest('label');
    return {tag: e.tagName.toLowerCase(), type: e.type || '', checked: !!e.checked,
            role: e.getAttribute('role') || '', valuenow: e.getAttribute('aria-valuenow'),
            text: ((label ? label.textContent : e.textContent) || '').replace(/\\s+/g, ' ').trim(),
            selected: e.tagName === 'SELECT' && e.selectedOptions[0]
                ? e.selectedOptions[0].textContent.replace(/\\s+/g, ' ').trim() : null,
            inPanel: !!e.closest('.course-quiz-question, .course-negotiation'),
            ring: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
            look: [cs.backgroundColor, cs.borderTopColor, cs.boxShadow, cs.outlineStyle].join('|')};
}"""


def notebook_source() -> list:
    import nbformat

    v4 = nbformat.v4
    return [v4.new_markdown_cell("# Keyboard check\n\nEvery kind of question, and the negotiation panel."),
            v4.new_code_cell("from course.quizzes import load_file\nfrom course.quizzes.widget import Quiz\n"
                             "Quiz(load_file('sample_bank.yaml'))"),
            v4.new_code_cell("from course.lessons.negotiation_widget import NegotiationPanel\nNegotiationPanel()")]


@pytest.fixture(scope="module")
def kb(browser_context, lab):
    """The keyboard notebook, open and run once for the module."""
    import nbformat

    folder = lab.root / "a11y-keyboard"
    folder.mkdir(exist_ok=True)
    shutil.copy2(FIXTURES / "sample_bank.yaml", folder / "sample_bank.yaml")
    nb = nbformat.v4.new_notebook(cells=notebook_source(), metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.validate(nb)
    nbformat.write(nb, folder / "keyboard.ipynb")
    page = browser_context.new_page()
    driver = NotebookPage(page, lab, "a11y-keyboard/keyboard.ipynb")
    try:
        driver.open_and_run_all()
        expect(driver.quiz_panels()).to_have_count(len(BANK.questions), timeout=30_000)
        page.locator(".course-negotiation").wait_for()
        yield driver
    finally:
        driver.shut_down()
        page.close()


def focus(nb: NotebookPage) -> dict:
    return nb.page.evaluate(FOCUS)


def press(nb: NotebookPage, key: str, times: int = 1) -> dict:
    for _ in range(times):
        nb.page.keyboard.press(key)
    now = focus(nb)
    assert now["inPanel"], f"after {key} the focus left the panel: {now}"
    return now


def shows_focus(nb: NotebookPage, now: dict) -> bool:
    """A 2 px outline, or a look that changes when the element loses the focus."""
    if now["ring"]:
        return True
    handle = nb.page.evaluate_handle("() => document.activeElement")
    unfocused = nb.page.evaluate("""e => { e.blur(); const cs = getComputedStyle(e);
        const look = [cs.backgroundColor, cs.borderTopColor, cs.boxShadow, cs.outlineStyle].join('|');
        e.focus(); return look; }""", handle)
    return unfocused != now["look"]


def start(nb: NotebookPage, kind: str):
    """Put the focus on the prompt of the question of `kind`; return its panel."""
    panel = nb.panel_for(BANK[KINDS[kind]])
    panel.scroll_into_view_if_needed()
    panel.locator(".widget-html").first.evaluate("e => { e.tabIndex = -1; e.focus(); }")
    return panel


def tab_to(nb: NotebookPage, wanted, key: str = "Tab", limit: int = 12) -> dict:
    """Tab (or Shift+Tab) until `wanted(focus)`; every stop on the way shows its focus."""
    for _ in range(limit):
        now = press(nb, key)
        assert shows_focus(nb, now), f"no visible focus on {now}"
        if wanted(now):
            return now
    raise AssertionError(f"{key} x{limit} never reached the wanted element; focus is on {now}")


def check_by_keyboard(nb: NotebookPage, panel) -> str:
    tab_to(nb, lambda f: f["tag"] == "button" and f["text"] == "Check")
    # At a human pace, not a machine's: ipywidgets holds back a changed value while an earlier
    # message to the kernel is unanswered, but sends a click at once, so a click made within
    # milliseconds of typing can reach the kernel first and be graded on the old value.
    nb.page.wait_for_timeout(300)
    nb.wait_until_idle(30)
    nb.page.keyboard.press("Enter")
    feedback = nb.feedback(panel)
    expect(feedback).to_contain_text("✔ Correct.")
    return feedback.text_content()


def unchosen_dropdown(now: dict) -> bool:
    """A dropdown still on "— choose —" (or on nothing: ipywidgets' value None)."""
    return now["tag"] == "select" and (now["selected"] is None or "choose" in now["selected"])


def pick(nb: NotebookPage, text: str) -> dict:
    """Choose option `text` in the focused dropdown: Space opens it, Home, ArrowDown…, Enter."""
    options = nb.page.evaluate("() => [...document.activeElement.options].map(o => o.textContent)")
    clean = [re.sub(r"\s+", " ", o).strip() for o in options]
    index = clean.index(plain(text).strip())
    nb.page.keyboard.press("Space")
    nb.page.wait_for_timeout(200)  # the list opens
    nb.page.keyboard.press("Home")
    for _ in range(index):
        nb.page.keyboard.press("ArrowDown")
    nb.page.keyboard.press("Enter")
    now = focus(nb)
    assert now["selected"] == clean[index], f"wanted {clean[index]!r}, the dropdown shows {now['selected']!r}"
    return now


def test_single_choice_by_keyboard(kb):
    question = BANK[KINDS["single"]]
    right = next(o for o in question.options if o.correct)
    panel = start(kb, "single")
    now = tab_to(kb, lambda f: f["type"] == "radio" and f["text"] == plain(right.text))
    now = press(kb, "Space")
    assert now["checked"], "Space did not select the focused radio button"
    # Shift+Tab goes back through the options too, and a second Space changes the choice.
    wrong = tab_to(kb, lambda f: f["type"] == "radio" and f["text"] != plain(right.text), key="Shift+Tab")
    assert not wrong["checked"]
    tab_to(kb, lambda f: f["type"] == "radio" and f["text"] == plain(right.text))
    assert focus(kb)["checked"]
    check_by_keyboard(kb, panel)


def test_multiple_choice_by_keyboard(kb):
    question = BANK[KINDS["multiple"]]
    right = {plain(o.text) for o in question.options if o.correct}
    panel = start(kb, "multiple")
    seen = set()
    for _ in range(len(question.options)):
        now = tab_to(kb, lambda f: f["type"] == "checkbox" and f["text"] not in seen)
        seen.add(now["text"])
        if now["text"] in right:
            assert press(kb, "Space")["checked"], "Space did not tick the focused checkbox"
    assert seen == {plain(o.text) for o in question.options}
    check_by_keyboard(kb, panel)


def test_numeric_by_keyboard(kb):
    question = BANK[KINDS["numeric"]]
    panel = start(kb, "numeric")
    tab_to(kb, lambda f: f["tag"] == "input" and f["type"] == "text")
    kb.page.keyboard.type(f"{question.answer:g}")
    typed = kb.page.evaluate("() => document.activeElement.value")
    assert typed == f"{question.answer:g}", f"the field shows {typed!r}"
    check_by_keyboard(kb, panel)


def test_ordering_by_keyboard(kb):
    question = BANK[KINDS["ordering"]]
    panel = start(kb, "ordering")
    for item in question.items:  # the slots, top to bottom, get the items in their right order
        tab_to(kb, unchosen_dropdown)
        pick(kb, item.text)
    check_by_keyboard(kb, panel)


def test_matching_by_keyboard(kb):
    question = BANK[KINDS["matching"]]
    right = {plain(p.left): p.right for p in question.pairs}
    panel = start(kb, "matching")
    for _ in question.pairs:
        tab_to(kb, unchosen_dropdown)
        # The dropdown is named after its item (a visually hidden <label>): read it as a screen reader would.
        name = kb.page.evaluate("() => [...document.activeElement.labels].map(l => l.textContent.trim()).join(' ')")
        assert name in right, f"the dropdown's accessible name {name!r} is not one of the items {sorted(right)}"
        shown = kb.page.evaluate("() => document.activeElement.labels[0].getBoundingClientRect().width")
        assert shown <= 1, "the label should be visually hidden (the bold item beside it shows it)"
        pick(kb, right[name])
    check_by_keyboard(kb, panel)


def test_negotiation_sliders_by_keyboard(kb):
    """Tab reaches every slider of the panel; ArrowRight/ArrowLeft move it, and the verdict follows."""
    panel = kb.page.locator(".course-negotiation")
    panel.scroll_into_view_if_needed()
    handles = panel.locator(".noUi-handle")
    count = handles.count()
    assert count >= 2, "the panel shows no sliders"
    panel.locator(".widget-html").first.evaluate("e => { e.tabIndex = -1; e.focus(); }")
    reached = 0
    verdict = panel.locator("[role=status]")
    for _ in range(count):
        now = tab_to(kb, lambda f: f["role"] == "slider", limit=8)
        reached += 1
        before = float(now["valuenow"])
        key = "ArrowLeft" if before > 0 else "ArrowRight"
        text_before = verdict.text_content()
        moved = press(kb, key)
        assert float(moved["valuenow"]) != before, f"{key} did not move the slider ({before})"
        back = press(kb, "ArrowRight" if key == "ArrowLeft" else "ArrowLeft")
        assert float(back["valuenow"]) == before, "the opposite arrow did not move the slider back"
        if reached == 1:  # the kernel redraws the verdict after a change (continuous_update=False)
            deadline = time.monotonic() + 10
            while verdict.text_content() == text_before and time.monotonic() < deadline:
                kb.page.wait_for_timeout(100)
    assert reached == count


def test_arrow_down_on_a_radio_button_moves_to_the_next_cell(kb):
    """Records JupyterLab's command-mode binding: ArrowDown on a radio button leaves the quiz.
    If this starts failing, JupyterLab stopped taking the arrows: test the arrows in the quiz."""
    start(kb, "single")
    tab_to(kb, lambda f: f["type"] == "radio")
    kb.page.keyboard.press("ArrowDown")
    assert not focus(kb)["inPanel"], "ArrowDown stayed in the quiz: arrows now work, use them in the tests"
    assert isinstance(BANK[KINDS["single"]], model.SingleChoice)
