"""Every lesson in a real JupyterLab, driven in Debian's Chromium the way a student uses it.

For each notebooks/*.ipynb present at collection time (and a small sample notebook built on
the engine's fixtures, so the path is tested even before lessons exist): open it, run all
cells, wait until no cell is busy, check that no cell shows an error and every code cell ran,
that every `quiz(...)` call rendered its questions as widgets, answer one question wrongly
and then correctly by clicking and read both feedbacks, then do one exercise: the untouched
placeholder says "Not attempted", a known mistake typed into the answer cell gives its
message, the reference solution gives "Correct". A screenshot of the quiz and of the
exercise is saved per lesson. One more test answers a quiz with the keyboard only.

Right and wrong answers come from the course's own banks and tasks files, matched on the
prompt text the browser shows, so a new or changed lesson needs no change here.
"""
from __future__ import annotations

import json
import warnings

import pytest
from labdriver import (
    FIXTURES,
    LONG_OPTION,
    OVERFLOWING_OPTIONS,
    SAMPLE_PATH,
    NotebookPage,
    error_outputs,
    exercises_of,
    expected_questions,
    find_exercise,
    lesson_notebooks,
    plain_text,
    read_cells,
    squash,
    unexecuted,
    why_no_browser,
    write_layout_notebook,
    write_sample_notebook,
)

from course.quizzes import model
from course.quizzes.render import plain

