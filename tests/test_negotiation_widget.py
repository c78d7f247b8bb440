"""The lesson 06 negotiation panel, driven headlessly: set controls, read the verdict it shows."""
from __future__ import annotations

import copy

import yaml

from course.lessons import negotiation as neg
from course.lessons.negotiation_widget import NegotiationPanel, negotiation_panel, text_to_html


def shown(panel) -> str:
    return panel.verdict.value


def test_the_panel_starts_from_the_defaults_and_shows_a_status_region():
    panel = negotiation_panel()
    assert panel.package == neg.Package("defer", "defer", "defer")
    assert panel.model.settings() == neg.load_defaults().settings()
    assert 'role="status"' in shown(panel) and 'aria-live="polite"' in shown(panel)
    assert "Both sides could accept it" in shown(panel)
    assert "Zone of possible agreement: 1 package(s)." in shown(panel)
    assert "not a forecast" in shown(panel)
    assert panel.refuses["armenia"]["constitution"].value == "<small>refuses: settle now</small>"


def test_choosing_a_treatment_changes_the_verdict():
    panel = NegotiationPanel()
    before = shown(panel)
    panel.treatments["constitution"].value = "settle"
    assert shown(panel) != before
    assert "Armenia (Yerevan) could not accept this package: it crosses a red line" in shown(panel)
    assert "Red line crossed on Armenia&#x27;s constitution" in shown(panel)
    assert "Not both sides could accept it" in shown(panel)
    panel.treatments["constitution"].value = "defer"
    assert shown(panel) == before


def test_every_treatment_of_every_deadlock_can_be_chosen():
    panel = NegotiationPanel()
    for deadlock, dropdown in panel.treatments.items():
        for treatment in neg.TREATMENTS:
            dropdown.value = treatment
            assert panel.package._asdict()[deadlock] == treatment
            assert neg.explain(panel.model, panel.package).splitlines()[0].replace("'", "&#x27;") in shown(panel)
        dropdown.value = "defer"


def test_red_line_and_weight_sliders_change_the_verdict():
    panel = NegotiationPanel()
    panel.treatments["constitution"].value = "settle"
    panel.red_lines["armenia"]["constitution"].value = 0  # no red line: now the weight decides
    assert panel.refuses["armenia"]["constitution"].value == "<small>refuses: nothing</small>"
    assert "its score is not above zero" in shown(panel)  # -9 + 6 < 0
    panel.weights["armenia"]["constitution"].value = 5  # -5 + 6 > 0
    assert "Armenia (Yerevan) could accept this package." in shown(panel)
    assert "Both sides could accept it" in shown(panel)
    assert "Zone of possible agreement: 2 package(s)." in shown(panel)


def test_slider_extremes():
    panel = NegotiationPanel()
    for side in ("armenia", "azerbaijan"):
        for slider in panel.weights[side].values():
            slider.value = slider.min
    assert slider.min == 0
    assert "Zone of possible agreement: empty" in shown(panel)
    assert "The score is zero" in shown(panel)
    for side in ("armenia", "azerbaijan"):
        for slider in panel.weights[side].values():
            slider.value = slider.max
            assert slider.max == 10
        for red in panel.red_lines[side].values():
            red.value = 2
    assert "Zone of possible agreement: empty" in shown(panel)
    assert "The red lines leave no common treatment" in shown(panel)
    assert "Packages each side could accept (of 27): Armenia (Yerevan) 1; Azerbaijan (Baku) 1." in shown(panel)
    for side in ("armenia", "azerbaijan"):
        for red in panel.red_lines[side].values():
            red.value = 0
    # equal weights and no red lines: every trade-off leaves one side at zero, only defer x3 remains
    assert "Zone of possible agreement: 1 package(s)." in shown(panel)
    panel.reset()
    for side in ("armenia", "azerbaijan"):
        for red in panel.red_lines[side].values():
            red.value = 0
    assert "Zone of possible agreement: 4 package(s)." in shown(panel)  # default weights allow trade-offs


def test_reset_restores_the_defaults():
    panel = NegotiationPanel()
    start = shown(panel)
    panel.treatments["route"].value = "omit"
    panel.weights["azerbaijan"]["border"].value = 0
    panel.red_lines["armenia"]["border"].value = 2
    assert shown(panel) != start
    panel.reset_button.click()
    assert shown(panel) == start
    assert panel.model.settings() == neg.load_defaults().settings()


def test_text_version_for_places_without_widgets():
    panel = NegotiationPanel()
    panel.treatments["border"].value = "settle"
    bundle = panel._repr_mimebundle_()
    assert "Azerbaijan (Baku) could not accept this package" in bundle["text/plain"]
    assert bundle["text/html"].startswith("<pre>")
    assert repr(panel) == panel.text()


def test_text_from_the_defaults_file_is_escaped(tmp_path):
    document = yaml.safe_load(neg.DEFAULTS_FILE.read_text(encoding="utf-8"))
    hostile = copy.deepcopy(document)
    hostile["sides"][0]["label"] = "<script>alert(1)</script>"
    hostile["title"] = "<img src=x onerror=alert(1)>"
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(hostile), encoding="utf-8")
    panel = NegotiationPanel(neg.load_file(path))
    everything = shown(panel) + "".join(child.value for child in panel.children if hasattr(child, "value"))
    assert "<script>" not in everything and "<img" not in everything
    assert "&lt;script&gt;" in shown(panel)


def test_text_to_html_groups_bullets_and_marks_verdicts():
    out = text_to_html("A could not accept this package: x.\n  - one\n  - two\nplain")
    assert out.count("<li>") == 2 and out.count("<ul") == 1
    assert "✘" in out and "plain" in out
