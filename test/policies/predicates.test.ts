import { describe, expect, test } from '@jest/globals';
import {
  evaluateConditions,
  matchAction,
  matchActor,
  matchBranch,
  matchEnvironment,
  matchEvent,
  matchLabels,
  matchOnlyPaths,
  matchPaths,
  matchSeverity,
  matchTargetBranch,
  PredicateContext,
} from '../../policies/predicates.js';
import type { RequestFacts, SeverityCondition } from '../../policies/types.js';

const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const ctxFor = (facts: Partial<RequestFacts>): PredicateContext =>
  new PredicateContext({ action: 'deploy', changedFiles: [], ...facts }, SEVERITIES);

type Row = [string, Partial<RequestFacts>, string[], boolean, string];

describe.each([
  ['action', matchAction, [
    ['exact name', { action: 'deploy' }, ['deploy'], true, 'action `deploy` matches `deploy`'],
    ['glob', { action: 'db-migrate' }, ['db-*'], true, 'action `db-migrate` matches `db-*`'],
    ['other name', { action: 'deploy' }, ['release', 'db-*'], false, 'action `deploy` matches none of `release`, `db-*`'],
    ['names ignore case: a step cannot dodge `deploy` as `DEPLOY`', { action: 'DEPLOY' }, ['deploy'], true, 'action `DEPLOY` matches `deploy`'],
    ['globs ignore case too', { action: 'DB-Migrate' }, ['db-*'], true, 'matches `db-*`'],
  ] as Row[]],
  ['environment', matchEnvironment, [
    ['listed', { environment: 'production' }, ['staging', 'production'], true, 'environment `production` matches `production`'],
    ['glob', { environment: 'prod-eu' }, ['prod-*'], true, 'matches `prod-*`'],
    ['not listed', { environment: 'staging' }, ['prod-*'], false, 'environment `staging` matches none of `prod-*`'],
    ['missing', {}, ['prod-*'], false, 'the request has no environment'],
    ['empty string counts as missing', { environment: '' }, ['*'], false, 'the request has no environment'],
    ['names ignore case, as on GitHub', { environment: 'Production' }, ['production'], true, 'environment `Production` matches `production`'],
    ['globs ignore case too', { environment: 'PROD-eu' }, ['prod-*'], true, 'matches `prod-*`'],
  ] as Row[]],
  ['branch', matchBranch, [
    ['main', { branch: 'main' }, ['main', 'release/**'], true, 'branch `main` matches `main`'],
    ['deep release branch', { branch: 'release/2024/q1' }, ['release/**'], true, 'matches `release/**`'],
    ['single star stops at slash', { branch: 'release/2024/q1' }, ['release/*'], false, 'matches none of `release/*`'],
    ['feature branch', { branch: 'feature/x' }, ['main', 'release/**'], false, 'branch `feature/x` matches none of `main`, `release/**`'],
    ['missing', {}, ['main'], false, 'branch: the request has no branch'],
  ] as Row[]],
  ['target branch', matchTargetBranch, [
    ['base main', { targetBranch: 'main' }, ['main'], true, 'target branch `main` matches `main`'],
    ['the run branch is not the target', { branch: 'main' }, ['main'], false, 'the request has no target branch'],
    ['other base', { targetBranch: 'develop' }, ['main'], false, 'matches none of `main`'],
  ] as Row[]],
  ['event', matchEvent, [
    ['push', { event: 'push' }, ['push', 'workflow_dispatch'], true, 'event `push` matches `push`'],
    ['pull_request', { event: 'pull_request' }, ['push'], false, 'event `pull_request` matches none of `push`'],
    ['pull_request is not pull_request_target', { event: 'pull_request_target' }, ['pull_request'], false, 'matches none of'],
    ['missing', {}, ['push'], false, 'the request has no event'],
  ] as Row[]],
  ['actor', matchActor, [
    ['exact', { actor: 'alice' }, ['alice'], true, 'actor `alice` matches `alice`'],
    ['logins ignore case', { actor: 'Alice' }, ['alice'], true, 'actor `Alice` matches `alice`'],
    ['pattern ignores case', { actor: 'renovate-bot' }, ['Renovate-*'], true, 'matches `Renovate-*`'],
    ['bot login as GitHub writes it', { actor: 'dependabot[bot]' }, ['dependabot[bot]'], true, 'actor `dependabot[bot]` matches `dependabot[bot]`'],
    ['bot login ignores case', { actor: 'Dependabot[bot]' }, ['dependabot[bot]'], true, 'matches `dependabot[bot]`'],
    ['escaped brackets still mean the same', { actor: 'dependabot[bot]' }, ['dependabot\\[bot\\]'], true, 'matches'],
    ['[bot] is not a character class', { actor: 'dependabotb' }, ['dependabot[bot]'], false, 'actor `dependabotb` matches none of `dependabot[bot]`'],
    ['[bot] is not a character class (t)', { actor: 'dependabott' }, ['dependabot[bot]'], false, 'matches none of'],
    ['the user of the same name is not the bot', { actor: 'dependabot' }, ['dependabot[bot]'], false, 'matches none of'],
    ['any bot', { actor: 'renovate[bot]' }, ['*[bot]'], true, 'actor `renovate[bot]` matches `*[bot]`'],
    ['any bot is not any login ending in b, o or t', { actor: 'robot' }, ['*[bot]'], false, 'actor `robot` matches none of `*[bot]`'],
    ['a bracket alone is literal, not an error', { actor: 'x[bot' }, ['x[bot'], true, 'matches `x[bot`'],
    ['someone else', { actor: 'mallory' }, ['alice', 'bob'], false, 'actor `mallory` matches none of `alice`, `bob`'],
    ['missing', {}, ['alice'], false, 'the request has no actor'],
  ] as Row[]],
])('%s', (_name, predicate, rows) => {
  test.each(rows)('%s', (_case, facts, patterns, matched, reason) => {
    const result = predicate(patterns, ctxFor(facts));
    expect(result.matched).toBe(matched);
    expect(result.reason).toContain(reason);
    expect(result.error).toBeUndefined();
  });

  test('an invalid glob is an error, never a match', () => {
    const result = predicate(['!main'], ctxFor({ action: 'main', environment: 'main', branch: 'main', targetBranch: 'main', event: 'main', actor: 'main' }));
    expect(result).toMatchObject({ matched: false, error: true });
    expect(result.reason).toContain('negation');
  });
});

