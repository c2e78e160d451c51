import { describe, expect, it } from '@jest/globals';
import { PolicyCache } from '../../app/gate/policy-source.js';
import type { GitHubClient } from '../../app/github/github.js';

const REPO = { owner: 'acme', repo: 'web' };
const HEAD = 'a'.repeat(40);

/** Only `fileAt` and `compareFiles` are called by the cache; they count reads and can fail the next one. */
function github(files: Record<string, string>) {
  const reads: string[] = [];
  let failNext = false;
  const read = async <T>(what: string, answer: () => T): Promise<T> => {
    reads.push(what);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (failNext) {
      failNext = false;
      throw Object.assign(new Error('Bad Gateway'), { status: 502 });
    }
    return answer();
  };
  const client = {
    fileAt: (_repo: unknown, path: string, ref: string) => read(`${ref}:${path}`, () => files[path]),
    compareFiles: (_repo: unknown, base: string, head: string) => read(`${base}...${head}`, () => ({ files: [`${base.slice(0, 1)}.txt`], complete: true, status: 'ahead' })),
  } as unknown as GitHubClient;
  return { client, reads, failNextRead: () => (failNext = true) };
}

describe('PolicyCache', () => {
  it('reads a file once per commit, also for concurrent readers, and keeps "no such file" too', async () => {
    const { client, reads } = github({ 'a.yml': 'a' });
    const cache = new PolicyCache();
    const answers = await Promise.all([1, 2, 3].map(() => cache.fileAt(client, REPO, 'a.yml', HEAD)));
    expect(answers).toEqual(['a', 'a', 'a']);
    expect(await cache.fileAt(client, { owner: 'ACME', repo: 'Web' }, 'a.yml', HEAD)).toBe('a');
    expect(await cache.fileAt(client, REPO, 'missing', HEAD)).toBeUndefined();
    expect(await cache.fileAt(client, REPO, 'missing', HEAD)).toBeUndefined();
    expect(reads).toEqual([`${HEAD}:a.yml`, `${HEAD}:missing`]);
  });

  it('never keeps a read at a branch name, which can move, nor a failed read', async () => {
    const { client, reads, failNextRead } = github({ 'a.yml': 'a' });
    const cache = new PolicyCache();
    await cache.fileAt(client, REPO, 'a.yml', 'main');
    await cache.fileAt(client, REPO, 'a.yml', 'main');
    failNextRead();
    await expect(cache.fileAt(client, REPO, 'a.yml', HEAD)).rejects.toMatchObject({ status: 502 });
    expect(await cache.fileAt(client, REPO, 'a.yml', HEAD)).toBe('a');
    expect(reads).toEqual(['main:a.yml', 'main:a.yml', `${HEAD}:a.yml`, `${HEAD}:a.yml`]);
  });

  it('parses a policy (and its _extends) once per text, base and notifiers, and CODEOWNERS once per text', () => {
    const cache = new PolicyCache();
    const text = 'version: 1\nrules:\n  - name: all\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n';
    const source = { file: '.github/jit-approval.yml', text };
    const first = cache.loadPolicy(source, undefined, ['ops']);
    expect(first.ok).toBe(true);
    expect(cache.loadPolicy({ ...source }, undefined, ['ops'])).toBe(first);
    expect(cache.loadPolicy(source, undefined, [])).not.toBe(first);
    expect(cache.loadPolicy({ ...source, text: `${text}# changed\n` }, undefined, ['ops'])).not.toBe(first);
    const extendsRef = cache.readExtends({ file: source.file, text: `_extends: .github\n${text}` });
    expect(extendsRef).toMatchObject({ ok: true, ref: { repo: '.github' } });
    expect(cache.readExtends({ file: source.file, text: `_extends: .github\n${text}` })).toBe(extendsRef);
    expect(cache.readExtends(source)).toEqual({ ok: true });
    expect(cache.readExtends({ file: source.file, text: `_extends: 7\n${text}` })).toMatchObject({ ok: false });
    const owners = cache.parseCodeowners('* @alice\n', '.github/CODEOWNERS');
    expect(cache.parseCodeowners('* @alice\n', '.github/CODEOWNERS')).toBe(owners);
    expect(cache.parseCodeowners('* @bob\n', '.github/CODEOWNERS')).not.toBe(owners);
  });

  it('compares two commit ids once, also for concurrent readers, but never a branch name nor after a failure', async () => {
    const { client, reads, failNextRead } = github({});
    const cache = new PolicyCache();
    const base = 'b'.repeat(40);
    const answers = await Promise.all([1, 2, 3].map(() => cache.compareFiles(client, REPO, base, HEAD)));
    expect(answers.map((answer) => answer.files)).toEqual([['b.txt'], ['b.txt'], ['b.txt']]);
    await cache.compareFiles(client, { owner: 'ACME', repo: 'web' }, base, HEAD);
    await cache.compareFiles(client, REPO, 'main', HEAD);
    await cache.compareFiles(client, REPO, 'main', HEAD);
    const other = 'c'.repeat(40);
    failNextRead();
    await expect(cache.compareFiles(client, REPO, other, HEAD)).rejects.toMatchObject({ status: 502 });
    expect((await cache.compareFiles(client, REPO, other, HEAD)).files).toEqual(['c.txt']);
    await cache.compareFiles(client, { owner: 'acme', repo: 'api' }, base, HEAD);
    expect(reads).toEqual([`${base}...${HEAD}`, `main...${HEAD}`, `main...${HEAD}`, `${other}...${HEAD}`, `${other}...${HEAD}`, `${base}...${HEAD}`]);
  });

  it('keeps nothing with room for nothing', async () => {
    const { client, reads } = github({ 'a.yml': 'a' });
    const cache = new PolicyCache(0);
    await cache.fileAt(client, REPO, 'a.yml', HEAD);
    await cache.fileAt(client, REPO, 'a.yml', HEAD);
    expect(reads).toHaveLength(2);
  });
});
