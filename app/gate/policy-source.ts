/**
 * The policy and CODEOWNERS, always read from the default branch: a change under review can never
 * weaken its own gate. `_extends` names an org base file, read from that repository's default branch.
 *
 * The App's installation may reach many private repositories, so a policy may only `_extends` its
 * owner's `.github` repository or a repository the App's operator allows, and nothing about another
 * repository's file is ever quoted back: whether it is missing, not allowed or unreadable reads the
 * same, and its problems are reported by position and kind only.
 */
import { CODEOWNERS_LOCATIONS, parseCodeowners, type Codeowners } from '../../policies/codeowners.js';
import { DEFAULT_POLICY_PATH, formatDiagnostic, loadPolicy, readExtends, type LoadResult, type PolicySource, type ReadExtendsResult } from '../../policies/loader.js';
import type { Policy, PolicyDiagnostic } from '../../policies/types.js';
import { NOT_UTF8 } from '../../policies/yaml-source.js';
import { ExpiringCache } from '../github/expiring-cache.js';
import { FileNotUtf8, type Comparison, type GitHubClient, type RepoCoordinates } from '../github/github.js';

/** A problem or warning in the repository's own policy file, which can be shown at its line. */
export interface OwnFileNote {
  line: number;
  col: number;
  level: 'failure' | 'warning';
  message: string;
}

export type PolicyInputs =
  | { ok: true; policy: Policy; codeowners?: Codeowners; file: string; warnings: string[]; notes: OwnFileNote[] }
  /** `problems` are `file:line:col: message` lines. */
  | { ok: false; problems: string[]; notes: OwnFileNote[] };

export interface PolicySourceOptions {
  /** The App's configured notifier names; a policy naming another one is invalid. */
  knownNotifiers: Iterable<string>;
  /** `owner/name` of repositories besides each owner's `.github` that a policy may `_extends`. */
  extendsRepositories?: readonly string[];
  /** Keeps what was read at a commit and what it parsed to; without it, everything is read again. */
  cache?: PolicyCache;
}

/** A full commit id (SHA-1, or SHA-256 in repositories that use it): what is read at one never changes. */
const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Kept this long after last use, so a quiet App gives the memory back. */
const KEEP_MS = 60 * 60_000;

/**
 * The policy and CODEOWNERS files read at a commit, and what they parsed to; also the files changed
 * between two commits. A commit's files never change, so each is read once per commit however many
 * requests are evaluated on it; reads at a branch name, and the org or `_extends` files read at another
 * repository's default branch, are never kept. Parsing is kept by the texts parsed, so a new commit
 * that leaves the policy as it was parses nothing.
 */
export class PolicyCache {
  private readonly files: ExpiringCache<string, Promise<string | undefined>>;
  private readonly comparisons: ExpiringCache<string, Promise<Comparison>>;
  private readonly policies: ExpiringCache<string, LoadResult>;
  private readonly extendsRefs: ExpiringCache<string, ReadExtendsResult>;
  private readonly codeowners: ExpiringCache<string, Codeowners>;

  constructor(capacity = 64, now: () => number = Date.now) {
    this.files = new ExpiringCache(capacity * 4, now);
    this.comparisons = new ExpiringCache(capacity, now);
    this.policies = new ExpiringCache(capacity, now);
    this.extendsRefs = new ExpiringCache(capacity, now);
    this.codeowners = new ExpiringCache(capacity, now);
  }

  /** Concurrent reads of one file at one commit share one request; a failed read is not kept. */
  fileAt(github: GitHubClient, repo: RepoCoordinates, path: string, ref: string): Promise<string | undefined> {
    if (!COMMIT_ID.test(ref)) return github.fileAt(repo, path, ref);
    return shared(this.files, `${repositoryKey(repo)}@${ref}:${path}`, () => github.fileAt(repo, path, ref));
  }

  /** The files changed from `base` to `head`; kept only when both are commit ids, which never move. */
  compareFiles(github: GitHubClient, repo: RepoCoordinates, base: string, head: string): Promise<Comparison> {
    if (!COMMIT_ID.test(base) || !COMMIT_ID.test(head)) return github.compareFiles(repo, base, head);
    return shared(this.comparisons, `${repositoryKey(repo)}:${base}...${head}`, () => github.compareFiles(repo, base, head));
  }

