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

STATE = ROOT / ".local"
SNAPSHOT = STATE / "snapshot.json"


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
    print(f"AWS stand-in: {endpoint} (data {'restored from' if restored else 'new, will be saved to'} {SNAPSHOT})")

    pump = Pump(app)
    pump.start()
    # The live room: the WebSocket gateway calls the app's handlers here, and the stream pump feeds the table's
    # stream to the consumer that posts to the gateway, as API Gateway and Lambda do in the cloud.
    gateway = Gateway(app, live_port, int(env["LIVE_MANAGEMENT_URL"].rsplit(":", 1)[1])).start()
    streams = StreamPump(app)
    streams.start()
    chalice = subprocess.Popen([str(ROOT / ".venv" / "bin" / "python"), "-m", "tools.chalice_local", "local", "--host", "127.0.0.1",
                                "--port", str(port), "--stage", "local", "--no-autoreload"], cwd=ROOT, env={**os.environ, **env})
    children = [chalice]
    web = ROOT / "tools" / "web_server.py"
    if (ROOT / "web" / "dist" / "index.html").exists() and web.exists():
        web_port = os.environ.get("WEB_PORT", "8080")
        children.append(subprocess.Popen([sys.executable, str(web)], cwd=ROOT,
                                         env={**os.environ, "WEB_PORT": web_port, "API_URL": f"http://127.0.0.1:{port}",
                                              "DOCS_ORIGIN": endpoint, "LIVE_ORIGIN": gateway.url}))
        print(f"Web app: http://127.0.0.1:{web_port}/")
    print(f"Live room: {gateway.url} (WebSocket)")
    print(f"API: http://127.0.0.1:{port}/v1/health  (Ctrl-C stops everything)")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def save_periodically():
        while not stop.wait(15):
            try:
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
