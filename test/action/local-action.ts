/**
 * Runs the Action through `@github/local-action` (`npx local-action run . action/main.ts <.env>`):
 * local-action's own stand-ins for @actions/core and @actions/github, inputs and runner variables
 * from a .env file, as a developer debugs the Action locally.
 *
 * It runs the TypeScript source entry (action/main.ts, which exports `run()`), not dist/index.js:
 * local-action 7 swaps the toolkit by intercepting imports of node_modules/@actions/core/lib/core.js
 * (src/commands/run.ts, the quibble.esm calls), which the bundle no longer makes since esbuild inlined
 * core; and it calls the entry's exported `run()` (run.ts: "does not export a run() function"), which
 * the bundle does not export since it runs itself. The bundle is covered by step.test.ts and e2e.test.ts.
 *
 * `--pre test/action/local-action-pre.ts` fills the two gaps of local-action's core stub this Action
 * needs: getIDToken (the stub throws "Not implemented") and setFailed's exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
const LOCAL_ACTION = join(ROOT, 'node_modules/@github/local-action/bin/local-action.js');
export const ENTRY = 'action/main.ts';
export const PRE = 'test/action/local-action-pre.ts';

export interface LocalActionResult {
  exitCode: number | null;
  /** Without colours. */
  stdout: string;
  stderr: string;
  /** local-action's "Action Outputs" table. */
  outputs: Record<string, string>;
  /** The file behind GITHUB_STEP_SUMMARY. */
  summary: string;
}

export interface LocalActionOptions {
  /** Input names as in action.yml; written as INPUT_<NAME> (upper case, dashes kept) to the .env file. */
  inputs: Record<string, string>;
  /** GITHUB_*, ACTIONS_ID_TOKEN_REQUEST_* and the like, also written to the .env file. */
  env?: Record<string, string>;
  entry?: string;
  /** Undefined: PRE. Null: no --pre. */
  pre?: string | null;
}

/** A .env line: dotenv reads double-quoted values with \n escapes. */
function dotenvLine(name: string, value: string): string {
  return `${name}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`;
}

// eslint-disable-next-line no-control-regex
const COLOURS = /\x1b\[[0-9;]*m/g;

/** Rows of node's console.table under local-action's "Action Outputs" title: │ 0 │ 'name' │ 'value' │ */
export function parseOutputsTable(stdout: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const at = stdout.indexOf('Action Outputs');
  if (at < 0) return outputs;
  for (const match of stdout.slice(at).matchAll(/^│\s*\d+\s*│\s*(['"])(.*?)\1\s*│\s*(['"`])(.*)\3\s*│$/gm)) {
    outputs[match[2]] = match[4];
  }
  return outputs;
}

/** Variables of the machine running the tests that must not leak into the step (a CI runner's own). */
function hostEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(INPUT_|GITHUB_|ACTIONS_|RUNNER_)/.test(name) || name === 'NODE_OPTIONS' || name === 'FORCE_COLOR') continue;
    env[name] = value;
  }
  return env;
}

export interface RunningLocalAction {
  /** Everything printed so far (with colours), to wait for a log line. */
  stdout: () => string;
  result: Promise<LocalActionResult>;
}

export function startLocalAction(options: LocalActionOptions): RunningLocalAction {
  const dir = mkdtempSync(join(tmpdir(), 'jit-local-action-'));
  const files = { dotenv: join(dir, '.env'), summary: join(dir, 'summary.md'), event: join(dir, 'event.json') };
  writeFileSync(files.summary, '');
  writeFileSync(files.event, '{}');
  const variables: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_EVENT_PATH: files.event,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs)) variables[`INPUT_${name.toUpperCase()}`] = value;
  writeFileSync(files.dotenv, `${Object.entries(variables).map(([name, value]) => dotenvLine(name, value)).join('\n')}\n`);

  const pre = options.pre === undefined ? PRE : options.pre;
  const args = [LOCAL_ACTION, 'run', '.', options.entry ?? ENTRY, files.dotenv, ...(pre ? ['--pre', pre] : [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...hostEnv(), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<LocalActionResult>((resolveResult, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => {
      running.delete(child);
      const clean = stdout.replace(COLOURS, '');
      const summary = readFileSync(files.summary, 'utf8');
      rmSync(dir, { recursive: true, force: true });
      resolveResult({ exitCode, stdout: clean, stderr: stderr.replace(COLOURS, ''), outputs: parseOutputsTable(clean), summary });
    });
  });
  return { stdout: () => stdout, result };
}

export function runLocalAction(options: LocalActionOptions): Promise<LocalActionResult> {
  return startLocalAction(options).result;
}

const running = new Set<ChildProcess>();

/** For afterEach: a failed test must not leave a run behind (local-action runs the Action in a grandchild). */
export function killLocalActions(): void {
  for (const child of running) {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
  }
}

// `node --import tsx test/action/local-action.ts KEY=VALUE...`: one run by hand, inputs as INPUT_ keys.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const inputs: Record<string, string> = {};
  const env: Record<string, string> = {};
  for (const arg of process.argv.slice(2)) {
    const [name, ...rest] = arg.split('=');
    if (name.startsWith('INPUT_')) inputs[name.slice('INPUT_'.length).toLowerCase()] = rest.join('=');
    else env[name] = rest.join('=');
  }
  const result = await runLocalAction({ inputs, env });
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.stdout.write(`\nexit ${result.exitCode}\noutputs ${JSON.stringify(result.outputs)}\n`);
  process.exitCode = result.exitCode ?? 1;
}