NO_BROWSER = why_no_browser()
if NO_BROWSER:  # no Chromium or no Playwright: say why, and let the rest of the suite run
    pytest.skip(NO_BROWSER, allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.browser

SAMPLE_QUESTIONS = ["chain-start", "deadlocks"]  # what the sample notebook's Quiz(...) shows
LESSONS = lesson_notebooks()
NOTEBOOK_PARAMS = [pytest.param(SAMPLE_PATH, id="sample")] + (
    [pytest.param(f"notebooks/{nb.name}", id=nb.stem) for nb in LESSONS]
    or [pytest.param(None, id="lessons", marks=pytest.mark.skip(reason="no lessons in notebooks/ yet"))])


def lesson_plan(path: str, cells: list[dict]):
    """(lesson, question) pairs the notebook shows, and its Exercises object."""
    if path == SAMPLE_PATH:
        from course.checks import load_tasks_file
        from course.quizzes import load_file

        bank = load_file(FIXTURES / "sample_bank.yaml")
        return ([(bank.lesson, q) for q in bank.select(SAMPLE_QUESTIONS)],
                load_tasks_file(FIXTURES / "sample_tasks.yaml"))
    return expected_questions(cells), exercises_of(cells)


def progress(lab) -> dict:
    return json.loads(lab.progress_file.read_text(encoding="utf-8")) if lab.progress_file.exists() else {}


def quiz_tries(lab, lesson: str, qid: str) -> dict:
    return progress(lab).get("quizzes", {}).get(lesson, {}).get(qid, {"tries": 0})


def choice(nb: NotebookPage, panel, question, option):
    """The clickable label of an option: a radio button (single) or a checkbox (multiple)."""
    if isinstance(question, model.MultipleChoice):
        return nb.checkbox_label(panel, option.text)
    return nb.radio_label(panel, option.text)


def answer_wrong_then_right(nb: NotebookPage, question, screenshot=None) -> tuple[str, str]:
    """Click a wrong answer and Check, then the right answer and Check; return both feedbacks.
    `screenshot`, if given, is where to save the page while it shows the wrong answer's feedback."""
    panel = nb.panel_for(question)
    panel.scroll_into_view_if_needed()
    feedback = nb.feedback(panel)
    wrong = next(o for o in question.options if not o.correct)
    right = [o for o in question.options if o.correct]
    if isinstance(question, model.MultipleChoice):  # all right ones plus one wrong: still wrong
        for option in right:
            choice(nb, panel, question, option).click()
    choice(nb, panel, question, wrong).click()
    nb.check_button(panel).click()
    expect(feedback).to_contain_text("Not yet")
    first = squash(feedback.text_content())
    if screenshot:
        nb.page.screenshot(path=str(screenshot))
    if isinstance(question, model.MultipleChoice):
        choice(nb, panel, question, wrong).click()  # untick the wrong one
    else:
        choice(nb, panel, question, right[0]).click()
    nb.check_button(panel).click()
    expect(feedback).to_contain_text("✔ Correct.")
    return first, squash(feedback.text_content())


@pytest.mark.parametrize("path", NOTEBOOK_PARAMS)
def test_lesson_runs_and_its_quiz_and_exercise_work(page, lab, artifacts, path):
    cells = read_cells(lab.root / path)
    shown, exercises = lesson_plan(path, cells)
    name = path.rsplit("/", 1)[-1].removesuffix(".ipynb")
    nb = NotebookPage(page, lab, path)
    try:
        nb.open_and_run_all()
        saved = nb.save()
        assert not error_outputs(saved), f"{path}: cells show errors: {error_outputs(saved)}"
        assert not unexecuted(saved), f"{path}: Run All stopped early; cells never ran: {unexecuted(saved)}"

        # Every quiz(...) call shows its questions as widgets, in order.
        assert shown, f"{path}: no quiz(...) call found"
        expect(nb.quiz_panels()).to_have_count(len(shown), timeout=30_000)
        assert nb.panel_prompts() == [plain_text(q.prompt) for _, q in shown]
        spilling = page.evaluate(OVERFLOWING_OPTIONS)
        if spilling:  # see test_long_options_stay_readable
            warnings.warn(f"{path}: quiz options spill over the next one: {spilling}", stacklevel=1)

        # One question, wrongly then rightly, by clicking.
        singles = [(lesson, q) for lesson, q in shown if type(q) is model.SingleChoice]
        multiples = [(lesson, q) for lesson, q in shown if isinstance(q, model.MultipleChoice)]
        assert singles or multiples, f"{path}: no single- or multiple-choice question to click"
        lesson, question = (singles or multiples)[0]
        tries_before = quiz_tries(lab, lesson, question.id)["tries"]
        first, second = answer_wrong_then_right(nb, question, artifacts / f"{name}-quiz-wrong.png")
        wrong = next(o for o in question.options if not o.correct)
        assert plain_text(wrong.feedback, inline=True) in first, "the wrong option's teaching feedback is missing"
        assert plain_text(question.explanation, inline=True) in second, "the explanation is missing"
        record = quiz_tries(lab, lesson, question.id)
        assert record["tries"] == tries_before + 2 and record["correct"] is True, record
        page.screenshot(path=str(artifacts / f"{name}-quiz.png"))

        # One exercise: untouched, a known mistake, the solution.
        assert exercises is not None, f"{path}: no `ex = exercises(...)` in the notebook"
        plan = find_exercise(cells, exercises)
        assert plan is not None, f"{path}: no answer cell followed by an `ex.qN.check()` cell"
        output = nb.cell(plan.check_cell).locator(".jp-OutputArea")
        expect(output).to_contain_text(f"{plan.key}: Not attempted")
        nb.replace_cell_source(plan.answer_cell, plan.wrong_code)
        nb.run_cell(plan.answer_cell)
        nb.run_cell(plan.check_cell)
        expect(output).to_contain_text(f"{plan.key}: Incorrect")
        assert squash(plan.wrong_message) in nb.output_text(plan.check_cell)
        nb.replace_cell_source(plan.answer_cell, plan.right_code)
        nb.run_cell(plan.answer_cell)
        nb.run_cell(plan.check_cell)
        expect(output).to_contain_text(f"{plan.key}: Correct")
        nb.wait_until_idle(60)
        assert not nb.page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type="
                                   "'application/vnd.jupyter.stderr']").filter(has_text="Traceback").count()
        nb.cell(plan.check_cell).scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"{name}-exercise.png"))
    finally:
        nb.shut_down()


def tab_until(nb: NotebookPage, wanted, key: str = "Tab", limit: int = 40) -> dict:
    """Press `key` until the focused element satisfies `wanted`; fail after `limit` presses."""
    for _ in range(limit):
        nb.page.keyboard.press(key)
        focus = nb.focus_description()
        if wanted(focus):
            return focus
    raise AssertionError(f"{key} x{limit} never reached the wanted element; focus is on {focus}")


