"""`mercato bench catalog`'s wrk script, run by the real wrk against a small server: URLs taken in turn,
answers counted by status, one result line parsed back."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mercato.bench.catalog import lua_script, parse_wrk, wrk_path

pytestmark = pytest.mark.skipif(wrk_path() is None, reason="wrk is not installed (apt-get install wrk)")


class Answers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: set[str] = set()
    accepted: set[str | None] = set()

    def do_GET(self) -> None:
        self.seen.add(self.path)
        self.accepted.add(self.headers.get("accept-encoding"))
        status = 200 if self.path == "/found" else 404
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("pause_ms", [0, 10])
def test_the_script_takes_urls_in_turn_and_counts_answers_by_status(
    server: str, tmp_path: Path, pause_ms: int
) -> None:
    script = tmp_path / "run.lua"
    script.write_text(lua_script(["/found", "/missing"], pause_ms=pause_ms))
    wrk = [wrk_path(), "-t1", "-c2", "-d1s", "-s", str(script), server + "/found"]
    done = subprocess.run(wrk, capture_output=True, text=True, timeout=30, check=True)
    result = parse_wrk(done.stdout)
    assert set(result["statuses"]) == {"200", "404"}
    assert sum(result["statuses"].values()) == result["requests"] > 0
    assert result["p50_us"] <= result["p99_us"] <= result["max_us"]
    assert Answers.seen >= {"/found", "/missing"}


def test_the_script_sends_a_runs_headers(server: str, tmp_path: Path) -> None:
    """The mobile runs ask as a phone does (`Accept-Encoding: br, gzip`), so the gateway compresses."""
    script = tmp_path / "run.lua"
    script.write_text(lua_script(["/found"], pause_ms=0, headers=[("Accept-Encoding", "br, gzip")]))
    wrk = [wrk_path(), "-t1", "-c1", "-d1s", "-s", str(script), server + "/found"]
    subprocess.run(wrk, capture_output=True, text=True, timeout=30, check=True)
    assert "br, gzip" in Answers.accepted
