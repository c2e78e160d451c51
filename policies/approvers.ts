/** Building and combining approver sets. Logins, teams and owners compare case-insensitively, as on GitHub. */
import type { ApproverSet, Role } from './decision.js';
import type { ApproverRef } from './types.js';

export function emptyApproverSet(): ApproverSet {
  return { codeowners: false, owners: [], teams: [], users: [], roles: [] };
}

/** `codeownerOwners` are the owners of the changed files, used when the refs include `codeowners`. */
export function approverSetFrom(refs: readonly ApproverRef[], codeownerOwners: readonly string[]): ApproverSet {
  const set = emptyApproverSet();
  for (const ref of refs) {
    switch (ref.kind) {
      case 'codeowners':
        set.codeowners = true;
        set.owners = unionIgnoringCase(set.owners, codeownerOwners);
        break;
      case 'team':
        set.teams = unionIgnoringCase(set.teams, [`@${ref.org}/${ref.slug}`]);
        break;
      case 'user':
        set.users = unionIgnoringCase(set.users, [ref.login.replace(/^@/, '')]);
        break;
      case 'role':
        if (!set.roles.includes(ref.role)) set.roles.push(ref.role);
        break;
    }
  }
  return set;
}

export function mergeApproverSets(a: ApproverSet, b: ApproverSet): ApproverSet {
  return {
    codeowners: a.codeowners || b.codeowners,
    owners: unionIgnoringCase(a.owners, b.owners),
    teams: unionIgnoringCase(a.teams, b.teams),
    users: unionIgnoringCase(a.users, b.users),
    roles: [...a.roles, ...b.roles.filter((r: Role) => !a.roles.includes(r))],
  };
}

export function unionIgnoringCase(a: readonly string[], b: readonly string[]): string[] {
  const seen = new Set(a.map((s) => s.toLowerCase()));
  const out = [...a];
  for (const s of b) {
    const key = s.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(s);
    }
  }
  return out;
}

/** A CODEOWNERS owner naming a team (`@org/team`) rather than a person (`@user` or an e-mail). */
export function isTeamOwner(owner: string): boolean {
  return owner.startsWith('@') && owner.includes('/');
}

/** Who is listed, in words: "a code owner of the changed files, @acme/leads or @alice". */
export function describeApprovers(set: ApproverSet): string {
  const parts: string[] = [];
  if (set.codeowners) parts.push('a code owner of the changed files');
  parts.push(...set.teams);
  parts.push(...set.users.map((u) => `@${u}`));
  parts.push(...set.roles.map((r) => `anyone with ${r} permission`));
  if (parts.length === 0) return 'nobody';
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}
