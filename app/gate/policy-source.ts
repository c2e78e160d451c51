/**
 * The policy and CODEOWNERS, always read from the default branch: a change under review can never
 * weaken its own gate. `_extends` names the org's base file, read from that repository's default branch.
 */
import { CODEOWNERS_LOCATIONS, parseCodeowners, type Codeowners } from '../../policies/codeowners.js';
import { DEFAULT_POLICY_PATH, formatDiagnostic, loadPolicy, readExtends, type PolicySource } from '../../policies/loader.js';
import type { Policy } from '../../policies/types.js';
import type { GitHubClient, RepoCoordinates } from '../github/github.js';

export type PolicyInputs =
  | { ok: true; policy: Policy; codeowners?: Codeowners; file: string }
  /** `problems` are `file:line:col: message` lines. */
  | { ok: false; problems: string[] };

/** `knownNotifiers`: the App's configured notifier names; a policy naming another one is invalid. */
export async function loadPolicyInputs(github: GitHubClient, repo: RepoCoordinates, defaultBranch: string, knownNotifiers: Iterable<string>): Promise<PolicyInputs> {
  const own = await github.fileAt(repo, DEFAULT_POLICY_PATH, defaultBranch);
  let source: PolicySource;
  if (own !== undefined) {
    source = { file: DEFAULT_POLICY_PATH, text: own };
  } else {
    // As with Probot configs, a repository without its own file uses the org's `.github` repository.
    const orgRepo = { owner: repo.owner, repo: '.github' };
    const orgText = repo.repo === '.github' ? undefined : await readDefaultBranchFile(github, orgRepo, DEFAULT_POLICY_PATH);
    if (orgText === undefined) {
      return {
        ok: false,
        problems: [`${DEFAULT_POLICY_PATH}:1:1: no approval policy on ${repo.owner}/${repo.repo}@${defaultBranch} (nor in ${repo.owner}/.github); nothing is approved without one`],
      };
    }
    source = { file: `${repo.owner}/.github:${DEFAULT_POLICY_PATH}`, text: orgText };
  }

  const extendsRef = readExtends(source.text, source.file);
  if (!extendsRef.ok) return { ok: false, problems: extendsRef.diagnostics.map(formatDiagnostic) };
  let base: PolicySource | undefined;
  if (extendsRef.ref) {
    const { owner = repo.owner, repo: baseRepo, path, location } = extendsRef.ref;
    const text = await readDefaultBranchFile(github, { owner, repo: baseRepo }, path);
    if (text === undefined) {
      return { ok: false, problems: [`${location.file}:${location.line}:${location.col}: _extends names ${owner}/${baseRepo}:${path}, which does not exist or the App cannot read`] };
    }
    base = { file: `${owner}/${baseRepo}:${path}`, text };
  }

  const loaded = loadPolicy(source.text, source.file, { base, knownNotifiers });
  if (!loaded.ok) return { ok: false, problems: loaded.diagnostics.map(formatDiagnostic) };
  return { ok: true, policy: loaded.policy, codeowners: await loadCodeowners(github, repo, defaultBranch), file: source.file };
}

async function readDefaultBranchFile(github: GitHubClient, repo: RepoCoordinates, path: string): Promise<string | undefined> {
  try {
    return await github.fileAt(repo, path, await github.defaultBranch(repo));
  } catch (err) {
    if ((err as { status?: number }).status === 404) return undefined;
    throw err;
  }
}

/** GitHub uses the first CODEOWNERS it finds in its search order. */
async function loadCodeowners(github: GitHubClient, repo: RepoCoordinates, defaultBranch: string): Promise<Codeowners | undefined> {
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = await github.fileAt(repo, path, defaultBranch);
    if (text !== undefined) return parseCodeowners(text, path);
  }
  return undefined;
}
