// The HTTP client of the public API: bearer token in memory (OIDC tokens are kept and renewed by oidc.js),
// problem+json errors, ETags, idempotency keys.
import { BODY_ID } from './config.js';
import { markAnswered, markUnreachable } from './network.js';

let token = null;
/** Cached representations by URL for conditional GETs (If-None-Match → 304). Memory only. */
const etagCache = new Map();

export function setToken(t) {
  token = t;
  etagCache.clear();
}
export function hasToken() {
  return token !== null;
}

/** Renews the token (OIDC refresh) when the API answers 401; resolves true when a new token is set. */
let refresher = null;
export function setTokenRefresher(fn) {
  refresher = fn;
}

/** An error answered by the API; `detail` is the Vietnamese text to show. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `Lỗi ${status}`);
    this.status = status;
    this.code = problem?.code || null;
    this.detail = this.message;
    this.problem = problem;
  }
}

/** Listeners told when the API answers 401 (session expired). */
const unauthenticatedListeners = new Set();
export function onUnauthenticated(fn) {
  unauthenticatedListeners.add(fn);
  return () => unauthenticatedListeners.delete(fn);
}

export function newIdempotencyKey() {
  return crypto.randomUUID();
}

async function problemFrom(res) {
  const type = res.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      return await res.json();
    } catch {
      /* fall through */
    }
  }
  const fallback = {
    0: 'Không kết nối được máy chủ. Vui lòng thử lại.',
    413: 'Tệp quá lớn.',
    429: 'Thao tác quá nhanh, vui lòng thử lại sau ít phút.',
    502: 'Máy chủ tạm thời không phản hồi.',
    503: 'Máy chủ tạm thời không phản hồi.',
  };
  return { status: res.status, detail: fallback[res.status] || `Máy chủ trả lỗi ${res.status}.` };
}

/**
 * Call the API. `path` is relative to /v1 (e.g. `/bodies/x`) or absolute (`/v1/...`).
 * Options: method, body (JSON), idempotencyKey (POST default: a fresh one), etag (use conditional GET).
 */
export async function api(path, options = {}) {
  try {
    return await call(path, options);
  } catch (e) {
    // An expired ID token is renewed once with the refresh token, and the request sent again (same key).
    if (e instanceof ApiError && e.status === 401 && options.auth !== false && refresher && !options.retried) {
      const idempotencyKey = options.idempotencyKey || e.idempotencyKey;
      if (await refresher()) return call(path, { ...options, idempotencyKey, retried: true });
    }
    if (e instanceof ApiError && e.status === 401 && options.auth !== false) {
      unauthenticatedListeners.forEach((fn) => fn(e.problem));
    }
    throw e;
  }
}

async function call(path, { method = 'GET', body, idempotencyKey, etag = false, auth = true, signal } = {}) {
  const url = path.startsWith('/v1/') || path === '/openapi.json' ? path : `/v1${path}`;
  const headers = { Accept: 'application/json, application/problem+json' };
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const key = method === 'POST' ? idempotencyKey || newIdempotencyKey() : null;
  if (key) headers['Idempotency-Key'] = key;
  const cached = etag && method === 'GET' ? etagCache.get(url) : undefined;
  if (cached) headers['If-None-Match'] = cached.etag;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    markUnreachable();
    throw new ApiError(0, { detail: 'Không kết nối được máy chủ. Vui lòng kiểm tra mạng và thử lại.' });
  }
  markAnswered();
  if (res.status === 304 && cached) return { ...cached.data, __notModified: true };
  if (!res.ok) {
    const problem = await problemFrom(res);
    const error = new ApiError(res.status, problem);
    error.idempotencyKey = key;
    throw error;
  }
  if (res.status === 204) return null;
  const data = (res.headers.get('Content-Type') || '').includes('json') ? await res.json() : null;
  const tag = res.headers.get('ETag');
  if (etag && tag && method === 'GET') etagCache.set(url, { etag: tag, data });
  return data;
}

/** Path under the demo body. */
export const bodyPath = (rest = '') => `/bodies/${encodeURIComponent(BODY_ID)}${rest}`;
export const enc = encodeURIComponent;

/** Read every page of a list endpoint (bounded, lists here are small). */
export async function listAll(path, { max = 500 } = {}) {
  const out = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api(`${path}${sep}limit=200${cursor ? `&cursor=${enc(cursor)}` : ''}`);
    out.push(...(page?.items || []));
    cursor = page?.next_cursor || null;
  } while (cursor && out.length < max);
  return out;
}
