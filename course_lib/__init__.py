"""course_lib — the algorithms of *Mathematics of AI*, written from scratch.

Topic modules compute with NumPy / PyTorch, one idea per module; ``plotting`` and ``widgets``
draw; ``checks`` gives feedback on exercise sheets; ``sheets`` makes them nbgrader assignments
and ``grading`` grades submissions with nbgrader (both for instructors only).  Where everything
lives, chapter by chapter:

==  =====================================  ======================================================="""
__version__ = "0.1.0"
