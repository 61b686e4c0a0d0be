"""IAM proven by the tests themselves: every AWS action each Lambda function performs while the suite runs is
recorded by a botocore event hook, attributed to the function whose handler is running, and checked against
the policy of that function's role in the packaged template.

Attribution follows the packaged template: a function's `Handler` is `app.app` for every API route (they all
run in the API handler function) and `<module>.<function>` for a scheduled function, a queue consumer or any
other event handler the app registers (Chalice gives each its own function). A handler is "running" while
Chalice's entry point for it is on the stack of the calling thread (contextvars), so the calls of a test's own
setup, of the seeding tools and of the stand-in are not anyone's.

A transaction is authorised per item, as DynamoDB does it: TransactWriteItems needs dynamodb:PutItem,
UpdateItem, DeleteItem or ConditionCheckItem for each of its operations, TransactGetItems dynamodb:GetItem."""
from __future__ import annotations

import contextvars
import fnmatch
import re
import threading
from collections import defaultdict

API_HANDLER = "app.app"
TRANSACT_WRITE = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                  "ConditionCheck": "ConditionCheckItem"}
# Resource types of the template and the IAM service prefix of their ARNs (for the loose resource check).
RESOURCE_SERVICE = {"AWS::DynamoDB::Table": "dynamodb", "AWS::S3::Bucket": "s3", "AWS::SQS::Queue": "sqs",
                    "AWS::SNS::Topic": "sns", "AWS::KMS::Key": "kms", "AWS::Logs::LogGroup": "logs",
                    "AWS::KMS::Alias": "kms", "AWS::Lambda::Function": "lambda",
                    "AWS::Serverless::Function": "lambda", "AWS::Events::EventBus": "events"}

# Calls only stage local makes (setting up the stand-in), never made in the cloud: not a role's business.
# chalicelib/adapters/senders.py: the stand-in has no verified sender; services/seals.py: stage local makes a
# body's seal key itself, where in the cloud an operator creates and tags it (docs/DEPLOY.md).
LOCAL_ONLY = {"ses:VerifyEmailIdentity", "kms:CreateKey"}

# What Lambda's SQS event source mapping does with the consumer's role (the local pump also looks the queue's URL
# up and makes failed messages visible again at once, which the mapping does not).
MAPPING_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
PUMP = "pump:"

_running: contextvars.ContextVar[str | None] = contextvars.ContextVar("lambda_handler", default=None)
_lock = threading.Lock()
# handler -> IAM action -> the operations (service.Operation) that needed it, for the report
RECORDED: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
_installed = False


# Operations whose IAM action has another name (batch calls need the single action; listing is ListBucket).
IAM_ACTION = {("s3", "ListObjectsV2"): ["s3:ListBucket"], ("s3", "ListObjects"): ["s3:ListBucket"],
              ("s3", "ListObjectVersions"): ["s3:ListBucketVersions"], ("s3", "HeadObject"): ["s3:GetObject"],
              ("s3", "CopyObject"): ["s3:GetObject", "s3:PutObject"],
              ("sqs", "SendMessageBatch"): ["sqs:SendMessage"], ("sqs", "DeleteMessageBatch"): ["sqs:DeleteMessage"],
              ("sqs", "ChangeMessageVisibilityBatch"): ["sqs:ChangeMessageVisibility"]}
# Stage local's own bookkeeping (POST /v1/dev/tick waiting for the queues to settle): no function's call.
LOCAL = "local:"


def actions_of(service: str, operation: str, params: dict) -> list[str]:
    """The IAM actions one API call needs."""
    if (service, operation) in IAM_ACTION:
        return IAM_ACTION[(service, operation)]
    if service == "dynamodb" and operation == "TransactWriteItems":
        return sorted({f"dynamodb:{TRANSACT_WRITE[kind]}" for item in params.get("TransactItems", [])
                       for kind in item if kind in TRANSACT_WRITE})
    if service == "dynamodb" and operation == "TransactGetItems":
        return ["dynamodb:GetItem"]
    return [f"{service}:{operation}"]


def _record(params=None, model=None, **_):
    handler = _running.get()
    if handler is None or model is None or handler.startswith(LOCAL):
        return
    service = model.service_model.signing_name or model.service_model.endpoint_prefix
    actions = set(actions_of(service, model.name, params or {})) - LOCAL_ONLY
    if handler.startswith(PUMP):
        handler, actions = handler[len(PUMP):], actions & MAPPING_ACTIONS
    for action in actions:
        with _lock:
            RECORDED[handler][action].add(f"{model.service_model.service_name}.{model.name}")


def running(handler: str, call, *args, **kwargs):
    token = _running.set(handler)
    try:
        return call(*args, **kwargs)
    finally:
        _running.reset(token)


