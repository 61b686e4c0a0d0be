"""`make bench`: figures for speed, scale and size, each as a ratio to a baseline measured in the same run.

Prints a table and writes build/bench/results.json. The stand-in (moto's server) and the API (`chalice local`)
run as their own processes on loopback, as in `make run`; AWS calls per request are counted in-process with a
botocore hook around the same handlers, and any Scan on a request path fails the bench."""
from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import idle  # noqa: E402
from tools import live, standin  # noqa: E402

OUT = ROOT / "build" / "bench"
STATE = OUT / "state"
PY = str(ROOT / ".venv" / "bin" / "python")


# ---- measurement helpers -------------------------------------------------------------------------------------

def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class CallCounter:
    """Counts AWS API calls made in this process (PynamoDB and boto3 alike) with a botocore hook."""

    def __init__(self):
        import botocore.client

        self.calls: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()
        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client, operation_name, api_params):
            started = time.perf_counter()
            try:
                return original(client, operation_name, api_params)
            finally:
                # The event pump's own deliveries run beside the requests; they are no request's calls.
                if not threading.current_thread().name.startswith(("event-pump", "stream-pump", "live-post")):
                    with counter.lock:
                        counter.calls.append((client.meta.service_model.service_name, operation_name, api_params,
                                              started, time.perf_counter() - started))

        botocore.client.BaseClient._make_api_call = counted

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[tuple[str, str, dict]]:
        return self.calls[mark:]


class Http:
    def __init__(self, base: str):
        import requests

        self.base = base
        self.session = requests.Session()
        self.tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = self.session.post(self.base + "/v1/dev/token", json={"user_id": user}).json()["token"]
        return self.tokens[user]

    def call(self, method: str, path: str, user: str, body=None, expect=(200, 201)):
        response = self.session.request(method, self.base + path, json=body,
                                        headers={"Authorization": f"Bearer {self.token(user)}"})
        if response.status_code not in expect:
            raise RuntimeError(f"{method} {path} as {user}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None


def signer(body_id: str):
    from chalicelib.domain import clock, signing

    keys = {p.name.split(".")[0]: p.read_text() for p in (STATE / "demo-keys").glob("*.key.pem")}

    def sign(user: str, action: str, target: str, content) -> dict:
        return signing.sign_action(keys[user], "ES256", action=action, body_id=body_id, target_id=target,
                                   user_id=user, content=content, signed_at=clock.iso(clock.now()))

    # The tablet's signature over a PDF's signed attributes (r||s, base64).
    sign.raw = lambda user, payload: signing.sign_payload(keys[user], "ES256", payload)
    return sign


# ---- scenarios -----------------------------------------------------------------------------------------------

MEMBERS = (["thu-tuong"] + [f"pho-thu-tuong-{n}" for n in range(1, 5)] + [f"bo-truong-{n:02d}" for n in range(1, 23)])
SEC = "vpcp-chuyen-vien"


def meeting_with_poll(http: Http, body: str, present: list[str], remote: list[str] = ()) -> tuple[str, str, str]:
    starts = (date.today() + timedelta(days=1)).isoformat() + "T09:00:00+07:00"
    meeting = http.call("POST", f"/v1/bodies/{body}/meetings", SEC,
                        {"title": "Phiên họp Chính phủ thường kỳ", "starts_at": starts, "location": "Hà Nội"})["meeting_id"]
    item = http.call("POST", f"/v1/bodies/{body}/meetings/{meeting}/items", SEC,
                     {"title": "Nghị quyết phiên họp", "document_ids": []})["item_id"]
    http.call("POST", f"/v1/bodies/{body}/meetings/{meeting}/start", SEC)
    for user in present:
        http.call("PUT", f"/v1/bodies/{body}/meetings/{meeting}/attendance/{user}", user,
                  {"mode": "remote" if user in remote else "in_room"})
    poll = http.call("POST", f"/v1/bodies/{body}/meetings/{meeting}/items/{item}/polls", SEC,
                     {"question": "Thông qua Nghị quyết phiên họp?"})["poll_id"]
    http.call("POST", f"/v1/bodies/{body}/polls/{poll}/open", "thu-tuong")
    return meeting, item, poll


def open_ballot(http: Http, body: str) -> str:
    deadline = (date.today() + timedelta(days=3)).isoformat() + "T17:00:00+07:00"
    ballot = http.call("POST", f"/v1/bodies/{body}/ballots", SEC, {
        "title": "Lấy ý kiến Thành viên Chính phủ về dự thảo Nghị định", "summary": "Tóm tắt các điểm còn ý kiến khác nhau.",
        "questions": [{"question_id": "q1", "text": "Đồng ý ban hành Nghị định?"}], "document_ids": [],
        "deadline": deadline})["ballot_id"]
    http.call("POST", f"/v1/bodies/{body}/ballots/{ballot}/submit", SEC)
    http.call("POST", f"/v1/bodies/{body}/ballots/{ballot}/approve", "thu-tuong")
    http.call("POST", f"/v1/bodies/{body}/ballots/{ballot}/send", SEC)
    return ballot


_pumping = threading.local()


class pumping:
    """The event pump beside the API, as `make run` runs it, for the phases that need the queues served."""

    def __enter__(self):
        from app import app
        from chalicelib.adapters.local_events import Pump

        self.pump = None if getattr(_pumping, "on", False) else Pump(app)
        if self.pump:
            _pumping.on = True
            self.pump.start()

    def __exit__(self, *exc):
        if self.pump:
            self.pump.stop()
            self.pump.join()
            _pumping.on = False


def available_document(http: Http, body: str, content: bytes) -> tuple[str, str]:
    import requests

    digest = hashlib.sha256(content).hexdigest()
    doc = http.call("POST", f"/v1/bodies/{body}/documents", SEC, {
        "title": "Dự thảo Nghị quyết", "filename": "nghi-quyet.pdf", "content_type": "application/pdf",
        "size": len(content), "sha256": digest})
    upload = doc["upload"]
    if upload.get("method", "PUT") == "PUT":
        requests.put(upload["url"], data=content, headers=upload.get("headers", {})).raise_for_status()
    else:
        requests.post(upload["url"], data=upload["fields"], files={"file": content}).raise_for_status()
    with pumping():  # the documents consumer verifies the bytes; wait until it has
        for _ in range(600):
            state = http.call("GET", f"/v1/bodies/{body}/documents/{doc['document_id']}", SEC)
            if state["versions"][0]["state"] != "pending":
                break
            time.sleep(0.02)
    return doc["document_id"], digest


def first_meeting_replay(http: Http, body: str, sign) -> dict:
    """24 June 2019: 27 members, 21 in the room, 4 remote, 2 absent, 25 signed votes for, the resolution signed."""
    from app import app
    from chalicelib.adapters import local_events

    local_events.drain(app)  # the earlier phases' notifications, which `make run` would have sent already
    with pumping():
        return _replay(http, body, sign)


def _replay(http: Http, body: str, sign) -> dict:
    started = time.perf_counter()
    present = MEMBERS[:25]
    meeting, item, poll = meeting_with_poll(http, body, present, remote=present[21:25])
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda u: http.call("POST", f"/v1/bodies/{body}/polls/{poll}/votes", u,
                                          {"choice": "yes", "signature": sign(u, "vote", poll, "yes")}), present))
    http.call("POST", f"/v1/bodies/{body}/polls/{poll}/close", "thu-tuong")
    state = http.call("GET", f"/v1/bodies/{body}/polls/{poll}", "thu-tuong")
    document, digest = available_document(http, body, b"%PDF-1.4 Nghi quyet phien hop 24/6/2019\n")
    resolution = http.call("POST", f"/v1/bodies/{body}/resolutions", SEC,
                           {"title": "Nghị quyết phiên họp Chính phủ thường kỳ tháng 5 năm 2019",
                            "source": {"poll_id": poll}, "document_id": document})["resolution_id"]
    # The Prime Minister reviews the rendered PDF, signs its signed attributes on the tablet, and the server
    # embeds the signature, numbers, stamps and seals it (KMS) in one step.
    t0 = time.perf_counter()
    prepared = http.call("POST", f"/v1/bodies/{body}/resolutions/{resolution}/sign/prepare", "thu-tuong", {})
    t1 = time.perf_counter()
    value = sign.raw("thu-tuong", base64.b64decode(prepared["to_sign"]))
    act = sign("thu-tuong", "resolution_sign", resolution, digest)
    t2 = time.perf_counter()
    issued = http.call("POST", f"/v1/bodies/{body}/resolutions/{resolution}/sign", "thu-tuong",
                       {"signature": act, "pdf_signature": {"prepare_id": prepared["prepare_id"], "value": value}})
    t3 = time.perf_counter()
    http.call("POST", f"/v1/bodies/{body}/meetings/{meeting}/end", SEC)
    wall = time.perf_counter() - started
    assert state["tally"].get("yes") == 25 and state["outcome"]["passed"] and state["outcome"]["threshold"] == 14, state
    assert issued.get("document", {}).get("sha256"), issued
    return {"wall_s": wall, "number": issued.get("number"), "tally": state["tally"],
            "prepare_ms": (t1 - t0) * 1000, "issue_ms": (t3 - t2) * 1000}