test('brackets stay a character class outside actor', () => {
  expect(matchBranch(['v[12]'], ctxFor({ branch: 'v2' })).matched).toBe(true);
  expect(matchBranch(['v[12]'], ctxFor({ branch: 'v3' })).matched).toBe(false);
  expect(matchActor(['v[12]'], ctxFor({ actor: 'v2' })).matched).toBe(false);
});

describe('actor of a run someone else re-ran: both started it', () => {
  const rows: [string, Partial<RequestFacts>, string[], 'tighten' | 'loosen', boolean, true | undefined, string][] = [
    ['loosening needs both: the bot started it, a person re-ran it', { actor: 'release-bot', rerunBy: ['mallory'] }, ['release-bot'], 'loosen', false, true, 're-run by `mallory`, who does not match: it holds only when both match'],
    ['loosening holds when both match', { actor: 'release-bot', rerunBy: ['renovate-bot'] }, ['*-bot'], 'loosen', true, undefined, 'it holds only when both match'],
    ['loosening: the re-runner matching is not enough', { actor: 'mallory', rerunBy: ['release-bot'] }, ['release-bot'], 'loosen', false, true, 'actor `mallory` matches none of `release-bot`'],
    ['tightening holds when either matches', { actor: 'release-bot', rerunBy: ['mallory'] }, ['mallory'], 'tighten', true, true, 're-run by `mallory`, who matches: it holds when either matches'],
    ['tightening: neither matches', { actor: 'release-bot', rerunBy: ['mallory'] }, ['alice'], 'tighten', false, undefined, 'it holds when either matches'],
    ['a re-run by who started it is one person', { actor: 'release-bot', rerunBy: ['Release-Bot'] }, ['release-bot'], 'loosen', true, undefined, 'actor `release-bot` matches `release-bot`'],
  ];
  test.each(rows)('%s', (_case, facts, patterns, purpose, matched, assumed, reason) => {
    const result = matchActor(patterns, ctxFor(facts), purpose);
    expect(result).toMatchObject({ key: 'actor', matched });
    // Where the two who started it differ, the answer is the worst case, not a fact about the run.
    expect(result.assumed).toBe(assumed);
    expect(result.reason).toContain(reason);
  });
});

