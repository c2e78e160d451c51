/** Parses an approver as written in a policy (`codeowners`, `@org/team`, `login`, `role:write`). */
import { APPROVER_PATTERN } from './schema.js';
import type { ApproverRef } from './types.js';

export type ApproverRefResult = { ok: true; ref: ApproverRef } | { ok: false; message: string };

const ROLES = ['admin', 'maintain', 'write'] as const;
const VALID = new RegExp(APPROVER_PATTERN);
const EXPECTED = 'expected codeowners, @org/team, a user login (@alice or alice), or role:admin|maintain|write';

export function parseApproverRef(text: string): ApproverRefResult {
  if (text.startsWith('role:')) {
    const role = ROLES.find((r) => `role:${r}` === text);
    if (role) return { ok: true, ref: { kind: 'role', role } };
    return { ok: false, message: `"${text}" is not a role: expected role:admin, role:maintain or role:write` };
  }
  if (!VALID.test(text)) return { ok: false, message: `invalid approver "${text}": ${EXPECTED}` };
  if (text === 'codeowners') return { ok: true, ref: { kind: 'codeowners' } };
  const team = /^@([^/]+)\/(.+)$/.exec(text);
  if (team) return { ok: true, ref: { kind: 'team', org: team[1], slug: team[2] } };
  return { ok: true, ref: { kind: 'user', login: text.replace(/^@/, '') } };
}
