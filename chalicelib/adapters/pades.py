"""PAdES signatures with pyHanko: the signer's signature in two steps (the signed attributes are prepared here,
signed on the signer's tablet, and embedded when they come back), then the body's seal in a revision of its
own that first stamps the number and the date into the form fields left for them.

Both are PAdES baseline B-B (ETSI.CAdES.detached, signing-certificate-v2), with the signer's certificate and
its chain in the CMS. The seal's key never leaves KMS: `RawSigner` is handed a function that signs the
signed attributes with ECDSA P-256 / SHA-256 (the KMS adapter's)."""
from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import Callable

from chalicelib.adapters.resolution_pdf import text_width_pt

SIGNER_FIELD = "ChuKyNguoiKy"   # the competent person's signature
SEAL_FIELD = "ChuKyCoQuan"      # the issuing body's signature (its seal)
STAMP_PREFIX = "DongDau_"       # the number and date fields: DongDau_number, DongDau_day, ...
STAMP_FONT_SIZE = 13
# Room for the CMS: a certificate chain of a few RSA certificates and the signature.
BYTES_RESERVED = 16384


@dataclass(frozen=True)
class Prepared:
    pdf: bytes              # the document with the signer's field and its reserved /Contents
    document_digest: bytes  # SHA-256 over the /ByteRange
    reserved_start: int
    reserved_end: int
    signed_attrs: bytes     # DER of the CMS signedAttrs (a SET OF): what the signer signs


def _run(coro):
    import asyncio  # on first use: the app's cold start never signs

    return asyncio.run(coro)


def _certs(cert_pem: str, chain_pems: list[str]):
    from asn1crypto import pem, x509 as asn1_x509

    def load(text: str):
        data = text.encode() if isinstance(text, str) else text
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        return asn1_x509.Certificate.load(data)

    return load(cert_pem), [load(c) for c in chain_pems]


def _mechanism(alg: str):
    from asn1crypto import algos

    name = {"ES256": "sha256_ecdsa", "RS256": "sha256_rsa"}[alg]
    return algos.SignedDigestAlgorithm({"algorithm": name})


def _registry(chain):
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return SimpleCertificateStore.from_certs(chain)


def _meta(field_name: str, name: str | None, reason: str | None, location: str | None):
    from pyhanko.sign import fields, signers

    return signers.PdfSignatureMetadata(field_name=field_name, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES, name=name, reason=reason,
                                        location=location)


def _add_stamp_fields(writer, stamps: dict[str, tuple[int, list[float]]]) -> None:
    """Empty, read-only text fields where the number and the date will be stamped."""
    from pyhanko.pdf_utils import generic

    root = writer.root
    if "/AcroForm" not in root:
        root["/AcroForm"] = writer.add_object(generic.DictionaryObject({"/Fields": generic.ArrayObject()}))
        writer.update_root()
    form = root["/AcroForm"]
    fields_array = form["/Fields"]
    font = writer.add_object(generic.DictionaryObject({
        "/Type": generic.pdf_name("/Font"), "/Subtype": generic.pdf_name("/Type1"),
        "/BaseFont": generic.pdf_name("/Times-Roman"), "/Encoding": generic.pdf_name("/WinAnsiEncoding")}))
    form["/DR"] = generic.DictionaryObject({"/Font": generic.DictionaryObject({"/TiRo": font})})
    form["/DA"] = generic.pdf_string(f"/TiRo {STAMP_FONT_SIZE} Tf 0 g")
    for name, (page_index, rect) in stamps.items():
        page_ref, _ = writer.find_page_for_modification(page_index)
        page = page_ref.get_object()
        widget = generic.DictionaryObject({
            "/Type": generic.pdf_name("/Annot"), "/Subtype": generic.pdf_name("/Widget"),
            "/FT": generic.pdf_name("/Tx"), "/T": generic.pdf_string(STAMP_PREFIX + name),
            "/Rect": generic.ArrayObject(generic.FloatObject(v) for v in rect),
            "/F": generic.NumberObject(4), "/Ff": generic.NumberObject(1),
            "/Q": generic.NumberObject(0 if name == "number" else 1),
            "/DA": generic.pdf_string(f"/TiRo {STAMP_FONT_SIZE} Tf 0 g"), "/P": page_ref,
        })
        ref = writer.add_object(widget)
        annots = page.get("/Annots")
        if annots is None:
            page["/Annots"] = generic.ArrayObject([ref])
        else:
            annots.get_object().append(ref)
        writer.update_container(page)
        fields_array.append(ref)
    writer.update_container(fields_array)
    writer.mark_update(root.raw_get("/AcroForm"))


