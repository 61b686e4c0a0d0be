"""The Lambda zip leaves out what issuing a resolution never imports (tools/package.py LEFT_OUT, LEFT_OUT_FILES):
a resolution PDF is rendered, signed, sealed and validated with those imports blocked."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools import package

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r'''
import importlib.abc, importlib.machinery, sys
BLOCKED = {"lxml", "PIL"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("left out of the Lambda zip: " + name)
sys.meta_path.insert(0, Block())
# fontTools' compiled accelerators are left out too: load only its pure-Python modules.
class NoExtensions(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.startswith("fontTools."):
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec and spec.origin and spec.origin.endswith(".so"):
                py = importlib.machinery.PathFinder.find_spec(name, path)
                source = spec.origin.split(".cpython")[0] + ".py"
                return importlib.util.spec_from_file_location(name, source)
        return None
import importlib.util
sys.meta_path.insert(1, NoExtensions())

import tempfile
from pathlib import Path
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from chalicelib.adapters import pades, resolution_pdf
from chalicelib.adapters.dev_ca import DevCA

ca = DevCA.load_or_create(Path(tempfile.mkdtemp()))
key_pem, cert_pem = ca.issue("chair")
seal_pem, seal_cert = ca.issue("seal")
page = resolution_pdf.Content(body_name="ỦY BAN NHÂN DÂN TỈNH THỬ", parent_name=None, symbol="NQ-UBND",
    place="Thử", title="Quy hoạch", authority="ỦY BAN NHÂN DÂN TỈNH THỬ", bases=["Căn cứ ...;"],
    articles=[("Điều 1.", "Thông qua.")], recipients=["- Lưu: VT."], block=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"],
    signer_name="Chủ tọa")
r = resolution_pdf.render(page)
prep = pades.prepare(r.pdf, r.stamps, cert_pem=cert_pem, chain_pems=[ca.cert_pem], alg="ES256", name="x",
                     reason="x", location=None)
key = serialization.load_pem_private_key(key_pem.encode(), None)
signed = pades.embed(prep, key.sign(prep.signed_attrs, ec.ECDSA(hashes.SHA256())), cert_pem=cert_pem,
                     chain_pems=[ca.cert_pem], alg="ES256")
seal_key = serialization.load_pem_private_key(seal_pem.encode(), None)
out = pades.seal(signed, {"number": "01/NQ-UBND", "day": "01", "month": "7", "year": "2026"}, cert_pem=seal_cert,
                 chain_pems=[ca.cert_pem], sign=lambda m: seal_key.sign(m, ec.ECDSA(hashes.SHA256())), name="x",
                 location=None)
from io import BytesIO
from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
vc = ValidationContext(trust_roots=[x509.Certificate.load(pem.unarmor(ca.cert_pem.encode())[2])])
print(sorted(k for k, m in sys.modules.items() if k.startswith("fontTools") and str(getattr(m, "__file__", "")).endswith(".so")))
print([validate_pdf_signature(s, vc).bottom_line for s in PdfFileReader(BytesIO(out)).embedded_signatures])
'''


def test_a_resolution_pdf_is_issued_without_what_the_zip_leaves_out():
    assert {"lxml", "pillow"} <= set(package.LEFT_OUT)
    assert package.LEFT_OUT_FILES.match("fontTools/misc/bezierTools.cpython-311-x86_64-linux-gnu.so")
    assert package.left_out("fontTools/misc/bezierTools.c")
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    extensions, verdicts = done.stdout.strip().splitlines()[-2:]
    assert extensions == "[]"
    assert verdicts == "[True, True]"


def test_the_zip_keeps_botocores_own_data_and_the_models_of_the_services_the_functions_call():
    assert package.left_out("botocore/data/ec2/2016-11-15/service-2.json.gz")
    assert package.left_out("botocore/data/sagemaker/2017-07-24/paginators-1.json")
    for kept in ("botocore/data/dynamodb/2012-08-10/service-2.json.gz",
                 "botocore/data/kms/2014-11-01/service-2.json.gz", "botocore/data/endpoints.json", "botocore/data/partitions.json", "botocore/data/_retry.json",
                 "botocore/client.py", "boto3/data/s3/2006-03-01/resources-1.json"):
        assert not package.left_out(kept), kept
