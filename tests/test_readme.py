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
