// The browser's signature is ES256 r||s (64 bytes), base64 with padding, over the RFC 8785 text of the action.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodeCrypto from 'node:crypto';
import { signAction, setSigner, nowWithOffset, resumeDevStage } from '../src/signing.js';

test('signed_at is ISO 8601 with the +07:00 offset', () => {
  assert.equal(nowWithOffset(new Date('2019-06-24T01:30:05.123Z')), '2019-06-24T08:30:05+07:00');
});

test('a WebCrypto ECDSA P-256 signature verifies as JWS r||s over the canonical payload', async () => {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  setSigner({
    async sign(_user, bytes) {
      const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, bytes);
      return { alg: 'ES256', value: Buffer.from(sig).toString('base64') };
    },
  });
  const content = [{ question_id: 'q1', choice: 'other', comment: 'Điều 2 — “xã”' }];
  const { signature, canonical } = await signAction({
    action: 'ballot_answer', bodyId: 'chinh-phu', targetId: 'b-1', userId: 'bo-truong-01', content,
  });
  assert.match(canonical, /^\{"action":"ballot_answer","body_id":"chinh-phu","content":\[\{"choice":"other"/);
  assert.ok(canonical.endsWith(`"signed_at":"${signature.signed_at}","target_id":"b-1","user_id":"bo-truong-01"}`));
  const raw = Buffer.from(signature.value, 'base64');
  assert.equal(raw.length, 64);
  assert.equal(signature.value.length % 4, 0);
  const spki = await crypto.subtle.exportKey('spki', pair.publicKey);
  const publicKey = nodeCrypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  assert.ok(nodeCrypto.verify('sha256', Buffer.from(canonical), { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw));
});

test('a stage-local session restored after a reload fetches a key its sign-in never received, once', async () => {
  let has = false;
  let enrolled = 0;
  setSigner({
    async hasKey() { return has; },
    async enrolFromDevCa() { enrolled++; has = true; },
    async sign() {
      if (!has) throw new Error('Chưa có khóa ký số trên thiết bị này.');
      return { alg: 'ES256', value: 'AA==' };
    },
  });
  const act = () => signAction({
    action: 'vote', bodyId: 'chinh-phu', targetId: 'p-1', userId: 'thu-tuong', content: 'yes',
  });
  // Restored (no sign-in in this page) and not on stage local: nothing is fetched, the missing key is said.
  resumeDevStage({ stageLocal: false });
  await assert.rejects(act(), /Chưa có khóa ký số/);
  assert.equal(enrolled, 0);
  resumeDevStage({ stageLocal: true });
  await act();
  await act();
  assert.equal(enrolled, 1);
});