  /** The file's `_extends`, which must be known before the policy can be loaded: a YAML parse of its own. */
  readExtends(source: PolicySource): ReadExtendsResult {
    if (typeof source.text !== 'string') return readExtends(source.text, source.file);
    const key = `${source.file}\0${source.text}`;
    const kept = this.extendsRefs.get(key);
    if (kept) return kept;
    const read = readExtends(source.text, source.file);
    this.extendsRefs.set(key, read, KEEP_MS);
    return read;
  }

  loadPolicy(source: PolicySource, base: PolicySource | undefined, knownNotifiers: Iterable<string>): LoadResult {
    const notifiers = [...knownNotifiers];
    const key = JSON.stringify([source.file, source.text, base?.file ?? null, base?.text ?? null, notifiers]);
    const kept = this.policies.get(key);
    if (kept) return kept;
    const loaded = loadPolicy(source.text, source.file, { base, knownNotifiers: notifiers });
    this.policies.set(key, loaded, KEEP_MS);
    return loaded;
  }

  parseCodeowners(text: string, path: string): Codeowners {
    const key = `${path}\0${text}`;
    const kept = this.codeowners.get(key);
    if (kept) return kept;
    const parsed = parseCodeowners(text, path);
    this.codeowners.set(key, parsed, KEEP_MS);
    return parsed;
  }
}

function repositoryKey(repo: RepoCoordinates): string {
  return `${repo.owner.toLowerCase()}/${repo.repo.toLowerCase()}`;
}

/** Concurrent readers share one read; a failed read is not kept, so the next reader asks again. */
function shared<T>(cache: ExpiringCache<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  const kept = cache.get(key);
  if (kept) return kept;
  const reading = read();
  cache.set(key, reading, KEEP_MS);
  reading.catch(() => {
    if (cache.get(key) === reading) cache.delete(key);
  });
  return reading;
}

/** For callers without a cache of their own: with room for nothing, everything is read and parsed again. */
const KEEPS_NOTHING = new PolicyCache(0);

/** May a policy of `repo` extend `base`? Its owner's `.github`, or what the operator lists. */
export function mayExtend(repo: RepoCoordinates, base: RepoCoordinates, allowed: readonly string[] = []): boolean {
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  if (same(base.owner, repo.owner) && base.repo === '.github') return true;
  return allowed.some((name) => same(name, `${base.owner}/${base.repo}`));
}

/**
 * The policy and CODEOWNERS at `ref`: the default branch for every decision; a pull request's head
 * only to preview what a change to them would do.
 */
export async function loadPolicyInputs(github: GitHubClient, repo: RepoCoordinates, ref: string, options: PolicySourceOptions): Promise<PolicyInputs> {
  try {
    return await readPolicyInputs(github, repo, ref, options);
  } catch (err) {
    if (!(err instanceof FileNotUtf8)) throw err;
    // Refused whole, as `validate` refuses it: decoded, a tightening rule's pattern could match nothing.
    if (repositoryKey(err.repo) !== repositoryKey(repo)) {
      return { ok: false, problems: [withheld({ file: `${err.repo.owner}/${err.repo.repo}:${err.path}`, line: 1, col: 1 })], notes: [] };
    }
    return { ok: false, problems: [`${err.path}:1:1: ${NOT_UTF8}`], notes: err.path === DEFAULT_POLICY_PATH ? [{ line: 1, col: 1, level: 'failure', message: NOT_UTF8 }] : [] };
  }
}