# ---- the bench -----------------------------------------------------------------------------------------------

def main() -> int:
    shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(parents=True)
    moto_port = standin.free_port()
    moto = subprocess.Popen([PY, "-m", "tools.standin", str(moto_port)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, **standin.FAKE_KEYS})
    endpoint = moto.stdout.readline().decode().strip()
    outputs = standin.deploy(endpoint)
    env = standin.app_env(endpoint, outputs, STATE)
    env.update(standin.live_env(standin.free_port(), standin.free_port()))
    os.environ.update(env)
    from chalicelib.adapters.dev_ca import DevCA

    DevCA.load_or_create(STATE / "dev-ca")
    counter = CallCounter()
    from tools import seed

    body = seed.GOVERNMENT_ID
    seed.seed(body)
    seed.certify_demo_members(body)
    sign = signer(body)
    api_process, base = live.start_api(env)
    http = Http(base)
    results: dict = {"date": date.today().isoformat()}
    try:
        results["baseline"] = raw_baseline(outputs["TableName"])
        results["calls"] = calls_per_request(counter, body, sign)
        results["latency"] = latencies(http, body, sign, results["baseline"])
        results["throughput"] = throughput(http, body, sign)
        results["replay"] = first_meeting_replay(http, body, sign)
        results["scale"] = national_scale(counter, body)
        results["live"] = live_room(http, body, sign, results["baseline"])  # through the API, while it is up
        live.stop(api_process)  # its event pump would consume the exchange queue the next figure drains itself
        results["distribution"] = distribution(counter, body, results["baseline"])
    finally:
        live.stop(api_process, moto)
    results["cold_import"] = cold_import(env)
    results["cold_start"] = cold_start(env)
    results["package"] = package_size()
    results["idle"] = idle.idle_cpu()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(table(results))
    scans = [k for k, v in results["calls"].items() if v.get("scans")]
    if scans:
        print("FAIL: Scan on a request path:", ", ".join(scans))
        return 1
    return 0


def _web_constant(name: str) -> float:
    """A period the web client uses (web/src/config.js or web/src/live.js), so the bench follows the client."""
    import re

    for source in ("config.js", "live.js"):
        text = (ROOT / "web" / "src" / source).read_text()
        match = re.search(rf"const {name} = ([\d\s*]+);", text)
        if match:
            return float(eval(match.group(1), {"__builtins__": {}}))  # e.g. "5 * 60 * 1000"
    raise RuntimeError(f"{name} is not defined in web/src")


