/** Parses an approver as written in a policy (`codeowners`, `@org/team`, `login`, `role:write`). */
import { APPROVER_PATTERN } from './schema.js';
import type { ApproverRef } from './types.js';

export type ApproverRefResult = { ok: true; ref: ApproverRef } | { ok: false; message: string };

const ROLES = ['admin', 'maintain', 'write'] as const;
const VALID = new RegExp(APPROVER_PATTERN);
const EXPECTED = 'expected codeowners, codeowners:any, @org/team, a user login (@alice or alice), or role:admin|maintain|write';

export function parseApproverRef(text: string): ApproverRefResult {
  if (text.startsWith('role:')) {
    const role = ROLES.find((r) => `role:${r}` === text);
    if (role) return { ok: true, ref: { kind: 'role', role } };
    return { ok: false, message: `"${text}" is not a role: expected role:admin, role:maintain or role:write` };
  }
  if (text.startsWith('codeowners:') && text !== 'codeowners:any') {
    return { ok: false, message: `"${text}" is not an approver: write codeowners (each group of changed files needs one of its owners) or codeowners:any (any owner of any changed file)` };
  }
  if (!VALID.test(text)) {
    // `acme/dba`: a team without its `@`.
    const teamWithoutAt = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(text);
    return { ok: false, message: `invalid approver "${text}": ${teamWithoutAt ? `a team is written with @, "@${text}"` : EXPECTED}` };
  }
  if (text === 'codeowners') return { ok: true, ref: { kind: 'codeowners' } };
  if (text === 'codeowners:any') return { ok: true, ref: { kind: 'codeowners', any: true } };
  const team = /^@([^/]+)\/(.+)$/.exec(text);
  if (team) return { ok: true, ref: { kind: 'team', org: team[1], slug: team[2] } };
  return { ok: true, ref: { kind: 'user', login: text.replace(/^@/, '') } };
}
