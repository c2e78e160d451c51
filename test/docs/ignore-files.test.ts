/**
 * The README has users put `.env` files and the App's `.pem` key in the repository root: git must not
 * pick them up, nor `docker build` send them into an image; and the `jit.env` its command makes from
 * `.env` for `docker run --env-file` holds the same secrets, so it must be its owner's alone too.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { saveCredentials } from '../../app/setup/env-file.js';

const SECRETS = ['.env', '.env.local', '.env.production', 'jit.env', 'app.pem', 'keys/mercurial-jit.2026-01-01.private-key.pem'];
const KEPT = ['app/server.ts', 'README.md', 'package.json', 'environment.md'];

/**
 * Paths of `candidates` that `ignoreFile` alone ignores, as git reads it in an empty repository; the
 * patterns used (`**\/` prefixes in .dockerignore) are ones Docker reads the same way.
 */
function ignoredBy(ignoreFile: string, candidates: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'jit-ignore-'));
  try {
    execFileSync('git', ['init', '--quiet', dir]);
    copyFileSync(ignoreFile, join(dir, '.gitignore'));
    const out = execFileSync('git', ['check-ignore', '--no-index', '--stdin'], { cwd: dir, input: candidates.join('\n'), encoding: 'utf8' });
    return out.split('\n').filter((line) => line !== '');
  } catch (err) {
    // Exit status 1: nothing ignored.
    if ((err as { status?: number }).status === 1) return [];
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(['.gitignore', '.dockerignore'])('%s', (ignoreFile) => {
  it('covers .env files and private keys', () => {
    expect(ignoredBy(ignoreFile, SECRETS)).toEqual(SECRETS);
  });

  it('keeps the files a build needs', () => {
    expect(ignoredBy(ignoreFile, KEPT)).toEqual([]);
  });
});

describe("the README's jit.env for `docker run --env-file`", () => {
  const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const command = /From the `\.env` the setup page wrote[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

  it.each([['made anew', false], ['written over one readable by all', true]])('is readable by its owner only when %s, with the values unquoted', async (_case, existed) => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-envfile-'));
    try {
      await saveCredentials(join(dir, '.env'), { APP_ID: '123', PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n', WEBHOOK_SECRET: 'w3bhook', GITHUB_CLIENT_ID: 'Iv1.abc', GITHUB_CLIENT_SECRET: 'cl1ent' });
      if (existed) {
        writeFileSync(join(dir, 'jit.env'), 'OLD=1\n');
        chmodSync(join(dir, 'jit.env'), 0o644);
      }
      // As a user runs it, with the usual umask.
      execFileSync('bash', ['-e', '-c', `umask 022\n${command}`], { cwd: dir });
      expect((statSync(join(dir, 'jit.env')).mode & 0o777).toString(8)).toBe('600');
      expect(readFileSync(join(dir, 'jit.env'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['APP_ID=123', 'WEBHOOK_SECRET=w3bhook', 'GITHUB_CLIENT_SECRET=cl1ent']));
      expect(readFileSync(join(dir, 'jit.env'), 'utf8')).not.toContain('OLD=1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
