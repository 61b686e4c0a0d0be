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


def drain_once(app, name: str, queue: str, batch_size: int, wait: int = 0) -> int:
    """Deliver one batch; delete what succeeded, make failed messages visible again at once. Returns how many
    messages were received."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(batch_size, 10), WaitTimeSeconds=wait,
                              AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
    if not got:
        return 0
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
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


def drain(app, max_batches: int = 200) -> dict:
    """Feed every queue to its consumer until the queues are empty (failed messages are retried until the
    queue's redrive policy moves them to the dead-letter queue)."""
    counts = {}
    for name, queue, batch in queues(app):
        total = 0
        for _ in range(max_batches):
            n = drain_once(app, name, queue, batch)
            if not n:
                break
            total += n
        counts[name] = total
    return counts


def tick(app) -> list[str]:
    """Every scheduled function once, then every queue drained: what `POST /v1/dev/tick` does."""
    ran = []
    drain(app)
    for name, _period_s in schedules(app):
        run_scheduled(app, name)
        ran.append(name)
    for name, count in drain(app).items():
        ran.append(name)
    return ran


class Pump(threading.Thread):
    """Runs beside `chalice local`: scheduled functions on their periods, queues polled continuously."""

    def __init__(self, app):
        super().__init__(daemon=True, name="event-pump")
        self.app = app
        self.stopping = threading.Event()

    def run(self) -> None:
        due = {name: time.monotonic() for name, _ in schedules(self.app)}
        periods = dict(schedules(self.app))
        while not self.stopping.is_set():
            for name, when in due.items():
                if time.monotonic() >= when:
                    try:
                        run_scheduled(self.app, name)
                    except Exception:
                        log.exception("scheduled %s failed", name)
                    due[name] = time.monotonic() + periods[name]
            busy = False
            for name, queue, batch in queues(self.app):
                try:
                    busy |= bool(drain_once(self.app, name, queue, batch))
                except Exception:
                    log.exception("queue %s failed", queue)
            if not busy:
                self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()


def stream_consumers(app) -> list[tuple[str, str, int]]:
    """(handler name, stream ARN, batch size) of every DynamoDB stream consumer the app registers."""
    return [(s.name, s.stream_arn, s.batch_size) for s in app.event_sources if isinstance(s, DynamoDBEventConfig)]


class StreamPump(threading.Thread):
    """Lambda's poller of a DynamoDB stream: reads the stand-in's stream from its latest record on (as the
    mapping's LATEST starting position does) and hands each batch to the consumer, in order. Lambda polls a
    shard four times a second; this polls every `interval` seconds while idle."""

    def __init__(self, app, interval: float = 0.25):
        super().__init__(daemon=True, name="stream-pump")
        self.app = app
        self.interval = interval
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
            try:
                busy = self.poll_once()
            except Exception:
                log.exception("stream poll failed")
                busy = 0
            if not busy:
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
