/** The embedded database is one process's: a second process is refused, naming the first; a lock left by a process that is gone is taken over. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { auditCommand } from '../../app/cli/audit.js';
import { LOCK_FILE } from '../../app/store/data-dir-lock.js';
import { openStore } from '../../app/store/index.js';

let dataDir: string;
let lockPath: string;
let other: ChildProcess;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'jit-lock-'));
  lockPath = join(dataDir, LOCK_FILE);
  other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}, 60_000);
afterAll(async () => {
  other.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

describe('the embedded database directory', () => {
  test('is held while a store has it open, and let go when it closes', async () => {
    const store = await openStore({ dataDir });
    try {
      expect((await readFile(lockPath, 'utf8')).trim()).toBe(String(process.pid));
    } finally {
      await store.close();
    }
    expect(existsSync(lockPath)).toBe(false);
  }, 60_000);

  test('is refused to a second process, naming the one that holds it; audit verify too', async () => {
    await writeFile(lockPath, `${other.pid}\n`);
    try {
      await expect(openStore({ dataDir })).rejects.toThrow(`the embedded database in ${dataDir} is in use by another process (pid ${other.pid}), and only one may open it`);
      let stderr = '';
      const code = await auditCommand(['verify', '--data-dir', dataDir], { stdout: () => undefined, stderr: (s) => (stderr += s), cwd: process.cwd() });
      expect(code).toBe(1);
      expect(stderr).toContain('use DATABASE_URL for more than one replica');
      // Refused before anything was opened: the holder's lock is as it was.
      expect((await readFile(lockPath, 'utf8')).trim()).toBe(String(other.pid));
    } finally {
      await rm(lockPath, { force: true });
    }
  }, 60_000);

  test('is taken over from a process that is gone', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    await writeFile(lockPath, `${gone.pid}\n`);
    const store = await openStore({ dataDir });
    try {
      expect((await readFile(lockPath, 'utf8')).trim()).toBe(String(process.pid));
      await store.appendAudit({ type: 'notification_attempt', actor: 'app', facts: {} });
    } finally {
      await store.close();
    }
  }, 60_000);
});
