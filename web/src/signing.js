// Browser signatures (ES256 over RFC 8785 JSON) with a non-extractable WebCrypto key kept in IndexedDB.
import { api } from './api.js';
import { canonicalize } from './jcs.js';
import { keyStore } from './idb.js';

/**
 * A signer produces `{alg, value, signed_at}` for a payload. The default signer uses a
 * WebCrypto key; a production signing device or remote signing service plugs in by
 * replacing it with setSigner() (see README).
 */
let signer = null;
export function setSigner(s) {
  signer = s;
}

function pemToDer(pem) {
  const b64 = pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function toBase64(buf) {
  const bytes = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}

/** Now as ISO 8601 in Asia/Ho_Chi_Minh with its offset, seconds precision: 2025-07-01T09:00:00+07:00. */
export function nowWithOffset(date = new Date()) {
  const shifted = new Date(date.getTime() + 7 * 3600 * 1000);
  return shifted.toISOString().slice(0, 19) + '+07:00';
}

export async function sha256Hex(data) {
  const digest = await crypto.subtle.digest('SHA-256', data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The WebCrypto signer: key looked up per user in IndexedDB. */
export const webCryptoSigner = {
  async hasKey(userId) {
    return Boolean(await keyStore.get(userId));
  },
  /**
   * Stage local: obtain a key pair and certificate from the development CA (the server registers
   * the certificate for the user) and keep the private key as a non-extractable CryptoKey.
   */
  async enrolFromDevCa(userId) {
    const { key_pem, cert_pem } = await api('/dev/certificates', {
      method: 'POST',
      body: { user_id: userId, alg: 'ES256' },
    });
    const key = await crypto.subtle.importKey(
      'pkcs8',
      pemToDer(key_pem),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['sign'],
    );
    await keyStore.put(userId, { key, cert_pem, alg: 'ES256', enrolled_at: nowWithOffset() });
  },
  async sign(userId, bytes) {
    const entry = await keyStore.get(userId);
    if (!entry) throw new Error('Chưa có khóa ký số trên thiết bị này.');
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, entry.key, bytes);
    // WebCrypto's ECDSA output is already the JWS r||s form (64 bytes for P-256).
    return { alg: entry.alg, value: toBase64(sig) };
  },
};
signer = webCryptoSigner;

let enrolment = null;
let devCaStage = false;
/** Start (once per session) getting a fresh dev-CA key for the user; awaited before signing. */
export function prepareKey(userId, { stageLocal }) {
  if (!stageLocal) return Promise.resolve();
  devCaStage = true;
  enrolment = signer.enrolFromDevCa(userId).catch((e) => {
    enrolment = null;
    throw e;
  });
  return enrolment;
}

/**
 * A stage-local session restored after a reload: a key that its sign-in had not received yet (the page was
 * reloaded while the development CA was answering) is fetched when it is first needed, instead of every
 * signature failing for want of a key.
 */
export function resumeDevStage({ stageLocal }) {
  if (stageLocal) devCaStage = true;
}

/** Wait for the session's enrolment; on stage local, one that failed or never ran in this page (a dropped
 * connection on a phone, a reload) is tried once more. */
async function keyReady(userId) {
  if (enrolment) await enrolment.catch(() => {});
  if (devCaStage && !(await signer.hasKey(userId))) await prepareKey(userId, { stageLocal: true });
}

/**
 * Sign an action. Returns the `signature` object for the request and the exact canonical text signed.
 * `content` must be exactly what the request carries: the server checks it as sent.
 */
export async function signAction({ action, bodyId, targetId, userId, content }) {
  await keyReady(userId);
  const signed_at = nowWithOffset();
  const payload = { action, body_id: bodyId, target_id: targetId, user_id: userId, content, signed_at };
  const text = canonicalize(payload);
  const { alg, value } = await signer.sign(userId, new TextEncoder().encode(text));
  return { signature: { alg, value, signed_at }, canonical: text };
}

/** Sign raw bytes (a PDF signature's CMS signed attributes, `to_sign`) with the user's key: base64 `value`. */
export async function signBytes(userId, bytes) {
  await keyReady(userId);
  const { alg, value } = await signer.sign(userId, bytes);
  return { alg, value };
}

/** Standard base64 to bytes. */
export function fromBase64(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
