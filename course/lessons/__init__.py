"""Helpers that one or a few lessons call: maps, charts, the documents chain, the negotiation model.

They sit apart from the engine (data, quizzes, checks, grading, tracking, seeds) so the package
root shows the engine at a glance. A lesson imports them by module, e.g.
`from course.lessons.maps import region_map`.
"""
