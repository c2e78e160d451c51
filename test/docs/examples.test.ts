/** The example workflows and policies in docs/examples are what users copy: they must be right. */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../app/cli/main.js';
import { tallyVotes, type Voter } from '../../policies/approval.js';
import { parseCodeowners } from '../../policies/codeowners.js';
import { evaluate } from '../../policies/evaluate.js';
import { formatDiagnostic, loadPolicy } from '../../policies/loader.js';
import type { Policy, RequestFacts } from '../../policies/types.js';
import { exampleWorkflowFiles, formatProblem, lintWorkflows } from './lint-workflows.js';

const ROOT = resolve(import.meta.dirname, '../..');
const POLICIES = join(ROOT, 'docs/examples/policies');
const actionInputs = (parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { required?: boolean }> }).inputs;

interface Step { uses?: string; with?: Record<string, unknown> }
interface Workflow { permissions?: Record<string, string>; jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }> }

const workflows = exampleWorkflowFiles().map((file) => ({ file, name: basename(file), text: readFileSync(file, 'utf8') }));
/** Gated by the deployment protection rule: no step, every job in an environment. */
const JOB_GATED = 'job-gate.yml';
const stepGated = workflows.filter((w) => w.name !== JOB_GATED);

describe('example workflows', () => {
  it('are the four the README lists', () => {
    expect(workflows.map((w) => w.name)).toEqual(['db-migration.yml', 'job-gate.yml', 'production-deploy.yml', 'severity-escalation.yml']);
  });

  it('pass actionlint', async () => {
    const problems = await lintWorkflows(workflows.map(({ name, text }) => ({ path: name, text })));
    expect(problems.map(formatProblem)).toEqual([]);
  });

  it('fail actionlint where they are wrong, with the place', async () => {
    const broken = workflows[0].text.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout-minutes: soon');
    const problems = await lintWorkflows([{ path: 'broken.yml', text: broken }]);
    const line = broken.split('\n').findIndex((text) => text.includes('timeout-minutes')) + 1;
    expect(problems).toEqual([expect.objectContaining({ file: 'broken.yml', line })]);
  });

  it(`${JOB_GATED} gates every job by its environment, with no step and no token for the App`, () => {
    const workflow = parse(workflows.find((w) => w.name === JOB_GATED)!.text) as Workflow & { jobs: Record<string, { environment?: string }> };
    const jobs = Object.values(workflow.jobs);
    expect(jobs.map((job) => job.environment)).toEqual(['staging', 'production']);
    expect(jobs.flatMap((job) => job.steps).filter((step) => step.uses?.includes('mercurial-jit-action-approval@'))).toEqual([]);
    expect(workflow.permissions?.['id-token']).toBeUndefined();
  });

  it.each(stepGated.map((w) => [w.name, w.text]))('%s grants the OIDC token and the fallback, and passes the Action only inputs it has', (_name, text) => {
    const workflow = parse(text) as Workflow;
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps.map((step) => ({ step, permissions: job.permissions ?? workflow.permissions })));
    const gates = steps.filter(({ step }) => step.uses?.includes('mercurial-jit-action-approval@'));
    expect(gates).not.toHaveLength(0);
    for (const { step, permissions } of gates) {
      expect(permissions).toMatchObject({ 'id-token': 'write', checks: 'read' });
      const given = Object.keys(step.with ?? {});
      expect(given.filter((input) => !(input in actionInputs))).toEqual([]);
      const required = Object.entries(actionInputs).filter(([, input]) => input.required).map(([name]) => name);
      expect(required.filter((input) => !given.includes(input))).toEqual([]);
    }
  });
});

/** The ```yaml blocks of the README that are workflows (they have `jobs:`), with the line their YAML starts on. */
function readmeWorkflows(markdown: string): { where: string; text: string }[] {
  const found: { where: string; text: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```yaml') continue;
    const end = lines.indexOf('```', i + 1);
    const text = lines.slice(i + 1, end).join('\n');
    if (/^jobs:/m.test(text)) found.push({ where: `README.md:${i + 2}`, text: `${text}\n` });
    i = end;
  }
  return found;
}

