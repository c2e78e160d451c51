/** `npm run demo` is the README's first command: run it as a user would and check the story it tells. */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

describe('npm run demo', () => {
  it('plays the story, exits 0 and leaves nothing running or behind', async () => {
    // A temp folder of the demo's own: other tests running meanwhile make temp dirs of their own.
    const scratch = mkdtempSync(join(tmpdir(), 'jit-demo-test-'));
    const { status, stdout, stderr } = spawnSync(process.execPath, ['--import', 'tsx', 'test/demo/run.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 150_000,
      env: { ...process.env, DEMO_VERBOSE: '', TMPDIR: scratch },
    });
    // tsx keeps its compile cache there; anything else is the demo's.
    const leftBehind = readdirSync(scratch).filter((name) => !name.startsWith('tsx-'));
    rmSync(scratch, { recursive: true, force: true });

    expect(stderr).not.toContain('DEMO FAILED');
    expect(status).toBe(0);
    expect(stdout).toMatch(/1\. alice pushed a change to infra\/production.tf; her workflow reaches the deploy step/);
    expect(stdout).toContain('Since the last approved deploy only infra/production.tf changed');
    expect(stdout).toMatch(/the App opened check run "jit: deploy to production" \(action_required\)/);
    expect(stdout).toMatch(/> @bob your vote was not counted: .*not a code owner/);
    expect(stdout).toContain('The step is still waiting.');
    expect(stdout).toMatch(/step │ Approved by carol\./);
    expect(stdout).toMatch(/The step resumed and exited 0, \d+ ms after carol's comment/);
    expect(stdout).toMatch(/decision +approved\n.*approved-by +carol\n/);
    expect(stdout).toMatch(/4\. alice's `release` job targets `production` with no step at all/);
    expect(stdout).toMatch(/The job waits\. The App opened approval issue #\d+, and the run page shows its status report:\n.*> Waiting for approval of `deployment` to `production`: .*1 more from @carol/);
    expect(stdout).toMatch(/The App answered GitHub "approved" through the run's callback, and the job starts:\n.*> `deployment` to `production` approved by @carol/);
    expect(stdout).toMatch(/The story played as expected in \d+ ms; approval → step exit: \d+ ms\./);
    // Timings on every beat, and no JSON log lines from the App.
    expect(stdout).toMatch(/^\[ +\d+ ms\] 3\. carol/m);
    expect(stdout).not.toMatch(/^\{"level"/m);
    // The runner hides these workflow commands; so does the demo (the token must not be printed).
    expect(stdout).not.toContain('::add-mask::');

    // Nothing is left: the App and the double no longer listen, and the temp dir is gone.
    const urls = [...stdout.matchAll(/(?:App|GitHub double) at (http:\/\/127\.0\.0\.1:\d+)/g)].map((match) => match[1]);
    expect(urls).toHaveLength(2);
    for (const url of urls) {
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    }
    expect(leftBehind).toEqual([]);
  }, 160_000);
});
