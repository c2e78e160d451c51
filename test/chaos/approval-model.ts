/**
 * A small model of who may approve, written from docs/POLICY.md, docs/SECURITY.md and the README's
 * troubleshooting table, and deliberately sharing no code with the App or `policies/`: if the two
 * were built from the same functions, comparing them could never fail.
 *
 * It knows only the scenario family of `scenario.ts`, and says what must be true after each event:
 * the request's status and the votes on record that still stand.
 */
import { APP_ACTOR, TEAMS, type CastVote, type ChaosEvent, type CodeownersLine, type Observation, type PolicySpec, type RequireSpec, type Scenario, type Status, type Trace } from './scenario.js';

const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const RANK: Record<string, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const isBot = (login: string) => login.endsWith('[bot]');
const teamsOf = (login: string) => Object.keys(TEAMS).filter((team) => TEAMS[team].some((m) => same(m, login)));

/** "`alice` or `@alice`: that user"; "`@org/team`: members of that team". */
interface Approvers {
  codeowners: false | 'each_group' | 'any';
  users: string[];
  teams: string[];
  roles: string[];
}

function parseApprovers(refs: readonly string[]): Approvers {
  const set: Approvers = { codeowners: false, users: [], teams: [], roles: [] };
  for (const ref of refs) {
    if (ref === 'codeowners') set.codeowners = 'each_group';
    else if (ref === 'codeowners:any') set.codeowners = set.codeowners || 'any';
    else if (ref.startsWith('role:')) set.roles.push(ref.slice('role:'.length));
    else if (ref.startsWith('@') && ref.includes('/')) set.teams.push(ref.slice(1));
    else set.users.push(ref.replace(/^@/, ''));
  }
  return set;
}

interface ModelRequirement {
  name: string;
  approvals: number;
  approvers: Approvers;
  allowSelfApproval: boolean;
  /** A time escalation of its rule: who may approve too once it is due. */
  later?: { afterMinutes: number; approvers: Approvers };
}

/** A group of changed files with the same code owners: one of them must approve. */
type OwnerGroup = string[];

/** GitHub's CODEOWNERS: the last matching line wins; a line without owners un-owns. */
function ownersOf(file: string, lines: readonly CodeownersLine[]): string[] {
  let owners: string[] = [];
  for (const { pattern, owners: listed } of lines) {
    const matches =
      pattern === '*' ||
      (pattern === '*.md' && file.endsWith('.md')) ||
      (pattern.endsWith('/') && file.startsWith(pattern.slice(1))) ||
      (!pattern.endsWith('/') && pattern.startsWith('/') && file === pattern.slice(1));
    if (matches) owners = listed;
  }
  return owners;
}

function isOwner(login: string, owner: string): boolean {
  return owner.includes('/') ? teamsOf(login).some((t) => same(`@${t}`, owner)) : same(owner, `@${login}`);
}

export interface ModelDecision {
  outcome: 'blocked' | 'auto_approve' | 'approval_required';
  why: string;
  requirements: ModelRequirement[];
  groups: OwnerGroup[];
  /** Every code owner of the changed files (for `codeowners:any`, and to list owners as eligible). */
  owners: string[];
}

/**
 * The decision when the request opens. "Every matching rule's requirement must be met"; a condition
 * escalation "adds a requirement that must be met as well", taking what it leaves out from its rule;
 * a rule takes what it leaves out from `defaults` (built in: 1 approval from `codeowners`, no
 * self-approval). An unknown change set always satisfies a requiring condition and never an
 * `unless`; with it, the catch-all rule's owners stand for all files.
 */
