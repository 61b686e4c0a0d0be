"""Start the API (`chalice local`) and the web server as child processes on free loopback ports, for the
end-to-end tests and the bench; both stop with the caller."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools.standin import free_port

ROOT = Path(__file__).resolve().parent.parent


def _wait(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def start_api(env: dict, port: int | None = None) -> tuple[subprocess.Popen, str]:
    port = port or free_port()
    logs = ROOT / "build" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = open(logs / f"api-{port}.log", "wb")  # read it when a run goes wrong; a pipe nobody reads would fill
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-m", "tools.chalice_local", "local", "--host", "127.0.0.1", "--port",
                                str(port), "--stage", "local", "--no-autoreload"], cwd=ROOT, env={**os.environ, **env},
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/v1/health", process)
    return process, base


def start_web(api_url: str, port: int | None = None, docs_origin: str = "",
              live_origin: str = "", web_config: str = "") -> tuple[subprocess.Popen, str]:
    """The web server; `web_config` is a JSON file served as /config.json (how the app signs in)."""
    port = port or free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "tools" / "web_server.py")], cwd=ROOT,
                               env={**os.environ, "WEB_PORT": str(port), "API_URL": api_url,
                                    "DOCS_ORIGIN": docs_origin, "LIVE_ORIGIN": live_origin,
                                    "WEB_CONFIG": web_config},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/", process)
    return process, base


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
