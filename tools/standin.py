"""The embedded AWS stand-in: moto's server on 127.0.0.1, the resources created from infra/ through its
CloudFormation, and the environment the app needs to use them. Used by `make run`, the tests and the bench."""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "resources.yaml"
REGION = "ap-southeast-1"
STACK = "ecabinet-local"
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION,
             "AWS_REGION": REGION}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(port: int | None = None):
    """moto's server in this process (a thread), bound to loopback only."""
    os.environ.update({k: os.environ.get(k, v) for k, v in FAKE_KEYS.items()})
    from moto.server import ThreadedMotoServer

    from tools import standin_patches

    standin_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call drowns the API's own log
    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def _client(service: str, endpoint: str):
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="local",
                        aws_secret_access_key="local")


# moto's CloudFormation has no AWS::SQS::QueuePolicy (the policy that lets S3 notify the documents queue); moto's
# SQS enforces no policy, so locally nothing is missing. Only that known notice is dropped: moto's notice about
# any other resource type of infra/resources.yaml still shows.
KNOWN_UNSUPPORTED = ("AWS::SQS::QueuePolicy",)


class _KnownUnsupported(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.msg == "No Moto CloudFormation support for %s" and record.args
                    and record.args[0] in KNOWN_UNSUPPORTED)


def quiet_known_notices() -> None:
    """Silence the stand-in's notices about what this loader already accounts for (idempotent)."""
    moto_log = logging.getLogger("moto")
    if not any(isinstance(f, _KnownUnsupported) for f in moto_log.filters):
        moto_log.addFilter(_KnownUnsupported())
    for kind in KNOWN_UNSUPPORTED:
        warnings.filterwarnings("ignore", category=UserWarning,
                                message=f"Tried to parse {re.escape(kind)} but it's not supported")


def deploy(endpoint: str, stage: str = "local") -> dict:
    """Create (once) the stack of infra/resources.yaml and return its outputs by name."""
    quiet_known_notices()
    cf = _client("cloudformation", endpoint)
    try:
        stack = cf.describe_stacks(StackName=STACK)["Stacks"][0]
    except cf.exceptions.ClientError:
        cf.create_stack(StackName=STACK, TemplateBody=TEMPLATE.read_text(),
                        Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}])
        stack = cf.describe_stacks(StackName=STACK)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"local stack failed: {stack['StackStatus']} {stack.get('StackStatusReason')}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    _complete(endpoint, outputs)
    _checkpoint_key(endpoint, outputs)
    return outputs


