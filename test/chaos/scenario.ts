/**
 * One adversarial scenario: a policy from a small family, a CODEOWNERS file, who may do what on the
 * repository, the run that asks for approval, and what people (and bots) then do. Plain data, shared
 * by the generator, the model and the two drivers, and printed as text when they disagree.
 */

export const HUMANS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'mallory'] as const;
export const BOTS = ['deploy-bot[bot]', 'review-bot[bot]'] as const;
export const ACCOUNTS: readonly string[] = [...HUMANS, ...BOTS];

/** The organisation's teams (`acme/…`), the same in every scenario. Bots are never members, as on GitHub. */
export const TEAMS: Readonly<Record<string, readonly string[]>> = {
  'acme/leads': ['alice', 'dave'],
  'acme/security': ['erin', 'frank'],
  'acme/payments': ['carol', 'gina'],
  'acme/docs': ['bob', 'gina'],
  'acme/sre': ['dave', 'erin'],
};

/** Every file a pull request may change; all exist on the default branch. */
export const FILES = ['src/app.ts', 'src/util.ts', 'payments/charge.ts', 'payments/README.md', 'docs/guide.md', 'docs/runbook.md', 'infra/main.tf', 'infra/dns/zones.tf', 'README.md'] as const;

export type Permission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface RequireSpec {
  approvals?: number;
  /** As written in the policy: `codeowners`, `codeowners:any`, `@acme/team`, `login`, `@login`, `role:write`, … */
  approvers?: string[];
}

export type EscalationCondition = { severity: 'critical' } | { severity: { at_least: 'high' } } | { paths: 'infra/**' };

export interface PolicySpec {
  defaults: {
    timeoutMinutes: number;
    approvals?: number;
    approvers?: string[];
    allowBots?: boolean;
    minPermission?: 'write' | 'maintain';
    allowSelfApproval?: boolean;
  };
  /** The rule every request matches (`deploy`), unless it changes only docs and `unlessDocsOnly` is set. */
  deploy: {
    /** Absent: the rule has no `require` and takes the defaults. */
    require?: RequireSpec;
    allowSelfApproval?: boolean;
    unlessDocsOnly: boolean;
    /** A condition escalation: an additional requirement when it holds. */
    escalation?: { if: EscalationCondition; require: RequireSpec };
    /** A time escalation: these people may approve too once the request has waited this long. */
    later?: { afterMinutes: number; alsoEligible: string[] };
  };
  /** A second rule for changes touching `infra/**`. */
  infra?: { require?: RequireSpec; allowSelfApproval?: boolean };
}

export const CODEOWNERS_PATTERNS = ['*', '/payments/', '*.md', '/infra/', '/infra/dns/', '/docs/', '/src/app.ts'] as const;
export type CodeownersPattern = (typeof CODEOWNERS_PATTERNS)[number];