def live_room(http: Http, body: str, sign, baseline: dict, listeners: int = 27, idle_s: float = 20.0) -> dict:
    """The live room with 27 tablets: requests per idle tablet per minute, polling (the fallback, at the web
    client's periods) against the live connection (its keep-alive), both measured over the same idle window;
    and the lag from a vote's HTTP response to its tally message on the other 26 connections."""
    from app import app
    from chalicelib.adapters.local_events import StreamPump
    from tools.live_gateway import Gateway

    ws_port = int(os.environ["LIVE_URL"].rsplit(":", 1)[1])
    http_port = int(os.environ["LIVE_MANAGEMENT_URL"].rsplit(":", 1)[1])
    gateway = Gateway(app, ws_port, http_port).start()
    pump = StreamPump(app)
    pump.start()
    tablets = MEMBERS[:listeners]
    try:
        meeting, item, poll = meeting_with_poll(http, body, MEMBERS[:25])
        http.call("POST", f"/v1/bodies/{body}/meetings/{meeting}/items/{item}/start", SEC)
        m = f"/v1/bodies/{body}/meetings/{meeting}"
        # Polling: what each tablet of the web client asks while nothing happens (the open poll, the meeting,
        # the current item's speakers), at the client's periods, for the idle window.
        periods = {f"/v1/bodies/{body}/polls/{poll}": _web_constant("POLL_REFRESH_MS") / 1000,
                   m: _web_constant("MEETING_REFRESH_MS") / 1000,
                   f"{m}/items/{item}/speakers": _web_constant("MEETING_REFRESH_MS") / 1000}
        polled = Counter()

        def poll_like_the_client(user: str) -> None:
            import requests

            session, started = requests.Session(), time.monotonic()
            headers = {"Authorization": f"Bearer {http.token(user)}"}
            due = {path: started + period for path, period in periods.items()}
            while True:
                path, when = min(due.items(), key=lambda kv: kv[1])
                if when - started > idle_s:
                    return
                time.sleep(max(0.0, when - time.monotonic()))
                session.get(http.base + path, headers=headers)
                polled[user] += 1
                due[path] = when + periods[path]

        with concurrent.futures.ThreadPoolExecutor(listeners) as pool:
            list(pool.map(poll_like_the_client, tablets))
        polling_rate = sum(polled.values()) / listeners / (idle_s / 60)

        # Live: each tablet asks for a ticket, connects, and then sends only the keep-alive. The 27 tablets are
        # another process (as they are other devices), so listening does not compete with the gateway and the
        # consumer for this process's interpreter; CLOCK_MONOTONIC (perf_counter) is shared by both processes.
        urls = {user: http.call("GET", f"{m}/live", user)["url"] for user in tablets}
        seen: dict[tuple[str, int], float] = {}
        arrived = threading.Condition()
        tablets_process = subprocess.Popen([PY, "-m", "bench", "--listen", poll], cwd=ROOT, stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, text=True)
        tablets_process.stdin.write(json.dumps(urls) + "\n")
        tablets_process.stdin.flush()
        if tablets_process.stdout.readline().strip() != "ready":
            raise RuntimeError("the tablets did not all connect")

        def read_arrivals() -> None:
            for line in tablets_process.stdout:
                who, voted, at = line.split()
                with arrived:
                    seen.setdefault((who, int(voted)), float(at))
                    arrived.notify_all()

        threading.Thread(target=read_arrivals, daemon=True).start()
        keepalive_s = _web_constant("KEEPALIVE_MS") / 1000
        time.sleep(idle_s)  # nothing happens; a tablet would send a ping every keepalive_s
        sent_idle = int(idle_s // keepalive_s) * listeners
        measured_idle = (sent_idle + listeners) / listeners  # + the one ticket each, counted against the window
        # Over a connection's life (API Gateway's two hours): one ticket and a ping every keep-alive period.
        live_rate = 60 / keepalive_s + 1 / 120

        # Lag: 25 votes one after another; for each, the time from its response to the first message on every
        # other connection whose tally counts it.
        lags = []
        for n, user in enumerate(MEMBERS[:25], start=1):
            payload = {"choice": "yes", "signature": sign(user, "vote", poll, "yes")}
            http.call("POST", f"/v1/bodies/{body}/polls/{poll}/votes", user, payload)
            answered = time.perf_counter()
            others = [u for u in tablets if u != user]

            def first(u):
                return min((t for (who, voted), t in seen.items() if who == u and voted >= n), default=None)

            with arrived:
                if not arrived.wait_for(lambda: all(first(u) is not None for u in others), timeout=10):
                    raise RuntimeError(f"vote {n}: a tally message did not reach every other tablet")
                lags += [max(0.0, first(u) - answered) for u in others]
        tablets_process.terminate()
        tablets_process.wait(10)
    finally:
        pump.stop()
        gateway.stop()
    p50, p95 = pct(lags, 50) * 1000, pct(lags, 95) * 1000
    return {"listeners": listeners, "idle_window_s": idle_s, "polling_per_tablet_min": polling_rate,
            "live_per_tablet_min": live_rate, "live_in_window_per_tablet": measured_idle,
            "ratio_live_to_polling": live_rate / polling_rate, "lag_n": len(lags), "lag_p50_ms": p50,
            "lag_p95_ms": p95, "lag_p50_ratio": p50 / baseline["put_p50_ms"],
            "lag_p95_ratio": p95 / baseline["put_p50_ms"], "stream_poll_s": pump.interval}


def raw_baseline(table: str, n: int = 300) -> dict:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=standin.REGION)
    puts, gets = [], []
    for i in range(n):
        item = {"pk": {"S": f"BENCH#{i % 50}"}, "sk": {"S": f"RAW#{i}"}, "kind": {"S": "raw"}}
        t = time.perf_counter()
        client.put_item(TableName=table, Item=item)
        puts.append(time.perf_counter() - t)
        t = time.perf_counter()
        client.get_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]}, ConsistentRead=True)
        gets.append(time.perf_counter() - t)
    return {"put_p50_ms": pct(puts, 50) * 1000, "get_p50_ms": pct(gets, 50) * 1000}