/** The names in the first column of the Markdown table whose header starts with `| HEADER |`. */
function tableNames(markdown: string, header: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${header} |`));
  const names: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    names.push(line.split('|')[1].trim().replace(/^`|`$/g, ''));
  }
  return names;
}

describe('the README\'s "Add the step to a workflow"', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const shown = readmeWorkflows(readme);

  it('shows one workflow, which passes actionlint as written', async () => {
    expect(shown.map((w) => w.where)).toHaveLength(1);
    const problems = await lintWorkflows(shown.map(({ where, text }) => ({ path: where, text })));
    expect(problems.map(formatProblem)).toEqual([]);
  });

  it('grants the OIDC token and the fallback, and passes the Action its required inputs and no others', () => {
    const workflow = parse(shown[0].text) as Workflow;
    const gates = Object.values(workflow.jobs).flatMap((job) => job.steps.filter((step) => step.uses?.includes('mercurial-jit-action-approval@')).map((step) => ({ step, permissions: job.permissions ?? workflow.permissions })));
    expect(gates).toHaveLength(1);
    expect(gates[0].permissions).toMatchObject({ 'id-token': 'write', checks: 'read' });
    const given = Object.keys(gates[0].step.with ?? {});
    expect(given.filter((input) => !(input in actionInputs))).toEqual([]);
    expect(Object.entries(actionInputs).filter(([name, input]) => input.required && !given.includes(name))).toEqual([]);
  });

  it("lists exactly action.yml's inputs and outputs, and the outputs are the ones the step sets", () => {
    const outputs = Object.keys((parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { outputs: Record<string, unknown> }).outputs);
    expect(tableNames(readme, 'Input')).toEqual(Object.keys(actionInputs));
    expect(tableNames(readme, 'Output')).toEqual(outputs);
    const set = [...readFileSync(join(ROOT, 'action/main.ts'), 'utf8').matchAll(/core\.setOutput\('([^']+)'/g)].map((m) => m[1]);
    expect(set.sort()).toEqual([...outputs].sort());
  });
});

describe('example policies', () => {
  const policies = readdirSync(POLICIES).sort();

  it('match the workflows one to one', () => {
    expect(policies).toEqual(workflows.map((w) => w.name));
  });

  it.each(policies)('%s is a valid policy with a rule for its workflow\'s action', (name) => {
    const result = loadPolicy(readFileSync(join(POLICIES, name), 'utf8'), name);
    expect(result.ok ? [] : result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([]);
    const workflow = parse(workflows.find((w) => w.name === name)!.text) as Workflow;
    // A job the deployment protection rule gates is the action `deployment`.
    const step = Object.values(workflow.jobs).flatMap((job) => job.steps).find((candidate) => candidate.uses?.includes('mercurial-jit-action-approval@'));
    const action = name === JOB_GATED ? 'deployment' : step!.with!.action;
    expect(readFileSync(join(POLICIES, name), 'utf8')).toMatch(new RegExp(`action: ${String(action)}\\b`));
  });
});

interface ExplainedApprovers { codeowners: false | 'each_group' | 'any'; teams: string[]; users: string[]; roles: string[] }

/** `mercurial-jit explain` on an example, as a user would run it, parsed. */
async function explain(policy: string, ...args: string[]): Promise<{
  outcome: string;
  summary: string;
  requirements: Array<{ rule: string; approvals: number; approvers: ExplainedApprovers; scheduled: Array<{ afterSeconds: number; approvers: ExplainedApprovers }> }>;
}> {
  let stdout = '';
  let stderr = '';
  // With the CODEOWNERS beside the examples, as the App would read the repository's.
  const code = await main(['explain', '--policy', policy, '--codeowners', 'CODEOWNERS', ...args], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: join(ROOT, 'docs/examples') });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(stdout);
}

function loadExample(path: string): Policy {
  const result = loadPolicy(readFileSync(join(ROOT, 'docs/examples', path), 'utf8'), basename(path));
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.policy;
}

const exampleVoter = (login: string, team: string): Voter => ({ login, isBot: false, permission: 'write', teams: [team] });

/**
 * A step's outputs as the runner reads its GITHUB_OUTPUT file (actions/runner, FileCommandManager):
 * `NAME=VALUE` lines, and `NAME<<DELIMITER` up to the first line that is exactly the delimiter; a
 * name set again takes the later value; any other line fails the step.
 */
function runnerOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    const equals = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (equals >= 0 && (heredoc < 0 || equals < heredoc)) {
      outputs[line.slice(0, equals)] = line.slice(equals + 1);
    } else if (heredoc > 0 && heredoc + 2 < line.length) {
      const delimiter = line.slice(heredoc + 2);
      const end = lines.indexOf(delimiter, i + 1);
      if (end < 0) throw new Error(`Matching delimiter not found '${delimiter}'`);
      outputs[line.slice(0, heredoc)] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else {
      throw new Error(`Invalid format '${line}'`);
    }
  }
  return outputs;
}

describe('each example does what its comments say', () => {
  it('every example policy loads without warnings', () => {
    for (const file of [...readdirSync(POLICIES).map((name) => join(POLICIES, name)), join(ROOT, 'docs/examples/jit-approval.yml')]) {
      const result = loadPolicy(readFileSync(file, 'utf8'), basename(file));
      expect({ file: basename(file), warnings: result.ok ? result.warnings.map(formatDiagnostic) : ['invalid'] }).toEqual({ file: basename(file), warnings: [] });
    }
  });

  it("db-migration: a rejection reason on several lines (the dashboard takes them) goes into the log as one warning, never as workflow commands of its own", () => {
    const workflow = parse(workflows.find((w) => w.name === 'db-migration.yml')!.text) as { jobs: Record<string, { steps: { name?: string; run?: string }[] }> };
    const report = Object.values(workflow.jobs).flatMap((job) => job.steps).find((step) => step.name === 'Report the rejection');
    const reason = 'not reversible\n::error title=Migration applied::approved by @dba-lead\r::add-mask::100%';
    // As a runner runs a `run:` script on Linux: bash -e.
    const log = execFileSync('bash', ['-e', '-c', report!.run!], { env: { PATH: process.env.PATH, REASON: reason, CHECK_RUN: 'https://github.test/acme/db/runs/7' }, encoding: 'utf8' });
    expect(log.split(/\r\n|\r|\n/).filter(Boolean)).toEqual([
      '::warning::Migration not applied: not reversible%0A::error title=Migration applied::approved by @dba-lead%0D::add-mask::100%25 (https://github.test/acme/db/runs/7)',
    ]);
  });

  it('db-migration: the approvers are shown the plan the step printed, whatever lines it holds (none can end or set the output again)', () => {
    const workflow = parse(workflows.find((w) => w.name === 'db-migration.yml')!.text) as { jobs: Record<string, { steps: { id?: string; run?: string }[] }> };
    const plan = Object.values(workflow.jobs).flatMap((job) => job.steps).find((step) => step.id === 'plan');
    // A migration whose SQL holds a line `EOF` (in a dollar-quoted string, say), and after it the
    // harmless SQL the approvers would be shown in the summary instead.
    const sql = 'DROP TABLE accounts;\nSELECT $x$\nEOF\nsql<<EOF\nSELECT 1;\n$x$;';
    const dir = mkdtempSync(join(tmpdir(), 'jit-plan-'));
    try {
      mkdirSync(join(dir, 'scripts'));
      writeFileSync(join(dir, 'scripts/migrate.sh'), `#!/bin/sh\ncat <<'SQL'\n${sql}\nSQL\n`, { mode: 0o755 });
      writeFileSync(join(dir, 'output'), '');
      // As a runner runs a `run:` script on Linux: bash -e, with the step's env.
      execFileSync('bash', ['-e', '-c', plan!.run!], { cwd: dir, env: { PATH: process.env.PATH, MIGRATION: '042-accounts', GITHUB_OUTPUT: join(dir, 'output') } });
      expect(runnerOutputs(readFileSync(join(dir, 'output'), 'utf8'))).toEqual({ sql });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('production-deploy: a docs-only push needs no approval; docs with code still does', async () => {
    const policy = 'policies/production-deploy.yml';
    const base = ['--action', 'deploy', '--environment', 'production', '--branch', 'main', '--event', 'push'];
    expect((await explain(policy, ...base, '--files', 'docs/guide.md,README.md')).outcome).toBe('auto_approve');
    expect(await explain(policy, ...base, '--files', 'docs/guide.md,src/server.ts')).toMatchObject({
      outcome: 'approval_required',
      requirements: [{ rule: 'production', approvers: { codeowners: 'each_group', teams: ['@your-org/release-managers'] } }],
    });
    // Nobody knows what a first deploy changes: it is never waved through as docs only. Its code owners
    // are CODEOWNERS' catch-all `*` line's.
    expect(await explain(policy, ...base, '--unknown-changes', 'first deploy')).toMatchObject({
      outcome: 'approval_required',
      requirements: [{ rule: 'production', approvers: { codeowners: 'each_group', owners: ['@acme/team-leads'] } }],
    });
  });

  it('job-gate: a docs-only change to staging starts at once; production and code always wait', async () => {
    const policy = 'policies/job-gate.yml';
    const job = (environment: string) => ['--action', 'deployment', '--environment', environment, '--branch', 'main', '--event', 'push'];
    expect((await explain(policy, ...job('staging'), '--files', 'docs/guide.md,README.md')).outcome).toBe('auto_approve');
    expect(await explain(policy, ...job('staging'), '--files', 'docs/guide.md,src/server.ts')).toMatchObject({ outcome: 'approval_required', requirements: [{ rule: 'staging' }] });
    expect((await explain(policy, ...job('staging'), '--unknown-changes', 'first deploy')).outcome).toBe('approval_required');
    expect(await explain(policy, ...job('production'), '--files', 'docs/guide.md')).toMatchObject({ outcome: 'approval_required', requirements: [{ rule: 'production' }] });
  });

  it('production-deploy: a push needs a code owner of each group; a manual deploy, a release manager', () => {
    const policy = loadExample('policies/production-deploy.yml');
    const codeowners = parseCodeowners('* @your-org/web\n/payments/ @your-org/payments\n', 'CODEOWNERS');
    const web = exampleVoter('wen', 'your-org/web');
    const payments = exampleVoter('pat', 'your-org/payments');
    const releaseManager = exampleVoter('rae', 'your-org/release-managers');
    const deploy = (event: string, ...voters: Voter[]) => deployOf(event, ['src/server.ts', 'payments/charge.ts'], codeowners, voters);
    const deployOf = (event: string, changedFiles: string[], owners: ReturnType<typeof parseCodeowners>, voters: Voter[]) => {
      const facts: RequestFacts = { action: 'deploy', environment: 'production', branch: 'main', event, actor: 'bob', changedFiles };
      return tallyVotes(evaluate(policy, facts, { codeowners: owners }), voters.map((voter) => ({ voter, verdict: 'approve' as const })), { requesters: [{ login: 'bob', role: 'started the run' }] });
    };
    expect(deploy('push', web).status).toBe('pending');
    expect(deploy('push', releaseManager).status).toBe('pending');
    expect(deploy('push', web, payments)).toMatchObject({ status: 'approved', reason: 'approved by @wen, @pat' });
    // Files nobody owns: a release manager approves the push.
    expect(deployOf('push', ['src/server.ts'], parseCodeowners('/payments/ @your-org/payments\n', 'CODEOWNERS'), [releaseManager]).status).toBe('approved');
    expect(deployOf('push', ['src/server.ts', 'payments/charge.ts'], parseCodeowners('/payments/ @your-org/payments\n', 'CODEOWNERS'), [releaseManager]).status).toBe('pending');
    expect(deploy('workflow_dispatch', releaseManager)).toMatchObject({ status: 'approved', reason: 'approved by @rae' });
    expect(deploy('workflow_dispatch', web, payments).status).toBe('pending');
    // A trigger the workflow may gain later is gated too, never waved through.
    expect(deploy('schedule', releaseManager).status).toBe('approved');
    expect(deploy('schedule').status).toBe('pending');
  });

  it('severity-escalation: critical needs security as well as the on-call lead', async () => {
    const critical = await explain('policies/severity-escalation.yml', '--action', 'hotfix', '--severity', 'critical');
    expect(critical.requirements.map((r) => [r.approvals, r.approvers.teams])).toEqual([
      [1, []],
      [1, ['@your-org/oncall-leads']],
      [2, ['@your-org/security']],
    ]);
    const high = await explain('policies/severity-escalation.yml', '--action', 'hotfix', '--severity', 'high');
    expect(high.requirements.map((r) => r.approvers.teams)).toEqual([[], ['@your-org/oncall-leads']]);
    // A hotfix step that states no severity meets the critical escalation's condition (it tightens the gate).
    expect((await explain('policies/severity-escalation.yml', '--action', 'hotfix')).requirements).toHaveLength(3);
    // After 30 minutes the SRE on-call may approve in the lead's place, never in security's.
    expect(critical.requirements.map((r) => r.scheduled.map((s) => [s.afterSeconds, s.approvers.teams]))).toEqual([[], [[1800, ['@your-org/sre-oncall']]], []]);
  });

  it('severity-escalation: the severity its dispatcher picks never ships a hotfix on their word alone', () => {
    const hotfix = (severity: string) => evaluate(loadExample('policies/severity-escalation.yml'), { action: 'hotfix', severity, actor: 'bob', changedFiles: [] });
    const dispatcher = { requesters: [{ login: 'bob', role: 'started the run' as const }], elapsedSeconds: 60 };
    const approve = (...voters: Voter[]) => voters.map((voter) => ({ voter, verdict: 'approve' as const }));
    const bob = exampleVoter('bob', 'your-org/web');
    const other = exampleVoter('wen', 'your-org/web');
    for (const severity of ['low', 'medium']) {
      expect(hotfix(severity).outcome).toBe('approval_required');
      expect(tallyVotes(hotfix(severity), approve(bob), dispatcher).status).toBe('pending');
      expect(tallyVotes(hotfix(severity), approve(other), dispatcher).status).toBe('approved');
    }
    // One on-call lead with write access covers a high hotfix alone.
    expect(tallyVotes(hotfix('high'), approve(exampleVoter('lena', 'your-org/oncall-leads')), dispatcher).status).toBe('approved');
  });

  it('severity-escalation: two SRE on-call after 30 minutes do not ship a critical hotfix without security', () => {
    const decision = evaluate(loadExample('policies/severity-escalation.yml'), { action: 'hotfix', severity: 'critical', actor: 'bob', changedFiles: [] });
    const votes = (...voters: Voter[]) => voters.map((voter) => ({ voter, verdict: 'approve' as const }));
    const [sre1, sre2] = [exampleVoter('sri', 'your-org/sre-oncall'), exampleVoter('sam', 'your-org/sre-oncall')];
    const security = [exampleVoter('sec', 'your-org/security'), exampleVoter('sue', 'your-org/security')];
    const after31m = { requesters: [{ login: 'bob', role: 'started the run' as const }], elapsedSeconds: 31 * 60 };
    expect(tallyVotes(decision, votes(sre1, sre2), after31m)).toMatchObject({ status: 'pending', reason: 'waiting for 2 more from @your-org/security' });
    expect(tallyVotes(decision, votes(sre1, ...security), after31m)).toMatchObject({ status: 'approved', reason: 'approved by @sri, @sec, @sue' });
  });

  it('db-migration: two approvals from a DBA or a maintainer', async () => {
    const decision = await explain('policies/db-migration.yml', '--action', 'migrate', '--environment', 'production-db');
    expect(decision.requirements).toEqual([expect.objectContaining({ approvals: 2, approvers: expect.objectContaining({ teams: ['@your-org/dba'], roles: ['maintain'] }) })]);
  });

  it('the full example: critical adds security, on-call may step in after 30m, docs-only ships', async () => {
    const policy = 'jit-approval.yml';
    const production = ['--action', 'deploy', '--environment', 'prod-eu', '--branch', 'main', '--event', 'push', '--files', 'infra/main.tf'];
    const critical = await explain(policy, ...production, '--severity', 'critical');
    expect(critical.requirements.map((r) => [r.approvals, r.approvers.teams])).toEqual([
      [1, ['@acme/team-leads']],
      [2, ['@acme/security']],
    ]);
    expect(critical.requirements.map((r) => r.scheduled.map((s) => s.approvers.teams))).toEqual([[['@acme/sre-oncall']], []]);
    expect((await explain(policy, '--action', 'deploy', '--files', 'docs/a.md,guide/README.md')).outcome).toBe('auto_approve');
  });
});

