// Dossier access: short-lived download links, an IndexedDB cache wiped at sign-out, object URLs revoked.
import { api, bodyPath, enc } from './api.js';
import { docCache } from './idb.js';
import { sha256Hex } from './signing.js';

const objectUrls = new Set();
export function revokeAllObjectUrls() {
  objectUrls.forEach((u) => URL.revokeObjectURL(u));
  objectUrls.clear();
}
export function objectUrlFor(blob) {
  const u = URL.createObjectURL(blob);
  objectUrls.add(u);
  return u;
}

export const getDocument = (docId) => api(bodyPath(`/documents/${enc(docId)}`));

/**
 * Fetch a document's bytes through its presigned link (cached for the session in IndexedDB).
 * Returns {blob, contentType, sha256, url}; when the link cannot be fetched from the page
 * (storage without CORS) returns {url} only so the caller can open it in a new tab.
 */
export async function loadDocumentBytes(docId, version) {
  const cacheKey = `${docId}@${version ?? 'latest'}`;
  const cached = await docCache.get(cacheKey).catch(() => null);
  if (cached) return cached;
  const q = version != null ? `?version=${enc(version)}` : '';
  // The link names the version it serves and that version's registered SHA-256.
  const { url, version: served, sha256: registered } = await api(bodyPath(`/documents/${enc(docId)}/download${q}`));
  let res;
  try {
    res = await fetch(url, { credentials: 'omit', referrerPolicy: 'no-referrer', cache: 'no-store' });
  } catch {
    return { url };
  }
  if (!res.ok) return { url };
  const buf = await res.arrayBuffer();
  const contentType = res.headers.get('Content-Type') || 'application/octet-stream';
  const sha256 = await sha256Hex(buf);
  if (registered && registered.toLowerCase() !== sha256) {
    throw new Error('Tệp tải về không khớp mã băm SHA-256 đã đăng ký; không hiển thị.');
  }
  const entry = { blob: new Blob([buf], { type: contentType }), contentType, sha256, version: served, verified: Boolean(registered) };
  await docCache.put(cacheKey, entry).catch(() => {});
  return { ...entry, url };
}

/** Compute a file's SHA-256 hex (for the upload declaration). */
export async function fileSha256(file) {
  return sha256Hex(await file.arrayBuffer());
}

/**
 * Send the bytes with the presigned instructions the API returned, reporting progress.
 * upload = {url, method, headers?} (PUT) or {url, method: 'POST', fields} (form POST).
 */
export function uploadWithProgress(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const method = (upload.method || 'PUT').toUpperCase();
    xhr.open(method, upload.url);
    let body = file;
    if (upload.fields) {
      const form = new FormData();
      Object.entries(upload.fields).forEach(([k, v]) => form.append(k, v));
      form.append('file', file);
      body = form;
    } else {
      Object.entries(upload.headers || {}).forEach(([k, v]) => {
        // The browser sets Host and Content-Length itself.
        if (!/^(host|content-length)$/i.test(k)) xhr.setRequestHeader(k, v);
      });
    }
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? (onProgress(1), resolve())
        : reject(new Error(`Tải lên không thành công (mã ${xhr.status}).`));
    xhr.onerror = () => reject(new Error('Tải lên bị gián đoạn. Vui lòng thử lại.'));
    xhr.send(body);
  });
}
