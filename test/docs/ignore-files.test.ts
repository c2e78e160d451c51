/**
 * The README has users put `.env` files and the App's `.pem` key in the repository root: git must not
 * pick them up, nor `docker build` send them into an image.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
