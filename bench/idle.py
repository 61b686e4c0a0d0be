"""The idle cost of `make run`: the CPU that the whole local stack (stand-in, API, event pump, web server) uses
while nobody calls it, as a share of one core, next to a busy loop measured in the same run (the baseline: 100 %
of a core as this machine gives it)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """The process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _busy_loop_share(seconds: float = 2.0) -> float:
    """What a busy loop gets of a core here, measured the same way (the baseline)."""
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        start, t0 = _cpu_seconds([loop.pid]), time.monotonic()
        time.sleep(seconds)
        return (_cpu_seconds([loop.pid]) - start) / (time.monotonic() - t0)
    finally:
        loop.kill()
        loop.wait()


def idle_cpu(settle: float = 20.0, window: float = 30.0) -> dict:
    """Start `make run`'s stack on free ports in a scratch folder, let it settle, and measure a quiet window."""
    from tools import standin

    port, web_port = standin.free_port(), standin.free_port()
    with tempfile.TemporaryDirectory() as state:
        env = {**os.environ, "PORT": str(port), "WEB_PORT": str(web_port), "LIVE_PORT": str(standin.free_port()),
               "ECABINET_LOCAL_DIR": state}
        stack = subprocess.Popen([sys.executable, "-m", "tools.run_local"], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                return {"note": "the local stack did not start"}
            time.sleep(settle)  # the first snapshot, schedules and caches settle
            pids = _tree(stack.pid)
            start, t0 = _cpu_seconds(pids), time.monotonic()
            time.sleep(window)
            used = (_cpu_seconds(_tree(stack.pid)) - start) / (time.monotonic() - t0)
        finally:
            os.killpg(stack.pid, 15)
            try:
                stack.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, 9)
    busy = _busy_loop_share()
    return {"idle_core_share": used, "busy_loop_core_share": busy, "ratio_to_busy_loop": used / busy,
            "window_s": window}


if __name__ == "__main__":
    r = idle_cpu()
    print(r)
