/**
 * Nested teams and pending memberships, as GitHub reports them: a child team's members are members of its
 * ancestors (and get their repository access); an invited member whose organization invitation is not yet
 * accepted is `pending` and counts for nothing else.
 */
import type { Team } from './types.js';

type Teams = ReadonlyMap<string, Team>;

const keyOf = (org: string, slug: string) => `${org}/${slug}`.toLowerCase();

/** The team's parent, grandparent, … (GitHub forbids cycles; seeding refuses them). */
export function ancestorsOf(teams: Teams, team: Team): Team[] {
  const chain: Team[] = [];
  for (let at = team.parent; at !== null;) {
    const parent = teams.get(keyOf(team.org, at));
    if (!parent || chain.includes(parent)) break;
    chain.push(parent);
    at = parent.parent;
  }
  return chain;
}

export function descendantsOf(teams: Teams, team: Team): Team[] {
  return [...teams.values()].filter((t) => t !== team && ancestorsOf(teams, t).includes(team));
}

/** Refuses a parent that does not exist in the same organization, or a loop of parents. */
export function assertHierarchy(teams: Teams): void {
  for (const team of teams.values()) {
    const seen = new Set<Team>([team]);
    for (let at = team.parent; at !== null;) {
      const parent = teams.get(keyOf(team.org, at));
      if (!parent) throw new Error(`team ${team.org}/${team.slug}: parent team ${at} does not exist in ${team.org}`);
      if (seen.has(parent)) throw new Error(`team ${team.org}/${team.slug}: its parent teams form a loop`);
      seen.add(parent);
      at = parent.parent;
    }
  }
}

export interface TeamMembership {
  role: 'member' | 'maintainer';
  state: 'active' | 'pending';
}

/**
 * What "Get team membership for a user" answers: a direct membership, else an active one through a child
 * team (reported as `member`), else a pending invitation; undefined when the user is none of these.
 */
export function membershipIn(teams: Teams, team: Team, login: string): TeamMembership | undefined {
  const key = login.toLowerCase();
  const direct = team.members.get(key);
  if (direct) return { role: direct, state: 'active' };
  if (descendantsOf(teams, team).some((child) => child.members.has(key))) return { role: 'member', state: 'active' };
  const pending = team.pending.get(key);
  return pending ? { role: pending, state: 'pending' } : undefined;
}

/** Active members, direct ones first with their role, then those of child teams as `member`. */
export function activeMembersOf(teams: Teams, team: Team): Array<{ login: string; role: 'member' | 'maintainer'; inherited: boolean }> {
  const members = [...team.members].map(([login, role]) => ({ login, role, inherited: false }));
  for (const child of descendantsOf(teams, team)) {
    for (const login of child.members.keys()) {
      if (!members.some((m) => m.login === login)) members.push({ login, role: 'member', inherited: true });
    }
  }
  return members;
}
