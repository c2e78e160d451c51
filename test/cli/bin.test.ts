/** The installed command: the compiled CLI run through bin/mercurial-jit.js as a child process. */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { openStore } from '../../app/store/index.js';
import { CODEOWNERS, POLICY, makeWorkspace } from './fixtures.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/mercurial-jit.js', import.meta.url));
const workspace = makeWorkspace({ '.github/jit-approval.yml': POLICY, CODEOWNERS, 'bad.yml': 'version: 2\n' });

beforeAll(async () => {
  await run('npm', ['run', 'build'], { cwd: ROOT });
}, 120_000);
afterAll(workspace.cleanup);

async function bin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: workspace.dir });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('validate, owners and explain through the built bin, with their exit codes', async () => {
  expect(await bin('validate')).toMatchObject({ code: 0, stderr: '' });

  const invalid = await bin('validate', 'bad.yml');
  expect(invalid.code).toBe(1);
  expect(invalid.stderr).toMatch(/^bad\.yml:1:10: /m);

  const owners = await bin('owners', '--codeowners', 'CODEOWNERS', 'infra/x.tf');
  expect(JSON.parse(owners.stdout)).toEqual({ 'infra/x.tf': ['@acme/sre', '@carol'] });

  const explain = await bin('explain', '--policy', '.github/jit-approval.yml', '--codeowners', 'CODEOWNERS', '--action', 'deploy', '--environment', 'production', '--branch', 'main', '--files', 'infra/x.tf');
  expect(explain.code).toBe(0);
  // No --severity: every severity condition that tightens the gate holds, so the critical escalation applies too.
  expect(JSON.parse(explain.stdout)).toMatchObject({
    outcome: 'approval_required',
    facts: { severityAssumed: true },
    requirements: [{ rule: 'production', approvals: 1, escalation: null }, { rule: 'production', approvals: 2, escalation: { location: { line: 12 } } }],
  });

  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(await bin('--version')).toEqual({ code: 0, stdout: `mercurial-jit ${version}\n`, stderr: '' });

  const usage = await bin('explain', '--policy');
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('Usage: mercurial-jit explain');
});

test('audit verify through the built bin reads an embedded store', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'jit-bin-store-'));
  try {
    const store = await openStore({ dataDir });
    for (let i = 0; i < 2; i++) await store.appendAudit({ type: 'notification_attempt', actor: 'app', facts: { i } });
    await store.close();
    const verified = await bin('audit', 'verify', '--data-dir', dataDir);
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toMatch(/^audit trail intact: 2 events, head sha256 [0-9a-f]{64}\n$/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}, 60_000);

test('a reader that stops early ends the command quietly, with the status of a broken pipe', async () => {
  // Some 900 KB of answer, far more than a pipe holds.
  const paths = Array.from({ length: 20_000 }, (_, i) => `src/module-${i}/index.ts`);
  const child = spawn(process.execPath, [BIN, 'owners', '--codeowners', 'CODEOWNERS', ...paths], { cwd: workspace.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  // What `| head -c 100` does: read a little, then close the pipe while the answer is still being written.
  await once(child.stdout, 'data');
  child.stdout.destroy();
  const [code] = await exited;
  expect(stderr).toBe('');
  expect(code).toBe(141);
}, 60_000);