def calls_per_request(counter: CallCounter, body: str, sign) -> dict:
    """AWS calls of one request of each endpoint class, through the app in this process."""
    from chalice.test import Client

    from app import app
    from chalicelib.adapters import identity

    client = Client(app, stage_name="local")

    def req(method, path, user, payload=None):
        headers = {"Authorization": f"Bearer {identity.issue_dev_token(user)}", "Content-Type": "application/json"}
        mark = counter.mark()
        started = time.perf_counter()
        response = client.http.request(method, path, headers=headers, body=json.dumps(payload).encode() if payload else b"")
        total = time.perf_counter() - started
        calls = counter.since(mark)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.body[:300]}")
        ops = Counter(f"{c[0]}.{c[1]}" for c in calls)
        in_aws = sum(c[4] for c in calls)
        return json.loads(response.body or b"{}"), {"calls": len(calls), "operations": dict(ops),
                                                    "scans": sum(1 for c in calls if c[1] == "Scan"),
                                                    "total_ms": total * 1000, "app_ms": (total - in_aws) * 1000}

    out = {}
    req("GET", f"/v1/bodies/{body}/roster", "bo-truong-03")  # warm-up: first-request imports and clients
    starts = (date.today() + timedelta(days=1)).isoformat() + "T09:00:00+07:00"
    meeting, out["meeting create"] = req("POST", f"/v1/bodies/{body}/meetings", SEC,
                                         {"title": "Đo đạc", "starts_at": starts, "location": "Hà Nội"})
    meeting = meeting["meeting_id"]
    item, _ = req("POST", f"/v1/bodies/{body}/meetings/{meeting}/items", SEC, {"title": "Mục", "document_ids": []})
    item = item["item_id"]
    _, out["attendance check-in"] = req("PUT", f"/v1/bodies/{body}/meetings/{meeting}/attendance/thu-tuong",
                                        "thu-tuong", {"mode": "in_room"})
    for user in MEMBERS[1:20]:  # quorum (18 of 27) before a poll may open
        req("PUT", f"/v1/bodies/{body}/meetings/{meeting}/attendance/{user}", user, {"mode": "in_room"})
    poll, _ = req("POST", f"/v1/bodies/{body}/meetings/{meeting}/items/{item}/polls", SEC, {"question": "Biểu quyết?"})
    poll = poll["poll_id"]
    _, out["poll open"] = req("POST", f"/v1/bodies/{body}/polls/{poll}/open", "thu-tuong")
    _, out["vote"] = req("POST", f"/v1/bodies/{body}/polls/{poll}/votes", "bo-truong-01",
                         {"choice": "yes", "signature": sign("bo-truong-01", "vote", poll, "yes")})
    _, out["poll read"] = req("GET", f"/v1/bodies/{body}/polls/{poll}", "thu-tuong")
    _, out["meeting read"] = req("GET", f"/v1/bodies/{body}/meetings/{meeting}", "bo-truong-02")
    _, out["poll close"] = req("POST", f"/v1/bodies/{body}/polls/{poll}/close", "thu-tuong")
    deadline = (date.today() + timedelta(days=3)).isoformat() + "T17:00:00+07:00"
    ballot, out["ballot create"] = req("POST", f"/v1/bodies/{body}/ballots", SEC, {
        "title": "Phiếu", "summary": "Tóm tắt", "questions": [{"question_id": "q1", "text": "Đồng ý?"}],
        "document_ids": [], "deadline": deadline})
    ballot = ballot["ballot_id"]
    req("POST", f"/v1/bodies/{body}/ballots/{ballot}/submit", SEC)
    req("POST", f"/v1/bodies/{body}/ballots/{ballot}/approve", "thu-tuong")
    _, out["ballot send"] = req("POST", f"/v1/bodies/{body}/ballots/{ballot}/send", SEC)
    answers = [{"question_id": "q1", "choice": "agree", "comment": "Nhất trí."}]
    _, out["ballot answer"] = req("POST", f"/v1/bodies/{body}/ballots/{ballot}/answers", "bo-truong-02",
                                  {"answers": answers, "signature": sign("bo-truong-02", "ballot_answer", ballot, answers)})
    _, out["ballot read"] = req("GET", f"/v1/bodies/{body}/ballots/{ballot}", SEC)
    _, out["roster read"] = req("GET", f"/v1/bodies/{body}/roster", "bo-truong-03")
    return out


def latencies(http: Http, body: str, sign, baseline: dict) -> dict:
    """p50/p95 of requests through the HTTP API (chalice local), as ratios to the raw PutItem/GetItem p50."""
    votes, answers, reads, links = [], [], [], []
    same_calls = None
    for _ in range(4):
        _, _, poll = meeting_with_poll(http, body, MEMBERS[:25])
        for user in MEMBERS[:25]:
            payload = {"choice": "yes", "signature": sign(user, "vote", poll, "yes")}
            t = time.perf_counter()
            http.call("POST", f"/v1/bodies/{body}/polls/{poll}/votes", user, payload)
            votes.append(time.perf_counter() - t)
        for _ in range(50):
            t = time.perf_counter()
            http.call("GET", f"/v1/bodies/{body}/polls/{poll}", "thu-tuong")
            reads.append(time.perf_counter() - t)
        same_calls = same_calls or raw_vote_calls(body, poll)
    for _ in range(4):
        ballot = open_ballot(http, body)
        for user in MEMBERS[:25]:
            content = [{"question_id": "q1", "choice": "agree", "comment": ""}]
            payload = {"answers": content, "signature": sign(user, "ballot_answer", ballot, content)}
            t = time.perf_counter()
            http.call("POST", f"/v1/bodies/{body}/ballots/{ballot}/answers", user, payload)
            answers.append(time.perf_counter() - t)
    document, _ = available_document(http, body, b"%PDF-1.4 ho so\n" * 100)
    for _ in range(100):
        t = time.perf_counter()
        http.call("GET", f"/v1/bodies/{body}/documents/{document}/download?version=1", "bo-truong-05")
        links.append(time.perf_counter() - t)
    put, get = baseline["put_p50_ms"], baseline["get_p50_ms"]
    out = {"vote's two calls, raw": same_calls}
    for name, samples, base in (("vote", votes, put), ("ballot answer", answers, put), ("poll read", reads, get),
                                ("document link", links, get)):
        p50, p95 = pct(samples, 50) * 1000, pct(samples, 95) * 1000
        out[name] = {"n": len(samples), "p50_ms": p50, "p95_ms": p95, "p50_ratio": p50 / base, "p95_ratio": p95 / base}
    return out


