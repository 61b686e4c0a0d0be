"""Builds the cloud deployment: infra/*.yaml merged into `chalice package`, with the Lambda zip's dependencies
taken from this virtualenv (runtime requirements only), so packaging needs no network.

    python -m tools.package --stage prod [--trust-anchors ca.pem]   # build/package/prod/{sam.json,deployment.zip}
    python -m tools.package --fetch-wheels          # only fetch the Lambda builds of native packages

Chalice builds its zip with `pip download`, which needs an index. Instead this tool writes the zip Chalice
caches under .chalice/deployments (same name, same layout, made by Chalice's own packager) from the
distributions requirements.txt resolves to in the virtualenv, and `chalice package` reuses it: pip is never
run (it is disabled in chalice's environment, and the tool checks that the cache was reused). The functions run
on Lambda's python3.12 (Amazon Linux 2023, glibc 2.34) whatever Python builds the package: a native package whose
installed build cannot load there (a cp311 extension, say) is taken from a wheelhouse of Lambda builds, which
packaging fills itself with `pip download` from the package registry the first time one is missing. The
dependencies are zipped once per set of sources and reused. A prod package needs at least one trust anchor."""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
OVERLAYS = ("resources.yaml", "functions.yaml", "cloud.yaml")
WHEELHOUSE = ROOT / "build" / "lambda-wheels"
RUNTIME = "python3.12"  # every function's runtime, set in the template whatever Python runs chalice
PYTHON_VERSION = "3.12"
ABI = "cp312"
GLIBC = (2, 34)  # Lambda's python3.12 runs on Amazon Linux 2023
MACHINE = "x86_64"
REGION = "ap-southeast-1"
# Markers of requirements evaluated for Lambda, not for this machine.
LAMBDA_MARKERS = {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux",
                  "platform_system": "Linux", "platform_machine": MACHINE, "os_name": "posix",
                  "implementation_name": "cpython", "platform_python_implementation": "CPython"}
# Settings the app validates when chalice imports it to discover its functions. They only let the import
# succeed; the deployed functions get the real values from the template (infra/functions.yaml).
IMPORT_ENV = {"TABLE_NAME": "packaging", "BUCKET_NAME": "packaging", "OIDC_ISSUER": "https://issuer.invalid",
              "OIDC_AUDIENCE": "packaging", "TRUST_ANCHORS_FILE": "packaging.pem", "XRAY": "off",
              "LOCAL_JWT_SECRET": "packaging",
              "TABLE_STREAM_ARN": "arn:aws:dynamodb:ap-southeast-1:000000000000:table/packaging/stream/packaging"}
SECTIONS = ("Parameters", "Conditions", "Mappings", "Globals", "Resources", "Outputs")
# Distributions a runtime requirement depends on that the app never imports on Lambda: left out of the zip to
# keep it lean (tests/unit/test_lean_package.py issues a signed PDF with them blocked).
LEFT_OUT = {"lxml": "pyHanko's XMP metadata, which signing a resolution does not write",
            "pillow": "fpdf2's raster images; a resolution has none"}
# Files not needed of a packaged distribution: fontTools' compiled accelerators (each has its pure-Python
# module beside it) and their C sources.
LEFT_OUT_FILES = re.compile(r"^fontTools/.*\.(so|c)$")
# botocore carries the models of every AWS service, most of its 28 MB: the zip keeps those the functions call
# (tests/integration/test_iam.py checks every service the suite's functions called against this list), and
# botocore's own top-level data (endpoints, partitions, retries).
BOTOCORE_SERVICES = frozenset({
    "apigatewaymanagementapi", "dynamodb", "dynamodbstreams", "events", "kms", "s3", "ses", "sns", "sqs",
    "sts",   # credentials where a role is assumed
    "xray",  # the X-Ray SDK's sampling rules
})


def left_out(path: str) -> bool:
    """Whether a file of a packaged distribution (its path inside the zip) stays out of the zip."""
    parts = path.split("/")
    if len(parts) > 3 and parts[:2] == ["botocore", "data"] and parts[2] not in BOTOCORE_SERVICES:
        return True
    return bool(LEFT_OUT_FILES.match(path))


class PackagingError(RuntimeError):
    """The template or the zip cannot be built as asked."""


@dataclass
class Result:
    out: Path
    template: dict
    zip_bytes: int
    unzipped_bytes: int
    not_lambda_builds: list[str] = field(default_factory=list)
    chalice_output: str = ""


# ---- templates ----

