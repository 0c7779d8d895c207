"""course_lib — the algorithms of *Mathematics of AI*, written from scratch.

Topic modules (``optim``, ``derivatives``, ...) compute with NumPy / PyTorch; ``plotting`` and
``widgets`` draw; ``checks`` gives feedback on exercise sheets; ``sheets`` makes them nbgrader
assignments and ``grading`` grades submissions with nbgrader (both for instructors only).
"""
__version__ = "0.1.0"
