"""Binder builds the environment the tests run in.

`repo2docker --no-build .` prints the Dockerfile Binder would build, without Docker. The
tests check that it takes its configuration from `.binder/`, builds the Python of
`.binder/runtime.txt`, and installs `.binder/requirements.txt` (the course itself, `.`, under
the pins of `.binder/constraints.txt`) after the repository has been copied in; and that
those pins are the versions installed here, where the tests run, so what students get on
Binder is what CI tested.
"""
from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / ".binder"
COURSE = "peace-talks-course"


def config_lines(path: Path) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.split("#", 1)[0].strip()]


def pins() -> dict[str, str]:
    found = {}
    for line in config_lines(BINDER / "constraints.txt"):
        name, _, version = line.partition("==")
        assert version, f"constraints.txt: {line!r} is not an exact pin (name==version)"
        found[canonicalize_name(name)] = version.strip()
    return found


@pytest.fixture(scope="module")
def dockerfile() -> tuple[str, str]:
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker is not installed (pip install -e '.[test]')")
    run = subprocess.run([sys.executable, "-m", "repo2docker", "--no-build", "."], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout, run.stderr


def test_binder_configuration_lives_in_one_folder():
    assert BINDER.is_dir()
    assert not (ROOT / "binder").exists(), "repo2docker reads binder/ OR .binder/: keep only .binder/"


def test_requirements_install_the_course_under_the_pins():
    assert config_lines(BINDER / "requirements.txt") == ["-c constraints.txt", "."]


def test_binder_python_is_the_tested_python(dockerfile):
    _, log = dockerfile
    (runtime,) = config_lines(BINDER / "runtime.txt")
    match = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    assert match, f"runtime.txt: {runtime!r} should read python-X.Y"
    wanted = f"{match[1]}.{match[2]}"
    assert f"python={wanted}" in log, f"repo2docker did not pick Python {wanted}:\n{log}"
    assert wanted == f"{sys.version_info[0]}.{sys.version_info[1]}", \
        f"Binder builds Python {wanted} but the tests run on {sys.version.split()[0]}"


def test_dockerfile_installs_the_pinned_requirements_after_copying_the_repository(dockerfile):
    text, _ = dockerfile
    lines = text.splitlines()
    installs = [i for i, line in enumerate(lines) if re.search(r"\bpip install\b", line)]
    assert len(installs) == 1, f"expected one pip install, found: {[lines[i] for i in installs]}"
    install = lines[installs[0]]
    assert re.search(r'-r "?\.binder/requirements\.txt"?', install), install
    copy_repo = next(i for i, line in enumerate(lines) if re.match(r"COPY .*src/ \$\{REPO_DIR\}/?$", line))
    assert copy_repo < installs[0], "the repository (the `.` line, constraints.txt) must be copied before pip runs"
    assert "src/.binder/requirements.txt" in text  # repo2docker chose .binder/, not the root pyproject


def test_every_course_dependency_is_pinned_within_its_range():
    pinned = pins()
    for line in metadata.requires(COURSE):
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} (from pyproject.toml) has no pin in .binder/constraints.txt"
        assert req.specifier.contains(pinned[name], prereleases=True), \
            f"{req.name}=={pinned[name]} is outside the course's own range {req.specifier}"


def test_the_tests_run_on_the_pinned_versions():
    """What CI installs here is what Binder installs: no package differs from its pin."""
    pinned = pins()
    differ = []
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in pinned and dist.version != pinned[name]:
            differ.append(f"{name} {dist.version} (pinned {pinned[name]})")
    assert not differ, ("installed versions differ from .binder/constraints.txt: " + ", ".join(sorted(differ))
                        + "\ninstall with: pip install -e '.[test,instructor]' -c .binder/constraints.txt")