def load_yaml(path: Path) -> dict:
    """A CloudFormation YAML file with its short tags (!Ref, !Sub, !GetAtt, !If ...) as intrinsic functions."""
    from cfnlint.decode import cfn_yaml

    return json.loads(json.dumps(cfn_yaml.loads(path.read_text(), str(path))))


def merge_overlay(stage: str, names=OVERLAYS) -> dict:
    """infra/'s files as one merge template; a name defined twice is an error, not a silent override."""
    merged: dict = {"AWSTemplateFormatVersion": "2010-09-09"}
    for name in names:
        part = load_yaml(INFRA / name)
        for section in SECTIONS:
            for key, value in part.get(section, {}).items():
                target = merged.setdefault(section, {})
                if key in target:
                    raise PackagingError(f"{section}.{key} is defined in more than one infra file ({name})")
                target[key] = value
    merged["Description"] = f"e-Cabinet ({stage}): the app's functions and API, its data and alarms."
    stage_param = merged["Parameters"]["Stage"]
    stage_param["Default"] = stage
    stage_param["AllowedValues"] = [stage]  # a stage's package deploys that stage only
    for resource in merged["Resources"].values():  # a packaged stage is never local
        if resource.get("Condition") == "IsCloud":
            del resource["Condition"]
    # A cloud stack names its web app's origin (CORS, sign-in callbacks), over HTTPS; the default is local's.
    origin = merged["Parameters"]["WebOrigin"]
    origin.pop("Default", None)
    origin["AllowedPattern"] = "^https://[^/,*\\s]+$"
    return merged


# ---- what every function gets, whoever adds it: alarms, and an on-failure destination when it is scheduled ----

ALARMS = {"Errors": "raised an error (a failed invocation)", "Throttles": "was throttled (concurrency limit)"}
FAILURES_QUEUE = "ScheduledFailuresQueue"


def add_function_operations(template: dict) -> None:
    """An Errors and a Throttles alarm to the alert topic for every function, and for every scheduled function an
    EventInvokeConfig that sends a failed run to the scheduled failures queue: generated here from the functions
    Chalice packaged, so a new handler is covered without an edit of infra/."""
    resources = template["Resources"]
    for name, res in sorted(resources.items()):
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        for metric, meaning in ALARMS.items():
            resources[f"{name}{metric}Alarm"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "AlarmDescription": f"The function {name} {meaning}.",
                "Namespace": "AWS/Lambda", "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": name}}],
                "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlertsTopic"}], "OKActions": [{"Ref": "AlertsTopic"}]}}
        if any(e.get("Type") == "Schedule" for e in res["Properties"].get("Events", {}).values()):
            resources[f"{name}InvokeConfig"] = {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
                "FunctionName": {"Ref": name}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 2,
                "MaximumEventAgeInSeconds": 3600,
                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [FAILURES_QUEUE, "Arn"]}}}}}


# ---- dependencies from the virtualenv ----

def _platform_glibc(platform: str) -> tuple[int, int] | None:
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    match = re.fullmatch(r"(manylinux1|manylinux2010|manylinux2014)_(\w+)", platform)
    if match:
        return legacy[match.group(1)] if match.group(2) == MACHINE else None
    match = re.fullmatch(r"manylinux_(\d+)_(\d+)_(\w+)", platform)
    if match and match.group(3) == MACHINE:
        return int(match.group(1)), int(match.group(2))
    return None


def tag_runs_on_lambda(tag: str) -> bool:
    python, abi, platform = tag.split("-")
    if platform == "any":
        return True
    glibc = _platform_glibc(platform)
    if glibc is None or glibc > GLIBC:
        return False
    if abi == ABI:
        return True
    if abi == "abi3":
        minor = int(PYTHON_VERSION.split(".")[1])
        return any(re.fullmatch(r"cp3(\d+)", p) and int(p[3:]) <= minor for p in python.split("."))
    return abi == "none"


def _tags(wheel_text: str) -> list[str]:
    tags = []
    for line in wheel_text.splitlines():
        if line.startswith("Tag:"):
            python, abi, platforms = line.split(":", 1)[1].strip().split("-")
            tags += [f"{python}-{abi}-{p}" for p in platforms.split(".")]
    return tags


