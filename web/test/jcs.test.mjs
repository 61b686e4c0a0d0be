// Unit tests of the RFC 8785 canonicaliser used for signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize } from '../src/jcs.js';

test('keys are sorted by UTF-16 code units and nested', () => {
  const v = { b: 1, a: { d: [true, null, 'x'], c: false }, '\u20ac': 1, '\ud83d\ude00': 2, '\u0080': 3 };
  assert.equal(canonicalize(v), '{"a":{"c":false,"d":[true,null,"x"]},"b":1,"\u0080":3,"\u20ac":1,"\ud83d\ude00":2}');
});

test('strings are escaped like ES2015 JSON.stringify', () => {
  assert.equal(canonicalize('Đồng ý "ạ"\n\t\u0001/'), '"Đồng ý \\"ạ\\"\\n\\t\\u0001/"');
});

test('numbers use the ES2015 form', () => {
  assert.equal(canonicalize([1, -0, 1e21, 0.1, 333333333.3333333]), '[1,0,1e+21,0.1,333333333.3333333]');
});

test('the signed payload shape of a ballot answer', () => {
  const payload = {
    user_id: 'bo-truong-01', signed_at: '2025-07-01T09:00:00+07:00', action: 'ballot_answer',
    body_id: 'chinh-phu', target_id: 'b1',
    content: [{ question_id: 'q1', choice: 'agree', comment: '' }],
  };
  assert.equal(canonicalize(payload),
    '{"action":"ballot_answer","body_id":"chinh-phu","content":[{"choice":"agree","comment":"","question_id":"q1"}],' +
    '"signed_at":"2025-07-01T09:00:00+07:00","target_id":"b1","user_id":"bo-truong-01"}');
});

test('undefined and functions are refused', () => {
  assert.throws(() => canonicalize(undefined));
  assert.throws(() => canonicalize(NaN));
});