def test_quiz_answered_with_the_keyboard_only(page, lab, artifacts):
    """Run All from the command palette, reach the quiz with arrows and Tab, answer with Space/Enter."""
    from course.quizzes import load_file

    question = load_file(FIXTURES / "sample_bank.yaml")[SAMPLE_QUESTIONS[0]]
    wrong = next(o for o in question.options if not o.correct)
    right = next(o for o in question.options if o.correct)
    path = write_sample_notebook(lab.root / "keyboard").relative_to(lab.root).as_posix()  # its own copy
    nb = NotebookPage(page, lab, path)
    try:
        nb.open()
        nb.wait_for_kernel()
        nb.wait_until_idle()
        expect(page.locator(".jp-Notebook .jp-Cell.jp-mod-active")).to_be_focused()
        palette = page.locator(".lm-CommandPalette-input")
        for _ in range(4):  # the palette can lose the focus while the kernel connects: close, retry
            page.keyboard.press("Control+Shift+c")
            try:
                expect(palette).to_be_focused(timeout=3_000)
                break
            except AssertionError:
                page.keyboard.press("Escape")
        expect(palette).to_be_focused()
        page.keyboard.type("Run All Cells")
        expect(page.locator(".lm-CommandPalette-item.lm-mod-active")).to_contain_text("Run All Cells")
        page.keyboard.press("Enter")
        nb.wait_until_idle()
        expect(nb.quiz_panels()).to_have_count(len(SAMPLE_QUESTIONS), timeout=30_000)

        page.keyboard.press("Escape")  # command mode: arrows move between cells
        for _ in range(20):
            if page.locator(".jp-Notebook .jp-Cell.jp-mod-active .course-quiz").count():
                break
            page.keyboard.press("ArrowUp")
        else:
            raise AssertionError("the arrow keys never reached the quiz cell")

        is_option = lambda text: lambda f: f["inPanel"] and f["type"] == "radio" and f["text"] == plain(text)  # noqa: E731
        is_check = lambda f: f["inPanel"] and f["tag"] == "button" and f["text"] == "Check"  # noqa: E731
        panel = nb.panel_for(question)
        feedback = nb.feedback(panel)

        tab_until(nb, is_option(wrong.text))
        page.keyboard.press("Space")
        assert nb.focus_description()["checked"], "Space did not select the focused option"
        tab_until(nb, is_check)
        page.keyboard.press("Enter")
        expect(feedback).to_contain_text("Not yet")
        assert plain_text(wrong.feedback, inline=True) in squash(feedback.text_content())

        tab_until(nb, is_option(right.text), key="Shift+Tab")
        page.keyboard.press("Space")
        assert nb.focus_description()["checked"], "Space did not select the focused option"
        tab_until(nb, is_check)
        page.keyboard.press("Enter")
        try:
            expect(feedback).to_contain_text("✔ Correct.")
        except AssertionError as err:
            raise AssertionError("the right option is selected on screen, but the kernel graded another "
                                 f"selection (feedback: {squash(feedback.text_content())!r})") from err
        # Screen readers announce the feedback: it is a polite live region.
        expect(feedback).to_have_attribute("aria-live", "polite")
        page.screenshot(path=str(artifacts / "keyboard-quiz.png"))
    finally:
        nb.shut_down()


def test_long_options_stay_readable(page, lab, artifacts):
    """A single-choice option longer than a line grows its row instead of covering the next option."""
    path = write_layout_notebook(lab.root / "layout").relative_to(lab.root).as_posix()
    nb = NotebookPage(page, lab, path)
    try:
        nb.open_and_run_all()
        expect(nb.quiz_panels()).to_have_count(1, timeout=30_000)
        nb.quiz_panels().first.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "layout-long-option.png"))
        assert page.evaluate(OVERFLOWING_OPTIONS) == []
        assert LONG_OPTION in squash(nb.quiz_panels().first.text_content())
    finally:
        nb.shut_down()