export interface CodeownersLine {
  pattern: CodeownersPattern;
  /** `@login` or `@acme/team`; none un-owns what the pattern matches. */
  owners: string[];
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface RunSpec {
  /** A `pull_request` run (its files are the PR's), or a `push` run whose change set is unknown (the first run). */
  kind: 'pull' | 'push';
  /** Who started the run. */
  actor: string;
  /** Who opened the pull request (pull runs). */
  author: string;
  /** The pull request's changed files (pull runs). */
  files: string[];
  /** The step's `severity` input; absent means the highest. `Critical` is not one of the policy's. */
  severity?: Severity | 'Critical';
}

export type Says = 'approve' | 'reject' | 'reject-without-reason' | 'chatter' | 'quoted-approve';

export type ChaosEvent =
  /** A new comment on the request's thread (the PR, or the approval issue). */
  | { kind: 'comment'; by: string; says: Says }
  /** A comment written a minute before the request opened, whose webhook arrives now. */
  | { kind: 'early-comment'; by: string; says: Says }
  /** `target` picks one of the comments made so far (modulo their number); nothing happens when there are none. */
  | { kind: 'edit'; target: number; says: Says }
  | { kind: 'delete'; target: number }
  /** GitHub (or an attacker) sends a comment's webhook delivery again. */
  | { kind: 'replay'; target: number }
  /** The Approve or Reject button on the check run. */
  | { kind: 'button'; by: string; choice: 'approve' | 'reject' }
  /** Someone loses their access to the repository. */
  | { kind: 'revoke'; who: string }
  /** A new commit on the pull request's head (pull runs). */
  | { kind: 'push' }
  /** Time passes. */
  | { kind: 'wait'; minutes: number }
  /** The App's timers run (deadlines, escalations), as they do every few seconds. */
  | { kind: 'tick' }
  /** The step stops waiting (its own `timeout`). */
  | { kind: 'give-up' };

export interface Scenario {
  permissions: Record<string, Permission>;
  policy: PolicySpec;
  codeowners: CodeownersLine[];
  run: RunSpec;
  events: ChaosEvent[];
}

/** Status of a request as both the model and the App report it. */
export type Status = 'pending' | 'approved' | 'rejected' | 'timed_out' | 'failed' | 'cancelled';

export interface CastVote {
  login: string;
  choice: 'approve' | 'reject';
}

/** What is true after one event: the request's status and the votes on record that still stand. */
export interface Observation {
  status: Status;
  votes: CastVote[];
}

export interface Trace {
  /** Right after the request opened. */
  opened: Observation;
  /** After each event, in order. */
  steps: Observation[];
  /** After the App's timers caught up at the end. */
  final: Observation & { completedBy: string | null };
}

export const APP_ACTOR = 'app';

export const isBotLogin = (login: string) => login.endsWith('[bot]');

/** A stable account id per login (the App compares requesters by id). */
export const accountId = (login: string) => String(1000 + [...login].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 7));

/** The comment body a person writes. */
export function commentBody(says: Says): string {
  switch (says) {
    case 'approve':
      return '/approve ship it';
    case 'reject':
      return '/reject not during the freeze';
    case 'reject-without-reason':
      return '/reject';
    case 'chatter':
      return 'LGTM, but let someone else approve';
    case 'quoted-approve':
      return '> /approve\n\nquoting the command is not a vote';
  }
}

const quote = (s: string) => JSON.stringify(s);
const list = (items: readonly string[]) => `[${items.map(quote).join(', ')}]`;

function requireYaml(require: RequireSpec): string {
  const parts: string[] = [];
  if (require.approvals !== undefined) parts.push(`approvals: ${require.approvals}`);
  if (require.approvers !== undefined) parts.push(`approvers: ${list(require.approvers)}`);
  return `{ ${parts.join(', ')} }`;
}

function conditionYaml(condition: EscalationCondition): string {
  if ('paths' in condition) return `{ paths: [${quote(condition.paths)}] }`;
  return typeof condition.severity === 'string' ? `{ severity: ${condition.severity} }` : `{ severity: { at_least: ${condition.severity.at_least} } }`;
}

export function policyYaml(policy: PolicySpec): string {
  const { defaults, deploy, infra } = policy;
  const lines = ['version: 1', 'defaults:', `  timeout: ${defaults.timeoutMinutes}m`];
  if (defaults.approvals !== undefined) lines.push(`  approvals: ${defaults.approvals}`);
  if (defaults.approvers !== undefined) lines.push(`  approvers: ${list(defaults.approvers)}`);
  if (defaults.allowBots !== undefined) lines.push(`  allow_bots: ${defaults.allowBots}`);
  if (defaults.minPermission !== undefined) lines.push(`  min_permission: ${defaults.minPermission}`);
  if (defaults.allowSelfApproval !== undefined) lines.push(`  allow_self_approval: ${defaults.allowSelfApproval}`);
  lines.push('rules:', '  - name: deploy');
  if (deploy.unlessDocsOnly) lines.push('    unless: { only_paths: ["docs/**"] }');
  if (deploy.require) lines.push(`    require: ${requireYaml(deploy.require)}`);
  if (deploy.allowSelfApproval !== undefined) lines.push(`    allow_self_approval: ${deploy.allowSelfApproval}`);
  if (deploy.escalation || deploy.later) lines.push('    escalate:');
  if (deploy.escalation) lines.push(`      - if: ${conditionYaml(deploy.escalation.if)}`, `        require: ${requireYaml(deploy.escalation.require)}`);
  if (deploy.later) lines.push(`      - after: ${deploy.later.afterMinutes}m`, `        also_eligible: ${list(deploy.later.alsoEligible)}`);
  if (infra) {
    lines.push('  - name: infra', '    if: { paths: ["infra/**"] }');
    if (infra.require) lines.push(`    require: ${requireYaml(infra.require)}`);
    if (infra.allowSelfApproval !== undefined) lines.push(`    allow_self_approval: ${infra.allowSelfApproval}`);
  }
  return `${lines.join('\n')}\n`;
}

