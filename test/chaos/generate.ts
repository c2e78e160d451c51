/**
 * Random scenarios (fast-check arbitraries, so a failure shrinks to a small one). The families are
 * small on purpose: a few people, teams, files and CODEOWNERS lines that meet often, so that most
 * sequences reach a decision and the interesting corners (self-approval, owner groups, escalations,
 * withdrawn and late votes) come up every few dozen runs.
 */
import fc from 'fast-check';
import {
  ACCOUNTS,
  BOTS,
  CODEOWNERS_PATTERNS,
  FILES,
  HUMANS,
  type ChaosEvent,
  type CodeownersLine,
  type EscalationCondition,
  type Permission,
  type PolicySpec,
  type RequireSpec,
  type RunSpec,
  type Says,
  type Scenario,
} from './scenario.js';

const weighted = <T>(...choices: [number, T][]): fc.Arbitrary<T> => fc.oneof(...choices.map(([weight, value]) => ({ weight, arbitrary: fc.constant(value) })));

const permission: fc.Arbitrary<Permission> = weighted([2, 'admin'], [2, 'maintain'], [10, 'write'], [1, 'triage'], [1, 'read'], [1, 'none']);

const permissions: fc.Arbitrary<Record<string, Permission>> = fc
  .tuple(...ACCOUNTS.map(() => permission))
  .map((levels) => Object.fromEntries(ACCOUNTS.map((account, i) => [account, levels[i]])));

const APPROVERS = [
  'codeowners', 'codeowners', 'codeowners', 'codeowners:any',
  '@acme/leads', '@acme/security', '@acme/payments', '@acme/docs', '@acme/sre',
  'alice', '@bob', 'carol', 'dave', '@erin', 'mallory', 'review-bot[bot]',
  'role:write', 'role:maintain', 'role:admin',
];

const approvers = fc
  .uniqueArray(fc.constantFrom(...APPROVERS), { minLength: 1, maxLength: 3 })
  .map((refs) => (refs.includes('codeowners') ? refs.filter((r) => r !== 'codeowners:any') : refs));

const approvals = weighted([6, 1], [3, 2], [1, 3]);

/** Present in `present` out of `present + absent` scenarios. */
const maybe = <T>(arb: fc.Arbitrary<T>, present = 1, absent = 1): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: present, arbitrary: arb });

/** Drops the keys left undefined, as a policy author leaves them out. */
const written = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

const requireSpec: fc.Arbitrary<RequireSpec> = fc
  .record({ approvals: maybe(approvals, 2, 1), approvers: maybe(approvers, 3, 1) })
  .map((r) => written(r.approvals === undefined && r.approvers === undefined ? { approvers: ['codeowners'] } : r));

const condition: fc.Arbitrary<EscalationCondition> = fc.constantFrom<EscalationCondition>({ severity: 'critical' }, { severity: { at_least: 'high' } }, { paths: 'infra/**' });

const alsoEligible = fc.uniqueArray(fc.constantFrom('@acme/leads', '@acme/security', 'alice', 'bob', 'carol', 'frank', 'gina', 'mallory'), { minLength: 1, maxLength: 2 });

const policy: fc.Arbitrary<PolicySpec> = fc.record({
  defaults: fc
    .record({
      timeoutMinutes: fc.constantFrom(30, 45, 60, 90),
      approvals: maybe(approvals, 1, 2),
      approvers: maybe(approvers, 1, 2),
      allowBots: maybe(fc.boolean()),
      minPermission: maybe(fc.constantFrom<'write' | 'maintain'>('write', 'maintain'), 1, 2),
      allowSelfApproval: maybe(fc.boolean(), 1, 2),
    })
    .map(written),
  deploy: fc
    .record({
      require: maybe(requireSpec, 4, 1),
      allowSelfApproval: maybe(fc.boolean()),
      unlessDocsOnly: weighted([1, true], [4, false]),
      escalation: maybe(fc.record({ if: condition, require: requireSpec }), 2, 3),
      later: maybe(fc.record({ afterMinutes: fc.integer({ min: 5, max: 40 }), alsoEligible }), 1, 2),
    })
    .map(written),
  infra: maybe(fc.record({ require: maybe(requireSpec, 4, 1), allowSelfApproval: maybe(fc.boolean()) }).map(written), 1, 2),
});