describe("branch of a pull request whose merge ships its base's unapproved changes: both branches", () => {
  const rows: [string, Partial<RequestFacts>, string[], 'tighten' | 'loosen', boolean, true | undefined, string][] = [
    ['loosening needs the base to match too', { branch: 'main', unapprovedBase: 'evil' }, ['main'], 'loosen', false, true, 'also ships changes no approved request covered from `evil`, which does not match'],
    ['loosening holds when both match', { branch: 'main', unapprovedBase: 'release/1' }, ['main', 'release/*'], 'loosen', true, undefined, '`release/1`, which matches too'],
    ['loosening: the base matching is not enough', { branch: 'feature', unapprovedBase: 'main' }, ['main'], 'loosen', false, undefined, 'branch `feature` matches none of `main`'],
    ['loosening with nothing unapproved from the base goes by the head', { branch: 'main' }, ['main'], 'loosen', true, undefined, 'branch `main` matches `main`'],
    ['tightening goes by the head branch, as the worst case where the base does not match', { branch: 'main', unapprovedBase: 'evil' }, ['main'], 'tighten', true, true, 'it holds for the head branch only, as the worst case'],
    ['tightening where both match is a fact', { branch: 'main', unapprovedBase: 'main-next' }, ['main*'], 'tighten', true, undefined, 'which matches too'],
    ['tightening: the base matching is not the head matching', { branch: 'feature', unapprovedBase: 'main' }, ['main'], 'tighten', false, undefined, 'branch `feature` matches none of `main`'],
  ];
  test.each(rows)('%s', (_case, facts, patterns, purpose, matched, assumed, reason) => {
    const result = matchBranch(patterns, ctxFor(facts), purpose);
    expect(result).toMatchObject({ key: 'branch', matched });
    expect(result.assumed).toBe(assumed);
    expect(result.reason).toContain(reason);
  });

  test('an auto-approving rule and an `unless` loosen; a requiring rule tightens', () => {
    const facts = ctxFor({ branch: 'main', unapprovedBase: 'evil' });
    expect(evaluateConditions({ branch: ['main'] }, facts, 'loosen').map((r) => r.matched)).toEqual([false]);
    expect(evaluateConditions({ branch: ['main'] }, facts, 'tighten').map((r) => r.matched)).toEqual([true]);
  });
});

