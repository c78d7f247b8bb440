"""Accessibility in the real browser: axe-core on every lesson, and every figure's alt text in the DOM.

    pytest -m a11y        # this file and test_keyboard.py

- `test_lesson_passes_the_audit`: for each lesson notebook (notebooks/NN*_*.ipynb, so a new lesson
  is picked up without a change here), open it in JupyterLab, run all cells, then run axe-core
  (bundled by the `axe-playwright-python` package; it runs offline) on the page. The test fails on
  any serious or critical violation INSIDE what the course renders: outputs (quiz panels, the
  negotiation panel, tables, figures, text versions) and rendered Markdown. JupyterLab's own
  violations (toolbars, editors, the notebook container) and the few inside course output that a
  library causes (`labdriver.UPSTREAM`, with the reason) are written to
  `$COURSE_ARTIFACTS/browser/a11y-<lesson>.json` and printed, never failed on. Every image in the
  lesson's outputs must have a non-empty `alt`.
- `test_every_helper_figure_reaches_the_page_with_its_alt`: one notebook calls every figure helper
  the way lessons do (`fig = helper(...)`, `plt.show()`, a bare last expression); each image in the
  page must carry, as its `alt` attribute, the text the helper computed (trusted output).
- `test_alt_survives_an_untrusted_notebook`: the same outputs saved in a notebook that was never
  run here (so JupyterLab does not trust it and sanitizes its HTML) still show the `alt`.
- `test_quiz_feedback_is_readable_in_the_dark_theme`: in JupyterLab Dark the quiz feedback takes
  its dark colour (widget.FEEDBACK_COLOURS) and axe-core's color-contrast rule passes on the quiz.

The module runs its own JupyterLab with windowing off (labdriver.AUDIT_SETTINGS), so that every
cell is rendered and axe sees the whole notebook.
"""
from __future__ import annotations

import json
import re

import pytest
from labdriver import (
    AUDIT_SETTINGS,
    NOTEBOOKS,
    LabServer,
    NotebookPage,
    axe_audit,
    axe_summary,
    open_page,
    why_no_browser,
)

NO_BROWSER = why_no_browser()
if NO_BROWSER:
    pytest.skip(NO_BROWSER, allow_module_level=True)
pytest.importorskip("axe_playwright_python", reason="pip install -e '.[test]' (axe-playwright-python) for the audit")

pytestmark = [pytest.mark.browser, pytest.mark.a11y]

FAIL_ON = {"serious", "critical"}
LESSON_NAME = re.compile(r"^\d\d[a-z]?_\w+\.ipynb$")  # 00_start_here.ipynb, 06a_framework.ipynb
LESSONS = sorted(nb for nb in NOTEBOOKS.glob("*.ipynb") if LESSON_NAME.match(nb.name))
KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}

# (code a lesson would write, the same figure drawn here to compare its alt text with)
FIGURE_CELLS = [
    ("from course import load\nfrom course.lessons.timelines import timeline_chart\n"
     "fig = timeline_chart(load('timeline'), start='2020-01-01', end='2024-12-31', "
     "labels={'2020-11-10': 'Trilateral statement'})",
     "timelines.timeline_chart"),
    ("from course.lessons.documents import chain_figure\nfig = chain_figure()", "documents.chain_figure"),
    ("from course.lessons.borders import totals_chart\ntotals_chart()", "borders.totals_chart"),  # bare expression
    ("from course.lessons.borders import village_map\nfig = village_map()", "borders.village_map"),
    ("from course.lessons.maps import region_map\n"
     "fig = region_map(['yerevan', 'baku', 'tbilisi', 'nakhchivan', 'kars'], title='The South Caucasus')",
     "maps.region_map"),
    ("import matplotlib.pyplot as plt\nfrom course.lessons.geo import meghri_map\nfig = meghri_map()\nplt.show()",
     "geo.meghri_map"),
    ("from course.lessons.indicators import panel, ratio_chart, ratios\nfig = ratio_chart(ratios(panel()))",
     "indicators.ratio_chart"),
    ("from course.lessons.indicators import panel, spending_chart\nfig = spending_chart(panel())",
     "indicators.spending_chart"),
]


