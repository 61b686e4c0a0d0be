"""`make run`: the embedded AWS stand-in, the resources from infra/, the demo body, `chalice local` and, beside
it, the event pump that runs the scheduled functions and queue consumers. Ctrl-C stops all of it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import live, standin  # noqa: E402

STATE = Path(os.environ.get("ECABINET_LOCAL_DIR") or ROOT / ".local")  # where `make run` keeps its data
SNAPSHOT = STATE / "snapshot.json"


def _wait_for(port: int, process: subprocess.Popen, attempts: int = 120) -> None:
    """Until the API accepts connections (so the banner comes after the servers' own start-up lines), or exits."""
    import socket

    for _ in range(attempts):
        if process.poll() is not None:
            return
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.25)


def _shown(path: Path) -> Path:
    """A path as a person in the project folder types it (the data folder may be elsewhere)."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def banner(api_url: str, web_url: str | None, endpoint: str, restored: bool, live_url: str | None = None) -> str:
    """What a person needs to start: where things are and who to sign in as."""
    from tools import seed

    data = _shown(SNAPSHOT)
    lines = ["", "e-Cabinet is running (stage local). Ctrl-C stops everything and saves the data; "
                 "`make reset` forgets it.", "",
             f"  API      {api_url}/v1   (health /v1/health, OpenAPI /openapi.json; guide: docs/API.md)",
             f"  Web app  {web_url}" if web_url else "  Web app  not built (npm not found): the API runs without it",
             *([f"  Live     {live_url}   (the meeting room's WebSocket)"] if live_url else []),
             f"  Data     {'restored from' if restored else 'new, saved to'} {data} (AWS stand-in {endpoint})", "",
             f"  Demo body `{seed.GOVERNMENT_ID}`: sign in with one of these user ids (no password in stage local):"]
    for user_id, role, name in seed.demo_users():
        lines.append(f"    {user_id:<28} {role:<36} {name}")
    lines += [
        "",
        "  In the web app: type the user id on the sign-in page. From a script, get a bearer token:",
        f"    curl -s -X POST {api_url}/v1/dev/token -H 'Content-Type: application/json' "
        "-d '{\"user_id\": \"thu-tuong\"}'",
        f"  Voting members' signing keys: {_shown(STATE / 'demo-keys')}/<user_id>.key.pem", ""]
    return "\n".join(lines)


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    moto_port = int(os.environ.get("MOTO_PORT", "0")) or standin.free_port()
    server, endpoint = standin.start_moto(moto_port)
    outputs = standin.deploy(endpoint)
    restored = standin.restore(endpoint, outputs, SNAPSHOT)
    env = standin.app_env(endpoint, outputs, STATE)
    live_port = int(os.environ.get("LIVE_PORT", "8001"))
    env.update(standin.live_env(live_port, standin.free_port()))
    os.environ.update(env)

    from tools import seed
    from chalicelib.adapters import dev_ca

    dev_ca.DevCA.load_or_create(STATE / "dev-ca")
    from app import app  # noqa: E402  (after the environment is set)
    from chalicelib.adapters.local_events import Pump, StreamPump
    from tools.live_gateway import Gateway

    if not restored:
        seed.seed()
        seed.certify_demo_members()
        seed.seed_demo_provinces()

    pump = Pump(app)
    pump.start()
    # The live room: the WebSocket gateway calls the app's handlers here, and the stream pump feeds the table's
    # stream to the consumer that posts to the gateway, as API Gateway and Lambda do in the cloud.
    gateway = Gateway(app, live_port, int(env["LIVE_MANAGEMENT_URL"].rsplit(":", 1)[1])).start()
    from tools import standin_patches

    streams = StreamPump(app, writes=standin_patches.generation)
    streams.start()
    chalice = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-m", "tools.chalice_local", "local", "--host", "127.0.0.1",
                                "--port", str(port), "--stage", "local", "--no-autoreload"], cwd=ROOT, env={**os.environ, **env})
    children = [chalice]
    web = ROOT / "tools" / "web_server.py"
    web_url = None
    if (ROOT / "web" / "dist" / "index.html").exists() and web.exists():
        web_port = os.environ.get("WEB_PORT", "8080")
        children.append(subprocess.Popen([sys.executable, str(web)], cwd=ROOT,
                                         env={**os.environ, "WEB_PORT": web_port, "API_URL": f"http://127.0.0.1:{port}",
                                              "DOCS_ORIGIN": endpoint, "LIVE_ORIGIN": gateway.url}))
        web_url = f"http://127.0.0.1:{web_port}/"
    api_url = f"http://127.0.0.1:{port}"
    _wait_for(port, chalice)
    print(banner(api_url, web_url, endpoint, restored, gateway.url), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def save_periodically():
        saved = standin_patches.generation()
        while not stop.wait(15):
            if standin_patches.generation() == saved:
                continue  # nothing written since the last save: an idle stack does no work
            try:
                saved = standin_patches.generation()
                standin.snapshot(endpoint, outputs, SNAPSHOT)
            except Exception as exc:  # keep serving; the next save may succeed
                print(f"snapshot failed: {exc}", file=sys.stderr)

    threading.Thread(target=save_periodically, daemon=True).start()
    try:
        while not stop.is_set() and all(c.poll() is None for c in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        live.stop(*children)
        pump.stop()
        streams.stop()
        gateway.stop()
        standin.snapshot(endpoint, outputs, SNAPSHOT)
        server.stop()
        print("stopped; data saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