def raw_vote_calls(body: str, poll: str, n: int = 100) -> dict:
    """A vote's two AWS calls made raw against the stand-in with the same items (the poll and a member item with
    its certificate; a leaf of the same size under a not-exists condition and the poll's state check): what the
    stand-in itself costs for the calls a vote makes, measured in the same run."""
    import boto3

    table = os.environ["TABLE_NAME"]
    client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=standin.REGION)
    keys = [{"pk": {"S": f"BODY#{body}"}, "sk": {"S": f"POLL#{poll}"}},
            {"pk": {"S": f"BODY#{body}"}, "sk": {"S": "MEMBER#bo-truong-01"}}]
    leaf_pk = f"BODY#{body}#STREAM#{poll}"
    leaf = client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={
        ":p": {"S": leaf_pk}}, Limit=1)["Items"][0]
    samples = []
    for i in range(n):
        t = time.perf_counter()
        client.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {**leaf, "pk": {"S": "BENCH#RAW"}, "sk": {"S": uuid.uuid4().hex}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"ConditionCheck": {"TableName": table, "Key": keys[0], "ConditionExpression": "#s = :open",
                                "ExpressionAttributeNames": {"#s": "state"},
                                "ExpressionAttributeValues": {":open": {"S": "open"}}}}])
        samples.append(time.perf_counter() - t)
    return {"n": n, "p50_ms": pct(samples, 50) * 1000, "p95_ms": pct(samples, 95) * 1000}


def throughput(http: Http, body: str, sign, polls: int = 8, threads: int = 8) -> dict:
    """Signed votes per second sustained, signatures verified by the server, 8 clients at once."""
    jobs = []
    for _ in range(polls):
        _, _, poll = meeting_with_poll(http, body, MEMBERS[:25])
        jobs += [(poll, user, sign(user, "vote", poll, "yes")) for user in MEMBERS[:25]]
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda j: http.call("POST", f"/v1/bodies/{body}/polls/{j[0]}/votes", j[1],
                                          {"choice": "yes", "signature": j[2]}), jobs))
    wall = time.perf_counter() - started
    return {"votes": len(jobs), "wall_s": wall, "votes_per_s": len(jobs) / wall}


def national_scale(counter: CallCounter, body: str) -> dict:
    """1 central + 34 provincial + 3,321 commune bodies of 30 members voting at the same time, scaled down to
    what one machine runs: 24 bodies meet concurrently here. Writes per partition key are counted from the
    requests themselves; a key's rate does not depend on how many bodies run at once, because no key is shared
    between bodies (the per-key figure measured here holds at national scale)."""
    from chalice.test import Client

    from app import app
    from chalicelib.adapters import identity, store
    from chalicelib.domain import clock, signing
    from tools import seed

    client = Client(app, stage_name="local")
    bodies = []
    roster = [{"user_id": f"m{i:02d}", "name": f"Thành viên {i}", "role": "chair" if i == 0 else "member",
               "title": "Ủy viên", "term_start": date(2021, 1, 1)} for i in range(30)]
    roster.append({"user_id": "sec", "name": "Văn phòng", "role": "secretariat", "title": "Chuyên viên",
                   "term_start": date(2021, 1, 1)})
    from chalicelib.adapters.dev_ca import DevCA
    from chalicelib.services.context import Principal
    from chalicelib.services import signatures

    ca = DevCA.load_or_create(STATE / "dev-ca")
    keys = {}
    for b in range(24):
        body_id = f"xa-{b:04d}-{uuid.uuid4().hex[:4]}"
        seed.seed(body_id, f"UBND xã {b}", rows=roster, level="commune")
        for row in roster[:30]:
            key, cert = ca.issue(row["user_id"])
            signatures.register(Principal("platform-admin", True), body_id, row["user_id"], cert)
            keys[(body_id, row["user_id"])] = key
        bodies.append(body_id)

    def req(method, path, user, payload=None):
        headers = {"Authorization": f"Bearer {identity.issue_dev_token(user)}", "Content-Type": "application/json"}
        r = client.http.request(method, path, headers=headers, body=json.dumps(payload).encode() if payload else b"")
        if r.status_code >= 400:
            raise RuntimeError(f"{path}: {r.status_code} {r.body[:200]}")
        return json.loads(r.body or b"{}")

    polls = {}
    for body_id in bodies:
        starts = (date.today() + timedelta(days=1)).isoformat() + "T09:00:00+07:00"
        meeting = req("POST", f"/v1/bodies/{body_id}/meetings", "sec", {"title": "Họp", "starts_at": starts,
                                                                       "location": "Trụ sở"})["meeting_id"]
        item = req("POST", f"/v1/bodies/{body_id}/meetings/{meeting}/items", "sec", {"title": "Mục", "document_ids": []})["item_id"]
        req("POST", f"/v1/bodies/{body_id}/meetings/{meeting}/start", "sec")
        polls[body_id] = (meeting, item)

    retries_before = store.stats["chain_retries"]
    mark = counter.mark()
    started = time.perf_counter()

    def session(body_id):
        meeting, item = polls[body_id]
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda u: req("PUT", f"/v1/bodies/{body_id}/meetings/{meeting}/attendance/{u}", u,
                                        {"mode": "in_room"}), [r["user_id"] for r in roster[:30]]))
        poll = req("POST", f"/v1/bodies/{body_id}/meetings/{meeting}/items/{item}/polls", "sec", {"question": "?"})["poll_id"]
        req("POST", f"/v1/bodies/{body_id}/polls/{poll}/open", "m00")
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda u: req("POST", f"/v1/bodies/{body_id}/polls/{poll}/votes", u, {
                "choice": "yes", "signature": signing.sign_action(keys[(body_id, u)], "ES256", action="vote",
                                                                  body_id=body_id, target_id=poll, user_id=u,
                                                                  content="yes", signed_at=clock.iso(clock.now()))}),
                          [r["user_id"] for r in roster[:30]]))
        req("POST", f"/v1/bodies/{body_id}/polls/{poll}/close", "m00")

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(session, bodies))
    wall = time.perf_counter() - started
    writes = defaultdict(list)
    for service, operation, params, at, _took in counter.since(mark):
        if service != "dynamodb":
            continue
        keys_written = []
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            keys_written = [(params.get("Item") or params.get("Key"))["pk"]["S"]]
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                kind, op = next(iter(entry.items()))
                if kind != "ConditionCheck":
                    keys_written.append((op.get("Item") or op.get("Key"))["pk"]["S"])
        for pk in keys_written:
            writes[pk].append(at)
    # The highest number of writes any one partition key took within any one-second window.
    peak_key, peak = None, 0
    for pk, times in writes.items():
        times.sort()
        lo = 0
        for hi in range(len(times)):
            while times[hi] - times[lo] > 1.0:
                lo += 1
            if hi - lo + 1 > peak:
                peak_key, peak = pk, hi - lo + 1
    kind = peak_key.split("#")
    label = ("a poll's vote stream" if "STREAM" in kind else "a body's audit chain" if "AUDIT" in kind
             else "a meeting's partition" if "MEETING" in kind else "a body's partition")
    return {
        "bodies_simulated": len(bodies), "members_each": 30, "wall_s": wall,
        "keys_written": len(writes), "busiest_key": label, "busiest_key_writes_per_s": peak,
        "chain_retries_per_body": (store.stats["chain_retries"] - retries_before) / len(bodies),
        "national_bodies": 1 + 34 + 3321,
    }


