// Sign-in outside stage local: OpenID Connect, authorisation code flow with PKCE (S256), against the stack's
// Cognito user pool (managed login) or an external issuer. The settings come from /config.json, written at deploy
// (tools/deploy.py): { oidc: { issuer, client_id, scopes, user_claim, authorization_endpoint?, token_endpoint?,
// end_session_endpoint?, revocation_endpoint?, redirect_path, post_logout_path } }; endpoints not given are read
// from the issuer's discovery document. The ID token is the API's bearer token; the member id is its
// `user_claim`. Tokens live in sessionStorage (this tab only, gone when it closes) and are renewed with the
// refresh token before they expire; signing out revokes the refresh token and ends the issuer's session.
import { setToken, setTokenRefresher } from './api.js';

const PENDING = 'ecabinet.oidc.pending';
const TOKENS = 'ecabinet.oidc.tokens';
const EARLY_MS = 60_000; // renew a minute before expiry

let configPromise = null;
let discovered = null;
let refreshTimer = null;

/** The deployment's sign-in settings, or null (stage local: development tokens). */
export function loadConfig() {
  if (!configPromise) {
    configPromise = fetch('/config.json', { cache: 'no-store', credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : null))
      .then((c) => (c && c.oidc && c.oidc.issuer && c.oidc.client_id ? normalise(c.oidc) : null))
      .catch(() => null);
  }
  return configPromise;
}

function normalise(o) {
  return {
    ...o,
    issuer: o.issuer.replace(/\/$/, ''),
    scopes: o.scopes || 'openid',
    user_claim: o.user_claim || 'sub',
    redirect_path: o.redirect_path || '/auth/callback',
    post_logout_path: o.post_logout_path || '/sign-in',
  };
}

async function endpoints(config) {
  if (config.authorization_endpoint && config.token_endpoint) return config;
  if (!discovered) {
    const res = await fetch(`${config.issuer}/.well-known/openid-configuration`, { cache: 'no-store' });
    if (!res.ok) throw new Error('Không đọc được cấu hình của cổng định danh.');
    discovered = await res.json();
  }
  return {
    ...config,
    authorization_endpoint: config.authorization_endpoint || discovered.authorization_endpoint,
    token_endpoint: config.token_endpoint || discovered.token_endpoint,
    end_session_endpoint: config.end_session_endpoint || discovered.end_session_endpoint || null,
    revocation_endpoint: config.revocation_endpoint || discovered.revocation_endpoint || null,
  };
}

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));

/** The payload of a JWT (not verified here: the API verifies every token against the issuer's keys). */
export function claimsOf(jwt) {
  const part = (jwt || '').split('.')[1] || '';
  const text = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(text, (c) => c.charCodeAt(0))));
}

/** Go to the issuer's sign-in page; `next` is where to land afterwards. */
export async function beginSignIn(config, next = '/') {
  const c = await endpoints(config);
  const verifier = random(48);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const state = random(16);
  const nonce = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, next }));
  const url = new URL(c.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: c.client_id,
    redirect_uri: location.origin + c.redirect_path,
    scope: c.scopes,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

async function tokenRequest(c, form) {
  const res = await fetch(c.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: c.client_id, ...form }).toString(),
    cache: 'no-store',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok || !data.id_token) {
    const err = new Error('Cổng định danh từ chối đăng nhập. Vui lòng đăng nhập lại.');
    err.oauth = data.error || res.status;
    throw err;
  }
  return data;
}

function keep(config, data, previous = {}) {
  const tokens = {
    id_token: data.id_token,
    refresh_token: data.refresh_token || previous.refresh_token || null,
    expires_at: claimsOf(data.id_token).exp * 1000,
  };
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  setToken(tokens.id_token);
  scheduleRefresh(config, tokens);
  return tokens;
}

function userIdOf(config, idToken) {
  const id = claimsOf(idToken)[config.user_claim];
  if (typeof id !== 'string' || !id) throw new Error(`Mã định danh không có thuộc tính ${config.user_claim}.`);
  return id;
}

/** On the redirect back (/auth/callback?code&state): exchange the code, keep the tokens. → { userId, next } */
export async function completeSignIn(config) {
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
  sessionStorage.removeItem(PENDING);
  if (params.get('error')) throw new Error(`Cổng định danh báo lỗi: ${params.get('error_description') || params.get('error')}.`);
  if (!pending || !params.get('code') || params.get('state') !== pending.state) {
    throw new Error('Phiên đăng nhập không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại.');
  }
  const c = await endpoints(config);
  const data = await tokenRequest(c, {
    grant_type: 'authorization_code',
    code: params.get('code'),
    redirect_uri: location.origin + c.redirect_path,
    code_verifier: pending.verifier,
  });
  if (claimsOf(data.id_token).nonce !== pending.nonce) throw new Error('Mã định danh không khớp phiên đăng nhập.');
  const tokens = keep(config, data);
  return { userId: userIdOf(config, tokens.id_token), next: pending.next || '/' };
}

/** Renew the ID token with the refresh token; false when the session cannot be renewed. */
export async function refresh(config) {
  const tokens = JSON.parse(sessionStorage.getItem(TOKENS) || 'null');
  if (!tokens?.refresh_token) return false;
  try {
    const c = await endpoints(config);
    const data = await tokenRequest(c, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    keep(config, data, tokens);
    return true;
  } catch {
    forget();
    return false;
  }
}

function scheduleRefresh(config, tokens) {
  clearTimeout(refreshTimer);
  if (!tokens.refresh_token) return;
  const wait = Math.max(5_000, tokens.expires_at - Date.now() - EARLY_MS);
  refreshTimer = setTimeout(() => refresh(config), Math.min(wait, 2 ** 31 - 1));
}

/** The session kept in this tab (a reload), renewed if its ID token expired: → userId, or null. */
export async function resume(config) {
  const tokens = JSON.parse(sessionStorage.getItem(TOKENS) || 'null');
  if (!tokens) return null;
  if (tokens.expires_at - Date.now() < EARLY_MS && !(await refresh(config))) return null;
  const current = JSON.parse(sessionStorage.getItem(TOKENS));
  setToken(current.id_token);
  scheduleRefresh(config, current);
  return userIdOf(config, current.id_token);
}

/** Install the API client's renewal on 401 (one retry with a renewed token). */
export function installRefresher(config) {
  setTokenRefresher(() => refresh(config));
}

/** Forget this tab's OIDC tokens without leaving the app (the session expired). */
export function forget() {
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(TOKENS);
  setToken(null);
}

/** Sign out: revoke the refresh token, forget the tokens, end the issuer's session (its logout page). */
export async function endSession() {
  const config = await loadConfig();
  const tokens = JSON.parse(sessionStorage.getItem(TOKENS) || 'null');
  forget();
  setTokenRefresher(null);
  if (!config || !tokens) return false;
  const c = await endpoints(config).catch(() => config);
  if (c.revocation_endpoint && tokens.refresh_token) {
    await fetch(c.revocation_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token, client_id: c.client_id }).toString(),
    }).catch(() => {});
  }
  if (!c.end_session_endpoint) return false;
  const back = location.origin + c.post_logout_path;
  const url = new URL(c.end_session_endpoint);
  // OpenID Connect RP-initiated logout, and Cognito's /logout (client_id, logout_uri).
  url.search = new URLSearchParams({
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: back,
    client_id: c.client_id,
    logout_uri: back,
  }).toString();
  location.assign(url.toString());
  return true;
}