def prepare(pdf: bytes, stamps: dict, *, cert_pem: str, chain_pems: list[str], alg: str, name: str,
            reason: str, location: str | None) -> Prepared:
    """The document with the stamp fields and the signer's signature field, its digest, and the signed
    attributes for the signer's certificate."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    cert, chain = _certs(cert_pem, chain_pems)
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    _add_stamp_fields(writer, stamps)
    placeholder = bytes(72 if alg == "ES256" else (cert.public_key.bit_size + 7) // 8)
    ext = signers.ExternalSigner(cert, _registry(chain), signature_value=placeholder,
                                 signature_mechanism=_mechanism(alg))
    pdf_signer = signers.PdfSigner(_meta(SIGNER_FIELD, name, reason, location), signer=ext)

    async def go():
        digest, _tbs, output = await pdf_signer.async_digest_doc_for_signing(writer, bytes_reserved=BYTES_RESERVED)
        attrs = await ext.signed_attrs(digest.document_digest, "sha256", use_pades=True)
        return digest, output, attrs

    digest, output, attrs = _run(go())
    return Prepared(pdf=output.getvalue(), document_digest=digest.document_digest,
                    reserved_start=digest.reserved_region_start, reserved_end=digest.reserved_region_end,
                    signed_attrs=attrs.dump())


def embed(prepared: Prepared, signature_der: bytes, *, cert_pem: str, chain_pems: list[str], alg: str) -> bytes:
    """The prepared document with the signer's CMS (over the prepared signed attributes) in its place."""
    from asn1crypto import cms
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.signers.pdf_signer import PdfTBSDocument

    cert, chain = _certs(cert_pem, chain_pems)
    ext = signers.ExternalSigner(cert, _registry(chain), signature_value=signature_der,
                                 signature_mechanism=_mechanism(alg))
    attrs = cms.CMSAttributes.load(prepared.signed_attrs)
    output = BytesIO(prepared.pdf)
    digest = PreparedByteRangeDigest(prepared.document_digest, prepared.reserved_start, prepared.reserved_end)

    async def go():
        sig_cms = await ext.async_sign_prescribed_attributes("sha256", signed_attrs=attrs)
        await PdfTBSDocument.async_finish_signing(output, digest, sig_cms)

    _run(go())
    return output.getvalue()


def _stamp_appearance(writer, text: str, rect, centred: bool) -> object:
    from pyhanko.pdf_utils import generic

    width, height = float(rect[2]) - float(rect[0]), float(rect[3]) - float(rect[1])
    x = max((width - text_width_pt(text, STAMP_FONT_SIZE)) / 2, 0) if centred else 1.0
    y = (height - STAMP_FONT_SIZE * 0.7) / 2
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = (f"/Tx BMC q BT /TiRo {STAMP_FONT_SIZE} Tf 0 g {x:.2f} {y:.2f} Td ({escaped}) Tj ET Q EMC"
               ).encode("latin-1")
    font = writer.root["/AcroForm"]["/DR"]["/Font"].raw_get("/TiRo")
    stream = generic.StreamObject({
        "/Type": generic.pdf_name("/XObject"), "/Subtype": generic.pdf_name("/Form"),
        "/BBox": generic.ArrayObject([generic.FloatObject(0), generic.FloatObject(0), generic.FloatObject(width),
                                      generic.FloatObject(height)]),
        "/Resources": generic.DictionaryObject({"/Font": generic.DictionaryObject({"/TiRo": font})}),
    }, stream_data=content)
    return writer.add_object(stream)


class RawSigner:
    """A pyHanko signer whose raw signature comes from `sign(message) -> DER ECDSA P-256 / SHA-256 signature`."""

    def __new__(cls, cert, chain, sign: Callable[[bytes], bytes]):
        from pyhanko.sign import signers

        class _Signer(signers.Signer):
            async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
                if dry_run:
                    return bytes(72)
                return sign(data)

        return _Signer(signing_cert=cert, cert_registry=_registry(chain), signature_mechanism=_mechanism("ES256"))


def seal(pdf: bytes, stamps: dict[str, str], *, cert_pem: str, chain_pems: list[str],
         sign: Callable[[bytes], bytes], name: str, location: str | None) -> bytes:
    """A new revision of the signed document: the stamp fields filled (`stamps`: number, day, month, year),
    then the body's seal signature over the whole of it."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    cert, chain = _certs(cert_pem, chain_pems)
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    for ref in writer.root["/AcroForm"]["/Fields"]:
        widget = ref.get_object()
        title = str(widget.get("/T", ""))
        if not title.startswith(STAMP_PREFIX) or title[len(STAMP_PREFIX):] not in stamps:
            continue
        name = title[len(STAMP_PREFIX):]
        text = stamps[name]
        widget["/V"] = generic.pdf_string(text)
        # The number follows «Số:»; the day, month and year sit centred in their gaps of the date line.
        widget["/AP"] = generic.DictionaryObject({"/N": _stamp_appearance(writer, text, widget["/Rect"],
                                                                           centred=name != "number")})
        writer.update_container(widget)
    signer = RawSigner(cert, chain, sign)
    pdf_signer = signers.PdfSigner(_meta(SEAL_FIELD, name, "Ban hành", location), signer=signer)
    out = _run(pdf_signer.async_sign_pdf(writer, bytes_reserved=BYTES_RESERVED))
    return out.getvalue()


def signer_certificate_der(cert_pem: str) -> bytes:
    cert, _ = _certs(cert_pem, [])
    return cert.dump()
