# nbgrader configuration of the peace-talks course (read by nbgrader, Formgrader and `course grade`).
# The instructor guide is exercises/README.md.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from course.grading.autograde import autograde_preprocessors, sanitize_preprocessors
from course.grading.feedback import CapOutputs, HideHiddenTests, NotGradedYet

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

# -- the course folder ------------------------------------------------------------------------------
c.CourseDirectory.course_id = "peace-talks"
c.CourseDirectory.source_directory = "exercises"  # one folder per assignment: exercises/01_war_to_talks/ ...
# release/, submitted/, autograded/, feedback/, downloaded/ and gradebook.db are generated beside this file
# and are never committed (see .gitignore).

# -- where student code runs: a bubblewrap sandbox per submission (exercises/README.md, "The sandbox") ----
# "bwrap": read-only system and Python, no course folder, no network, own processes and /proc, a small
# private work folder; autograde (and Formgrader's buttons) refuse to run without it. "none" runs student
# code as you: only `course grade autograde --no-sandbox` should choose that, for one run.
c.CourseExecute.sandbox = "bwrap"
c.CourseExecute.judge_outside = True        # tests run in a separate judge process, never in the kernel
c.CourseExecute.work_folder_mb = 64         # the kernel's private, memory-backed work folder
c.CourseExecute.max_processes = 32          # processes and threads (the kernel itself uses about 11)

# -- time, memory and output limits for student code -----------------------------------------------------
c.Execute.timeout = 30                      # seconds per cell; a cell running longer is interrupted
c.CourseExecute.notebook_timeout = 180      # seconds per notebook; cells not reached score 0
c.CourseExecute.memory_limit_mb = 2048      # address space of each process of a student's kernel
c.CourseExecute.file_size_limit_mb = 100    # largest file a student's code may write
c.CourseExecute.max_output_cell_kb = 1024   # output kept per cell; the rest is cut, with a line saying so
c.CourseExecute.max_output_notebook_kb = 4096  # output kept per notebook
c.CourseExecute.own_working_directory = True  # without the sandbox: a fresh temporary folder per kernel

# -- the course's fixes to nbgrader 0.9.6, installed at nbgrader's own plug-in points --------------------
# (they also apply when Formgrader's buttons or the plain `nbgrader` commands are used)
c.Autograde.sanitize_preprocessors = sanitize_preprocessors()    # restore deleted/stripped test cells,
                                                                 # report only real edits (#1961)
c.Autograde.autograde_preprocessors = autograde_preprocessors()  # sandbox, tests judged outside it,
                                                                 # limits, output caps, dead kernels recorded
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CapOutputs,  # no hidden tests, outputs capped
                                    CSSHTMLHeaderPreprocessor,
                                    NotGradedYet]  # an answer still to grade by hand shows no score

# -- importing an LMS download (course grade collect / nbgrader zip_collect) ------------------------------
# A submitted file's name must contain the student id, then an underscore, then the notebook name, e.g.
#   smithjane_01_war_to_talks.ipynb                        (renamed by hand or by a script)
#   smithjane_48213_1093344_01_war_to_talks.ipynb          (Canvas "Download submissions")
#   smithjane_LATE_48213_1093344_01_war_to_talks-1.ipynb   (Canvas, late, second upload)
# Student ids contain no underscore. The pattern is matched against the file's full path.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[^/_]+)(?:_LATE)?(?:_\d+)*_(?P<file_id>\d\d_[A-Za-z0-9_]+?)(?:-\d+)?\.ipynb$"
)