const OWNERS = ['@alice', '@bob', '@carol', '@dave', '@erin', '@mallory', '@acme/payments', '@acme/docs', '@acme/sre', '@acme/leads'];

const owners = fc.oneof({ weight: 1, arbitrary: fc.constant<string[]>([]) }, { weight: 8, arbitrary: fc.uniqueArray(fc.constantFrom(...OWNERS), { minLength: 1, maxLength: 3 }) });

/** Usually a catch-all line first, as most CODEOWNERS files have; then lines in any order (the last match wins). */
const codeowners: fc.Arbitrary<CodeownersLine[]> = fc
  .tuple(
    maybe(owners.map((o): CodeownersLine => ({ pattern: '*', owners: o })), 6, 1),
    fc.uniqueArray(fc.record({ pattern: fc.constantFrom(...CODEOWNERS_PATTERNS), owners }), { minLength: 0, maxLength: 4, selector: (line) => line.pattern }),
  )
  .map(([catchAll, lines]) => (catchAll ? [catchAll, ...lines] : lines));

const human = fc.constantFrom(...HUMANS);
const anyone = fc.oneof({ weight: 5, arbitrary: human }, { weight: 1, arbitrary: fc.constantFrom(...BOTS) });

const run: fc.Arbitrary<RunSpec> = fc.record({
  kind: weighted<'pull' | 'push'>([4, 'pull'], [1, 'push']),
  actor: fc.oneof({ weight: 8, arbitrary: human }, { weight: 1, arbitrary: fc.constantFrom(...BOTS) }),
  author: human,
  files: fc.oneof(
    { weight: 7, arbitrary: fc.uniqueArray(fc.constantFrom(...FILES), { minLength: 1, maxLength: 4 }) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...FILES.filter((f) => f.startsWith('docs/'))), { minLength: 1, maxLength: 2 }) },
  ),
  severity: fc.oneof(
    { weight: 9, arbitrary: fc.constant(undefined) },
    { weight: 20, arbitrary: fc.constantFrom<RunSpec['severity']>('low', 'medium', 'high', 'critical') },
    { weight: 1, arbitrary: fc.constant<RunSpec['severity']>('Critical') },
  ),
});

const says: fc.Arbitrary<Says> = weighted([8, 'approve'], [2, 'reject'], [1, 'reject-without-reason'], [1, 'chatter'], [1, 'quoted-approve']);
const target = fc.nat({ max: 20 });

export interface GenerateOptions {
  /**
   * Events that need the App's clock in hand (time passing, timers, comments dated before the
   * request): only the in-process driver has it; over HTTP the App runs on real time.
   */
  clock: boolean;
  maxEvents?: number;
}

export function event(options: GenerateOptions): fc.Arbitrary<ChaosEvent> {
  const choices: { weight: number; arbitrary: fc.Arbitrary<ChaosEvent> }[] = [
    { weight: 10, arbitrary: fc.record({ kind: fc.constant('comment' as const), by: anyone, says }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('edit' as const), target, says }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), target }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), target }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('button' as const), by: anyone, choice: weighted<'approve' | 'reject'>([4, 'approve'], [1, 'reject']) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), who: fc.constantFrom(...ACCOUNTS) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'push' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'give-up' as const }) },
  ];
  if (options.clock) {
    choices.push(
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('early-comment' as const), by: anyone, says }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), minutes: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'tick' as const }) },
    );
  }
  return fc.oneof(...choices);
}

export function scenario(options: GenerateOptions): fc.Arbitrary<Scenario> {
  return fc.record({
    permissions,
    policy,
    codeowners,
    run,
    events: fc.array(event(options), { minLength: 1, maxLength: options.maxEvents ?? 12 }),
  });
}
