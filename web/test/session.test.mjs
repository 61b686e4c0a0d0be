// The session kept across reloads: only for the token's lifetime, dropped once expired or on sign-out.
import test from 'node:test';
import assert from 'node:assert/strict';

const store = new Map();
globalThis.sessionStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
};
const { clearSession, restoreSession, saveSession, tokenExpiry } = await import('../src/session.js');

const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims) => `${b64url({ alg: 'RS256' })}.${b64url(claims)}.sig`;

test('the expiry is read from the token', () => {
  assert.equal(tokenExpiry(jwt({ sub: 'u', exp: 1900000000 })), 1900000000);
  assert.equal(tokenExpiry('not-a-jwt'), null);
});

test('a session is restored while its token is valid, and dropped once it expired', () => {
  const now = Date.UTC(2026, 0, 1);
  saveSession({ token: jwt({ sub: 'thu-tuong', exp: now / 1000 + 3600 }), userId: 'thu-tuong', stageLocal: true });
  assert.equal(restoreSession({ now }).userId, 'thu-tuong');
  assert.equal(restoreSession({ now: now + 3600 * 1000 }), null);
  assert.equal(store.size, 0, 'the expired session is removed from storage');
});

test('a token without an expiry is never kept, and sign-out clears the session', () => {
  saveSession({ token: jwt({ sub: 'u' }), userId: 'u' });
  assert.equal(restoreSession(), null);
  saveSession({ token: jwt({ sub: 'u', exp: Date.now() / 1000 + 600 }), userId: 'u' });
  assert.ok(restoreSession());
  clearSession();
  assert.equal(restoreSession(), null);
});
