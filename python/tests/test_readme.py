"""The README's Python quick start runs and prints what it says."""

import contextlib
import io
import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_quick_start_runs():
    text = README.read_text()
    section = text[text.index("## Python") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    out = io.StringIO()
    scope = {}
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README quick start", "exec"), scope)
    x = scope["x"]
    printed = np.array([float(v) for v in out.getvalue().strip(" []\n").split()])
    got = scope["enc"].decode(scope["sk"].decrypt(scope["y"]))[:3]
    assert np.max(np.abs(got - x[1:] ** 2)) < 2.0**-17
    assert np.allclose(printed, got, atol=1e-6)
