// The API client renews an expired OIDC token once and sends the request again with the same idempotency key;
// when the session cannot be renewed the app is told (sign-in page).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, onUnauthenticated, setToken, setTokenRefresher } from '../src/api.js';

function answer(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

test('a 401 is answered by renewing the token once and retrying with the same idempotency key', async () => {
  const seen = [];
  globalThis.fetch = async (url, init) => {
    seen.push({ auth: init.headers.Authorization, key: init.headers['Idempotency-Key'] });
    return seen.length === 1 ? answer(401, { code: 'unauthenticated', detail: 'hết hạn' }) : answer(200, { ok: true });
  };
  let told = 0;
  const stop = onUnauthenticated(() => told++);
  setToken('old');
  setTokenRefresher(async () => {
    setToken('new');
    return true;
  });
  const result = await api('/bodies/x/polls', { method: 'POST', body: {} });
  assert.deepEqual(result, { ok: true });
  assert.deepEqual(seen.map((s) => s.auth), ['Bearer old', 'Bearer new']);
  assert.ok(seen[0].key && seen[0].key === seen[1].key);
  assert.equal(told, 0);
  stop();
});

test('when the token cannot be renewed the 401 reaches the app once', async () => {
  let calls = 0;
  globalThis.fetch = async () => {
    calls++;
    return answer(401, { code: 'unauthenticated', detail: 'hết hạn' });
  };
  let told = 0;
  const stop = onUnauthenticated(() => told++);
  setToken('old');
  setTokenRefresher(async () => false);
  await assert.rejects(api('/bodies/x'), (e) => e.status === 401);
  assert.equal(calls, 1);
  assert.equal(told, 1);
  setTokenRefresher(null);
  await assert.rejects(api('/bodies/x'), (e) => e.status === 401);
  assert.equal(told, 2);
  stop();
});