export function decide(scenario: Scenario): ModelDecision {
  const { policy, run, codeowners } = scenario;
  const unknown = run.kind === 'push';
  const files = unknown ? [] : run.files;
  const severity = run.severity ?? 'critical';
  const none = { requirements: [], groups: [], owners: [] };
  if (!SEVERITIES.includes(severity)) return { outcome: 'blocked', why: `severity ${severity} is not one of the policy's`, ...none };

  let groups: OwnerGroup[];
  if (unknown) {
    const catchAll = [...codeowners].reverse().find((line) => line.pattern === '*');
    groups = catchAll && catchAll.owners.length > 0 ? [catchAll.owners] : [];
  } else {
    const byOwners = new Map<string, OwnerGroup>();
    for (const file of files) {
      const owners = ownersOf(file, codeowners);
      if (owners.length > 0) byOwners.set([...owners].map((o) => o.toLowerCase()).sort().join(' '), owners);
    }
    groups = [...byOwners.values()];
  }
  const owners = [...new Set(groups.flat().map((o) => o.toLowerCase()))];

  const touchesInfra = unknown || files.some((f) => f.startsWith('infra/'));
  const docsOnly = !unknown && files.length > 0 && files.every((f) => f.startsWith('docs/'));
  const { defaults, deploy, infra } = policy;
  const fromDefaults = (require: RequireSpec | undefined) => ({
    approvals: require?.approvals ?? defaults.approvals ?? 1,
    approvers: require?.approvers ?? defaults.approvers ?? ['codeowners'],
  });
  const requirements: ModelRequirement[] = [];
  if (!(deploy.unlessDocsOnly && docsOnly)) {
    const own = fromDefaults(deploy.require);
    const allowSelfApproval = deploy.allowSelfApproval ?? defaults.allowSelfApproval ?? false;
    const later = deploy.later && { afterMinutes: deploy.later.afterMinutes, approvers: parseApprovers(deploy.later.alsoEligible) };
    requirements.push({ name: 'deploy', approvals: own.approvals, approvers: parseApprovers(own.approvers), allowSelfApproval, later });
    const escalation = deploy.escalation;
    if (escalation) {
      const condition = escalation.if;
      const holds =
        'paths' in condition
          ? touchesInfra
          : typeof condition.severity === 'string'
            ? severity === condition.severity
            : SEVERITIES.indexOf(severity) >= SEVERITIES.indexOf(condition.severity.at_least);
      if (holds) {
        requirements.push({
          name: 'deploy (escalation)',
          approvals: escalation.require.approvals ?? own.approvals,
          approvers: parseApprovers(escalation.require.approvers ?? own.approvers),
          // Someone else's scrutiny: the rule's allow_self_approval does not reach it (POLICY.md).
          allowSelfApproval: false,
          // A time escalation widens the rule's own requirement only, never one an escalation added (POLICY.md).
        });
      }
    }
  }
  if (infra && touchesInfra) {
    const own = fromDefaults(infra.require);
    requirements.push({ name: 'infra', approvals: own.approvals, approvers: parseApprovers(own.approvers), allowSelfApproval: infra.allowSelfApproval ?? defaults.allowSelfApproval ?? false });
  }
  if (requirements.length === 0) return { outcome: 'auto_approve', why: 'no rule requires approval', ...none };

  for (const requirement of requirements) {
    const why = nobodyCouldMeet(requirement, groups, owners, run.actor, unknown);
    if (why) return { outcome: 'blocked', why: `${requirement.name}: ${why}`, requirements, groups, owners };
  }
  return { outcome: 'approval_required', why: '', requirements, groups, owners };
}

/**
 * "A requirement nobody could meet (say, only `codeowners` and no changed file has an owner) gives
 * `outcome: blocked`", judged as `mercurial-jit explain` judges it: from the policy, CODEOWNERS, the
 * changed files and who started the run, before teams are expanded (a team or a role may hold anyone).
 */
function nobodyCouldMeet(requirement: ModelRequirement, groups: OwnerGroup[], owners: string[], actor: string, unknown: boolean): string | undefined {
  const { approvers, later } = requirement;
  const may = (login: string) => requirement.allowSelfApproval || !same(login, actor);
  if (approvers.codeowners && unknown && groups.length === 0) return 'the changed files are unknown and CODEOWNERS has no catch-all owners';
  if (approvers.codeowners === 'each_group') {
    const uncovered = groups.find((group) => !group.some((owner) => owner.includes('/') || may(owner.slice(1))));
    if (uncovered) return `no owner among ${uncovered.join(' ')} may approve`;
  }
  const listedOwners = approvers.codeowners ? owners : [];
  const teams = [...approvers.teams, ...(later?.approvers.teams ?? [])];
  if (teams.length > 0 || approvers.roles.length > 0 || (later?.approvers.roles.length ?? 0) > 0 || listedOwners.some((o) => o.includes('/'))) return undefined;
  const people = new Set([...listedOwners.map((o) => o.slice(1)), ...approvers.users, ...(later?.approvers.users ?? [])].map((p) => p.toLowerCase()));
  const eligible = [...people].filter(may);
  return eligible.length < requirement.approvals ? `needs ${requirement.approvals} approvals, and only ${eligible.length} listed people may give them` : undefined;
}