def _writes_by_key(calls) -> dict[str, list[float]]:
    """When each partition key was written, from counted DynamoDB calls (transactions item by item)."""
    writes = defaultdict(list)
    for service, operation, params, at, _took in calls:
        if service != "dynamodb":
            continue
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            writes[(params.get("Item") or params.get("Key"))["pk"]["S"]].append(at)
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                kind, op = next(iter(entry.items()))
                if kind != "ConditionCheck":
                    writes[(op.get("Item") or op.get("Key"))["pk"]["S"]].append(at)
    return writes


def distribution(counter: CallCounter, government: str, baseline: dict, provinces: int = 34,
                 consumers: int = 4) -> dict:
    """A resolution of the Government distributed to its 34 provinces: the dispatches written and queued, then
    the exchange queue drained by `consumers` concurrent consumers (as Lambda would scale them out), each
    delivery a server-side copy and one transaction in the province's own partitions. Reports deliveries per
    second, a delivery's time as a multiple of a raw PutItem, and the busiest partition key."""
    from app import app
    from chalicelib.adapters import local_events
    from chalicelib.domain import ids
    from chalicelib.services import documents, exchange
    from tools import seed

    roster = [{"user_id": "chu-tich", "name": "Chủ tịch", "role": "chair", "title": "Chủ tịch UBND",
               "term_start": date(2021, 1, 1)},
              {"user_id": "van-phong", "name": "Văn phòng", "role": "secretariat", "title": "Chuyên viên",
               "term_start": date(2021, 1, 1), "email": "van-phong@example.gov.vn"}]
    names = [f"tinh-{n:02d}-{uuid.uuid4().hex[:4]}" for n in range(provinces)]
    for n, body_id in enumerate(names):
        seed.seed(body_id, f"Ủy ban nhân dân tỉnh {n + 1}", rows=roster, level="province", parent_id=government)
    content = b"%PDF-1.7\n" + "Nghị quyết của Chính phủ ".encode() * 20000  # about 0.5 MB
    doc = documents.create_generated(None, government, "vpcp-chuyen-vien", "Nghị quyết", "nghi-quyet.pdf",
                                     "application/pdf", content)
    resolution = {"resolution_id": ids.new_id("res"), "title": "Nghị quyết về phân cấp", "number": "01/NQ-CP",
                  "document_id": doc, "document_version": 1, "document_sha256": hashlib.sha256(content).hexdigest(),
                  "signed_at": None, "signer": {"user_id": "thu-tuong", "name": "Thủ tướng"},
                  "recipient_bodies": names}
    [(name, queue, batch)] = [q for q in local_events.queues(app) if q[0] == "deliver_exchange"]
    mark = counter.mark()
    started = time.perf_counter()
    exchange.dispatch_resolution(government, resolution)
    dispatched = time.perf_counter()

    def drain_worker(_n):
        while local_events.drain_once(app, name, queue, batch):
            pass

    with concurrent.futures.ThreadPoolExecutor(consumers) as pool:
        list(pool.map(drain_worker, range(consumers)))
    wall = time.perf_counter() - started
    delivered = sum(1 for b in names if exchange.inbox(_admin(), b, None, 50, None)["items"])
    writes = _writes_by_key(counter.since(mark))
    busiest, most = max(((k, len(v)) for k, v in writes.items()), key=lambda kv: kv[1])
    peak = 0
    for times in writes.values():
        times.sort()
        lo = 0
        for hi in range(len(times)):
            while times[hi] - times[lo] > 1.0:
                lo += 1
            peak = max(peak, hi - lo + 1)
    per_delivery_ms = wall * 1000 / max(delivered, 1) * consumers
    return {"provinces": provinces, "delivered": delivered, "consumers": consumers, "wall_s": wall,
            "dispatch_s": dispatched - started, "deliveries_per_s": delivered / wall,
            "delivery_ms": per_delivery_ms, "delivery_ratio_to_put": per_delivery_ms / baseline["put_p50_ms"],
            "document_bytes": len(content), "keys_written": len(writes), "busiest_key": _key_label(busiest),
            "busiest_key_writes": most, "busiest_key_writes_per_s": peak}