describe('severity', () => {
  const rows: [string, string, SeverityCondition, boolean, string][] = [
    ['any-of hit', 'high', { anyOf: ['high', 'critical'] }, true, 'severity `high` is one of `high`, `critical`'],
    ['any-of miss', 'medium', { anyOf: ['high', 'critical'] }, false, 'severity `medium` is not one of `high`, `critical`'],
    ['at least, equal', 'high', { atLeast: 'high' }, true, 'severity `high` is at least `high` (low < medium < high < critical)'],
    ['at least, above', 'critical', { atLeast: 'high' }, true, 'severity `critical` is at least `high`'],
    ['at least, below', 'medium', { atLeast: 'high' }, false, 'severity `medium` is not at least `high`'],
    ['at least lowest matches everything known', 'low', { atLeast: 'low' }, true, 'is at least `low`'],
  ];
  test.each(rows)('%s', (_case, severity, condition, matched, reason) => {
    const result = matchSeverity(condition, ctxFor({ severity }));
    expect(result).toMatchObject({ matched, reason: expect.stringContaining(reason) });
    expect(result.error).toBeUndefined();
  });

  describe('the step states none (and the policy sets no default): the worst case, as for an unknown change set', () => {
    const none = ctxFor({});
    const holds = 'so it holds: an unstated severity always satisfies a condition that requires approval';
    const fails = 'so it does not hold: an unstated severity never satisfies a condition that loosens the gate';
    test.each([
      ['a requiring rule on a name below the highest holds', { anyOf: ['high'] }, 'tighten', true, `severity one of \`high\`: the step states no severity, ${holds}`],
      ['an `unless` or auto-approval on the lowest does not hold', { anyOf: ['low'] }, 'loosen', false, `severity one of \`low\`: the step states no severity, ${fails}`],
      ['at_least tightening holds', { atLeast: 'critical' }, 'tighten', true, `severity at least \`critical\`: the step states no severity, ${holds}`],
      ['at_least loosening does not hold, even from the lowest', { atLeast: 'low' }, 'loosen', false, `severity at least \`low\`: the step states no severity, ${fails}`],
    ] as const)('%s', (_case, condition, purpose, matched, reason) => {
      expect(matchSeverity(condition as SeverityCondition, none, purpose)).toEqual({ key: 'severity', matched, assumed: true, reason });
    });

    test('evaluateConditions judges it for the purpose given', () => {
      expect(evaluateConditions({ severity: { anyOf: ['low'] } }, none, 'tighten')[0].matched).toBe(true);
      expect(evaluateConditions({ severity: { anyOf: ['low'] } }, none, 'loosen')[0].matched).toBe(false);
    });

    test('a stated severity is judged as stated, whatever the purpose', () => {
      expect(matchSeverity({ anyOf: ['high'] }, ctxFor({ severity: 'critical' }), 'tighten')).toMatchObject({ matched: false, reason: 'severity `critical` is not one of `high`' });
      expect(matchSeverity({ anyOf: ['low'] }, ctxFor({ severity: 'low' }), 'loosen')).toMatchObject({ matched: true, reason: 'severity `low` is one of `low`' });
      expect(matchSeverity({ anyOf: ['low'] }, ctxFor({ severity: 'low' }), 'loosen').assumed).toBeUndefined();
    });

    test('a condition naming an unknown severity is still an error', () => {
      expect(matchSeverity({ anyOf: ['urgent'] }, none, 'loosen')).toMatchObject({ matched: false, error: true });
    });
  });

  test('the order is the policy\'s, not alphabetical or built in', () => {
    const ctx = new PredicateContext({ action: 'a', severity: 'sev2', changedFiles: [] }, ['sev3', 'sev2', 'sev1']);
    expect(matchSeverity({ atLeast: 'sev2' }, ctx).matched).toBe(true);
    expect(matchSeverity({ atLeast: 'sev1' }, ctx).matched).toBe(false);
  });

  test.each([
    ['request severity not in the policy (a typo)', 'Critical', { atLeast: 'high' } as SeverityCondition, 'severity `Critical` is not one of the policy\'s severities'],
    ['condition names an unknown severity', 'high', { atLeast: 'urgent' } as SeverityCondition, 'the condition names `urgent`'],
    ['any-of names an unknown severity', 'high', { anyOf: ['high', 'sev0'] } as SeverityCondition, 'the condition names `sev0`'],
  ])('%s is an error, never a match', (_case, severity, condition, reason) => {
    const result = matchSeverity(condition, ctxFor({ severity }));
    expect(result).toMatchObject({ matched: false, error: true });
    expect(result.reason).toContain(reason);
  });
});