def expected_alt(code: str) -> str:
    """Draw the cell's figure here (Agg) and return its text alternative."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace: dict = {}
    lines = code.splitlines()
    body = "\n".join(line for line in lines if line.strip() != "plt.show()")
    last = body.splitlines()[-1]
    if "=" not in last.split("(")[0]:
        body = body.replace(last, f"fig = {last}")
    exec(compile(body, "<figure cell>", "exec"), namespace)  # noqa: S102 - the test's own code
    fig = namespace["fig"]
    plt.close(fig)
    return fig.alt_text


@pytest.fixture(scope="module")
def audit_lab(tmp_path_factory):
    """A JupyterLab that renders every cell, serving a copy of the lessons."""
    import shutil

    root = tmp_path_factory.mktemp("a11y-root")
    (root / "notebooks").mkdir()
    for nb in LESSONS:
        shutil.copy2(nb, root / "notebooks" / nb.name)
    server = LabServer(root, tmp_path_factory.mktemp("a11y-state"), settings=AUDIT_SETTINGS).start()
    yield server
    server.stop()


@pytest.fixture
def audit_page(browser_context, audit_lab, request, artifacts):
    yield from open_page(browser_context, audit_lab, request, artifacts, full_page=True)


def output_images(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output img')].map(img => ({
        alt: img.getAttribute('alt'), figure: !!img.closest('figure.course-figure'),
        trusted: !!img.closest('.jp-mod-trusted')}))""")


def describe(violations: list[dict]) -> str:
    return "\n".join(f"  {v['id']} ({v['impact']}): {v['help']}\n    at {v['target']}\n    {v['html'][:200]}"
                     for v in violations)


@pytest.mark.parametrize("lesson", LESSONS or [pytest.param(None, marks=pytest.mark.skip(reason="no lessons"))],
                         ids=[nb.stem for nb in LESSONS] or ["none"])
def test_lesson_passes_the_audit(audit_page, audit_lab, artifacts, lesson):
    path = f"notebooks/{lesson.name}"
    nb = NotebookPage(audit_page, audit_lab, path)
    try:
        nb.open_and_run_all()
        audit_page.wait_for_timeout(1000)  # widgets finish rendering after the kernel goes idle
        report = axe_audit(audit_page)
        report["lesson"] = lesson.stem
        (artifacts / f"a11y-{lesson.stem}.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        print(f"\n{lesson.stem}: axe-core {report['version']}; course: {axe_summary(report['course'])}; "
              f"library (not failed): {axe_summary(report['upstream'])}; "
              f"JupyterLab's own (not failed): {axe_summary(report['lab'])}")
        failing = [v for v in report["course"] if v["impact"] in FAIL_ON]
        assert not failing, f"{lesson.stem}: serious or critical violations in course output:\n{describe(failing)}"
        images = output_images(audit_page)
        missing = [i for i, img in enumerate(images) if not (img["alt"] or "").strip()]
        assert not missing, f"{lesson.stem}: output images without alt text: {missing} of {len(images)}"
    finally:
        nb.shut_down()


def _figure_notebook(folder, cells, outputs=None):
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_code_cell(code) for code in cells], metadata=KERNELSPEC)
    if outputs:
        for cell, output in zip(nb.cells, outputs):
            cell.outputs = [output]
            cell.execution_count = 1
    nbformat.validate(nb)
    path = folder / "figures.ipynb"
    nbformat.write(nb, path)  # not signed: JupyterLab will not trust saved outputs
    return path


