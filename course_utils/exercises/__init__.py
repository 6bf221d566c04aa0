"""Checkers for the notebooks' exercises.

Each checker takes the student's answer, prints one line of feedback and returns ``True``
or ``False``; an answer left as ``None`` prints "not answered yet" and returns ``False``
without raising, so a notebook always runs top to bottom. Checkers live in one submodule
per notebook and are re-exported here.
"""

from ._check import feedback, not_answered

# notebook 01
# notebook 02
# notebook 03
# notebook 04
# notebook 05
# notebook 06
# notebook 07
