// Upload a dossier: declare it (title, size, SHA-256), send the bytes with the presigned instructions, show progress.
import { useState } from 'preact/hooks';
import { api, bodyPath, enc } from '../api.js';
import { fileSha256, uploadWithProgress } from '../documents.js';
import { Problem } from './ui.jsx';

const CLASSIFICATIONS = [
  { value: '', label: 'Không mật' },
  { value: 'mat', label: 'Mật' },
  { value: 'toi_mat', label: 'Tối mật' },
  { value: 'tuyet_mat', label: 'Tuyệt mật' },
];

export function Uploader({ idPrefix = 'up', onUploaded }) {
  const [file, setFile] = useState(null);
  const [title, setTitle] = useState('');
  const [classification, setClassification] = useState('');
  const [phase, setPhase] = useState(null); // hashing | uploading | verifying | done
  const [progress, setProgress] = useState(0);
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);

  const submit = async (e) => {
    e.preventDefault();
    if (!file) return setError({ detail: 'Vui lòng chọn tệp cần tải lên.' });
    setError(null);
    setResult(null);
    setProgress(0);
    try {
      setPhase('hashing');
      const sha256 = await fileSha256(file);
      const created = await api(bodyPath('/documents'), {
        method: 'POST',
        body: {
          title: title.trim() || file.name,
          filename: file.name,
          content_type: file.type || 'application/octet-stream',
          size: file.size,
          sha256,
          ...(classification ? { classification } : {}),
        },
      });
      setPhase('uploading');
      await uploadWithProgress(created.upload, file, setProgress);
      setPhase('verifying');
      let state = 'pending';
      for (let i = 0; i < 20 && state === 'pending'; i++) {
        const meta = await api(bodyPath(`/documents/${enc(created.document_id)}`));
        state = meta.versions?.find((v) => v.version === created.version)?.state || meta.versions?.at(-1)?.state || 'pending';
        if (state === 'pending') await new Promise((r) => setTimeout(r, 500));
      }
      if (state === 'rejected') throw new Error('Tệp đã tải lên không khớp mã băm SHA-256 và bị từ chối.');
      setPhase('done');
      const out = { document_id: created.document_id, version: created.version, title: title.trim() || file.name, state };
      setResult(out);
      onUploaded?.(out);
      setFile(null);
      setTitle('');
      e.target.reset?.();
    } catch (err) {
      setPhase(null);
      setError(err);
    }
  };

  const busy = phase && phase !== 'done';
  return (
    <form class="uploader stack" onSubmit={submit}>
      <div class="field">
        <label for={`${idPrefix}-file`}>Tệp hồ sơ</label>
        <input
          id={`${idPrefix}-file`}
          type="file"
          onChange={(e) => {
            const f = e.currentTarget.files?.[0] || null;
            setFile(f);
            if (f && !title) setTitle(f.name.replace(/\.[^.]+$/, ''));
          }}
        />
      </div>
      <div class="field">
        <label for={`${idPrefix}-title`}>Tên tài liệu</label>
        <input id={`${idPrefix}-title`} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for={`${idPrefix}-class`}>Độ mật</label>
        <select id={`${idPrefix}-class`} value={classification} onChange={(e) => setClassification(e.currentTarget.value)}>
          {CLASSIFICATIONS.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
        {classification && (
          <p class="hint">Tài liệu mật không được xử lý trên hệ thống này; hồ sơ sẽ bị từ chối.</p>
        )}
      </div>
      {phase && (
        <div class="field">
          <label for={`${idPrefix}-progress`}>
            {phase === 'hashing' && 'Đang tính mã băm SHA-256…'}
            {phase === 'uploading' && `Đang tải lên: ${Math.round(progress * 100)}%`}
            {phase === 'verifying' && 'Đang chờ máy chủ xác minh tệp…'}
            {phase === 'done' && 'Đã tải lên'}
          </label>
          <progress id={`${idPrefix}-progress`} max="100" value={Math.round(progress * 100)} />
        </div>
      )}
      <Problem error={error} />
      {result && (
        <p class="ok-text" role="status" data-testid="uploaded-doc">
          Đã tải lên “{result.title}” (mã <code>{result.document_id}</code>
          {result.state === 'pending' ? ', đang chờ xác minh' : ''}).
        </p>
      )}
      <button type="submit" class="btn" disabled={busy}>
        {busy ? 'Đang xử lý…' : 'Tải hồ sơ lên'}
      </button>
    </form>
  );
}
