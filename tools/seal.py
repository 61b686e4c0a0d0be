"""The issuing body's seal (chữ ký số của cơ quan): a certificate request made with the seal's KMS key, and the
installation of the certificate the national CA returns (docs/DEPLOY.md, "The body's seal").

    python -m tools.seal csr --key-id KEY --name "ỦY BAN NHÂN DÂN TỈNH X" [--org ...] > seal.csr
    python -m tools.seal install --body BODY --key-id KEY --cert seal.pem --chain ca.pem

The private key never leaves KMS: the request is signed by KMS (ECDSA P-256, SHA-256)."""
from __future__ import annotations

import argparse
import sys


def make_csr(key_id: str, common_name: str, organization: str | None = None, country: str = "VN") -> str:
    """A PKCS#10 request (PEM) for the KMS key, signed inside KMS."""
    from asn1crypto import algos, csr, keys, pem, x509

    from chalicelib.adapters import kms

    subject = {"country_name": country, "organization_name": organization or common_name,
               "common_name": common_name}
    info = csr.CertificationRequestInfo({
        "version": "v1", "subject": x509.Name.build(subject),
        "subject_pk_info": keys.PublicKeyInfo.load(kms.public_key_der(key_id)), "attributes": []})
    request = csr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        "signature": kms.sign(key_id, info.dump())})
    return pem.armor("CERTIFICATE REQUEST", request.dump()).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.seal")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("csr", help="a certificate request signed by the seal's KMS key")
    c.add_argument("--key-id", required=True)
    c.add_argument("--name", required=True, help="the body's name as the certificate shall carry it")
    c.add_argument("--org")
    i = sub.add_parser("install", help="record the seal's key and certificate for a body")
    i.add_argument("--body", required=True)
    i.add_argument("--key-id", required=True)
    i.add_argument("--cert", required=True)
    i.add_argument("--chain", action="append", default=[])
    args = parser.parse_args(argv)
    if args.command == "csr":
        sys.stdout.write(make_csr(args.key_id, args.name, args.org))
        return 0
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from chalicelib.adapters import kms
    from chalicelib.services import seals

    cert_pem = open(args.cert, encoding="ascii").read()
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    kms_key = serialization.load_der_public_key(kms.public_key_der(args.key_id))
    if cert.public_key() != kms_key:
        print("The certificate is not for this KMS key.", file=sys.stderr)
        return 1
    seals.install(args.body, args.key_id, cert_pem, [open(p, encoding="ascii").read() for p in args.chain],
                  actor="operator:tools.seal")
    print(f"seal installed for {args.body}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
