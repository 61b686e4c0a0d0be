// A resolution: the draft with its document; the chair reviews the rendered PDF and signs it (on a phone too);
// once issued, everyone reads the signed PDF with its number.
import { useState } from 'preact/hooks';
import { api, bodyPath, enc, newIdempotencyKey } from '../api.js';
import { BODY_ID } from '../config.js';
import { fromBase64, signAction, signBytes } from '../signing.js';
import { getDocument, loadDocumentBytes } from '../documents.js';
import { RESOLUTION_STATES, fmtDateTime } from '../format.js';
import { useRoster } from '../roster.js';
import { Dossier } from '../components/Dossier.jsx';
import { PdfViewer } from '../components/PdfViewer.jsx';
import { useAsync, useSession, Problem, Loading, PageTitle, Badge, ConfirmDialog, Receipt } from '../components/ui.jsx';

/** The SHA-256 to sign: computed from the bytes the chair can read, checked against the declared one. */
async function documentHash(res) {
  // The resolution names the exact version it was drafted on; fall back to the newest available one.
  const meta = await getDocument(res.document_id).catch(() => null);
  const available = (meta?.versions || []).filter((v) => v.state === 'available').at(-1);
  const version = res.document_version ?? available?.version;
  const declared = res.document_sha256 || available?.sha256 || null;
  const doc = await loadDocumentBytes(res.document_id, version).catch(() => ({}));
  if (doc.sha256) {
    if (declared && declared.toLowerCase() !== doc.sha256) {
      throw new Error('Mã băm của văn bản tải về không khớp với văn bản đã đăng ký. Không thể ký.');
    }
    return { sha256: doc.sha256, fromBytes: true };
  }
  if (!declared) throw new Error('Không xác định được mã băm của văn bản nghị quyết.');
  return { sha256: declared, fromBytes: false };
}

export function ResolutionScreen({ resolutionId }) {
  const session = useSession();
  const roster = useRoster();
  const path = bodyPath(`/resolutions/${enc(resolutionId)}`);
  const res = useAsync(() => api(path), [path]);
  const [hash, setHash] = useState(null);
  const [busy, setBusy] = useState(false);
  const [preparing, setPreparing] = useState(false);
  const [error, setError] = useState(null);
  const [signed, setSigned] = useState(null);
  const [idemKey] = useState(newIdempotencyKey);

  const issuedLink = useAsync(
    () => (res.data?.state === 'issued' || signed ? api(`${path}/document`) : Promise.resolve(null)),
    [path, res.data?.state, Boolean(signed)],
  );
  const r = res.data;
  if (res.loading && !r) return <Loading />;
  if (!r) return <Problem error={res.error} />;
  const issued = r.state === 'issued' || Boolean(signed);
  const canSign = !issued && r.state === 'draft' &&
    (session.me.role === 'chair' || (session.me.role === 'deputy_chair' && r.delegate === session.userId));
  const block = signed?.signature_block || r.signature_block;
  const signer = signed?.signer || r.signer;

  const prepare = async () => {
    setPreparing(true);
    setError(null);
    try {
      const checked = await documentHash(r);
      // The server renders the resolution's PDF and prepares the PAdES signature for this signer's certificate.
      const prepared = await api(`${path}/sign/prepare`, { method: 'POST', body: {} });
      setHash({ ...checked, prepared });
    } catch (e) {
      setError(e);
    } finally {
      setPreparing(false);
    }
  };

  const sign = async () => {
    setBusy(true);
    setError(null);
    try {
      const { signature } = await signAction({
        action: 'resolution_sign', bodyId: BODY_ID, targetId: r.resolution_id, userId: session.userId, content: hash.sha256,
      });
      const { value } = await signBytes(session.userId, fromBase64(hash.prepared.to_sign));
      const out = await api(`${path}/sign`, {
        method: 'POST',
        body: { signature, pdf_signature: { prepare_id: hash.prepared.prepare_id, value } },
        idempotencyKey: idemKey,
      });
      setSigned({ ...out, signed_at: out?.signed_at || signature.signed_at });
      setHash(null);
      res.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const number = signed?.number || r.number;
  return (
    <div>
      <PageTitle>{r.title}</PageTitle>
      <div class="meta-row">
        <Badge kind={issued ? 'ok' : 'live'}>{RESOLUTION_STATES[issued ? 'issued' : r.state] || r.state}</Badge>
        {number && (
          <span>
            Số: <strong data-testid="resolution-number">{number}</strong>
          </span>
        )}
      </div>
      <Dossier documentIds={r.document_id ? [r.document_id] : []} title="Văn bản nghị quyết" />
      {issued && (
        <section class="card signature-block" aria-labelledby="h-sig">
          <h2 id="h-sig" class="sr-only">
            Chữ ký
          </h2>
          {block?.place || block?.date ? <p class="muted">{block.date}</p> : null}
          <p class="sig-org">{block?.authority || 'TM. CHÍNH PHỦ'}</p>
          {block?.delegation && <p class="sig-org">{block.delegation}</p>}
          <p class="sig-title">{block?.title || 'THỦ TƯỚNG'}</p>
          <p class="sig-name">{block?.name || signer?.name || roster.nameOf(signer?.user_id || '') || '—'}</p>
          <p class="muted">
            Đã ký số lúc {fmtDateTime(signed?.signed_at || r.signed_at)}
          </p>
        </section>
      )}
      {issued && issuedLink.data?.url && (
        <PdfViewer url={issuedLink.data.url} title="Văn bản đã ban hành (có chữ ký số)" testId="issued-pdf" />
      )}
      {signed && <Receipt title={`Đã ký và ban hành nghị quyết số ${number || ''}`} receipt={signed.receipt} signedAt={signed.signed_at} />}
      {canSign && (
        <section class="card" aria-labelledby="h-sign">
          <h2 id="h-sign">Ký ban hành</h2>
          <p>Xem văn bản nghị quyết sẽ ký; văn bản được ký số bằng chứng thư của người ký, cấp số, ghi ngày và đóng
            dấu số của cơ quan khi ban hành.</p>
          <button type="button" class="btn btn-primary btn-block" onClick={prepare} disabled={preparing}>
            {preparing ? 'Đang chuẩn bị văn bản…' : 'Ký nghị quyết'}
          </button>
          <Problem error={!hash ? error : null} />
        </section>
      )}
      <ConfirmDialog
        open={Boolean(hash)}
        title="Xác nhận ký nghị quyết"
        confirmLabel="Ký số"
        busy={busy}
        error={error}
        onConfirm={sign}
        onCancel={() => (setHash(null), setError(null))}
      >
        {hash?.prepared?.pdf_url && (
          <PdfViewer url={hash.prepared.pdf_url} title="Văn bản sẽ ký (số và ngày được ghi khi ban hành)" testId="review-pdf" />
        )}
        <p>
          Ký số nghị quyết “{r.title}”. Mã băm SHA-256 của dự thảo
          {hash?.fromBytes ? ' (tính từ văn bản vừa tải về)' : ' (theo hồ sơ đã đăng ký)'}:
        </p>
        <p>
          <code class="hash">{hash?.sha256}</code>
        </p>
      </ConfirmDialog>
    </div>
  );
}
