"""`course doctor`: passes on a working setup, and names each real problem with a fix.

Problems are made real rather than simulated: requirements that cannot be met, folders
without the widget frontend or with the wrong version of it, a page_config that switches
it off, kernels that do not exist, and a copy of the course with a damaged data file and a
broken question bank, run through the `course doctor` command itself.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata

from course import doctor
from course.doctor import NOTE, OK, PROBLEM

ROOT = doctor.REPO


def problems(findings):
    return [f for f in findings if f.status == PROBLEM]


def test_doctor_finds_nothing_wrong_here(capsys):
    assert doctor.main([]) == 0
    out = capsys.readouterr().out
    assert PROBLEM not in out
    assert "All set" in out
    for part in ("Python", "packages:", "widget frontend", "notebook kernel", "data:", "question banks"):
        assert part in out, f"the report has no line about {part!r}"


def test_python_outside_the_supported_range_is_a_problem_with_a_fix():
    finding = doctor.check_python((3, 10, 4), ">=3.11")
    assert finding.status == PROBLEM
    assert "3.10.4" in finding.what and ">=3.11" in finding.what
    assert ">=3.11" in finding.fix and "pip install" in finding.fix
    assert doctor.check_python((3, 11, 0), ">=3.11").status == OK
    assert doctor.check_python((3, 13, 1), ">=3.11").status == OK


def test_requirements_are_the_packages_students_need_without_extras():
    names = {line.split(">")[0].split("<")[0].split("=")[0].strip().lower() for line in doctor.course_requirements()}
    assert {"jupyterlab", "ipywidgets", "pandas"} <= names
    assert not names & {"pytest", "nbgrader", "playwright"}  # extras are not a student's problem


def test_missing_and_too_old_packages_are_problems_with_install_commands():
    pandas = metadata.version("pandas")
    findings = doctor.check_packages(["pandas>=999", "surely-not-a-course-package>=1", "ipywidgets>=8.1,<9"],
                                     pins={})
    bad = problems(findings)
    assert len(bad) == 2
    too_old, missing = bad
    assert f"pandas {pandas} is installed" in too_old.what and ">=999" in too_old.what
    assert too_old.fix == 'python -m pip install "pandas>=999"'
    assert "not installed" in missing.what
    assert missing.fix == 'python -m pip install "surely-not-a-course-package>=1"'
    assert findings[0].status == OK and f"ipywidgets {metadata.version('ipywidgets')}" in findings[0].what


def test_versions_other_than_the_tested_pins_are_a_note_not_a_problem():
    findings = doctor.check_packages(["ipywidgets>=8.1,<9"], pins={"ipywidgets": "8.0.0"})
    assert not problems(findings)
    note = next(f for f in findings if f.status == NOTE)
    assert "tested: 8.0.0" in note.what and "-c .binder/constraints.txt" in note.fix


def test_tested_pins_are_read_from_the_binder_constraints():
    pins = doctor.tested_pins()
    assert pins["jupyterlab"] and pins["ipywidgets"] and pins["jupyterlab-widgets"]


def _fake_frontend(folder, version):
    ext = folder / "@jupyter-widgets" / "jupyterlab-manager"
    ext.mkdir(parents=True)
    (ext / "package.json").write_text(json.dumps({"name": doctor.WIDGET_EXTENSION, "version": version}))
    return folder


def test_widget_frontend_found_where_jupyterlab_looks():
    finding = doctor.check_widget_frontend()
    assert finding.status == OK and doctor.WIDGET_EXTENSION in finding.what


def test_missing_widget_frontend_is_a_problem(tmp_path):
    finding = doctor.check_widget_frontend([str(tmp_path)])
    assert finding.status == PROBLEM
    assert "plain text" in finding.what
    assert "jupyterlab_widgets" in finding.fix and "start it again" in finding.fix


def test_widget_frontend_of_the_wrong_generation_is_a_problem(tmp_path):
    finding = doctor.check_widget_frontend([str(_fake_frontend(tmp_path, "3.1.0"))])  # ipywidgets 7's
    assert finding.status == PROBLEM
    assert "3.1.0" in finding.what and "does not match" in finding.what


def test_widget_frontend_switched_off_is_a_problem(tmp_path, monkeypatch):
    config = tmp_path / "config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {doctor.WIDGET_EXTENSION: True}}))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config))
    finding = doctor.check_widget_frontend([str(_fake_frontend(tmp_path / "ext", "5.0.16"))])
    assert finding.status == PROBLEM and "switched off" in finding.what
    assert f"jupyter labextension enable {doctor.WIDGET_EXTENSION}" in finding.fix


def _kernels(tmp_path, argv0=None):
    from jupyter_client.kernelspec import KernelSpecManager

    if argv0:
        spec = tmp_path / "kernels" / "python3"
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3", "language": "python"}))
    return KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")], ensure_native_kernel=False)


def test_the_lessons_kernel_loads_the_course():
    finding = doctor.check_kernel()
    assert finding.status == OK and "loads the course" in finding.what


def test_a_missing_kernel_is_a_problem(tmp_path):
    # "python3" itself always resolves while ipykernel is installed, so ask for another name
    finding = doctor.check_kernel(_kernels(tmp_path), name="course-python")
    assert finding.status == PROBLEM and "no notebook kernel" in finding.what
    assert "ipykernel install" in finding.fix


def test_a_kernel_whose_python_is_gone_is_a_problem(tmp_path):
    finding = doctor.check_kernel(_kernels(tmp_path, str(tmp_path / "gone" / "python")))
    assert finding.status == PROBLEM and "cannot start" in finding.what


def test_damaged_data_and_a_broken_bank_are_named_with_a_fix(tmp_path):
    """A copy of the course with a damaged CSV and an invalid bank, through the real command."""
    shutil.copytree(ROOT / "course", tmp_path / "course", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    package = json.loads((tmp_path / "course" / "data" / "datapackage.json").read_text())
    timeline = next(r for r in package["resources"] if r["name"] == "timeline")
    with (tmp_path / "course" / "data" / timeline["path"]).open("a", encoding="utf-8") as fh:
        fh.write("a damaged line\n")
    (tmp_path / "course" / "banks" / "99_broken.yaml").write_text("lesson: 99_broken\ntitle: Broken\nquestions: []\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "course", "doctor"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert f"from {tmp_path / 'course'}" in out  # the damaged copy was checked, not the checkout
    assert "data set 'timeline' cannot be read" in out and "fields, expected" in out
    assert "question bank banks/99_broken.yaml is broken" in out and "non-empty list" in out
    assert out.count("Fix:") == 2 and "2 problems found" in out
    data_line = next(line for line in out.splitlines() if "OK       data:" in line)
    assert "gazetteer" in data_line and "timeline" not in data_line  # the other data sets still load


def test_the_grading_sandbox_is_checked_for_instructors():
    found = doctor.check_grading_sandbox(lambda: (True, "bubblewrap 0.8.0"))
    assert found.status == OK and "bubblewrap 0.8.0" in found.what
    missing = doctor.check_grading_sandbox(
        lambda: (False, "bubblewrap (`bwrap`) is not installed; install bubblewrap (Debian/Ubuntu: "
                        "`sudo apt-get install bubblewrap`), or grade without a sandbox"))
    assert missing.status == NOTE  # students do not grade: never a problem
    assert "not installed" in missing.what and "apt-get install bubblewrap" in missing.fix