interface Comment {
  by: string;
  says: string;
  early: boolean;
}

interface StandingVote extends CastVote {
  /** The comment that cast it; deleting that comment withdraws it. */
  comment?: number;
}

/**
 * Replays the events. A vote is a new `/approve` or `/reject <reason>` comment, or a check-run
 * button. Only newly created comments vote (never edits), and a comment written before the request
 * opened does not count; a replayed delivery is handled once. Deleting a counted `/approve` comment
 * withdraws it while the request waits. Who may approve: listed by a requirement (users, team
 * members, code owners of the changed files, roles), at least `min_permission`, not a requester
 * (who started the run, and who opened its pull request) unless self-approval is allowed, not a bot
 * unless bots are allowed; each person counts once (a second vote is refused: "already voted"). At
 * vote time the pull request's head is read again; if it moved, the vote does not count and the
 * request fails as superseded. Any eligible reject rejects at once. Before a vote completes the
 * request, every earlier approver's permission and membership is looked up again. Past its timeout
 * a request can no longer be decided by votes: it times out. When a time escalation falls due (its
 * timer runs at a tick), the votes that stand are counted again, as a vote would count them.
 *
 * One rule the documents do not state, taken from the App: bots never vote by comment, whatever
 * `allow_bots` says (a bot's comment could be this App's own); `allow_bots` lets them vote with the
 * check run's buttons.
 */