describe('paths', () => {
  const rows: [string, string[], string[], boolean, string][] = [
    ['one file under infra', ['README.md', 'infra/main.tf'], ['infra/**'], true, 'changed file `infra/main.tf` matches `infra/**`'],
    ['second pattern', ['db/migrations/001.sql'], ['infra/**', 'db/migrations/**'], true, 'matches `db/migrations/**`'],
    ['exact path', ['package.json', 'src/a.ts'], ['package.json'], true, 'changed file `package.json` matches `package.json`'],
    ['exact path is not a prefix', ['package.json.bak'], ['package.json'], false, 'none of the 1 changed file matches `package.json`'],
    ['star stays in one directory', ['src/deep/a.ts'], ['src/*.ts'], false, 'none of the 1 changed file'],
    ['leading double star', ['a/b/c/schema.sql'], ['**/*.sql'], true, 'matches `**/*.sql`'],
    ['dotfiles match', ['.github/workflows/ci.yml'], ['.github/**'], true, 'matches `.github/**`'],
    ['braces', ['api/v2/x.proto'], ['api/{v1,v2}/**'], true, 'matches `api/{v1,v2}/**`'],
    ['prefix search does not skip a shorter sibling', ['infra', 'infra-old/x', 'infra/a'], ['infra/*'], true, 'changed file `infra/a`'],
    ['no file matches', ['docs/a.md', 'src/b.ts'], ['infra/**'], false, 'none of the 2 changed files matches `infra/**`'],
    ['case matters', ['Infra/main.tf'], ['infra/**'], false, 'none of'],
    ['no changed files', [], ['**'], false, 'paths: the request has no changed files'],
  ];
  test.each(rows)('%s', (_case, changedFiles, patterns, matched, reason) => {
    const result = matchPaths(patterns, ctxFor({ changedFiles }));
    expect(result).toMatchObject({ matched, reason: expect.stringContaining(reason) });
  });

  test('an invalid glob is an error even when another pattern matches', () => {
    const result = matchPaths(['**', 'src/[a'], ctxFor({ changedFiles: ['src/a'] }));
    expect(result).toMatchObject({ matched: false, error: true });
  });

  test('agrees with a plain scan over every file for many patterns', () => {
    const files = ['a', 'a/b', 'a/b/c.ts', 'a-b/c', 'ab/c', 'b/a/c.ts', 'x.ts', 'a/.hidden', 'z/y/x/w.md'];
    const patterns = ['a/**', 'a/*', '*.ts', '**/*.ts', 'a*/c', 'a?b/c', '**/c', 'b/**/c.ts', 'z/**', 'q/**', 'a/b', '{a,b}/**', 'a/**/c.ts'];
    const fileSets = [[...files].reverse(), ...files.map((f) => [f])];
    for (const changedFiles of fileSets) {
      const ctx = ctxFor({ changedFiles });
      for (const pattern of patterns) {
        const compiled = ctx.glob(pattern);
        if (!compiled.ok) throw new Error(compiled.message);
        expect([pattern, changedFiles, matchPaths([pattern], ctx).matched]).toEqual([pattern, changedFiles, changedFiles.some(compiled.match)]);
      }
    }
  });
});

describe('paths with an unknown change set', () => {
  const unknown = ctxFor({ changedFiles: [], unknownChanges: 'a force push' });
  test.each([
    ['tightens: holds', 'tighten', true, 'so it holds: an unknown change set always satisfies a condition that requires approval'],
    ['loosens: does not hold', 'loosen', false, 'so it does not hold: an unknown change set never satisfies a condition that loosens the gate'],
  ] as const)('%s', (_case, purpose, matched, reason) => {
    expect(matchPaths(['infra/**'], unknown, purpose)).toEqual({ key: 'paths', matched, assumed: true, reason: `paths \`infra/**\`: the changed files are unknown (a force push), ${reason}` });
    expect(matchOnlyPaths(['docs/**'], unknown, purpose)).toMatchObject({ key: 'onlyPaths', matched, assumed: true });
  });

  test('an invalid glob is still an error', () => {
    expect(matchPaths(['[a'], unknown, 'loosen')).toMatchObject({ error: true });
  });
});

