"""`briefcase dev --test` in mobile/: Briefcase makes the app's own environment from mobile/pyproject.toml
(the pinned Toga, the Linux backend, the test requirements) and runs the app's tests in it. The first run
builds that environment (a minute or two: PyGObject compiles); later runs reuse it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MOBILE = Path(__file__).resolve().parents[2] / "mobile"


@pytest.mark.e2e
def test_briefcase_dev_test_passes():
    briefcase = Path(sys.executable).parent / "briefcase"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TOGA_BACKEND")}
    run = subprocess.run(
        [str(briefcase), "dev", "--test", "--no-input"],
        cwd=MOBILE,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "Test suite passed!" in run.stdout
    assert " passed" in run.stdout and " failed" not in run.stdout