def runtime_distributions(requirements: Path):
    """The installed distributions requirements.txt needs on Lambda, with their dependencies."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pending = [(Requirement(line.split("#")[0].strip()), frozenset())
               for line in requirements.read_text().splitlines() if line.split("#")[0].strip()]
    found: dict = {}
    while pending:
        req, parent_extras = pending.pop()
        if req.marker and not any(req.marker.evaluate({**LAMBDA_MARKERS, "extra": e})
                                  for e in (parent_extras or {""})):
            continue
        name = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError as exc:
            raise PackagingError(f"{req.name} is required but not installed in this virtualenv "
                                 "(run `make test` once to install the requirements)") from exc
        if req.specifier and not req.specifier.contains(dist.version, prereleases=True):
            raise PackagingError(f"{req.name} {dist.version} is installed but {req} is required")
        known = found.get(name)
        extras = frozenset(req.extras) | (known[1] if known else frozenset())
        if known and known[1] == extras:
            continue
        found[name] = (dist, extras)
        for sub in dist.requires or []:
            pending.append((Requirement(sub), extras))
    return [dist for dist, _ in found.values()]


def _wheel_for(dist, wheelhouse: Path) -> Path | None:
    stem = re.sub(r"[-_.]+", "_", dist.metadata["Name"]).lower()
    for wheel in sorted(wheelhouse.glob("*.whl")) if wheelhouse.is_dir() else []:
        name, version, *rest = wheel.name[:-4].split("-")
        if re.sub(r"[-_.]+", "_", name).lower() != stem or version != dist.version:
            continue
        python, abi, platforms = rest[-3:]
        if any(tag_runs_on_lambda(f"{python}-{abi}-{p}") for p in platforms.split(".")):
            return wheel
    return None


@dataclass
class Dependencies:
    """What goes into the zip besides the app: (source file, path in zip) from the virtualenv, (wheel, member,
    path in zip) from the wheelhouse, and the native builds Lambda cannot load that were allowed anyway."""
    files: list = field(default_factory=list)
    wheel_members: list = field(default_factory=list)
    not_lambda_builds: list = field(default_factory=list)
    sources: list = field(default_factory=list)


def dependencies(requirements: Path, wheelhouse: Path, allow_host_wheels: bool, fetch: bool = True) -> Dependencies:
    """The zip's dependencies. A Lambda build missing from the wheelhouse is fetched (`fetch`), unless host builds
    are allowed (template checks, offline)."""
    if fetch and not allow_host_wheels:
        fetch_wheels(wheelhouse, requirements)
    deps, missing = Dependencies(), []
    for dist in sorted(runtime_distributions(requirements), key=lambda d: d.metadata["Name"].lower()):
        if dist.metadata["Name"].lower() in LEFT_OUT:
            continue
        label = f"{dist.metadata['Name']} {dist.version}"
        tags = _tags(dist.read_text("WHEEL") or "Tag: py3-none-any")
        wheel = None if any(tag_runs_on_lambda(t) for t in tags) else _wheel_for(dist, wheelhouse)
        if wheel is not None:
            deps.sources.append(f"{label} {wheel.name}")
            with zipfile.ZipFile(wheel) as archive:
                for name in archive.namelist():
                    parts = name.split("/")
                    if parts[0].endswith(".data"):
                        if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                            continue
                        parts = parts[2:]
                    if not name.endswith("/") and not left_out("/".join(parts)):
                        deps.wheel_members.append((wheel, name, "/".join(parts)))
            continue
        if not any(tag_runs_on_lambda(t) for t in tags):
            if not allow_host_wheels:
                missing.append(f"{label} (installed build: {', '.join(tags)})")
                continue
            deps.not_lambda_builds.append(f"{label} ({', '.join(tags)})")
        deps.sources.append(f"{label} venv {','.join(tags)}")
        for entry in dist.files or []:
            if entry.parts[0] == ".." or entry.suffix in (".pth", ".pyc"):
                continue  # console scripts and path hooks belong to the virtualenv; its bytecode to its Python
            if left_out(entry.as_posix()):
                continue
            source = Path(dist.locate_file(entry))
            if source.is_file():
                deps.files.append((source, entry.as_posix()))
    if missing:
        raise PackagingError(
            f"these packages are installed in a build Lambda's {RUNTIME} cannot load, and the wheelhouse "
            f"{wheelhouse} has no Lambda build of them:\n  " + "\n  ".join(missing)
            + "\nand they could not be fetched: check the connection to the package registry")
    return deps


def _dependencies_zip(deps: Dependencies) -> Path:
    """The dependencies alone, zipped once per set of sources (compressing them is most of packaging's time)."""
    import hashlib

    key = hashlib.sha256("\n".join([RUNTIME, LEFT_OUT_FILES.pattern, *sorted(BOTOCORE_SERVICES), "no-venv-bytecode",
                                     *deps.sources]).encode()).hexdigest()[:16]
    path = ROOT / "build" / "package" / ".dependencies" / f"{key}.zip"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob("*.zip"):
        stale.unlink()
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for source, name in deps.files:
            if not name.startswith("chalice/"):  # Chalice adds its own runtime part (app.py) itself
                out.write(source, name)
        opened: dict = {}
        for wheel, member, name in deps.wheel_members:
            archive = opened.setdefault(wheel, zipfile.ZipFile(wheel))
            out.writestr(name, archive.read(member))
        for archive in opened.values():
            archive.close()
    tmp.replace(path)
    return path


def chalice_runtime() -> str:
    """The runtime Chalice names its cached zip after (the Python running it), not the functions' runtime."""
    from chalice.config import Config

    return Config().lambda_python_version


def prebuild_zip(deps: Dependencies) -> Path:
    """Chalice's cached deployment zip for this project, under the name Chalice computes and with the app files
    Chalice's own packager adds, so `chalice package` reuses it instead of running pip."""
    from chalice.deploy.packager import LambdaDeploymentPackager
    from chalice.utils import UI, OSUtils

    packager = LambdaDeploymentPackager(OSUtils(), None, UI())
    path = Path(packager.deployment_package_filename(str(ROOT), chalice_runtime()))
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f"*-{chalice_runtime()}.zip"):
        stale.unlink()
    shutil.copyfile(_dependencies_zip(deps), path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        packager._add_app_files(archive, str(ROOT))
    return path


def fetch_wheels(wheelhouse: Path = WHEELHOUSE, requirements: Path = ROOT / "requirements.txt") -> list[str]:
    """Download (online, once) the Lambda builds of installed native packages that Lambda cannot load; nothing
    when the wheelhouse has them all. A failed download is reported by `dependencies`."""
    needed = []
    for dist in runtime_distributions(requirements):
        tags = _tags(dist.read_text("WHEEL") or "Tag: py3-none-any")
        if not any(tag_runs_on_lambda(t) for t in tags) and _wheel_for(dist, wheelhouse) is None:
            needed.append(f"{dist.metadata['Name']}=={dist.version}")
    if needed:
        wheelhouse.mkdir(parents=True, exist_ok=True)
        platforms = [f"manylinux_2_{minor}_{MACHINE}" for minor in range(GLIBC[1], 16, -1)]
        platforms.append(f"manylinux2014_{MACHINE}")
        command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--only-binary=:all:",
                   "--no-deps", "--implementation", "cp", "--python-version", PYTHON_VERSION, "--abi", ABI,
                   "--abi", "abi3", "-d", str(wheelhouse)]
        for platform in platforms:
            command += ["--platform", platform]
        print(f"package: fetching the Lambda ({RUNTIME}) builds of {', '.join(needed)}", file=sys.stderr)
        run = subprocess.run(command + needed, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stdout + run.stderr, file=sys.stderr)
    return needed


