import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ControlClient } from './client.js';
import { APP_ID, appKeys } from './fixtures.js';
import type { Seed } from './types.js';

const seed: Seed = {
  repos: [{ owner: 'octo', name: 'demo', branches: { main: { 'README.md': '# demo\n' } } }],
  apps: [{ id: APP_ID, publicKey: appKeys.publicKey }],
  installations: [{ id: 1, account: 'octo' }],
};

let child: ChildProcess;
let info: { url: string; apiUrl: string; oidcIssuer: string; control: string };

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'github-double-'));
  writeFileSync(join(dir, 'seed.json'), JSON.stringify(seed));
  // What `npm run github-double -- --port 0 --seed seed.json` runs.
  child = spawn(process.execPath, ['--import', 'tsx', 'test/github-double/cli.ts', '--port', '0', '--seed', join(dir, 'seed.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  info = JSON.parse(line) as typeof info;
}, 30_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('github-double CLI', () => {
  it('serves the seeded world, takes more seed through the control API, resets, and stops on SIGTERM', async () => {
    expect(info.apiUrl).toBe(`${info.url}/api/v3`);
    const control = new ControlClient(info.url);
    const { token } = await control.installationToken(1);
    const readme = await fetch(`${info.apiUrl}/repos/octo/demo/contents/README.md`, { headers: { authorization: `token ${token}`, accept: 'application/vnd.github.raw' } });
    expect(await readme.text()).toBe('# demo\n');
    await control.seed({ repos: [{ owner: 'octo', name: 'extra' }] });
    expect((await fetch(`${info.apiUrl}/repos/octo/extra`, { headers: { authorization: `token ${token}` } })).status).toBe(200);
    await control.reset();
    expect((await fetch(`${info.apiUrl}/repos/octo/extra`, { headers: { authorization: `token ${token}` } })).status).toBe(404);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
  });
});