export function expectedTrace(scenario: Scenario): Trace & { decision: ModelDecision } {
  const decision = decide(scenario);
  const { policy, run } = scenario;
  const allowBots = policy.defaults.allowBots ?? false;
  const minPermission = policy.defaults.minPermission ?? 'write';
  const timeout = policy.defaults.timeoutMinutes;
  const requesters = run.kind === 'pull' ? [run.actor, run.author] : [run.actor];
  const permissions = { ...scenario.permissions };

  let status: Status = decision.outcome === 'blocked' ? 'failed' : decision.outcome === 'auto_approve' ? 'approved' : 'pending';
  let completedBy: string | null = APP_ACTOR;
  let minutes = 0;
  let headMoved = false;
  /** Whether a due time escalation has counted the votes again (its timer fires once). */
  let escalationCounted = false;
  const votes: StandingVote[] = [];
  const comments: Comment[] = [];
  /** Comments whose vote was recorded (whether or not it still stands). */
  const castBy = new Map<number, StandingVote>();

  const expired = () => minutes >= timeout;

  const eligibleFor = (login: string, requirement: ModelRequirement): boolean => {
    if (isBot(login) && !allowBots) return false;
    if (RANK[permissions[login] ?? 'none'] < RANK[minPermission]) return false;
    if (!requirement.allowSelfApproval && requesters.some((r) => same(r, login))) return false;
    const listedBy = (set: Approvers) =>
      set.users.some((u) => same(u, login)) ||
      set.teams.some((t) => teamsOf(login).some((m) => same(m, t))) ||
      set.roles.some((role) => RANK[permissions[login] ?? 'none'] >= RANK[role]) ||
      (set.codeowners !== false && decision.owners.some((owner) => isOwner(login, owner)));
    if (listedBy(requirement.approvers)) return true;
    return requirement.later !== undefined && minutes >= requirement.later.afterMinutes && listedBy(requirement.later.approvers);
  };
  const eligible = (login: string) => decision.requirements.some((r) => eligibleFor(login, r));

  /** Every requirement has its number of distinct approvers, and with `codeowners` each owned group one of its owners. */
  const met = () =>
    decision.requirements.every((requirement) => {
      const approvers = votes.filter((v) => v.choice === 'approve' && eligibleFor(v.login, requirement)).map((v) => v.login);
      if (approvers.length < requirement.approvals) return false;
      if (requirement.approvers.codeowners !== 'each_group') return true;
      return decision.groups.every((group) => approvers.some((login) => group.some((owner) => isOwner(login, owner))));
    });

  const vote = (login: string, choice: 'approve' | 'reject', comment?: number) => {
    if (status !== 'pending') return;
    if (expired()) {
      status = 'timed_out';
      completedBy = APP_ACTOR;
      return;
    }
    if (headMoved) {
      status = 'failed';
      completedBy = APP_ACTOR;
      return;
    }
    if (!eligible(login)) return;
    if (votes.some((v) => same(v.login, login))) return;
    const cast: StandingVote = { login, choice, comment };
    votes.push(cast);
    if (comment !== undefined) castBy.set(comment, cast);
    if (choice === 'reject' || met()) {
      status = choice === 'reject' ? 'rejected' : 'approved';
      completedBy = login;
    }
  };

  const commandOf = (says: string): 'approve' | 'reject' | undefined => (says === 'approve' ? 'approve' : says === 'reject' ? 'reject' : undefined);

  const apply = (event: ChaosEvent) => {
    const target = (n: number) => (comments.length === 0 ? undefined : n % comments.length);
    switch (event.kind) {
      case 'comment':
      case 'early-comment': {
        const index = comments.push({ by: event.by, says: event.says, early: event.kind === 'early-comment' }) - 1;
        const choice = commandOf(event.says);
        if (choice && !isBot(event.by) && event.kind === 'comment') vote(event.by, choice, index);
        return;
      }
      case 'edit':
      case 'replay':
        return;
      case 'delete': {
        const index = target(event.target);
        if (index === undefined) return;
        const cast = castBy.get(index);
        const at = cast ? votes.indexOf(cast) : -1;
        if (at >= 0 && status === 'pending' && !expired()) votes.splice(at, 1);
        return;
      }
      case 'button':
        vote(event.by, event.choice);
        return;
      case 'revoke':
        permissions[event.who] = 'none';
        return;
      case 'push':
        if (run.kind === 'pull') headMoved = true;
        return;
      case 'wait':
        minutes += event.minutes;
        return;
      case 'tick':
        if (status === 'pending' && expired()) {
          status = 'timed_out';
          completedBy = APP_ACTOR;
          return;
        }
        // A time escalation that fell due counts the standing votes again, once: approved, if they now
        // are enough, unless the pull request moved on (then it fails as superseded).
        if (status === 'pending' && !escalationCounted && decision.requirements.some((r) => r.later !== undefined && minutes >= r.later.afterMinutes)) {
          escalationCounted = true;
          if (met()) {
            status = headMoved ? 'failed' : 'approved';
            completedBy = APP_ACTOR;
          }
        }
        return;
      case 'give-up':
        if (status === 'pending') {
          status = 'timed_out';
          completedBy = run.actor;
        }
        return;
    }
  };

  const observe = (): Observation => ({ status: status === 'pending' && expired() ? 'timed_out' : status, votes: votes.map(({ login, choice }) => ({ login, choice })) });
  const opened = observe();
  const steps = scenario.events.map((event) => {
    apply(event);
    return observe();
  });
  apply({ kind: 'tick' });
  return { decision, opened, steps, final: { ...observe(), completedBy }, };
}

/**
 * Whether the App's observation agrees with the model's. Past the deadline the App may still show
 * `pending` until its timer fires (or a vote arrives): it can no longer approve either way, so
 * `pending` is accepted for the model's `timed_out` then, and the votes no longer matter.
 */
export function agrees(expected: Observation, actual: Observation, pastDeadline: boolean): boolean {
  if (pastDeadline && expected.status === 'timed_out' && (actual.status === 'pending' || actual.status === 'timed_out')) return true;
  if (expected.status !== actual.status) return false;
  if (expected.votes.length !== actual.votes.length) return false;
  return expected.votes.every((v, i) => same(v.login, actual.votes[i].login) && v.choice === actual.votes[i].choice);
}

/** Minutes elapsed after each event, for `agrees`. */
export function elapsedAfterEach(events: readonly ChaosEvent[]): number[] {
  let minutes = 0;
  return events.map((event) => (minutes += event.kind === 'wait' ? event.minutes : 0));
}

export { type PolicySpec };
