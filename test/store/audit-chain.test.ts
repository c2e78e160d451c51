import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import canonicalize from 'canonicalize';
import { auditHash, GENESIS_HASH, type ChainedFields } from '../../app/store/audit-chain.js';

// The hash is documented as SHA-256 over the RFC 8785 canonical JSON of the event; the store builds
// that JSON from pieces so the database can join them to the chain's head. Both must agree.
function canonicalHash(event: ChainedFields): string {
  const { at, ...rest } = event;
  return createHash('sha256').update(canonicalize({ ...rest, at: at.toISOString() })!, 'utf8').digest('hex');
}

const at = new Date('2026-12-03T06:30:00.123Z');

const events: Array<[string, ChainedFields]> = [
  ['a first event without a request', { seq: 1, prevHash: GENESIS_HASH, requestId: null, type: 'policy_loaded', actor: 'app', at, facts: {} }],
  [
    'facts whose keys need sorting, nested',
    { seq: 2, prevHash: 'ab'.repeat(32), requestId: '0f5e9f6e-8b7a-4c43-9d44-3f1e2a9b7c10', type: 'vote', actor: 'carol', at, facts: { z: 1, a: { y: [3, 'x'], b: null }, choice: 'approve' } },
  ],
  ['non-ASCII text and characters JSON escapes', { seq: 3, prevHash: 'cd'.repeat(32), requestId: null, type: 'comment', actor: 'zoë', at, facts: { note: 'déploiement "prod"\n\u0001 ✓ 😀', '\u00e9': true } }],
  ['numbers as canonical JSON writes them', { seq: 9_007_199_254_740_991, prevHash: 'ef'.repeat(32), requestId: null, type: 'x', actor: 'a', at, facts: { big: 1e21, small: 5e-324, fraction: 0.1, negative: -0 } }],
  ['keys that sort by UTF-16 code units', { seq: 4, prevHash: GENESIS_HASH, requestId: null, type: 'x', actor: 'a', at, facts: { '\u{1F600}': 1, '\uFB01': 2, a: 3, B: 4 } }],
];

describe('audit hash', () => {
  it.each(events)('is SHA-256 over the canonical JSON of the event: %s', (_, event) => {
    expect(auditHash(event)).toBe(canonicalHash(event));
  });

  it('changes with each field, including seq and the previous hash', () => {
    const [, event] = events[1];
    const hash = auditHash(event);
    for (const changed of [{ seq: 3 }, { prevHash: 'ac'.repeat(32) }, { requestId: null }, { type: 'vote2' }, { actor: 'Carol' }, { at: new Date(at.getTime() + 1) }, { facts: {} }]) {
      expect(auditHash({ ...event, ...changed })).not.toBe(hash);
    }
  });
});
