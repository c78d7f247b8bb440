# nbgrader configuration of the peace-talks course (read by nbgrader, Formgrader and `course grade`).
# The instructor guide is exercises/README.md.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from course.grading.autograde import autograde_preprocessors, sanitize_preprocessors
from course.grading.feedback import HideHiddenTests

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

# -- the course folder ------------------------------------------------------------------------------
c.CourseDirectory.course_id = "peace-talks"
c.CourseDirectory.source_directory = "exercises"  # one folder per assignment: exercises/01_war_to_talks/ ...
# release/, submitted/, autograded/, feedback/, downloaded/ and gradebook.db are generated beside this file
# and are never committed (see .gitignore).

# -- time and memory limits for student code (it runs on the instructor's machine) ---------------------
c.Execute.timeout = 30                      # seconds per cell; a cell running longer is interrupted
c.CourseExecute.notebook_timeout = 180      # seconds per notebook; cells not reached score 0
c.CourseExecute.memory_limit_mb = 2048      # address space of a student's kernel
c.CourseExecute.file_size_limit_mb = 100    # largest file a student's code may write
c.CourseExecute.own_working_directory = True  # each kernel runs in a fresh temporary folder

# -- the course's fixes to nbgrader 0.9.6, installed at nbgrader's own plug-in points --------------------
# (they also apply when Formgrader's buttons or the plain `nbgrader` commands are used)
c.Autograde.sanitize_preprocessors = sanitize_preprocessors()    # restore deleted/stripped test cells,
                                                                 # report only real edits (#1961)
c.Autograde.autograde_preprocessors = autograde_preprocessors()  # limits, dead kernels recorded
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]  # no hidden tests

# -- importing an LMS download (course grade collect / nbgrader zip_collect) ------------------------------
# A submitted file's name must contain the student id, then an underscore, then the notebook name, e.g.
#   smithjane_01_war_to_talks.ipynb                        (renamed by hand or by a script)
#   smithjane_48213_1093344_01_war_to_talks.ipynb          (Canvas "Download submissions")
#   smithjane_LATE_48213_1093344_01_war_to_talks-1.ipynb   (Canvas, late, second upload)
# Student ids contain no underscore. The pattern is matched against the file's full path.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[^/_]+)(?:_LATE)?(?:_\d+)*_(?P<file_id>\d\d_[A-Za-z0-9_]+?)(?:-\d+)?\.ipynb$"
)
