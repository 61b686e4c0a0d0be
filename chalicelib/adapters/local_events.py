"""What Lambda and EventBridge do in the cloud, done locally: run the app's scheduled functions, feed its SQS
queues and the table's DynamoDB stream to their consumers, discovered from the app's own registrations (stage
local and tests only)."""
from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass

from chalice.app import DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig

from chalicelib.adapters import aws

log = logging.getLogger("ecabinet.pump")


@dataclass
class _Context:
    function_name: str
    aws_request_id: str = ""
    memory_limit_in_mb: int = 512

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def schedules(app) -> list[tuple[str, float]]:
    """(handler name, period in seconds) of every scheduled function the app registers."""
    out = []
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            out.append((source.name, _period(text)))
    return out


def queues(app) -> list[tuple[str, str, int]]:
    """(handler name, queue name, batch size) of every SQS consumer the app registers."""
    return [(s.name, s.queue, s.batch_size) for s in app.event_sources if isinstance(s, SQSEventConfig)]


def _period(expression: str) -> float:
    match = re.match(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if not match:
        return 300.0  # cron expressions are run every five minutes locally
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def run_scheduled(app, name: str) -> object:
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "region": aws.session().region_name, "resources": [], "detail": {}}
    return app.handler_map[name](event, _Context(name, event["id"]))


_queue_refs: dict[str, tuple[str, str]] = {}


def queue_ref(queue: str) -> tuple[str, str]:
    """(url, arn) of a queue, asked once per process."""
    if queue not in _queue_refs:
        sqs = aws.client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        _queue_refs[queue] = (url, arn)
    return _queue_refs[queue]


def drain_once(app, name: str, queue: str, batch_size: int, wait: int = 0, cancelled=None) -> int:
    """Deliver one batch; delete what succeeded, make failed messages visible again at once. Returns how many
    messages were received. `wait` > 0 long-polls (an idle queue costs one request per `wait` seconds); a batch
    received after `cancelled` was set is handed back to the queue untouched."""
    sqs = aws.client("sqs")
    url, arn = queue_ref(queue)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(batch_size, 10), WaitTimeSeconds=wait,
                              AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
    if not got:
        return 0
    if cancelled is not None and cancelled.is_set():
        for message in got:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        return 0
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": arn,
                "awsRegion": aws.session().region_name} for m in got]
    try:
        result = app.handler_map[name]({"Records": records}, _Context(name, str(uuid.uuid4())))
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    except Exception:  # the whole batch failed, as Lambda would report it
        log.exception("consumer %s failed", name)
        failed = {r["messageId"] for r in records}
    for message in got:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return len(got)


def in_queue(queue: str) -> int:
    """Messages waiting in a queue or being handled by a consumer somewhere (received, not yet deleted)."""
    url, _ = queue_ref(queue)
    attrs = aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                      "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return sum(int(v) for v in attrs.values())


def visible_in_queue(queue: str) -> int:
    """Messages waiting in a queue that no consumer holds."""
    url, _ = queue_ref(queue)
    attrs = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def drain(app, max_batches: int = 200, settle_seconds: float = 15.0) -> dict:
    """Feed every queue to its consumer until every queue is empty, what the consumers enqueue themselves
    included, and no message is still being handled elsewhere (the event pump of `make run` consumes the same
    queues). Failed messages are retried until the queue's redrive policy moves them to the dead-letter queue.
    Bounded: at most `max_batches` batches per queue and `settle_seconds` of waiting for others' messages.
    Returns how many messages each consumer handled here."""
    counts = {name: 0 for name, _, _ in queues(app)}
    deadline = time.monotonic() + settle_seconds
    while True:
        moved = 0
        for name, queue, batch in queues(app):
            while counts[name] < max_batches * batch:
                n = drain_once(app, name, queue, batch)
                if not n:
                    break
                counts[name] += n
                moved += n
        if moved:
            continue  # a consumer may have queued more for another consumer: another round
        busy = [queue for _, queue, _ in queues(app) if in_queue(queue)]
        if not busy or time.monotonic() >= deadline:
            if busy:
                log.warning("drain stopped with messages still in flight on %s", ", ".join(busy))
            return counts
        # Someone else holds messages: wait (long-polling) for them to finish or come back.
        for name, queue, batch in queues(app):
            if queue in busy:
                counts[name] += drain_once(app, name, queue, batch, wait=1)


def tick(app) -> dict:
    """Every scheduled function once, then every queue drained: what `POST /v1/dev/tick` does."""
    handled = drain(app)
    ran = []
    for name, _period_s in schedules(app):
        run_scheduled(app, name)
        ran.append(name)
    for name, count in drain(app).items():
        handled[name] += count
    ran += list(handled)
    return {"ran": ran, "handled": handled}