/**
 * docs/POLICY.md's "Freezes and windows": its policy, run through `explain` with each row of its
 * table, must decide as the table says. A cell's parts separated by "…" appear in that order.
 */
describe('docs/POLICY.md: freezes and windows', () => {
  const doc = readFileSync(join(ROOT, 'docs/POLICY.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Freezes and windows'), doc.indexOf('\n## ', doc.indexOf('## Freezes and windows') + 1));
  const policy = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const rows = [...section.matchAll(/^\| `(--[^`]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]] as const);

  it('has a policy that loads without warnings, and a table of decisions', () => {
    const result = loadPolicy(policy, 'freezes.yml');
    expect(result.ok ? result.warnings.map(formatDiagnostic) : result.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(5);
  });

  it.each(rows)('explain --action deploy %s', async (args, said) => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-docs-'));
    try {
      writeFileSync(join(dir, 'freezes.yml'), policy);
      const decision = await explain(join(dir, 'freezes.yml'), '--action', 'deploy', ...args.split(' '));
      let from = 0;
      for (const part of said.split('…').map((p) => p.trim())) {
        const at = decision.summary.indexOf(part, from);
        expect({ part, found: at >= from }).toEqual({ part, found: true });
        from = at + part.length;
      }
      if (said.startsWith('Held')) expect(decision.outcome).toBe('held');
      if (said.startsWith('Rejected')) expect(decision.outcome).toBe('rejected');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The README's `explain` example: the command it shows prints the lines it shows, up to its "…". */
describe("the README's explain example", () => {
  it('is what the command prints on the example policy and CODEOWNERS', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```console\n\$ (mercurial-jit explain [\s\S]*?)\n```/.exec(readme)?.[1] ?? '';
    const lines = block.split('\n');
    const commandLines = lines.findIndex((line) => !line.endsWith('\\')) + 1;
    const argv = lines.slice(0, commandLines).join(' ').replace(/\\/g, ' ').trim().split(/\s+/).slice(1);
    const shown = lines.slice(commandLines, lines.indexOf('…'));
    expect(shown.length).toBeGreaterThan(10);
    let stdout = '';
    const code = await main(argv, { stdout: (s) => (stdout += s), stderr: () => undefined, cwd: ROOT });
    expect(code).toBe(0);
    expect(stdout.split('\n').slice(0, shown.length)).toEqual(shown);
  });
});