describe('only_paths', () => {
  const rows: [string, string[], string[], boolean, string][] = [
    ['every file is documentation', ['docs/a.md', 'README.md'], ['docs/**', '**/*.md'], true, 'all 2 changed files match `docs/**`, `**/*.md`'],
    ['one file', ['docs/a.md'], ['docs/**'], true, 'the 1 changed file matches `docs/**`'],
    ['one infra file among docs', ['docs/a.md', 'infra/main.tf', 'docs/b.md'], ['docs/**'], false, 'changed file `infra/main.tf` matches none of `docs/**`'],
    ['no changed files says nothing', [], ['docs/**'], false, 'only_paths: the request has no changed files'],
    ['a star stays in its directory', ['docs/deep/a.md'], ['docs/*'], false, 'changed file `docs/deep/a.md`'],
  ];
  test.each(rows)('%s', (_case, changedFiles, patterns, matched, reason) => {
    expect(matchOnlyPaths(patterns, ctxFor({ changedFiles }))).toMatchObject({ key: 'onlyPaths', matched, reason: expect.stringContaining(reason) });
  });

  test('agrees with a plain "every file matches some pattern" over many sets', () => {
    const files = ['docs/a.md', 'README.md', 'src/x.ts', 'docs/img/a.png', '.github/CODEOWNERS'];
    const patterns = [['docs/**'], ['**/*.md'], ['docs/**', '*.md'], ['**'], ['src/**', 'docs/**'], ['.github/**']];
    for (let mask = 1; mask < 1 << files.length; mask++) {
      const changedFiles = files.filter((_, i) => mask & (1 << i));
      const ctx = ctxFor({ changedFiles });
      for (const set of patterns) {
        const matchers = set.map((p) => { const c = ctx.glob(p); if (!c.ok) throw new Error(c.message); return c.match; });
        const expected = changedFiles.every((f) => matchers.some((m) => m(f)));
        expect([set, changedFiles, matchOnlyPaths(set, ctx).matched]).toEqual([set, changedFiles, expected]);
      }
    }
  });
});

describe('labels', () => {
  const rows: [string, string[] | undefined, string[], boolean, string][] = [
    ['one of the labels', ['bug', 'deploy:prod'], ['deploy:*'], true, 'label `deploy:prod` matches `deploy:*`'],
    ['none', ['bug'], ['deploy:*', 'hotfix'], false, 'labels `bug` match none of `deploy:*`, `hotfix`'],
    ['ignoring case, as GitHub names labels', ['Security'], ['security'], true, 'label `Security` matches `security`'],
    ['globs ignore case too', ['Deploy:PROD'], ['deploy:*'], true, 'label `Deploy:PROD` matches `deploy:*`'],
    ['no labels', [], ['hotfix'], false, 'the request has no labels'],
    ['labels missing', undefined, ['hotfix'], false, 'the request has no labels'],
  ];
  test.each(rows)('%s', (_case, labels, patterns, matched, reason) => {
    expect(matchLabels(patterns, ctxFor({ labels }))).toMatchObject({ matched, reason: expect.stringContaining(reason) });
  });
});

describe('evaluateConditions', () => {
  test('evaluates every present key, even after a miss, so every reason is shown', () => {
    const results = evaluateConditions(
      { branch: ['main'], environment: ['production'], paths: ['infra/**'], severity: { atLeast: 'high' } },
      ctxFor({ branch: 'dev', environment: 'production', severity: 'critical', changedFiles: ['infra/x'] }),
      'tighten',
    );
    expect(results.map((r) => [r.key, r.matched])).toEqual([
      ['environment', true],
      ['branch', false],
      ['severity', true],
      ['paths', true],
    ]);
  });

  test('no conditions gives no results', () => {
    expect(evaluateConditions({}, ctxFor({}), 'tighten')).toEqual([]);
  });
});
