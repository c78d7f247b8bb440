"""`course doctor`: can this computer run the course? Every problem comes with a fix.

Checks, in order:

1. the Python version the course needs;
2. the packages the course needs, at versions it accepts (and, in a checkout, whether they
   differ from the versions the course is tested with, `.binder/constraints.txt`: a note only);
3. JupyterLab's widget frontend (`@jupyter-widgets/jupyterlab-manager`, from the
   `jupyterlab_widgets` package): installed, enabled, and the right major version for the
   installed ipywidgets. Without it the quizzes show as plain text instead of buttons;
4. the notebook kernel "python3" starts a Python that can import the course;
5. every data set loads, every question bank and every exercise file validates;
6. for instructors (when nbgrader is installed): the grading sandbox, bubblewrap (`bwrap`), which
   `course grade autograde` needs to run student code; a note, never a problem, since students
   do not grade.

It checks the Python it runs in. Run it where you run JupyterLab (`course doctor` in a
terminal) or from a notebook cell (`!course doctor`). Exit code 0 when all is well, 1 when
something needs fixing.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DIST = "peace-talks-course"
REQUIRES_PYTHON = ">=3.11"  # used when the package metadata is not available (a bare checkout)
WIDGET_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
# ipywidgets major version -> the major version of the JupyterLab frontend that speaks to it
FRONTEND_FOR_IPYWIDGETS = {7: 3, 8: 5}
REPO = Path(__file__).resolve().parent.parent
REINSTALL = "python -m pip install -c .binder/constraints.txt -e .   (in the course folder)"

OK, NOTE, PROBLEM = "OK", "NOTE", "PROBLEM"


@dataclass(frozen=True)
class Finding:
    status: str  # OK, NOTE (worth knowing, not blocking) or PROBLEM
    what: str
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"  {self.status:<8} {self.what}"]
        if self.fix:
            out += [f"  {'':<8} Fix: {line}" if i == 0 else f"  {'':<8}      {line}"
                    for i, line in enumerate(self.fix.splitlines())]
        return out


# -- 1. Python -----------------------------------------------------------------------------
def _metadata():
    from importlib import metadata

    try:
        return metadata.metadata(DIST)
    except metadata.PackageNotFoundError:
        return None


def check_python(version: tuple[int, ...] | None = None, requires: str | None = None) -> Finding:
    from packaging.specifiers import SpecifierSet

    version = tuple(version or sys.version_info[:3])
    meta = _metadata()
    requires = requires or (meta and meta.get("Requires-Python")) or REQUIRES_PYTHON
    shown = ".".join(map(str, version))
    if SpecifierSet(requires).contains(shown, prereleases=True):
        return Finding(OK, f"Python {shown} (the course needs {requires})")
    return Finding(PROBLEM, f"Python {shown} is too old or too new for the course, which needs Python {requires}.",
                   f"Install a Python that fits ({requires}), e.g. from python.org or with conda,\n"
                   f"then install the course with it: {REINSTALL}")


# -- 2. packages ---------------------------------------------------------------------------
def course_requirements() -> list[str]:
    """What the course package declares it needs (without the optional extras)."""
    from importlib import metadata

    from packaging.requirements import Requirement

    try:
        declared = metadata.requires(DIST) or []
    except metadata.PackageNotFoundError:  # a bare checkout: read pyproject.toml
        import tomllib

        declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    wanted = []
    for line in declared:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            wanted.append(line)
    return wanted


def tested_pins(path: Path | None = None) -> dict[str, str]:
    """name -> version from .binder/constraints.txt, when the course folder has one."""
    from packaging.utils import canonicalize_name

    path = path or REPO / ".binder" / "constraints.txt"
    pins = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                pins[canonicalize_name(name)] = version.strip()
    return pins


def check_packages(requirements: list[str] | None = None, pins: dict[str, str] | None = None) -> list[Finding]:
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    requirements = course_requirements() if requirements is None else requirements
    pins = tested_pins() if pins is None else pins
    found, fine, drift = [], [], []
    for line in requirements:
        req = Requirement(line)
        spec = str(req.specifier) or "any version"
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            found.append(Finding(PROBLEM, f"{req.name} is not installed (the course needs {req.name} {spec}).",
                                 f'python -m pip install "{req.name}{req.specifier}"'))
            continue
        if not req.specifier.contains(installed, prereleases=True):
            found.append(Finding(PROBLEM,
                                 f"{req.name} {installed} is installed, but the course needs {req.name} {spec}.",
                                 f'python -m pip install "{req.name}{req.specifier}"'))
            continue
        fine.append(f"{req.name} {installed}")
        pinned = pins.get(canonicalize_name(req.name))
        if pinned and pinned != installed:
            drift.append(f"{req.name} {installed} (tested: {pinned})")
    if fine:
        found.insert(0, Finding(OK, "packages: " + ", ".join(fine)))
    if drift:
        found.append(Finding(NOTE, "these work but differ from the versions the course is tested with: "
                                   + ", ".join(drift) + ".",
                             f"only if something misbehaves: {REINSTALL}"))
    return found


# -- 3. the widget frontend ------------------------------------------------------------------
def labextension_paths() -> list[str]:
    from jupyter_core.paths import jupyter_path

    return jupyter_path("labextensions")


def _federated_extensions(paths: list[str]) -> dict:
    import glob
    import json

    found = {}
    for folder in paths:
        for package in sorted(glob.glob(os.path.join(folder, "@*", "*", "package.json"))
                              + glob.glob(os.path.join(folder, "[!@]*", "package.json"))):
            try:
                data = json.loads(Path(package).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            found.setdefault(data.get("name"), {"version": data.get("version", "0"), "path": os.path.dirname(package)})
    return found


def _disabled_extensions() -> set[str]:
    """Extensions switched off in labconfig/page_config.json (what `jupyter labextension disable`
    writes), read the way Jupyter Server merges them: the first config folder has the last word."""
    import json

    from jupyter_core.paths import jupyter_config_path

    state: dict[str, bool] = {}
    for folder in reversed(jupyter_config_path()):
        labconfig = Path(folder) / "labconfig"
        for file in [*sorted((labconfig / "page_config.d").glob("*.json")), labconfig / "page_config.json"]:
            try:
                disabled = json.loads(file.read_text(encoding="utf-8")).get("disabledExtensions", {})
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(disabled, list):
                disabled = dict.fromkeys(disabled, True)
            if isinstance(disabled, dict):
                state.update({name: bool(off) for name, off in disabled.items()})
    return {name for name, off in state.items() if off}


def check_widget_frontend(paths: list[str] | None = None) -> Finding:
    from importlib import metadata

    install_frontend = 'python -m pip install "jupyterlab_widgets>=3,<4"\nthen stop JupyterLab and start it again'
    try:
        ipywidgets_version = metadata.version("ipywidgets")
    except metadata.PackageNotFoundError:
        return Finding(PROBLEM, "ipywidgets is not installed, so the quizzes cannot show.",
                       'python -m pip install "ipywidgets>=8.1,<9"')
    extensions = _federated_extensions(labextension_paths() if paths is None else paths)
    if WIDGET_EXTENSION not in extensions:
        return Finding(PROBLEM, "JupyterLab's widget frontend is missing: quizzes would show as plain text "
                                "instead of buttons.", install_frontend)
    frontend = extensions[WIDGET_EXTENSION]["version"]
    wanted = FRONTEND_FOR_IPYWIDGETS.get(int(ipywidgets_version.split(".")[0]))
    if wanted is not None and int(frontend.split(".")[0]) != wanted:
        return Finding(PROBLEM, f"JupyterLab's widget frontend {frontend} does not match ipywidgets "
                                f"{ipywidgets_version}: quizzes would fail to show.", install_frontend)
    if WIDGET_EXTENSION in _disabled_extensions():
        return Finding(PROBLEM, "JupyterLab's widget frontend is installed but switched off: quizzes would "
                                "show as plain text.",
                       f"jupyter labextension enable {WIDGET_EXTENSION}\nthen stop JupyterLab and start it again")
    return Finding(OK, f"widget frontend {WIDGET_EXTENSION} {frontend} for ipywidgets {ipywidgets_version}")


# -- 4. the notebook kernel --------------------------------------------------------------------
def check_kernel(manager=None, name: str = "python3") -> Finding:
    """Does the kernel the lessons name start a Python that can import the course?"""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = manager or KernelSpecManager()
    register = ("python -m pip install ipykernel\n"
                "python -m ipykernel install --user --name python3   (with the Python that has the course)")
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        return Finding(PROBLEM, f"there is no notebook kernel called {name!r}, which the lessons use.", register)
    python = spec.argv[0]
    if python in ("python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"):
        python = sys.executable  # what Jupyter does for the default Python kernel
    try:
        run = subprocess.run([python, "-c", "import course, ipywidgets, pandas"], capture_output=True,
                             text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return Finding(PROBLEM, f"the notebook kernel {name!r} cannot start its Python ({python}): {err}.", register)
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["(no message)"])[-1]
        return Finding(PROBLEM, f"the notebook kernel {name!r} runs {python}, which cannot load the course "
                                f"({last}): lessons would stop at their first cell.",
                       f"install the course into that Python: {python} -m pip install -c .binder/constraints.txt -e .\n"
                       "or " + register)
    return Finding(OK, f"notebook kernel {name!r} ({python}) loads the course")


# -- 5. content ---------------------------------------------------------------------------------
CONTENT_FIX = ("the course's files are damaged or were edited. Undo your edits to the file named above\n"
               f"(in a git checkout: git checkout -- <file>), or reinstall: {REINSTALL}")


def check_data() -> list[Finding]:
    from . import data

    try:
        names = data.names()
    except Exception as err:  # the data package description itself is unreadable
        return [Finding(PROBLEM, f"the list of data sets cannot be read: {err}", CONTENT_FIX)]
    found, loaded = [], []
    for name in names:
        try:
            frame = data.load(name)
        except Exception as err:
            found.append(Finding(PROBLEM, f"data set {name!r} cannot be read: {err}", CONTENT_FIX))
        else:
            loaded.append(f"{name} ({len(frame)} rows)")
    if loaded:
        found.insert(0, Finding(OK, "data: " + ", ".join(loaded)))
    return found


def check_lessons() -> list[Finding]:
    from .checks.engine import TASKS_DIR, load_tasks_file
    from .quizzes.bank import BANKS_DIR, load_file

    found, fine = [], []
    for kind, folder, loader in (("question bank", BANKS_DIR, load_file), ("exercises", TASKS_DIR, load_tasks_file)):
        for path in sorted(folder.glob("*.yaml")):
            try:
                loader(path)
            except Exception as err:
                found.append(Finding(PROBLEM, f"{kind} {folder.name}/{path.name} is broken: {err}", CONTENT_FIX))
            else:
                fine.append(path.stem)
    lessons = sorted(set(fine))
    if lessons:
        found.insert(0, Finding(OK, f"question banks and exercises of {len(lessons)} lessons: " + ", ".join(lessons)))
    elif not found:
        found.append(Finding(PROBLEM, "no question banks or exercises were found.", CONTENT_FIX))
    return found


# -- 6. the grading sandbox (instructors) -------------------------------------------------------
def check_grading_sandbox(available=None) -> Finding | None:
    """bubblewrap for `course grade autograde`; None when this is not an instructor's install."""
    import importlib.util

    if available is None:
        if importlib.util.find_spec("nbgrader") is None:
            return None
        from .grading import sandbox

        available = sandbox.available
    ok, what = available()
    if ok:
        return Finding(OK, f"grading sandbox: {what} (each submission runs in its own sandbox)")
    return Finding(NOTE, f"grading sandbox: {what.split('; ', 1)[0]}; `course grade autograde` will refuse to "
                         "run student code (instructors only; students can ignore this)",
                   what.split("; ", 1)[1] if "; " in what else "")


# -- the verb ---------------------------------------------------------------------------------
def run_checks() -> list[Finding]:
    findings = [check_python()]
    findings += check_packages()
    findings.append(check_widget_frontend())
    findings.append(check_kernel())
    findings += check_data()
    findings += check_lessons()
    sandbox = check_grading_sandbox()
    if sandbox is not None:
        findings.append(sandbox)
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="course doctor",
        description="Check that this computer can run the course (Python, packages, the quiz widgets, "
                    "the notebook kernel, the course data) and say how to fix each problem.")
    parser.parse_args(argv)
    from . import __version__

    here = Path(__file__).resolve().parent
    print(f"course doctor: course {__version__} from {here}\n  with Python {sys.executable}\n")
    findings = run_checks()
    for finding in findings:
        print("\n".join(finding.lines()))
    problems = sum(f.status == PROBLEM for f in findings)
    if problems:
        print(f"\n{problems} problem{'s' if problems > 1 else ''} found. Fix them from the top "
              "(later ones often disappear), then run `course doctor` again.")
        return 1
    print("\nAll set: open notebooks/00_start_here.ipynb in JupyterLab to begin.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
