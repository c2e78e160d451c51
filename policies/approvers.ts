/** Building and combining approver sets. Logins, teams and owners compare case-insensitively, as on GitHub. */
import type { ApproverSet, OwnerGroupRequirement, Requirement, Role } from './decision.js';
import { codeSpan } from './markdown.js';
import type { ApproverRef } from './types.js';

export function emptyApproverSet(): ApproverSet {
  return { codeowners: false, owners: [], ownerGroups: [], teams: [], users: [], roles: [] };
}

/** The code owners of the changed files: all of them, and grouped by the files they share. */
export interface ChangedFileOwners {
  owners: readonly string[];
  groups: readonly OwnerGroupRequirement[];
}

export const NO_OWNERS: ChangedFileOwners = Object.freeze({ owners: [], groups: [] });

/** `owned`: the owners of the changed files, used when the refs include `codeowners`. */
export function approverSetFrom(refs: readonly ApproverRef[], owned: ChangedFileOwners): ApproverSet {
  const set = emptyApproverSet();
  for (const ref of refs) {
    switch (ref.kind) {
      case 'codeowners':
        set.owners = unionIgnoringCase(set.owners, owned.owners);
        if (ref.any) {
          if (!set.codeowners) set.codeowners = 'any';
        } else {
          set.codeowners = 'each_group';
          // Shared, not copied: every requirement of a request has the same groups (a 500-rule policy
          // over 10,000 files copied megabytes). Frozen in changedFileOwners, so no reader can change them.
          set.ownerGroups = owned.groups as OwnerGroupRequirement[];
        }
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

/** `b` widens `a`: everyone in either may approve; only `a`'s owner groups must be covered. */
export function mergeApproverSets(a: ApproverSet, b: ApproverSet): ApproverSet {
  return {
    codeowners: a.codeowners || (b.codeowners ? 'any' : false),
    owners: unionIgnoringCase(a.owners, b.owners),
    ownerGroups: a.ownerGroups,
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

/** How people recognise a group of files: its CODEOWNERS patterns, shortened; `handle` shows each owner (as written, by default). */
export function describeOwnerGroup(group: OwnerGroupRequirement, handle: (name: string) => string = (name) => name): string {
  const shown = group.patterns.slice(0, 3).map(codeSpan).join(', ');
  const more = group.patterns.length > 3 ? ` and ${group.patterns.length - 3} more` : '';
  return `${shown || 'the changed files'}${more} (${group.owners.map(handle).join(' ')})`;
}

/**
 * Who is listed, in words: "a code owner of the changed files, @acme/leads or @alice". With
 * `codeowners` (each group) the others only add to the count, so they are not offered as an
 * alternative: "a code owner of each group of changed files (@acme/leads count towards the total,
 * not in an owner's place)". `handle` shows each team and user (`@acme/leads`, `@alice` by default).
 */
export function describeApprovers(set: ApproverSet, handle: (name: string) => string = (name) => name): string {
  const others = [...set.teams.map(handle), ...set.users.map((u) => handle(`@${u}`)), ...set.roles.map((r) => `anyone with ${r} permission`)];
  if (set.codeowners === 'each_group') {
    const owners = 'a code owner of each group of changed files';
    return others.length === 0 ? owners : `${owners} (${anyOf(others)} count towards the total, not in an owner's place)`;
  }
  const parts = set.codeowners === 'any' ? ['a code owner of the changed files', ...others] : others;
  return parts.length === 0 ? 'nobody' : anyOf(parts);
}

/** Which defaults a requirement of no rule is, and why they apply: ["defaults", "no rule matched"], or the org's. */
export function defaultsSource(r: Pick<Requirement, 'org' | 'worstCase'>): [which: string, why: string] {
  const why = `no ${r.org ? 'org ' : ''}rule matched${r.worstCase ? ' for certain' : ''}`;
  return [r.org ? "the org's defaults" : 'defaults', why];
}

/** "defaults: no rule matched", or "the org's defaults: no org rule matched". */
export function defaultsReason(r: Pick<Requirement, 'org' | 'worstCase'>): string {
  return defaultsSource(r).join(': ');
}

function anyOf(parts: readonly string[]): string {
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

/** "rule `production`", "rule `production` (escalation at line 12)", "the default requirement". */
export function requirementName(r: Pick<Requirement, 'rule' | 'escalation' | 'override' | 'org'>): string {
  if (r.override) return `the override of ${r.override.kind === 'freeze' ? 'freeze' : 'deploy window'} ${codeSpan(r.override.window)}`;
  if (r.rule === null) return r.org ? "the org policy's default requirement" : 'the default requirement';
  return `rule ${codeSpan(r.rule)}${r.escalation ? ` (escalation at line ${r.escalation.location.line})` : ''}`;
}