def test_every_helper_figure_reaches_the_page_with_its_alt(audit_page, audit_lab):
    codes = [code for code, _ in FIGURE_CELLS]
    path = _figure_notebook(audit_lab.root / "a11y-figures", codes).relative_to(audit_lab.root).as_posix()
    nb = NotebookPage(audit_page, audit_lab, path)
    try:
        nb.open_and_run_all()
        for index, (code, helper) in enumerate(FIGURE_CELLS):
            want = expected_alt(code)
            imgs = nb.cell(index).locator(".jp-OutputArea-output img")
            imgs.first.wait_for(timeout=30_000)
            alts = [imgs.nth(i).get_attribute("alt") for i in range(imgs.count())]
            assert want in alts, f"{helper}: the page shows alt {alts!r}, not the helper's text {want!r}"
            assert nb.cell(index).locator("figure.course-figure img").count() >= 1
        report = axe_audit(audit_page)
        assert not [v for v in report["course"] if v["id"] == "image-alt"]
    finally:
        nb.shut_down()


def test_alt_survives_an_untrusted_notebook(audit_page, audit_lab):
    """Saved outputs of a notebook never run here are untrusted: JupyterLab sanitizes their HTML."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    from course.lessons.borders import totals_chart
    from course.lessons.documents import chain_figure

    outputs, alts = [], []
    for draw in (totals_chart, chain_figure):
        fig = draw()
        data, metadata = fig._repr_mimebundle_()
        outputs.append(nbformat.v4.new_output("display_data", data=data, metadata=metadata))
        alts.append(fig.alt_text)
        plt.close(fig)
    path = _figure_notebook(audit_lab.root / "a11y-untrusted", ["# shown, not run", "# shown, not run"],
                            outputs).relative_to(audit_lab.root).as_posix()
    nb = NotebookPage(audit_page, audit_lab, path)
    try:
        nb.open()
        audit_page.locator(".jp-OutputArea-output img").nth(1).wait_for(timeout=30_000)
        images = output_images(audit_page)
        assert [img["alt"] for img in images] == alts
        assert not any(img["trusted"] for img in images), "the notebook was trusted; the test proves nothing"
        assert all(img["figure"] for img in images)
    finally:
        nb.shut_down()


def _set_theme(server: LabServer, theme: str) -> None:
    """Choose JupyterLab's theme through its settings API (as the Settings menu does)."""
    import urllib.request

    body = json.dumps({"raw": json.dumps({"theme": theme})}).encode()
    request = urllib.request.Request(server.base + "lab/api/settings/@jupyterlab/apputils-extension:themes",
                                     data=body, method="PUT",
                                     headers={"Authorization": f"token {server.token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_quiz_feedback_is_readable_in_the_dark_theme(audit_page, audit_lab):
    """In JupyterLab Dark the feedback takes the dark colours, and axe-core finds no contrast fault."""
    from labdriver import write_sample_notebook

    from course.quizzes.widget import FEEDBACK_COLOURS

    path = write_sample_notebook(audit_lab.root / "a11y-dark").relative_to(audit_lab.root).as_posix()
    nb = NotebookPage(audit_page, audit_lab, path)
    _set_theme(audit_lab, "JupyterLab Dark")
    try:
        nb.open_and_run_all()
        assert audit_page.evaluate("() => document.body.dataset.jpThemeLight") == "false"
        panel = nb.quiz_panels().first
        panel.locator(".widget-radio-box label").first.click()
        nb.check_button(panel).click()
        feedback = nb.feedback(panel)
        feedback.filter(has_text=re.compile(r"✘|✔")).wait_for()
        tone = "right" if "✔" in feedback.text_content() else "wrong"
        colour = feedback.evaluate("e => getComputedStyle(e).color")
        r, g, b = (int(FEEDBACK_COLOURS[tone]["dark"][i:i + 2], 16) for i in (1, 3, 5))
        assert colour == f"rgb({r}, {g}, {b})", f"{tone} feedback shows {colour} in the dark theme"
        from axe_playwright_python.base import AXE_SCRIPT

        audit_page.evaluate(AXE_SCRIPT)
        report = audit_page.evaluate("""async () => {
            const r = await axe.run('.course-quiz', {runOnly: ['color-contrast']});
            return r.violations.flatMap(v => v.nodes.map(n => n.html.slice(0, 120)));
        }""")
        assert report == [], f"low contrast in the quiz, dark theme: {report}"
    finally:
        nb.shut_down()
        _set_theme(audit_lab, "JupyterLab Light")
