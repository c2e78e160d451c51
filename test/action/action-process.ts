/**
 * Runs the committed bundle (dist/index.js) as a child process with the environment a runner gives
 * a step: INPUT_*, GITHUB_*, the OIDC request variables, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BUNDLE = resolve(import.meta.dirname, '../../dist/index.js');

export interface StepResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

export interface StepOptions {
  inputs: Record<string, string>;
  /** GITHUB_*, ACTIONS_ID_TOKEN_REQUEST_* and anything else a runner would set. */
  env: Record<string, string>;
  /** The webhook payload behind GITHUB_EVENT_PATH. */
  event?: unknown;
}

/** The file-command format @actions/core writes: `name<<DELIMITER\nvalue\nDELIMITER`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const match of text.matchAll(/^(.+?)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]] = match[3];
  return outputs;
}

export interface RunningStep {
  child: ChildProcess;
  /** Everything printed so far, to wait for a log line. */
  stdout: () => string;
  result: Promise<StepResult>;
}

const running = new Set<ChildProcess>();

/** For afterEach: a failed test must not leave its step running. */
export function killRunningSteps(): void {
  for (const child of running) child.kill('SIGKILL');
}

export function startStep(options: StepOptions): RunningStep {
  const dir = mkdtempSync(join(tmpdir(), 'jit-step-'));
  const files = { output: join(dir, 'output'), summary: join(dir, 'summary'), event: join(dir, 'event.json') };
  writeFileSync(files.output, '');
  writeFileSync(files.summary, '');
  writeFileSync(files.event, JSON.stringify(options.event ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_EVENT_PATH: files.event,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs)) env[`INPUT_${name.toUpperCase()}`] = value;

  const child = spawn(process.execPath, [BUNDLE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<StepResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => {
      running.delete(child);
      const outputs = parseOutputFile(readFileSync(files.output, 'utf8'));
      const summary = readFileSync(files.summary, 'utf8');
      rmSync(dir, { recursive: true, force: true });
      resolvePromise({ exitCode, stdout, stderr, outputs, summary });
    });
  });
  return { child, stdout: () => stdout, result };
}

/** Polls until `condition` holds, failing with `what` after `timeoutMs`. */
export async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 50));
  }
}
