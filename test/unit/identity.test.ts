// Self-review by email compares canonical forms (common/identity.ts): each look-alike of the
// requester's address is the requester; other people stay other people.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalEmail, samePerson } from '../../common/identity.js';

const requester = { sub: 'alice-sub', email: 'alice@corp.example' };
const other = (email: string) => ({ sub: 'second-account', email });

describe('the same person under another account', () => {
  const variants: [string, string][] = [
    ['a trailing space', 'alice@corp.example '],
    ['upper case', 'ALICE@Corp.Example'],
    ['a zero-width space', 'ali\u200bce@corp.example'],
    ['a soft hyphen', 'al\u00adice@corp.example'],
    ['a +tag sub-address', 'alice+prod@corp.example'],
    ['a trailing dot on the domain', 'alice@corp.example.'],
    ['a Cyrillic a', '\u0430lice@corp.example'],
    ['a Greek omicron in the domain', 'alice@c\u03bfrp.example'],
    ['full-width letters', '\uff41\uff4c\uff49\uff43\uff45@corp.example'],
  ];
  for (const [what, email] of variants) {
    test(`${what}: ${JSON.stringify(email)}`, () => {
      assert.equal(samePerson(requester, other(email)), true, canonicalEmail(email));
    });
  }
});

describe('other people', () => {
  for (const email of [
    'alicia@corp.example',
    'alice@corp.example.org',
    'bob@corp.example',
    'alice@other.example',
  ]) {
    test(JSON.stringify(email), () => assert.equal(samePerson(requester, other(email)), false));
  }
  test('no email on either side: only the sub decides', () => {
    assert.equal(samePerson({ sub: 'a' }, { sub: 'b', email: 'alice@corp.example' }), false);
    assert.equal(samePerson({ sub: 'a' }, { sub: 'a' }), true);
  });
});