def _complete(endpoint: str, outputs: dict) -> None:
    """What moto's CloudFormation records but does not apply (TTL, the bucket's CORS rules and queue
    notification), applied from the same template's values."""
    ddb = _client("dynamodb", endpoint)
    ttl = ddb.describe_time_to_live(TableName=outputs["TableName"])["TimeToLiveDescription"]
    if ttl["TimeToLiveStatus"] != "ENABLED":
        ddb.update_time_to_live(TableName=outputs["TableName"],
                                TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True})
    s3 = _client("s3", endpoint)
    rules = _template()["Resources"]["DocumentsBucket"]["Properties"].get("CorsConfiguration", {}).get("CorsRules")
    if rules:
        s3.put_bucket_cors(Bucket=outputs["BucketName"], CORSConfiguration={"CORSRules": [
            {"AllowedMethods": r["AllowedMethods"], "AllowedOrigins": _local(r["AllowedOrigins"]),
             "AllowedHeaders": r.get("AllowedHeaders", []), "ExposeHeaders": r.get("ExposedHeaders", []),
             "MaxAgeSeconds": r.get("MaxAge", 0)} for r in rules]})
    config = s3.get_bucket_notification_configuration(Bucket=outputs["BucketName"])
    if not config.get("QueueConfigurations"):
        sqs = _client("sqs", endpoint)
        url = sqs.get_queue_url(QueueName=outputs["DocumentsQueueName"])["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(Bucket=outputs["BucketName"], NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})


def _checkpoint_key(endpoint: str, outputs: dict) -> None:
    """moto's CloudFormation creates every KMS key symmetric and records, without applying, a bucket's Object
    Lock: the checkpoint key is made again here with the template's KeySpec and KeyUsage (tagged, so a second
    deploy on the same stand-in finds it). Object Lock itself is not applied by moto; the packaged template's
    test checks that the cloud bucket has it."""
    props = _template()["Resources"]["CheckpointKey"]["Properties"]
    kms = _client("kms", endpoint)
    for key in kms.list_keys()["Keys"]:
        tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
        if {"TagKey": "ecabinet", "TagValue": "checkpoint"} in tags:
            outputs["CheckpointKeyId"] = key["KeyId"]
            return
    made = kms.create_key(Description=props["Description"], KeySpec=props["KeySpec"], KeyUsage=props["KeyUsage"],
                          Tags=[{"TagKey": "ecabinet", "TagValue": "checkpoint"}])
    outputs["CheckpointKeyId"] = made["KeyMetadata"]["KeyId"]


def _local(value):
    """A template value as stage local decides it (an `!If [IsLocal, local, cloud]` takes its first branch)."""
    if isinstance(value, dict) and list(value) == ["Fn::If"] and value["Fn::If"][0] == "IsLocal":
        return value["Fn::If"][1]
    return value


def _template() -> dict:
    """infra/resources.yaml as data (CloudFormation's short tags understood)."""
    from cfnlint.decode import decode_str

    template, problems = decode_str(TEMPLATE.read_text())
    if problems:
        raise RuntimeError(f"infra/resources.yaml does not parse: {problems}")
    return template


def app_env(endpoint: str, outputs: dict, state_dir: Path, stage: str = "local") -> dict:
    """The environment the app reads its settings from, for this stand-in."""
    state_dir.mkdir(parents=True, exist_ok=True)
    secret_file = state_dir / "jwt-secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    env = dict(FAKE_KEYS)
    env.update({
        "STAGE": stage,
        "AWS_ENDPOINT_URL": endpoint,
        "TABLE_NAME": outputs["TableName"],
        "BUCKET_NAME": outputs["BucketName"],
        "NOTIFICATIONS_QUEUE": outputs["NotificationsQueueName"],
        "DOCUMENTS_QUEUE": outputs["DocumentsQueueName"],
        "EXCHANGE_QUEUE": outputs["ExchangeQueueName"],
        "EVENT_BUS": outputs["EventBusName"],
        "DATA_KEY_ID": outputs["DataKeyId"],
        "TABLE_STREAM_ARN": outputs["TableStreamArn"],
        "LIVE_TICKET_KEY_ID": outputs["LiveTicketKeyId"],
        "CHECKPOINT_KEY_ID": outputs["CheckpointKeyId"],
        "CHECKPOINTS_BUCKET": outputs["CheckpointsBucketName"],
        "LOCAL_JWT_SECRET": secret_file.read_text().strip(),
        "LOCAL_STATE_DIR": str(state_dir),
        "TRUST_ANCHORS_FILE": str(state_dir / "dev-ca" / "ca-cert.pem"),
        "XRAY": "off",
    })
    return env


def live_env(ws_port: int, management_port: int) -> dict:
    """Where the local WebSocket gateway (tools/live_gateway.py) listens: the URL tickets carry and the management
    API's endpoint the app posts live messages to."""
    return {"LIVE_URL": f"ws://127.0.0.1:{ws_port}", "LIVE_MANAGEMENT_URL": f"http://127.0.0.1:{management_port}"}


def snapshot(endpoint: str, outputs: dict, path: Path) -> None:
    """Save the table's items and the bucket's objects so local data survives a restart of `make run`."""
    import base64

    ddb = _client("dynamodb", endpoint)
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=outputs["TableName"]):
        items.extend(page["Items"])
    s3 = _client("s3", endpoint)
    objects = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=outputs["BucketName"]):
        for version in page.get("Versions", []):
            obj = s3.get_object(Bucket=outputs["BucketName"], Key=version["Key"], VersionId=version["VersionId"])
            objects.append({"key": version["Key"], "content_type": obj.get("ContentType"),
                            "body": base64.b64encode(obj["Body"].read()).decode()})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"items": items, "objects": objects}))
    tmp.replace(path)


def restore(endpoint: str, outputs: dict, path: Path) -> bool:
    import base64

    if not path.exists():
        return False
    saved = json.loads(path.read_text())
    ddb = _client("dynamodb", endpoint)
    for item in saved["items"]:
        ddb.put_item(TableName=outputs["TableName"], Item=item)
    s3 = _client("s3", endpoint)
    for obj in saved["objects"]:
        # Restored quietly: the documents queue must not see these as new uploads.
        s3.put_object(Bucket=outputs["BucketName"], Key=obj["key"], Body=base64.b64decode(obj["body"]),
                      ContentType=obj.get("content_type") or "application/octet-stream")
    sqs = _client("sqs", endpoint)
    sqs.purge_queue(QueueUrl=sqs.get_queue_url(QueueName=outputs["DocumentsQueueName"])["QueueUrl"])
    return True


def serve(port: int) -> None:
    """moto's server (with the stand-in patches) in its own process, until killed: `python -m tools.standin PORT`."""
    import threading

    server, endpoint = start_moto(port)
    print(endpoint, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    import sys

    serve(int(sys.argv[1]))
