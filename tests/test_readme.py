"""The README's first screen gives the two commands, and CI runs exactly the test command."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README)


def test_first_screen_has_exactly_two_commands_before_the_course_map():
    first_screen = README.split("## Course map")[0]
    found = re.findall(r"```bash\n(.+?)\n```", first_screen)
    assert len(found) == 2
    assert "jupyter lab notebooks/00_start_here.ipynb" in found[0]
    assert "python -m pytest" in found[1]
    for command in found:
        assert command.startswith("python3 -m venv .venv && ")


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands()[1] in ci.splitlines()


def test_course_map_links_existing_lessons():
    for link in re.findall(r"\]\((notebooks/[^)]+\.ipynb)\)", README):
        assert (ROOT / link).is_file(), f"README links {link}, which does not exist"
    assert (ROOT / "notebooks" / "00_start_here.ipynb").is_file()


def _course_map() -> dict[str, str]:
    """Lesson file → the minutes the README's course map gives for it."""
    table = README.split("## Course map")[1].split("\n## ")[0]
    return dict(re.findall(r"\]\(notebooks/([^)]+\.ipynb)\) \|[^|]*\| ([^|]+?) \|", table))


def test_course_map_lists_every_lesson_with_the_time_the_lesson_states():
    import json

    listed = _course_map()
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert sorted(listed) == lessons, "the course map and notebooks/ list different lessons"
    for name, minutes in listed.items():
        first = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))["cells"][0]
        stated = re.search(r"\*About ([^*]+?) minutes", "".join(first["source"])).group(1)
        assert minutes == stated, f"README gives {name} {minutes} minutes; the lesson says {stated}"
