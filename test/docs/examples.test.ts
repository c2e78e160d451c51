/** The example workflows and policies in docs/examples are what users copy: they must be right. */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadPolicy } from '../../policies/loader.js';
import { exampleWorkflowFiles, formatProblem, lintWorkflows } from './lint-workflows.js';

const ROOT = resolve(import.meta.dirname, '../..');
const POLICIES = join(ROOT, 'docs/examples/policies');
const actionInputs = (parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { required?: boolean }> }).inputs;

interface Step { uses?: string; with?: Record<string, unknown> }
interface Workflow { permissions?: Record<string, string>; jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }> }

const workflows = exampleWorkflowFiles().map((file) => ({ file, name: basename(file), text: readFileSync(file, 'utf8') }));

describe('example workflows', () => {
  it('are the three the README lists', () => {
    expect(workflows.map((w) => w.name)).toEqual(['db-migration.yml', 'production-deploy.yml', 'severity-escalation.yml']);
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

  it.each(workflows.map((w) => [w.name, w.text]))('%s grants the OIDC token and the fallback, and passes the Action only inputs it has', (_name, text) => {
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

describe('example policies', () => {
  const policies = readdirSync(POLICIES).sort();

  it('match the workflows one to one', () => {
    expect(policies).toEqual(workflows.map((w) => w.name));
  });

  it.each(policies)('%s is a valid policy with a rule for its workflow\'s action', (name) => {
    const result = loadPolicy(readFileSync(join(POLICIES, name), 'utf8'), name);
    expect(result.ok ? [] : result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([]);
    const workflow = parse(workflows.find((w) => w.name === name)!.text) as Workflow;
    const action = Object.values(workflow.jobs).flatMap((job) => job.steps).find((step) => step.uses?.includes('mercurial-jit-action-approval@'))!.with!.action;
    expect(readFileSync(join(POLICIES, name), 'utf8')).toMatch(new RegExp(`action: ${String(action)}\\b`));
  });
});
