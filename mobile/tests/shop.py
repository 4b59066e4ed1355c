"""`briefcase dev --test` (and `briefcase run <platform> --test` on a device) runs this module: the app's
own tests, headless with Toga's dummy backend and no network. The journeys against the real platform
are in the repository's tests/mobile (`make test`)."""

import os
import sys
from pathlib import Path

import pytest

if __name__ == "__main__":
    os.environ["TOGA_BACKEND"] = "toga_dummy"
    project = Path(__file__).parent.parent
    os.chdir(project)
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    code = pytest.main(["-c", str(project / "pyproject.toml"), "-vv", "--color=no", "tests", *args])
    print(f">>>>>>>>>> EXIT {code} <<<<<<<<<<")  # what Briefcase reads to know the result