def _admin():
    from chalicelib.services.context import Principal

    return Principal("platform-admin", True)


def _key_label(pk: str) -> str:
    """A partition key named by what it holds (ids left out)."""
    parts = pk.split("#")
    if parts[0] == "BODY":
        return "a body's " + ({"OUTBOX": "outbox", "INBOX": "inbox", "AUDIT": "audit chain", "DOC": "document versions"}
                              .get(parts[2] if len(parts) > 2 else "", "partition"))
    return parts[0].lower()


def cold_import(env: dict, runs: int = 10) -> dict:
    """Median time of `import app` in a fresh process, against a fresh `python -c pass` in the same run."""
    def timed(code: str) -> float:
        t = time.perf_counter()
        subprocess.run([PY, "-c", code], cwd=ROOT, env={**os.environ, **env}, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t

    apps, bases = [], []
    for _ in range(runs):
        bases.append(timed("pass"))
        apps.append(timed("import app"))
    base, app_ms = statistics.median(bases) * 1000, statistics.median(apps) * 1000
    return {"import_app_ms": app_ms - base, "python_start_ms": base, "ratio_to_python_start": app_ms / base}


COLD_START = """
import json, sys, time
t0 = time.perf_counter()
import app
t1 = time.perf_counter()
event = {"resource": "/v1/health", "path": "/v1/health", "httpMethod": "GET", "headers": {},
         "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/v1/health", "httpMethod": "GET", "path": "/v1/health",
                            "stage": "v1", "requestId": "bench", "identity": {"sourceIp": "127.0.0.1"}}}
answer = app.app(event, None)
t2 = time.perf_counter()
import jwt, cryptography.x509  # what the first authenticated request imports (PyJWT, cryptography)
t3 = time.perf_counter()
print(json.dumps({"init_ms": (t1 - t0) * 1000, "first_request_ms": (t2 - t1) * 1000,
                  "token_libraries_ms": (t3 - t2) * 1000, "status": answer["statusCode"]}))
"""


def _python312() -> str | None:
    """A Python 3.12 interpreter that runs (pyenv's shims answer 127 for a version not selected)."""
    candidates = sorted(str(p) for p in (Path.home() / ".pyenv" / "versions").glob("3.12*/bin/python"))
    candidates += [c for c in (shutil.which("python3.12"),) if c]
    for candidate in candidates:
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def cold_start(env: dict, runs: int = 7) -> dict:
    """A Lambda cold start as the function pays it, in fresh processes: the init (`import app`, what Lambda runs
    before the first invocation), the first API request (/v1/health) and the token libraries the first
    authenticated request loads; medians, with a bare interpreter start of the same run as the ratio's base. Also
    with the packaged zip (make package) on python3.12, the functions' runtime, where that Python is here."""
    def measure(python: str, cwd: Path, extra_env: dict) -> dict:
        rows, bases = [], []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run([python, "-c", "pass"], cwd=cwd, check=True)
            bases.append((time.perf_counter() - t) * 1000)
            out = subprocess.run([python, "-c", COLD_START], cwd=cwd, env=extra_env, check=True, capture_output=True,
                                 text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
        base = statistics.median(bases)
        figures = {k: statistics.median(r[k] for r in rows) for k in ("init_ms", "first_request_ms", "token_libraries_ms")}
        total = sum(figures.values())
        return {**figures, "total_ms": total, "python_start_ms": base, "ratio_to_python_start": total / base}

    app_env = {**os.environ, **env, "XRAY": "off"}
    result = {"venv_python": measure(PY, ROOT, app_env)}
    zipped = ROOT / "build" / "package" / "prod" / "deployment.zip"
    python312 = _python312()
    if zipped.exists() and python312:
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(zipped) as archive:
                archive.extractall(tmp)
            lambda_env = {"PATH": os.environ.get("PATH", ""), "STAGE": "prod", "TABLE_NAME": "bench",
                          "BUCKET_NAME": "bench", "OIDC_ISSUER": "https://issuer.invalid", "OIDC_AUDIENCE": "bench",
                          "TRUST_ANCHORS_FILE": "chalicelib/trust/prod.pem", "XRAY": "off",
                          "AWS_DEFAULT_REGION": standin.REGION, "PYTHONDONTWRITEBYTECODE": "1"}
            result["lambda_zip_python312"] = measure(python312, Path(tmp), lambda_env)
    else:
        result["lambda_zip_python312"] = {"note": "make package STAGE=prod and a python3.12 are needed"}
    return result


def package_size() -> dict:
    """Size of the packaged Lambda zip (make package) if it was built; runtime requirements only."""
    for stage in ("prod", "dev"):
        zips = list((ROOT / "build" / "package" / stage).glob("*.zip"))
        if zips:
            z = zips[0]
            with zipfile.ZipFile(z) as archive:
                unzipped = sum(i.file_size for i in archive.infolist())
            return {"stage": stage, "zip_mb": z.stat().st_size / 2**20, "unzipped_mb": unzipped / 2**20}
    return {"note": "run `make package` first"}


def table(r: dict) -> str:
    lines = [f"e-Cabinet bench, {r['date']}",
             f"baseline: raw PutItem p50 {r['baseline']['put_p50_ms']:.2f} ms, raw GetItem p50 {r['baseline']['get_p50_ms']:.2f} ms",
             "", f"{'AWS calls per request':<22}{'calls':>6}{'app ms':>8}  operations (app ms: time outside AWS calls)"]
    for name, c in r["calls"].items():
        lines.append(f"{name:<22}{c['calls']:>6}{c['app_ms']:>8.1f}  {', '.join(f'{k}×{v}' for k, v in c['operations'].items())}"
                     + ("  SCAN!" if c["scans"] else ""))
    lines += ["", f"{'latency (HTTP)':<16}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'p50/raw':>9}{'p95/raw':>9}"]
    for name, l in r["latency"].items():
        if "p50_ratio" not in l:
            continue
        lines.append(f"{name:<16}{l['n']:>5}{l['p50_ms']:>9.1f}{l['p95_ms']:>9.1f}{l['p50_ratio']:>9.1f}{l['p95_ratio']:>9.1f}")
    vote_calls = r["calls"]["vote"]["calls"]
    raw2 = r["latency"]["vote's two calls, raw"]
    lines += ["", f"vote p50 target (calls+1) x raw PutItem p50 = {(vote_calls + 1) * r['baseline']['put_p50_ms']:.1f} ms; "
                  f"measured {r['latency']['vote']['p50_ms']:.1f} ms",
              f"the vote's own two calls made raw with the same items: p50 {raw2['p50_ms']:.1f} ms; the vote adds "
              f"{r['calls']['vote']['app_ms']:.1f} ms of its own (in process) and "
              f"{r['latency']['vote']['p50_ms'] - raw2['p50_ms']:.1f} ms over HTTP",
              f"signed votes per second (8 clients): {r['throughput']['votes_per_s']:.0f}",
              f"first-meeting replay (27 members, 25 votes, resolution issued as a signed PDF): "
              f"{r['replay']['wall_s']:.2f} s, number {r['replay']['number']}",
              f"resolution PDF (in the replay, over HTTP): prepare {r['replay']['prepare_ms']:.0f} ms "
              f"({r['replay']['prepare_ms'] / r['baseline']['put_p50_ms']:.0f}x raw PutItem: render, reserve the "
              f"signature), issue {r['replay']['issue_ms']:.0f} ms "
              f"({r['replay']['issue_ms'] / r['baseline']['put_p50_ms']:.0f}x raw PutItem: embed, number, stamp, "
              "KMS seal, store)",
              f"cold import of app.py: {r['cold_import']['import_app_ms']:.0f} ms over a bare interpreter start "
              f"({r['cold_import']['ratio_to_python_start']:.1f}x python start)"]
    for label, c in r.get("cold_start", {}).items():
        if "total_ms" in c:
            lines.append(f"cold start ({label}): init {c['init_ms']:.0f} ms + first request {c['first_request_ms']:.0f} ms "
                         f"+ token libraries {c['token_libraries_ms']:.0f} ms = {c['total_ms']:.0f} ms "
                         f"({c['ratio_to_python_start']:.1f}x python start)")
        else:
            lines.append(f"cold start ({label}): {c['note']}")
    p = r["package"]
    lines.append(f"package: {p['zip_mb']:.1f} MB zipped, {p['unzipped_mb']:.1f} MB unzipped ({p['stage']})" if "zip_mb" in p
                 else f"package: {p['note']}")
    i = r.get("idle", {})
    lines.append(f"idle `make run`: {100 * i['idle_core_share']:.1f} % of a core over {i['window_s']:.0f} s (goal < 3 %; a "
                 f"busy loop got {100 * i['busy_loop_core_share']:.0f} % in the same run)" if "idle_core_share" in i
                 else f"idle `make run`: {i.get('note', 'not measured')}")
    lv = r["live"]
    lines += [f"live room, {lv['listeners']} tablets: requests per idle tablet per minute {lv['live_per_tablet_min']:.2f} "
              f"on the live connection (a keep-alive every 5 min, a ticket per 2-hour connection; "
              f"{lv['live_in_window_per_tablet']:.0f} per tablet in the {lv['idle_window_s']:.0f} s idle window, the ticket) "
              f"vs {lv['polling_per_tablet_min']:.1f} polling (measured, same window): "
              f"{lv['ratio_live_to_polling']:.3f}x (goal <= 2 per minute)",
              f"live room lag, vote response -> tally message on the {lv['listeners'] - 1} other connections "
              f"(n {lv['lag_n']}, stream polled every {lv['stream_poll_s']:.2f} s as Lambda does): "
              f"p50 {lv['lag_p50_ms']:.0f} ms ({lv['lag_p50_ratio']:.0f}x raw PutItem), "
              f"p95 {lv['lag_p95_ms']:.0f} ms ({lv['lag_p95_ratio']:.0f}x)"]
    s = r["scale"]
    lines += [f"national scale ({s['bodies_simulated']} bodies x 30 members at once, standing for {s['national_bodies']}): "
              f"busiest partition key ({s['busiest_key']}) took at most {s['busiest_key_writes_per_s']} writes in one second "
              f"(limit 1000/s per partition, target < 200); chain retries per body {s['chain_retries_per_body']:.2f}"]
    d = r.get("distribution")
    if d:
        lines += [f"distribution of a Government resolution to {d['provinces']} provinces "
                  f"({d['document_bytes'] / 2**20:.1f} MB document, {d['consumers']} consumers): {d['delivered']} "
                  f"delivered in {d['wall_s']:.2f} s = {d['deliveries_per_s']:.1f} deliveries/s; one delivery "
                  f"{d['delivery_ms']:.0f} ms = {d['delivery_ratio_to_put']:.1f}x raw PutItem; busiest partition key "
                  f"({d['busiest_key']}) took {d['busiest_key_writes']} writes in all (at most "
                  f"{d['busiest_key_writes_per_s']} in one second), over {d['keys_written']} keys"]
    return "\n".join(lines)


def listen_main(poll: str) -> int:
    """`python -m bench --listen POLL`: the tablets of the live-room phase, in their own process. Reads
    {user: url} on stdin, connects them all, prints `ready`, then `user voted perf_counter` for each tally."""
    import asyncio

    from websockets.asyncio.client import connect

    urls = json.loads(sys.stdin.readline())
    connected = []

    async def listen(user: str, url: str) -> None:
        async with connect(url, open_timeout=60) as ws:
            connected.append(user)
            if len(connected) == len(urls):
                print("ready", flush=True)
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "poll" and msg.get("poll_id") == poll:
                    print(user, msg.get("voted", 0), time.perf_counter(), flush=True)

    async def all_of_them():
        await asyncio.gather(*(listen(u, url) for u, url in urls.items()))

    asyncio.run(all_of_them())
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--listen"]:
        sys.exit(listen_main(sys.argv[2]))
    sys.exit(main())