def install() -> None:
    """Hook every botocore client created from now on (boto3's and PynamoDB's sessions alike), and mark the
    Lambda entry points of Chalice (the REST API and every event source handler)."""
    global _installed
    if _installed:
        return
    _installed = True
    import botocore.session
    from chalice import app as chalice_app

    create_client = botocore.session.Session.create_client

    def hooked_create_client(self, *args, **kwargs):
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", _record, unique_id="ecabinet-iam-recorder")
        return client

    botocore.session.Session.create_client = hooked_create_client

    rest_call = chalice_app.Chalice.__call__
    chalice_app.Chalice.__call__ = lambda self, event, context: running(API_HANDLER, rest_call, self, event,
                                                                          context)
    for cls in (chalice_app.EventSourceHandler, chalice_app.WebsocketEventSourceHandler):
        original = cls.__dict__["__call__"]

        def call(self, event, context, _original=original):
            handler = f"{self.func.__module__}.{self.func.__name__}"
            if _running.get() == handler:  # a subclass's __call__ already marked it
                return _original(self, event, context)
            # Also inside another handler (stage local's POST /v1/dev/tick runs the scheduled functions and
            # consumers within an API request): in the cloud each runs as its own function.
            return running(handler, _original, self, event, context)

        cls.__call__ = call

    # The local event pump polls the queues as Lambda's event source mapping does in the cloud, where the mapping
    # uses the consumer's role: its receive, delete and attribute calls are the consumer function's.
    from chalicelib.adapters import local_events

    drain_once = local_events.drain_once

    def attributed_drain_once(app, name, *args, **kwargs):
        func = app.handler_map[name].func
        return running(f"{PUMP}{func.__module__}.{func.__name__}", drain_once, app, name, *args, **kwargs)

    local_events.drain_once = attributed_drain_once
    drain = local_events.drain
    local_events.drain = lambda app, *args, **kwargs: running(f"{LOCAL}drain", drain, app, *args, **kwargs)


# ---- the template's side ----

def _as_list(value):
    return value if isinstance(value, list) else [value]


def functions(template: dict) -> dict[str, str]:
    """Handler -> logical id of its function."""
    return {f["Properties"]["Handler"]: name for name, f in template["Resources"].items()
            if f["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")}


def role_statements(template: dict, function: str) -> tuple[str | None, list[dict]]:
    """The role a function runs as and the statements of its inline policies."""
    role = template["Resources"][function]["Properties"].get("Role")
    if not (isinstance(role, dict) and "Fn::GetAtt" in role):
        return None, []
    name = role["Fn::GetAtt"][0]
    resource = template["Resources"].get(name)
    if not resource or resource["Type"] != "AWS::IAM::Role":
        return None, []
    statements = []
    for policy in resource["Properties"].get("Policies", []):
        statements += _as_list(policy["PolicyDocument"]["Statement"])
    return name, statements


def _resource_services(template: dict, node) -> set[str]:
    """The IAM services a statement's Resource names ("*" for any), read loosely from ARNs and references."""
    out: set[str] = set()
    for item in _as_list(node):
        if item == "*":
            out.add("*")
        elif isinstance(item, str):
            parts = re.sub(r"\$\{[^}]*\}", "x", item).split(":")
            out.add(parts[2] if len(parts) > 2 and parts[0] == "arn" else "*")
        elif isinstance(item, dict) and "Fn::GetAtt" in item:
            kind = template["Resources"].get(item["Fn::GetAtt"][0], {}).get("Type")
            out.add(RESOURCE_SERVICE.get(kind, "*"))
        elif isinstance(item, dict) and "Fn::Sub" in item:
            text = item["Fn::Sub"] if isinstance(item["Fn::Sub"], str) else item["Fn::Sub"][0]
            if text.startswith("arn:"):
                out.add(re.sub(r"\$\{[^}]*\}", "x", text).split(":")[2])  # ${AWS::Partition} holds colons
            else:
                refs = re.findall(r"\$\{(\w+)\.Arn\}", text)
                kinds = {RESOURCE_SERVICE.get(template["Resources"].get(r, {}).get("Type"), "*") for r in refs}
                out |= kinds or {"*"}
        else:
            out.add("*")  # an Fn::If or Ref: do not guess
    return out


def _matches(patterns, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in _as_list(patterns))


def allowed(template: dict, statements: list[dict], action: str) -> bool:
    """Whether the statements allow the action on a resource of its service (conditions are not evaluated)."""
    service = action.split(":")[0]

    def applies(statement) -> bool:
        if "Action" in statement and not _matches(statement["Action"], action):
            return False
        if "NotAction" in statement and _matches(statement["NotAction"], action):
            return False
        if "NotResource" in statement:
            return True
        services = _resource_services(template, statement.get("Resource", []))
        return "*" in services or service in services

    if any(s.get("Effect") == "Deny" and applies(s) and "Condition" not in s for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and applies(s) for s in statements)


def problems(template: dict, recorded: dict[str, dict[str, set[str]]]) -> list[str]:
    """What a recorded run performed that the template would refuse, one clear line each."""
    by_handler = functions(template)
    out = []
    for handler, acts in sorted(recorded.items()):
        function = by_handler.get(handler)
        if function is None:
            out.append(f"handler {handler} performed {sorted(acts)} but the packaged template has no function "
                       f"with Handler {handler} (known: {sorted(by_handler)})")
            continue
        role, statements = role_statements(template, function)
        if role is None:
            out.append(f"{function} ({handler}) has no role of its own in the template "
                       "(add one in infra/functions.yaml)")
            continue
        for action in sorted(acts):
            if not allowed(template, statements, action):
                ops = ", ".join(sorted(acts[action]))
                out.append(f"{function} ({handler}) performed {action} (by {ops}) but its role {role} "
                           "does not allow it (infra/functions.yaml)")
    return out


def snapshot() -> dict[str, dict[str, set[str]]]:
    with _lock:
        return {h: {a: set(o) for a, o in acts.items()} for h, acts in RECORDED.items()}
