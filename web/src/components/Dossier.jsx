// The dossier viewer: list a set of documents, read text inline, open other formats in a new tab.
import { useState } from 'preact/hooks';
import { useAsync, Problem } from './ui.jsx';
import { getDocument, loadDocumentBytes, objectUrlFor } from '../documents.js';

export function Dossier({ documentIds = [], title = 'Hồ sơ, tài liệu' }) {
  if (!documentIds.length) return null;
  return (
    <section class="card" aria-labelledby="dossier-h">
      <h2 id="dossier-h">{title}</h2>
      <ul class="doc-list">
        {documentIds.map((id) => (
          <DocumentRow key={id} docId={id} />
        ))}
      </ul>
    </section>
  );
}

function DocumentRow({ docId }) {
  const meta = useAsync(() => getDocument(docId), [docId]);
  const [view, setView] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const name = meta.data?.title || meta.data?.filename || docId;
  const versions = meta.data?.versions || [];
  const latest = versions.filter((v) => v.state === 'available').at(-1);

  const open = async () => {
    if (view) return setView(null);
    setBusy(true);
    setError(null);
    try {
      const doc = await loadDocumentBytes(docId, latest?.version);
      if (!doc.blob) {
        window.open(doc.url, '_blank', 'noopener,noreferrer');
        return;
      }
      const base = { href: objectUrlFor(doc.blob), size: doc.blob.size, verified: doc.verified, version: doc.version };
      setView(/^text\/|json/.test(doc.contentType) ? { ...base, text: await doc.blob.text() } : base);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class="doc">
      <div class="doc-head">
        <svg class="doc-icon" viewBox="0 0 16 20" width="16" height="20" aria-hidden="true" focusable="false">
          <path d="M1 1h9l5 5v13H1z" class="doc-icon-page" />
          <path d="M10 1v5h5" class="doc-icon-fold" />
        </svg>
        <span class="doc-name">{name}</span>
        {meta.data?.classification && <span class="badge">{meta.data.classification}</span>}
        {latest && <span class="muted">bản {latest.version}</span>}
        <button type="button" class="btn btn-small" onClick={open} disabled={busy} aria-expanded={Boolean(view)}>
          {busy ? 'Đang mở…' : view ? 'Thu gọn' : 'Xem tài liệu'}
        </button>
      </div>
      <Problem error={error} />
      {view?.text != null && (
        <pre class="doc-text" tabIndex={0} aria-label={`Nội dung: ${name}`}>
          {view.text}
        </pre>
      )}
      {view?.href && (
        <p class="doc-opened">
          {view.verified && (
            <span class="ok-text" data-testid="doc-verified">
              Đã tải bản {view.version} ({Math.max(1, Math.round(view.size / 1024))} KB), mã băm SHA-256 khớp bản đã
              đăng ký.{' '}
            </span>
          )}
          <a href={view.href} target="_blank" rel="noopener noreferrer" download={meta.data?.filename || undefined}>
            Mở “{name}” trong thẻ mới
          </a>
        </p>
      )}
    </li>
  );
}