# ---- chalice package ----

def _offline_env(stage: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "AWS_ENDPOINT"))}
    env.update(IMPORT_ENV)
    env.setdefault("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", REGION))
    # If chalice ever reached for pip, it would find no index and no links: packaging stays offline.
    env.update({"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""})
    env["STAGE"] = stage
    return env


def queue_of(arn) -> str | None:
    """The logical id of the queue an event source's `Queue` names, if it is `!Sub "${Queue.Arn}"` alone."""
    if isinstance(arn, dict) and list(arn) == ["Fn::Sub"] and isinstance(arn["Fn::Sub"], str):
        match = re.fullmatch(r"\$\{(\w+)\.Arn\}", arn["Fn::Sub"])
        return match.group(1) if match else None
    return None


def check(template: dict) -> None:
    """What the merge must have produced; a function Chalice added without an overlay entry fails here."""
    resources = template["Resources"]
    roles = {k for k, v in resources.items() if v.get("Type") == "AWS::IAM::Role"}
    problems = [f"{k}: patched by infra/functions.yaml but not generated by the app (no Type)"
                for k, v in resources.items() if "Type" not in v]
    for key, res in resources.items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        if res["Properties"].get("Runtime") != RUNTIME:
            problems.append(f"{key}: runtime {res['Properties'].get('Runtime')}, not {RUNTIME}")
        role = res["Properties"].get("Role")
        if not (isinstance(role, dict) and role.get("Fn::GetAtt", [None])[0] in roles):
            problems.append(f"{key}: no role of its own in infra/functions.yaml (Role is {role!r})")
        statements = []
        if isinstance(role, dict) and role.get("Fn::GetAtt", [None])[0] in roles:
            for policy in resources[role["Fn::GetAtt"][0]]["Properties"].get("Policies", []):
                statements += policy["PolicyDocument"]["Statement"]
        scheduled = any(e.get("Type") == "Schedule" for e in res["Properties"].get("Events", {}).values())
        if scheduled and not any("sqs:SendMessage" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
                                 and s.get("Resource") == {"Fn::GetAtt": [FAILURES_QUEUE, "Arn"]}
                                 for s in statements):
            problems.append(f"{key}: a scheduled function whose role cannot send to its on-failure destination "
                            f"(add sqs:SendMessage on !GetAtt {FAILURES_QUEUE}.Arn in infra/functions.yaml)")
        for name, event in res["Properties"].get("Events", {}).items():
            if event.get("Type") == "SQS":
                props = event["Properties"]
                if "ReportBatchItemFailures" not in props.get("FunctionResponseTypes", []):
                    problems.append(f"{key}.{name}: no FunctionResponseTypes [ReportBatchItemFailures]")
                if queue_of(props.get("Queue")) not in resources:
                    problems.append(f"{key}.{name}: the queue is not this stack's (use !Sub \"${{<Queue>.Arn}}\")")
            if event.get("Type") == "DynamoDB":
                stream = event["Properties"].get("Stream")
                target = stream.get("Fn::GetAtt") if isinstance(stream, dict) else None
                if not (isinstance(target, list) and target[1:] == ["StreamArn"] and target[0] in resources):
                    problems.append(f"{key}.{name}: the stream is not this stack's table's (use !GetAtt <Table>.StreamArn)")
    if problems:
        raise PackagingError("the packaged template is incomplete:\n  " + "\n  ".join(problems))


def trust_anchor_count(pem: bytes) -> int:
    """How many CA certificates a PEM bundle holds (comments allowed); a malformed block is an error."""
    from cryptography import x509

    if b"-----BEGIN CERTIFICATE-----" not in pem:
        return 0
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise PackagingError(f"the trust anchor bundle cannot be read: {exc}") from exc
    return len(certificates)


def stage_anchors(stage: str) -> Path:
    """The bundle packaged for a stage (its TRUST_ANCHORS_FILE in .chalice/config.json)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    name = config["stages"][stage]["environment_variables"]["TRUST_ANCHORS_FILE"]
    return ROOT / name


def _replace_in_zip(archive: Path, name: str, data: bytes) -> None:
    tmp = archive.with_suffix(".tmp")
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info))
        dst.writestr(name, data)
    tmp.replace(archive)


def runtime_python() -> str | None:
    """An interpreter of the functions' Python version on this machine, if any (pyenv's shims answer 127 for a
    version that is not selected, so each candidate is tried)."""
    candidates = sorted(str(p) for p in (Path.home() / ".pyenv" / "versions").glob(f"{PYTHON_VERSION}*/bin/python"))
    candidates += [c for c in (shutil.which(f"python{PYTHON_VERSION}"),) if c]
    for candidate in candidates:
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def add_bytecode(archive: Path) -> bool:
    """Compile the zip's modules for the functions' Python and add the bytecode: Lambda's /var/task is read-only, so
    without it every cold start compiles every module it imports (measured by make bench). Unchecked-hash .pyc
    files, since a zip keeps source times to two seconds only. False when no such Python is here."""
    python = runtime_python()
    if python is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(archive) as src:
            src.extractall(tmp)
        subprocess.run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", tmp],
                       check=False, capture_output=True)
        staged = archive.with_suffix(".tmp")
        with zipfile.ZipFile(archive) as src, zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info, src.read(info))
            tag = f"cpython-{PYTHON_VERSION.replace('.', '')}"
            for pyc in sorted(Path(tmp).rglob(f"*.{tag}.pyc")):
                dst.write(pyc, pyc.relative_to(tmp).as_posix())
        staged.replace(archive)
    return True


def package(stage: str, out: Path | None = None, wheelhouse: Path = WHEELHOUSE,
            allow_host_wheels: bool = False, trust_anchors: Path | None = None) -> Result:
    """The stage's deployment. `trust_anchors` (a PEM bundle) replaces the stage's bundle in the zip; a prod
    package with no trust anchor is refused (every signature would be refused)."""
    anchors_file = stage_anchors(stage)
    try:
        anchors = Path(trust_anchors).read_bytes() if trust_anchors else anchors_file.read_bytes()
    except OSError as exc:
        raise PackagingError(f"the trust anchors cannot be read: {exc}") from None
    count = trust_anchor_count(anchors)
    if count == 0 and stage == "prod":
        raise PackagingError(
            f"no trust anchor: {trust_anchors or anchors_file.relative_to(ROOT)} holds no CA certificate, and a prod "
            "stack would refuse every signature. Pass the CA bundle: make package STAGE=prod TRUST_ANCHORS=<pem> "
            "(docs/DEPLOY.md, \"Trust anchors\")")
    if count == 0:
        print(f"package: WARNING {anchors_file.relative_to(ROOT)} holds no trust anchor: stage {stage} will refuse "
              "every signature", file=sys.stderr)
    out = Path(out or ROOT / "build" / "package" / stage)
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    deps = dependencies(ROOT / "requirements.txt", wheelhouse, allow_host_wheels)
    prebuild_zip(deps)
    with tempfile.TemporaryDirectory() as tmp:
        overlay = Path(tmp) / "overlay.json"
        overlay.write_text(json.dumps(merge_overlay(stage), indent=1))
        chalice = Path(sys.executable).with_name("chalice")
        command = [str(chalice) if chalice.exists() else "chalice", "--project-dir", str(ROOT), "package",
                   "--stage", stage, "--merge-template", str(overlay), str(out)]
        run = subprocess.run(command, cwd=ROOT, env=_offline_env(stage), capture_output=True, text=True)
    output = run.stdout + run.stderr
    if run.returncode != 0:
        raise PackagingError(f"chalice package failed:\n{output}")
    if "Reusing existing deployment package" not in output:
        raise PackagingError(f"chalice did not reuse the prebuilt zip (it may have run pip):\n{output}")
    template = json.loads((out / "sam.json").read_text())
    for res in template["Resources"].values():
        if res.get("Type") == "AWS::Serverless::Function":
            res["Properties"]["Runtime"] = RUNTIME  # Chalice names the Python that runs it
    add_function_operations(template)
    (out / "sam.json").write_text(json.dumps(template, indent=2))
    check(template)
    if trust_anchors:
        _replace_in_zip(out / "deployment.zip", anchors_file.relative_to(ROOT).as_posix(), anchors)
    if not allow_host_wheels and not add_bytecode(out / "deployment.zip"):
        print(f"package: WARNING no python{PYTHON_VERSION} here: the zip carries no bytecode, so each cold start "
              "compiles the modules it imports", file=sys.stderr)
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
        names = archive.namelist()
    dev_tools = sorted({n.split("/")[0] for n in names} & {"moto", "pytest", "_pytest", "hypothesis", "cfnlint",
                                                           "flask", "werkzeug", "chalice/cli"})
    if dev_tools:
        raise PackagingError(f"development tools ended up in the zip: {dev_tools}")
    return Result(out, template, (out / "deployment.zip").stat().st_size, unzipped, deps.not_lambda_builds,
                  output)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev", choices=("dev", "prod"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--wheelhouse", type=Path, default=WHEELHOUSE)
    parser.add_argument("--trust-anchors", type=Path, help="PEM bundle of the CAs members' certificates chain to "
                        "(default: the stage's chalicelib/trust/<stage>.pem)")
    parser.add_argument("--fetch-wheels", action="store_true", help="download Lambda builds (online), then stop")
    parser.add_argument("--allow-host-wheels", action="store_true",
                        help="package native builds Lambda cannot load (template checks only; not deployable)")
    args = parser.parse_args(argv)
    try:
        if args.fetch_wheels:
            needed = fetch_wheels(args.wheelhouse)
            print("fetched: " + ", ".join(needed) if needed else "the wheelhouse already has every Lambda build")
            return 0
        result = package(args.stage, args.out, args.wheelhouse, args.allow_host_wheels, args.trust_anchors)
    except PackagingError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 2
    functions = sorted(k for k, v in result.template["Resources"].items()
                       if v["Type"] == "AWS::Serverless::Function")
    print(f"{result.out / 'sam.json'}: {len(result.template['Resources'])} resources, functions {functions}")
    print(f"runtime {RUNTIME}")
    print(f"{result.out / 'deployment.zip'}: {result.zip_bytes / 1e6:.1f} MB zipped, "
          f"{result.unzipped_bytes / 1e6:.1f} MB unzipped")
    for line in result.not_lambda_builds:
        print(f"WARNING not a Lambda build, do not deploy this zip: {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