async function readPolicyInputs(github: GitHubClient, repo: RepoCoordinates, ref: string, options: PolicySourceOptions): Promise<PolicyInputs> {
  const cache = options.cache ?? KEEPS_NOTHING;
  const own = await cache.fileAt(github, repo, DEFAULT_POLICY_PATH, ref);
  let source: PolicySource;
  if (own !== undefined) {
    source = { file: DEFAULT_POLICY_PATH, text: own };
  } else {
    // As with Probot configs, a repository without its own file uses the org's `.github` repository.
    const orgRepo = { owner: repo.owner, repo: '.github' };
    const orgText = repo.repo === '.github' ? undefined : await readDefaultBranchFile(github, orgRepo, DEFAULT_POLICY_PATH, cache);
    if (orgText === undefined) {
      return {
        ok: false,
        problems: [`${DEFAULT_POLICY_PATH}:1:1: no approval policy on ${repo.owner}/${repo.repo}@${ref} (nor in ${repo.owner}/.github); nothing is approved without one`],
        notes: [],
      };
    }
    source = { file: `${repo.owner}/.github:${DEFAULT_POLICY_PATH}`, text: orgText };
  }
  const ownFile = source.file === DEFAULT_POLICY_PATH ? source.file : undefined;
  const report = (diagnostics: readonly PolicyDiagnostic[]) => diagnostics.map((d) => (d.file === ownFile ? formatDiagnostic(d) : withheld(d)));
  const notes = (diagnostics: readonly PolicyDiagnostic[], level: OwnFileNote['level']): OwnFileNote[] =>
    diagnostics.filter((d) => d.file === ownFile).map((d) => ({ line: d.line, col: d.col, level, message: d.message }));

  const extendsRef = cache.readExtends(source);
  if (!extendsRef.ok) return { ok: false, problems: report(extendsRef.diagnostics), notes: notes(extendsRef.diagnostics, 'failure') };
  let base: PolicySource | undefined;
  if (extendsRef.ref) {
    const { owner = repo.owner, repo: baseRepo, path, location } = extendsRef.ref;
    const target = { owner, repo: baseRepo };
    const text = mayExtend(repo, target, options.extendsRepositories) ? await readDefaultBranchFile(github, target, path, cache) : undefined;
    if (text === undefined) {
      const where = `${location.file}:${location.line}:${location.col}`;
      const message = `_extends names ${owner}/${baseRepo}:${path}, which does not exist, cannot be read by the App, or is not one it may extend (the owner's .github repository, or one the App's operator allows)`;
      return {
        ok: false,
        problems: [location.file === ownFile ? `${where}: ${message}` : withheld(location)],
        notes: location.file === ownFile ? [{ line: location.line, col: location.col, level: 'failure', message }] : [],
      };
    }
    base = { file: `${owner}/${baseRepo}:${path}`, text };
  }

  const loaded = cache.loadPolicy(source, base, options.knownNotifiers);
  if (!loaded.ok) return { ok: false, problems: report(loaded.diagnostics), notes: notes(loaded.diagnostics, 'failure') };
  return {
    ok: true,
    policy: loaded.policy,
    codeowners: await loadCodeowners(github, repo, ref, cache),
    file: source.file,
    warnings: report(loaded.warnings),
    notes: notes(loaded.warnings, 'warning'),
  };
}

/** A problem in another repository's file: where, and that it is there, but never what the file says. */
function withheld(d: Pick<PolicyDiagnostic, 'file' | 'line' | 'col'>): string {
  return `${d.file}:${d.line}:${d.col}: this file of another repository has a problem here; its text is not shown in this repository (check it with \`mercurial-jit validate\` there)`;
}

/** Read at the default branch's head commit, not its name: one snapshot, whose files are kept as the repository's own are. */
async function readDefaultBranchFile(github: GitHubClient, repo: RepoCoordinates, path: string, cache: PolicyCache): Promise<string | undefined> {
  try {
    return await cache.fileAt(github, repo, path, await github.defaultBranchHead(repo));
  } catch (err) {
    // Missing, private to another installation, or refused: all the same to whoever reads the answer.
    const status = (err as { status?: number }).status;
    if (status === 404 || status === 403 || status === 401) return undefined;
    throw err;
  }
}

/** GitHub uses the first CODEOWNERS it finds in its search order. */
async function loadCodeowners(github: GitHubClient, repo: RepoCoordinates, ref: string, cache: PolicyCache): Promise<Codeowners | undefined> {
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = await cache.fileAt(github, repo, path, ref);
    if (text !== undefined) return cache.parseCodeowners(text, path);
  }
  return undefined;
}