class Pump:
    """Runs beside `chalice local`: scheduled functions on their periods, each queue long-polled by a thread of
    its own, so an idle stack waits instead of polling."""

    WAIT = 5  # seconds a receive waits for a message; also how long stop() may take to be noticed

    def __init__(self, app):
        self.app = app
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._schedules, daemon=True, name="event-pump-schedules")]
        for name, queue, batch in queues(app):
            self.threads.append(threading.Thread(target=self._consume, args=(name, queue, batch), daemon=True,
                                                 name=f"event-pump-{name}"))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _schedules(self) -> None:
        periods = dict(schedules(self.app))
        due = {name: time.monotonic() for name in periods}
        while not self.stopping.is_set():
            for name, when in due.items():
                if time.monotonic() >= when:
                    try:
                        run_scheduled(self.app, name)
                    except Exception:
                        log.exception("scheduled %s failed", name)
                    due[name] = time.monotonic() + periods[name]
            self.stopping.wait(max(0.0, min(due.values()) - time.monotonic()) if due else None)

    def _consume(self, name: str, queue: str, batch: int) -> None:
        while not self.stopping.is_set():
            try:
                drain_once(self.app, name, queue, batch, wait=self.WAIT, cancelled=self.stopping)
            except Exception:
                if self.stopping.is_set():
                    return  # the stand-in went away with us
                log.exception("queue %s failed", queue)
                self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()

    def join(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            thread.join(timeout)

def stream_consumers(app) -> list[tuple[str, str, int]]:
    """(handler name, stream ARN, batch size) of every DynamoDB stream consumer the app registers."""
    return [(s.name, s.stream_arn, s.batch_size) for s in app.event_sources if isinstance(s, DynamoDBEventConfig)]


class StreamPump(threading.Thread):
    """Lambda's poller of a DynamoDB stream: reads the stand-in's stream from its latest record on (as the
    mapping's LATEST starting position does) and hands each batch to the consumer, in order. Lambda polls a
    shard four times a second; this polls every `interval` seconds while idle."""

    def __init__(self, app, interval: float = 0.25, writes=None):
        super().__init__(daemon=True, name="stream-pump")
        self.app = app
        self.interval = interval
        # `writes()`, where given, moves whenever the table may have changed: while it stands still the stream
        # has nothing new and is not asked (an idle `make run` then costs nothing).
        self.writes = writes
        self._seen_writes = None
        self.stopping = threading.Event()
        self.delivered = 0
        self._iterators: dict[str, str] = {}
        for name, arn, _batch in stream_consumers(app):  # positioned now: changes from here on are delivered
            self._iterators[name] = self._latest(arn)

    @staticmethod
    def _latest(arn: str) -> str:
        streams = aws.client("dynamodbstreams")
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][-1]["ShardId"]
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]

    def poll_once(self) -> int:
        streams = aws.client("dynamodbstreams")
        got = 0
        for name, arn, batch in stream_consumers(self.app):
            answer = streams.get_records(ShardIterator=self._iterators[name], Limit=batch)
            self._iterators[name] = answer["NextShardIterator"]
            records = [_lambda_record(r, arn) for r in answer.get("Records", [])]
            if not records:
                continue
            got += len(records)
            try:
                self.app.handler_map[name]({"Records": records}, _Context(name, str(uuid.uuid4())))
                self.delivered += len(records)
            except Exception:  # Lambda would retry the batch; a live push is stale by then, so it is dropped
                log.exception("stream consumer %s failed", name)
        return got

    def run(self) -> None:
        while not self.stopping.is_set():
            if self.writes is not None:
                now_writes = self.writes()
                if now_writes == self._seen_writes:
                    self.stopping.wait(self.interval)
                    continue
                self._seen_writes = now_writes
            try:
                busy = self.poll_once()
            except Exception:
                log.exception("stream poll failed")
                busy = 0
            if busy:
                self._seen_writes = None  # a full batch may have left more behind: read again before waiting
            else:
                self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(10)


def _lambda_record(record: dict, arn: str) -> dict:
    """A record as Lambda delivers it: creation time in epoch seconds, the stream's ARN."""
    body = dict(record.get("dynamodb", {}))
    when = body.get("ApproximateCreationDateTime")
    if hasattr(when, "timestamp"):
        body["ApproximateCreationDateTime"] = when.timestamp()
    return {**record, "dynamodb": body, "eventSourceARN": arn, "awsRegion": aws.session().region_name}
