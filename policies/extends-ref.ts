/**
 * `_extends`, as Probot configs spell it: `.github`, `repo`, `repo:path/file.yml`, `owner/repo`
 * or `owner/repo:path/file.yml`. Without an owner, the repository belongs to the same owner; without
 * a path, the base file sits at the same path as the policy (`.github/jit-approval.yml`).
 */
export const DEFAULT_POLICY_PATH = '.github/jit-approval.yml';

export interface ExtendsRef {
  /** Undefined: the same owner as the repository whose policy this is. */
  owner?: string;
  repo: string;
  path: string;
}

export type ExtendsRefResult = { ok: true; ref: ExtendsRef } | { ok: false; message: string };

const REF = /^(?:([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})\/)?([A-Za-z0-9._-]{1,100})(?::(.+))?$/;

export function parseExtendsRef(text: string): ExtendsRefResult {
  const match = REF.exec(text);
  const invalid = (why: string): ExtendsRefResult => ({
    ok: false,
    message: `invalid _extends "${text}": ${why}; expected .github, repo, repo:path/file.yml or owner/repo:path/file.yml`,
  });
  if (!match) return invalid('not a repository reference');
  const [, owner, repo, path = DEFAULT_POLICY_PATH] = match;
  if (repo === '.' || repo === '..') return invalid(`"${repo}" is not a repository name`);
  if (path.startsWith('/') || path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    return invalid('the path must be relative to the repository root, without "." or ".." segments');
  }
  return { ok: true, ref: owner === undefined ? { repo, path } : { owner, repo, path } };
}
