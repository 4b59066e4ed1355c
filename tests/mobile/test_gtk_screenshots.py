"""The app on GTK (the desktop backend `make mobile` uses) under Xvfb at phone size, 390×844, through its
main screens against the real platform: each screen is saved to docs/screenshots/mobile-*.png (the README
shows them), and none may need a wider window than the phone's."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SMOKE = Path(__file__).with_name("gtk_smoke.py")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENS = [
    "home",
    "search-suggestions",
    "search-results",
    "product",
    "sign-up",
    "account",
    "cart",
    "checkout",
    "checkout-delivery",
    "confirmation",
    "order",
    "orders",
    "offline",
]

pytestmark = pytest.mark.e2e


def test_the_main_screens_on_gtk_at_phone_size(platform, tmp_path):
    assert shutil.which("xvfb-run"), "make gtk installs Xvfb"
    run = subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1280x1024x24",
            sys.executable,
            str(SMOKE),
            platform.gateway,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-6000:]
    [line] = [line for line in run.stdout.splitlines() if line.startswith("SHOTS ")]
    shots = dict(ast.literal_eval(line.removeprefix("SHOTS ")))
    assert [name for name in SCREENS if name not in shots] == []
    assert {name: size for name, size in shots.items() if size != (390, 844)} == {}, "wider than a phone"
    for name in SCREENS:
        assert (tmp_path / f"mobile-{name}.png").stat().st_size > 5000
    if platform.topology.offset == 20000:  # the SQLite platform's run, as the browser tests do
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name in SCREENS:
            shutil.copy(tmp_path / f"mobile-{name}.png", SCREENSHOTS / f"mobile-{name}.png")