export function codeownersText(lines: readonly CodeownersLine[]): string {
  return lines.map((line) => [line.pattern, ...line.owners].join(' ')).join('\n') + '\n';
}

function describeEvent(event: ChaosEvent): string {
  switch (event.kind) {
    case 'comment':
      return `@${event.by} comments ${quote(commentBody(event.says))}`;
    case 'early-comment':
      return `@${event.by}'s comment ${quote(commentBody(event.says))}, written before the request opened, is delivered`;
    case 'edit':
      return `comment #${event.target} is edited to ${quote(commentBody(event.says))}`;
    case 'delete':
      return `comment #${event.target} is deleted`;
    case 'replay':
      return `comment #${event.target}'s webhook delivery is sent again`;
    case 'button':
      return `@${event.by} clicks ${event.choice === 'approve' ? 'Approve' : 'Reject'} on the check run`;
    case 'revoke':
      return `@${event.who} loses access to the repository`;
    case 'push':
      return 'a new commit is pushed to the pull request';
    case 'wait':
      return `${event.minutes} minute${event.minutes === 1 ? '' : 's'} pass${event.minutes === 1 ? 'es' : ''}`;
    case 'tick':
      return "the App's timers run";
    case 'give-up':
      return 'the step stops waiting (its own timeout)';
  }
}

const showVotes = (o: Observation) => (o.votes.length === 0 ? 'no votes' : o.votes.map((v) => `${v.choice} @${v.login}`).join(', '));
export const showObservation = (o: Observation): string => `${o.status}; ${showVotes(o)}`;

/**
 * The scenario as a person reads it, with what the model expected and what the App did after each
 * event; `mark` (`opened`, `after event N` or `final`) flags where they first disagree.
 */
export function describeScenario(scenario: Scenario, expected?: Trace, actual?: Partial<Trace>, mark?: string): string {
  const { run } = scenario;
  const out: string[] = [];
  out.push('.github/jit-approval.yml:', ...policyYaml(scenario.policy).trimEnd().split('\n').map((l) => `  ${l}`));
  out.push('.github/CODEOWNERS:', ...codeownersText(scenario.codeowners).trimEnd().split('\n').map((l) => `  ${l}`));
  out.push(`permissions: ${ACCOUNTS.map((a) => `${a}=${scenario.permissions[a] ?? 'none'}`).join(' ')}`);
  out.push(`teams: ${Object.entries(TEAMS).map(([t, m]) => `@${t}=${m.join(',')}`).join(' ')}`);
  const severity = run.severity === undefined ? 'none given' : run.severity;
  if (run.kind === 'pull') out.push(`run: pull_request run by @${run.actor} of a PR by @${run.author} changing ${run.files.join(', ')}; severity ${severity}`);
  else out.push(`run: push run by @${run.actor}, first of its action and environment (changes unknown); severity ${severity}`);
  const line = (at: string, label: string, e?: Observation, a?: Observation) =>
    `${at === mark ? '>>' : '  '} ${label}${e ? `\n       model: ${showObservation(e)}` : ''}${a ? `\n       App:   ${showObservation(a)}` : ''}`;
  out.push(line('opened', 'request opened', expected?.opened, actual?.opened));
  scenario.events.forEach((event, i) => out.push(line(`after event ${i + 1}`, `${i + 1}. ${describeEvent(event)}`, expected?.steps[i], actual?.steps?.[i])));
  if (expected || actual?.final) {
    const show = (f?: Trace['final']) => (f ? `${showObservation(f)}; completed by ${f.completedBy ?? '-'}` : '');
    out.push(`${mark === 'final' ? '>>' : '  '} final (timers caught up)\n       model: ${show(expected?.final)}\n       App:   ${show(actual?.final)}`);
  }
  return out.join('\n');
}
