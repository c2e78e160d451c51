import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Octokit } from '@octokit/rest';
import { SignJWT, importPKCS8 } from 'jose';
import { createPrivateKey } from 'node:crypto';
import { createProbot, Probot } from 'probot';
import { APP_ID, appKeys, INSTALLATION_ID, OTHER_APP_ID, otherAppKeys, REPO, standardSeed } from './fixtures.js';
import { startGitHubDouble, type RunningGitHubDouble } from './index.js';

let gh: RunningGitHubDouble;
let probot: Probot;

beforeAll(async () => {
  gh = await startGitHubDouble({ seed: standardSeed() });
  probot = new Probot({ appId: APP_ID, privateKey: appKeys.privateKey, baseUrl: gh.apiUrl, logLevel: 'fatal' });
});
afterAll(() => gh.close());
beforeEach(() => gh.control.reset());

type Installed = Awaited<ReturnType<Probot['auth']>>;
const installed = () => probot.auth(INSTALLATION_ID) as Promise<Installed>;
const [owner, repo] = REPO.split('/');

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A plain client without retry/throttle plugins, so status codes reach the test unaltered. */
async function plainClient(): Promise<Octokit> {
  const { token } = await gh.control.installationToken(INSTALLATION_ID);
  return new Octokit({ auth: token, baseUrl: gh.apiUrl, log: quiet });
}

async function appJwt(claims: { iat: number; exp: number; iss?: string | number }, pem = appKeys.privateKey): Promise<string> {
  const key = await importPKCS8(createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
  return new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(String(claims.iss ?? APP_ID)).setIssuedAt(claims.iat).setExpirationTime(claims.exp).sign(key);
}

describe('App authentication', () => {
  it('lets Probot find the installation and mint a token scoped to it, as on GitHub', async () => {
    const app = await probot.auth();
    const { data: installation } = await app.rest.apps.getRepoInstallation({ owner, repo });
    expect(installation).toMatchObject({ id: INSTALLATION_ID, app_id: APP_ID, repository_selection: 'selected', account: { login: 'acme' } });
    const octokit = await installed();
    const { data } = await octokit.rest.repos.get({ owner, repo });
    expect(data.full_name).toBe(REPO);
    expect(data.default_branch).toBe('main');
    // The installation covers widgets only: another repository of the same org is invisible.
    await expect(octokit.rest.repos.get({ owner, repo: 'secret' })).rejects.toMatchObject({ status: 404 });
  });

  it('works through GHE_HOST + GHE_PROTOCOL, the way the App is configured', async () => {
    const configured = await createProbot({
      env: { APP_ID: String(APP_ID), PRIVATE_KEY: appKeys.privateKey, GHE_HOST: gh.host, GHE_PROTOCOL: 'http', LOG_LEVEL: 'fatal', WEBHOOK_SECRET: 's' },
    });
    const octokit = await configured.auth(INSTALLATION_ID);
    const { data } = await octokit.rest.issues.get({ owner, repo, issue_number: 2 });
    expect(data.title).toBe('Tracking');
    expect((await gh.control.requestCounts())['GET /repos/{owner}/{repo}/issues/{issue_number}']).toBe(1);
  });

  it('rejects App JWTs that are forged, expired, too long-lived or from the future, with GitHub messages', async () => {
    const now = Math.floor(Date.now() / 1000);
    const call = (jwt: string) => fetch(`${gh.apiUrl}/repos/${REPO}/installation`, { headers: { authorization: `Bearer ${jwt}` } });
    const cases: [string, string][] = [
      [await appJwt({ iat: now - 30, exp: now + 500 }, otherAppKeys.privateKey), 'A JSON web token could not be decoded'],
      [await appJwt({ iat: now - 700, exp: now - 100 }), "'Expiration time' claim ('exp') must be a numeric value"],
      [await appJwt({ iat: now - 30, exp: now + 1200 }), "'Expiration time' claim ('exp') is too far in the future"],
      [await appJwt({ iat: now + 300, exp: now + 500 }), "'Issued at' claim ('iat') must be an Integer"],
      [await appJwt({ iat: now - 30, exp: now + 500, iss: 99 }), "'Issuer' claim ('iss') must be an Integer"],
    ];
    for (const [jwt, message] of cases) {
      const response = await call(jwt);
      expect(response.status).toBe(401);
      expect((await response.json()) as object).toMatchObject({ message: expect.stringContaining(message), documentation_url: expect.any(String) });
    }
    expect((await call(await appJwt({ iat: now - 30, exp: now + 570 }))).status).toBe(200);
  });

  it('requires a token on REST calls and refuses an App JWT where an installation token is needed', async () => {
    expect((await fetch(`${gh.apiUrl}/repos/${REPO}`)).status).toBe(401);
    expect((await fetch(`${gh.apiUrl}/repos/${REPO}`, { headers: { authorization: 'token ghs_nope' } })).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const jwt = await appJwt({ iat: now - 30, exp: now + 500 });
    expect((await fetch(`${gh.apiUrl}/repos/${REPO}`, { headers: { authorization: `Bearer ${jwt}` } })).status).toBe(403);
  });

  it('narrows tokens to requested repositories and refuses permissions the installation lacks', async () => {
    const app = await new Probot({ appId: OTHER_APP_ID, privateKey: otherAppKeys.privateKey, baseUrl: gh.apiUrl, logLevel: 'fatal' }).auth();
    const { data } = await app.rest.apps.createInstallationAccessToken({ installation_id: 778, repositories: ['secret'], permissions: { issues: 'read' } });
    expect(data.repositories?.map((r) => r.name)).toEqual(['secret']);
    const narrowed = new Octokit({ auth: data.token, baseUrl: gh.apiUrl, log: quiet });
    await expect(narrowed.rest.repos.get({ owner, repo: 'secret' })).rejects.toMatchObject({ status: 403 }); // no metadata permission asked
    await expect(narrowed.rest.issues.listForRepo({ owner, repo: 'widgets' })).rejects.toMatchObject({ status: 404 });
    expect((await narrowed.rest.issues.listForRepo({ owner, repo: 'secret' })).status).toBe(200);
  });
});

describe('workflow tokens and Probot config', () => {
  it('gives a workflow GITHUB_TOKEN read access to its own repository only, and no check-run writes', async () => {
    const { token } = await gh.control.repositoryToken(REPO);
    const octokit = new Octokit({ auth: token, baseUrl: gh.apiUrl, log: quiet });
    const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref: 'main' });
    expect(data.total_count).toBe(0);
    await expect(octokit.rest.repos.get({ owner, repo: 'secret' })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.checks.create({ owner, repo, name: 'x', head_sha: 'main' })).rejects.toMatchObject({ status: 403 });
  });

  it('serves repository config files the way Probot\'s config plugin reads them', async () => {
    const octokit = await installed();
    const { config } = await octokit.config.get({ owner, repo, path: '.github/jit-approval.yml' });
    expect(config).toEqual({ version: 1 });
    const { config: missing } = await octokit.config.get({ owner, repo, path: '.github/absent.yml' });
    expect(missing).toEqual({});
  });
});

describe('check runs', () => {
  const actions = [
    { label: 'Approve', description: 'Approve this deployment', identifier: 'approve' },
    { label: 'Reject', description: 'Reject this deployment', identifier: 'reject' },
  ];

  it('creates, updates, gets and lists check runs with buttons', async () => {
    const octokit = await installed();
    const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
    const { data: created } = await octokit.rest.checks.create({
      owner, repo, name: 'jit-approval', head_sha: pull.head.sha, status: 'completed', conclusion: 'action_required',
      details_url: 'https://jit.example.com/r/1', output: { title: 'Approval needed', summary: 'Waiting for @acme/team-leads' }, actions,
    });
    expect(created).toMatchObject({ status: 'completed', conclusion: 'action_required', head_sha: pull.head.sha, app: { id: APP_ID } });
    expect(created.pull_requests.map((p) => p.number)).toEqual([1]);
    const { data: updated } = await octokit.rest.checks.update({ owner, repo, check_run_id: created.id, conclusion: 'success', output: { title: 'Approved', summary: 'by alice' }, actions: [] });
    expect(updated.output).toMatchObject({ title: 'Approved', summary: 'by alice' });
    expect((await octokit.rest.checks.get({ owner, repo, check_run_id: created.id })).data.conclusion).toBe('success');
    const { data: list } = await octokit.rest.checks.listForRef({ owner, repo, ref: 'feature', check_name: 'jit-approval' });
    expect(list.total_count).toBe(1);
    expect(list.check_runs[0].id).toBe(created.id);
    expect(await gh.control.checkRuns(REPO, pull.head.sha)).toEqual([expect.objectContaining({ id: created.id, conclusion: 'success' })]);
  });

  it('enforces GitHub limits on actions, outputs and completion', async () => {
    const octokit = await plainClient();
    const { data: main } = await octokit.rest.repos.getCommit({ owner, repo, ref: 'main' });
    const base = { owner, repo, name: 'gate', head_sha: main.sha };
    const rejected = async (extra: Record<string, unknown>, field: string) => {
      const error = await octokit.rest.checks.create({ ...base, ...extra } as never).then(() => undefined, (e: { status: number; response: { data: { errors: { field: string }[] } } }) => e);
      expect(error?.status).toBe(422);
      expect(error?.response.data.errors.map((e) => e.field)).toContain(field);
    };
    await rejected({ actions: [...actions, ...actions] }, 'actions');
    await rejected({ actions: [{ ...actions[0], label: 'L'.repeat(21) }] }, 'actions[0].label');
    await rejected({ actions: [{ ...actions[0], identifier: 'i'.repeat(21) }] }, 'actions[0].identifier');
    await rejected({ actions: [{ ...actions[0], description: 'd'.repeat(41) }] }, 'actions[0].description');
    await rejected({ status: 'completed' }, 'conclusion');
    await rejected({ output: { title: 'only a title' } }, 'output.summary');
    // GitHub names the field without its `output.` prefix here.
    await rejected({ output: { title: 't', summary: 's'.repeat(65536) } }, 'summary');
    await rejected({ status: 'waiting' }, 'status');
    await expect(octokit.rest.checks.create({ ...base, head_sha: 'f'.repeat(40) })).rejects.toMatchObject({ status: 422 });
    const { data: ok } = await octokit.rest.checks.create({ ...base, actions: [{ label: 'L'.repeat(20), description: 'd'.repeat(40), identifier: 'i'.repeat(20) }], conclusion: 'neutral' });
    expect(ok.status).toBe('completed');
  });

  it('lets only the App that created a check run change it', async () => {
    const mine = await installed();
    const { data: main } = await mine.rest.repos.getCommit({ owner, repo, ref: 'main' });
    const { data: run } = await mine.rest.checks.create({ owner, repo, name: 'gate', head_sha: main.sha });
    const other = await new Probot({ appId: OTHER_APP_ID, privateKey: otherAppKeys.privateKey, baseUrl: gh.apiUrl, logLevel: 'fatal' }).auth(778);
    await expect(other.rest.checks.update({ owner, repo, check_run_id: run.id, conclusion: 'success' })).rejects.toMatchObject({ status: 403 });
  });
});

describe('issues, comments and reactions', () => {
  it('creates and closes an issue, comments, edits and paginates comments through Link headers', async () => {
    const octokit = await installed();
    const { data: issue } = await octokit.rest.issues.create({ owner, repo, title: 'Approve deploy', body: 'cc @alice' });
    expect(issue.user?.login).toBe('jit-approval[bot]');
    for (let i = 0; i < 5; i += 1) await octokit.rest.issues.createComment({ owner, repo, issue_number: issue.number, body: `c${i}` });
    const firstPage = await octokit.rest.issues.listComments({ owner, repo, issue_number: issue.number, per_page: 2 });
    expect(firstPage.data.map((c) => c.body)).toEqual(['c0', 'c1']);
    expect(firstPage.headers.link).toMatch(/rel="next".*rel="last"/);
    const all = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: issue.number, per_page: 2 });
    expect(all.map((c) => c.body)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    const { data: edited } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: all[0].id, body: 'edited' });
    expect(edited.body).toBe('edited');
    const { data: closed } = await octokit.rest.issues.update({ owner, repo, issue_number: issue.number, state: 'closed', state_reason: 'completed' });
    expect(closed).toMatchObject({ state: 'closed', state_reason: 'completed', comments: 5 });
    expect(closed.closed_at).toEqual(expect.any(String));
  });

  it('refuses to let an App edit a human comment', async () => {
    const { comment } = await gh.control.comment({ repository: REPO, issue_number: 2, user: 'alice', body: '/approve' });
    const octokit = await plainClient();
    await expect(octokit.rest.issues.updateComment({ owner, repo, comment_id: comment.id, body: 'forged' })).rejects.toMatchObject({ status: 403 });
  });

  it('refuses over-long comments made through the control API too, as GitHub\'s web UI does', async () => {
    const body = 'x'.repeat(65_537);
    await expect(gh.control.comment({ repository: REPO, issue_number: 2, user: 'alice', body })).rejects.toMatchObject({ status: 422 });
    const { comment } = await gh.control.comment({ repository: REPO, issue_number: 2, user: 'alice', body: body.slice(1) });
    await expect(gh.control.editComment({ repository: REPO, comment_id: comment.id, user: 'alice', body })).rejects.toMatchObject({ status: 422 });
    expect((await gh.control.comments(REPO, 2)).map((c) => (c.body as string).length)).toEqual([65_536]);
  });

  it('adds a reaction once: 201, then 200 for the same one', async () => {
    const { comment } = await gh.control.comment({ repository: REPO, issue_number: 2, user: 'alice', body: '/approve' });
    const octokit = await plainClient();
    const first = await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: comment.id, content: '+1' });
    const second = await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: comment.id, content: '+1' });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.data.id).toBe(first.data.id);
    const { data: readBack } = await octokit.rest.issues.getComment({ owner, repo, comment_id: comment.id });
    expect(readBack.reactions).toMatchObject({ '+1': 1, total_count: 1 });
    await expect(octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: comment.id, content: 'nope' as never })).rejects.toMatchObject({ status: 422 });
  });
});

describe('pull requests and repository contents', () => {
  it('lists PR files with pagination and finds PRs for a commit', async () => {
    const octokit = await installed();
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: 1, per_page: 2 });
    expect(files.map((f) => f.filename)).toEqual(['infra/main.tf', 'src/file0.ts', 'src/file1.ts', 'src/file2.ts', 'src/file3.ts', 'src/file4.ts']);
    expect(files[0]).toMatchObject({ status: 'modified', additions: 1, deletions: 1 });
    const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
    expect(pull).toMatchObject({ number: 1, changed_files: 6, head: { ref: 'feature' }, base: { ref: 'main' }, user: { login: 'carol' } });
    const { data: forCommit } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: pull.head.sha });
    expect(forCommit.map((p) => p.number)).toEqual([1]);
    const { data: onMain } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: pull.base.sha });
    expect(onMain).toEqual([]);
    // The base moving on changes the test-merge commit, not what the PR changes.
    const { sha: newBase } = await gh.control.pushCommit(REPO, { branch: 'main', files: { 'unrelated.txt': 'u\n' } });
    const { data: moved } = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
    expect(moved.base.sha).toBe(newBase);
    expect(moved.merge_commit_sha).not.toBe(pull.merge_commit_sha);
    expect((await octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: 1 })).map((f) => f.filename)).toEqual(files.map((f) => f.filename));
    const { data: merge } = await octokit.rest.repos.getContent({ owner, repo, path: 'unrelated.txt', ref: 'refs/pull/1/merge' });
    expect(Array.isArray(merge) ? undefined : merge.type).toBe('file');
  });

  it('serves contents base64-encoded per ref, raw on request, and 404 for missing paths', async () => {
    const octokit = await installed();
    const read = async (ref?: string) => {
      const { data } = await octokit.rest.repos.getContent({ owner, repo, path: 'infra/main.tf', ref });
      if (Array.isArray(data) || data.type !== 'file') throw new Error('expected a file');
      return Buffer.from(data.content, 'base64').toString('utf8');
    };
    expect(await read()).toBe('resource "x" "y" {}\n');
    expect(await read('feature')).toBe('resource "x" "z" {}\n');
    expect(await read('refs/heads/feature')).toBe('resource "x" "z" {}\n');
    const raw = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { owner, repo, path: 'CODEOWNERS', mediaType: { format: 'raw' } });
    expect(raw.data).toBe('* @acme/team-leads\n');
    const { data: dir } = await octokit.rest.repos.getContent({ owner, repo, path: 'src', ref: 'feature' });
    expect(Array.isArray(dir) && dir.map((e) => e.name)).toEqual(['file0.ts', 'file1.ts', 'file2.ts', 'file3.ts', 'file4.ts']);
    const missing = await octokit.rest.repos.getContent({ owner, repo, path: 'nope.txt' }).catch((e: { status: number; response: { data: unknown } }) => e);
    expect(missing).toMatchObject({ status: 404, response: { data: { message: 'Not Found', documentation_url: expect.any(String) } } });
  });

  it('serves a file that is not UTF-8 text as its bytes, given with surrogate escapes', async () => {
    const octokit = await installed();
    // "é" in Latin-1 (0xE9), a UTF-8 "é" and an emoji (a surrogate pair, never an escape) beside it.
    const { sha } = await gh.control.pushCommit(REPO, { branch: 'feature', files: { 'latin1.txt': 'caf\uDCE9 café 😀\n' }, message: 'latin1' });
    const expected = Buffer.concat([Buffer.from('caf'), Buffer.of(0xe9), Buffer.from(' café 😀\n')]);
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path: 'latin1.txt', ref: sha });
    if (Array.isArray(data) || data.type !== 'file') throw new Error('expected a file');
    expect(Buffer.from(data.content, 'base64')).toEqual(expected);
    expect(data.size).toBe(expected.length);
    const raw = await fetch(`${gh.apiUrl}/repos/${REPO}/contents/latin1.txt?ref=${sha}`, { headers: { authorization: `token ${(await octokit.auth({ type: 'installation' }) as { token: string }).token}`, accept: 'application/vnd.github.raw' } });
    expect(Buffer.from(await raw.arrayBuffer())).toEqual(expected);
  });

  it('compares refs and shows a commit with its files', async () => {
    const octokit = await installed();
    const { sha } = await gh.control.pushCommit(REPO, { branch: 'feature', files: { 'docs/x.md': '# x\n' }, message: 'docs' });
    const { data: compare } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: 'main...feature' });
    expect(compare).toMatchObject({ status: 'ahead', ahead_by: 2, behind_by: 0, total_commits: 2 });
    expect(compare.files?.map((f) => f.filename)).toContain('docs/x.md');
    const { data: commit } = await octokit.rest.repos.getCommit({ owner, repo, ref: sha });
    expect(commit.files?.map((f) => f.filename)).toEqual(['docs/x.md']);
    expect(commit.commit.message).toBe('docs');
  });

  it('lists commits newest first from the default branch, or from `sha`', async () => {
    const octokit = await installed();
    const { sha: feature } = await gh.control.pushCommit(REPO, { branch: 'feature', files: { 'docs/y.md': '# y\n' } });
    const { sha: main } = await gh.control.pushCommit(REPO, { branch: 'main', files: { 'docs/z.md': '# z\n' } });
    const { data: [head] } = await octokit.rest.repos.listCommits({ owner, repo, per_page: 1 });
    expect(head.sha).toBe(main);
    const { data: onFeature } = await octokit.rest.repos.listCommits({ owner, repo, sha: 'feature', per_page: 2 });
    expect(onFeature[0].sha).toBe(feature);
    expect(onFeature).toHaveLength(2);
  });
});

describe('repository history: labels, renames, large commits, force pushes, deletions and merges', () => {
  const activities = async (octokit: Octokit, ref: string) =>
    (await octokit.rest.repos.listActivities({ owner, repo, ref })).data.map((a) => ({ type: a.activity_type, before: a.before, after: a.after }));

  it('gives a pull request its issue\'s labels, from the seed and from later edits', async () => {
    await gh.control.seed({ repos: [{ owner: 'acme', name: 'labelled', branches: { main: { a: 'a\n' }, topic: { b: 'b\n' } }, pulls: [{ number: 3, title: 'Topic', head: 'topic', user: 'carol', labels: ['infra', 'urgent'] }] }] });
    const { token } = await gh.control.installationToken(778); // the other App's installation covers every repository
    const octokit = new Octokit({ auth: token, baseUrl: gh.apiUrl, log: quiet });
    const { data: pull } = await octokit.rest.pulls.get({ owner, repo: 'labelled', pull_number: 3 });
    expect(pull.labels.map((l) => l.name)).toEqual(['infra', 'urgent']);
    await octokit.rest.issues.update({ owner, repo: 'labelled', issue_number: 3, labels: ['docs'] });
    const { data: listed } = await octokit.rest.pulls.list({ owner, repo: 'labelled' });
    expect(listed[0].labels.map((l) => l.name)).toEqual(['docs']);
  });

  it('lists a renamed file with its previous name in a commit, a comparison and a pull request', async () => {
    const octokit = await plainClient();
    const { sha: moved } = await gh.control.pushCommit(REPO, { branch: 'feature', renames: { CODEOWNERS: '.github/CODEOWNERS' } });
    const { data: commit } = await octokit.rest.repos.getCommit({ owner, repo, ref: moved });
    expect(commit.files).toEqual([expect.objectContaining({ filename: '.github/CODEOWNERS', previous_filename: 'CODEOWNERS', status: 'renamed', changes: 0 })]);
    expect(commit.files?.[0]).not.toHaveProperty('patch');
    // Renamed and edited: still a rename while most of the content carries over, now with a patch.
    const { sha: edited } = await gh.control.pushCommit(REPO, {
      branch: 'feature', renames: { '.github/CODEOWNERS': 'docs/CODEOWNERS' }, files: { 'docs/CODEOWNERS': '* @acme/team-leads\n# moved\n' },
    });
    const { data: editedCommit } = await octokit.rest.repos.getCommit({ owner, repo, ref: edited });
    expect(editedCommit.files).toEqual([expect.objectContaining({ filename: 'docs/CODEOWNERS', previous_filename: '.github/CODEOWNERS', status: 'renamed', patch: expect.any(String) })]);
    const { data: compare } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: 'main...feature' });
    expect(compare.files?.find((f) => f.filename === 'docs/CODEOWNERS')).toMatchObject({ status: 'renamed', previous_filename: 'CODEOWNERS' });
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: 1 });
    expect(files.find((f) => f.filename === 'docs/CODEOWNERS')).toMatchObject({ status: 'renamed', previous_filename: 'CODEOWNERS' });
    expect(files.map((f) => f.filename)).not.toContain('CODEOWNERS');
    // Content that changed beyond recognition is a removal and an addition, as in git.
    await gh.control.pushCommit(REPO, { branch: 'feature', renames: { 'docs/CODEOWNERS': 'docs/OWNERS' }, files: { 'docs/OWNERS': 'nothing alike\n' } });
    const { data: unrelated } = await octokit.rest.repos.getCommit({ owner, repo, ref: 'feature' });
    expect(unrelated.files?.map((f) => [f.filename, f.status])).toEqual([['docs/CODEOWNERS', 'removed'], ['docs/OWNERS', 'added']]);
    await expect(gh.control.pushCommit(REPO, { branch: 'feature', renames: { 'no/such.file': 'x' } })).rejects.toMatchObject({ status: 422 });
  });

  it('pages a commit\'s files past 300, as GitHub does, up to 3000', async () => {
    const octokit = await plainClient();
    const files = (n: number, prefix: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}/f${i}.txt`, `${prefix} ${i}\n`]));
    const { sha: small } = await gh.control.pushCommit(REPO, { branch: 'main', files: files(300, 'small') });
    const unpaged = await octokit.rest.repos.getCommit({ owner, repo, ref: small, per_page: 100 });
    expect([unpaged.data.files?.length, unpaged.headers.link]).toEqual([300, undefined]);
    const { sha: large } = await gh.control.pushCommit(REPO, { branch: 'main', files: files(450, 'large') });
    const first = await octokit.rest.repos.getCommit({ owner, repo, ref: large });
    expect(first.data.files).toHaveLength(300);
    expect(first.data.stats?.total).toBe(450);
    expect(first.headers.link).toMatch(/rel="next"/);
    const pages: Array<{ sha: string; files: unknown[] }> = [];
    for await (const { data } of octokit.paginate.iterator(octokit.rest.repos.getCommit, { owner, repo, ref: large, per_page: 100 })) pages.push(data as never);
    expect(pages.map((p) => p.files.length)).toEqual([100, 100, 100, 100, 50]);
    expect(new Set(pages.map((p) => p.sha))).toEqual(new Set([large]));
    const { sha: huge } = await gh.control.pushCommit(REPO, { branch: 'main', files: files(3100, 'huge') });
    let listed = 0;
    for await (const { data } of octokit.paginate.iterator(octokit.rest.repos.getCommit, { owner, repo, ref: huge, per_page: 100 })) listed += (data as unknown as { files: unknown[] }).files.length;
    expect(listed).toBe(3000);
  });

  it('records force pushes, fast-forwards and branch deletions in the repository\'s activity', async () => {
    const octokit = await plainClient();
    const { sha: start } = await gh.control.pushCommit(REPO, { branch: 'topic', files: { 't.txt': '1\n' } });
    const { sha: next } = await gh.control.pushCommit(REPO, { branch: 'topic', files: { 't.txt': '2\n' } });
    expect(await gh.control.forcePush(REPO, { branch: 'topic', sha: start, author: 'bob' })).toEqual({ before: next, after: start, activity_type: 'force_push' });
    expect((await gh.control.forcePush(REPO, { branch: 'topic', sha: next })).activity_type).toBe('push');
    await gh.control.deleteBranch(REPO, { branch: 'topic', author: 'bob' });
    expect(await activities(octokit, 'refs/heads/topic')).toEqual([
      { type: 'branch_deletion', before: next, after: '0'.repeat(40) },
      { type: 'push', before: start, after: next },
      { type: 'force_push', before: next, after: start },
      { type: 'push', before: start, after: next },
      { type: 'branch_creation', before: '0'.repeat(40), after: start },
    ]);
    const { data: forced } = await octokit.rest.repos.listActivities({ owner, repo, activity_type: 'force_push' });
    expect(forced.map((a) => a.actor?.login)).toEqual(['bob']);
    await expect(octokit.rest.repos.getCommit({ owner, repo, ref: 'topic' })).rejects.toMatchObject({ status: 404 });
    await expect(gh.control.deleteBranch(REPO, { branch: 'main' })).rejects.toMatchObject({ status: 422 });
    await expect(gh.control.deleteBranch(REPO, { branch: 'feature' })).rejects.toMatchObject({ status: 422 }); // head of open PR #1
    await expect(gh.control.forcePush(REPO, { branch: 'main', sha: 'f'.repeat(40) })).rejects.toMatchObject({ status: 422 });
  });

  it('merges a pull request with a merge commit on its base, a pr_merge activity, and a closed, merged pull request', async () => {
    const octokit = await plainClient();
    const { data: before } = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
    const { data: run } = await octokit.rest.checks.create({ owner, repo, name: 'gate', head_sha: before.head.sha });
    expect(run.pull_requests.map((p) => p.number)).toEqual([1]);
    const { sha } = await gh.control.mergePull({ repository: REPO, number: 1, user: 'alice' });
    // A check run lists only open pull requests.
    expect((await octokit.rest.checks.get({ owner, repo, check_run_id: run.id })).data.pull_requests).toEqual([]);
    const { data: merged } = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
    expect(merged).toMatchObject({ state: 'closed', merged: true, merge_commit_sha: sha, merged_by: { login: 'alice' }, base: { sha: before.base.sha }, head: { sha: before.head.sha } });
    expect(merged.merged_at).toEqual(expect.any(String));
    const { data: commit } = await octokit.rest.repos.getCommit({ owner, repo, ref: 'main' });
    expect([commit.sha, commit.parents.map((p) => p.sha)]).toEqual([sha, [before.base.sha, before.head.sha]]);
    expect(commit.files?.map((f) => f.filename)).toEqual((await octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: 1 })).map((f) => f.filename));
    expect((await activities(octokit, 'main'))[0]).toEqual({ type: 'pr_merge', before: before.base.sha, after: sha });
    // On the default branch, the merged pull request is the one associated with its commits.
    const { data: associated } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: before.head.sha });
    expect(associated.map((p) => p.number)).toEqual([1]);
    const { data: ofMerge } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: sha });
    expect(ofMerge.map((p) => [p.number, p.merged_at !== null])).toEqual([[1, true]]);
    await expect(gh.control.mergePull({ repository: REPO, number: 1, user: 'alice' })).rejects.toMatchObject({ status: 422 });
    await gh.control.deleteBranch(REPO, { branch: 'feature' }); // the merged pull request's branch may go now
  });
});

describe('people', () => {
  it('reports permission levels from direct and team grants, GitHub-style', async () => {
    const octokit = await installed();
    const level = async (username: string) => (await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username })).data;
    expect(await level('alice')).toMatchObject({ permission: 'admin', role_name: 'admin' });
    expect(await level('bob')).toMatchObject({ permission: 'write', role_name: 'write' });
    expect(await level('carol')).toMatchObject({ permission: 'read', role_name: 'read' });
    expect(await level('dave')).toMatchObject({ permission: 'write', role_name: 'maintain' }); // via team-leads
    expect(await level('erin')).toMatchObject({ permission: 'none' });
    await expect(level('nobody-here')).rejects.toMatchObject({ status: 404 });
    await gh.control.setPermission(REPO, 'erin', 'triage');
    expect(await level('erin')).toMatchObject({ permission: 'read', role_name: 'triage' });
  });

  it('reports pending memberships, and members of child teams as members of their parents, with the parents\' access', async () => {
    await gh.control.seed({
      users: [{ login: 'frank' }, { login: 'gina' }],
      teams: [
        { org: 'acme', slug: 'platform', parent: 'team-leads', members: ['frank'], pending: ['gina'] },
        { org: 'acme', slug: 'platform-db', parent: 'platform', maintainers: ['erin'] },
      ],
    });
    const octokit = await installed();
    const membership = async (team_slug: string, username: string) =>
      (await octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug, username })).data;
    expect(await membership('team-leads', 'frank')).toMatchObject({ role: 'member', state: 'active' });
    expect(await membership('team-leads', 'erin')).toMatchObject({ role: 'member', state: 'active' }); // grandchild team
    expect(await membership('platform-db', 'erin')).toMatchObject({ role: 'maintainer', state: 'active' });
    expect(await membership('platform', 'gina')).toMatchObject({ role: 'member', state: 'pending' });
    await expect(membership('team-leads', 'gina')).rejects.toMatchObject({ status: 404 });
    await expect(membership('platform', 'dave')).rejects.toMatchObject({ status: 404 }); // parents' members are not the child's
    const members = await octokit.paginate(octokit.rest.teams.listMembersInOrg, { org: 'acme', team_slug: 'team-leads' });
    expect(members.map((m) => m.login).sort()).toEqual(['alice', 'dave', 'erin', 'frank']);
    const maintainers = await octokit.paginate(octokit.rest.teams.listMembersInOrg, { org: 'acme', team_slug: 'team-leads', role: 'maintainer' });
    expect(maintainers.map((m) => m.login)).toEqual(['alice']);
    const level = async (username: string) => (await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username })).data.role_name;
    expect(await level('frank')).toBe('maintain'); // team-leads' grant on widgets, through the child team
    expect(await level('gina')).toBe('none');
    await expect(gh.control.seed({ teams: [{ org: 'acme', slug: 'orphan', parent: 'nowhere' }] })).rejects.toMatchObject({ status: 400 });
  });

  it('answers team membership and member lists, and users', async () => {
    const octokit = await installed();
    const { data: membership } = await octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'team-leads', username: 'alice' });
    expect(membership).toMatchObject({ role: 'maintainer', state: 'active' });
    await expect(octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'team-leads', username: 'bob' })).rejects.toMatchObject({ status: 404 });
    const members = await octokit.paginate(octokit.rest.teams.listMembersInOrg, { org: 'acme', team_slug: 'team-leads', per_page: 1 });
    expect(members.map((m) => m.login).sort()).toEqual(['alice', 'dave']);
    const { data: bot } = await octokit.rest.users.getByUsername({ username: 'renovate[bot]' });
    expect(bot.type).toBe('Bot');
  });
});

describe('GitHub behaviours: ETags, errors, faults, rate limits, counting', () => {
  it('answers If-None-Match with 304 without spending rate limit', async () => {
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    const get = (headers: Record<string, string> = {}) => fetch(`${gh.apiUrl}/repos/${REPO}/pulls/1`, { headers: { authorization: `token ${token}`, ...headers } });
    const first = await get();
    const etag = first.headers.get('etag') as string;
    expect(etag).toMatch(/^W\/"/);
    const remaining = Number(first.headers.get('x-ratelimit-remaining'));
    expect((await get({ 'if-none-match': etag })).status).toBe(304);
    const third = await get();
    expect(Number(third.headers.get('x-ratelimit-remaining'))).toBe(remaining - 1);
    // A change makes the old ETag stale.
    await gh.control.comment({ repository: REPO, issue_number: 1, user: 'alice', body: 'hi' });
    expect((await get({ 'if-none-match': etag })).status).toBe(200);
  });

  it('returns 422 with errors for invalid input', async () => {
    const octokit = await plainClient();
    const error = await octokit.rest.issues.create({ owner, repo, title: '' }).catch((e: { status: number; response: { data: unknown } }) => e);
    expect(error).toMatchObject({ status: 422, response: { data: { message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }] } } });
  });

  it('injects a status on a route for the next N calls, then recovers', async () => {
    const octokit = await plainClient();
    await gh.control.fault({ route: '/repos/{owner}/{repo}/pulls/{pull_number}', method: 'GET', status: 502, times: 2 });
    await expect(octokit.rest.pulls.get({ owner, repo, pull_number: 1 })).rejects.toMatchObject({ status: 502 });
    await expect(octokit.rest.pulls.get({ owner, repo, pull_number: 1 })).rejects.toMatchObject({ status: 502 });
    expect((await octokit.rest.pulls.get({ owner, repo, pull_number: 1 })).status).toBe(200);
    expect((await octokit.rest.issues.get({ owner, repo, issue_number: 2 })).status).toBe(200);
  });

  it('fails a share of calls at random with `rate`, the same calls for the same seed', async () => {
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    const statuses = async () => {
      const seen: number[] = [];
      for (let i = 0; i < 60; i++) seen.push((await fetch(`${gh.apiUrl}/repos/${REPO}/issues/2`, { headers: { authorization: `token ${token}` } })).status);
      return seen;
    };
    await gh.control.fault({ route: '*', status: 502, rate: 0.25, seed: 3 });
    const first = await statuses();
    await gh.control.clearFaults();
    const failed = first.filter((status) => status === 502).length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(30);
    expect(first.filter((status) => status !== 502).every((status) => status === 200)).toBe(true);
    await gh.control.fault({ route: '*', status: 502, rate: 0.25, seed: 3 });
    expect(await statuses()).toEqual(first);
    await gh.control.clearFaults();
    expect((await statuses()).every((status) => status === 200)).toBe(true);
  });

  it('answers an exhausted primary rate limit with 403, x-ratelimit-* and retry-after; and a secondary one', async () => {
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    const get = () => fetch(`${gh.apiUrl}/repos/${REPO}`, { headers: { authorization: `token ${token}` } });
    await gh.control.rateLimit({ limit: 2 });
    expect((await get()).headers.get('x-ratelimit-remaining')).toBe('1');
    expect((await get()).status).toBe(200);
    const limited = await get();
    expect(limited.status).toBe(403);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { message: string }).message).toMatch(/API rate limit exceeded for installation ID 777/);
    await gh.control.clearFaults();
    await gh.control.rateLimit({ secondary: { times: 1, retryAfterSeconds: 7 } });
    const secondary = await get();
    expect([secondary.status, secondary.headers.get('retry-after')]).toEqual([403, '7']);
    expect((await get()).status).toBe(200);
  });

  it('answers exceeded limits with 429 as well as 403, saying when to retry as GitHub does', async () => {
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    const get = () => fetch(`${gh.apiUrl}/repos/${REPO}`, { headers: { authorization: `token ${token}` } });
    await gh.control.rateLimit({ secondary: { times: 1, status: 429, wait: 'reset', retryAfterSeconds: 30 } });
    const byReset = await get();
    expect([byReset.status, byReset.headers.get('retry-after'), byReset.headers.get('x-ratelimit-remaining')]).toEqual([429, null, '0']);
    expect(Number(byReset.headers.get('x-ratelimit-reset')) - Date.now() / 1000).toBeGreaterThan(25);
    expect(((await byReset.json()) as { message: string }).message).toMatch(/secondary rate limit/);
    await gh.control.rateLimit({ secondary: { times: 1, status: 403, wait: 'none' } });
    const silent = await get();
    expect([silent.status, silent.headers.get('retry-after'), silent.headers.get('x-ratelimit-remaining')]).toEqual([403, null, null]);
    expect((await get()).status).toBe(200);
    await gh.control.rateLimit({ limit: 1, status: 429 });
    const { token: fresh } = await gh.control.installationToken(INSTALLATION_ID);
    const getFresh = () => fetch(`${gh.apiUrl}/repos/${REPO}`, { headers: { authorization: `token ${fresh}` } });
    expect((await getFresh()).status).toBe(200);
    const primary = await getFresh();
    expect([primary.status, primary.headers.get('x-ratelimit-remaining')]).toEqual([429, '0']);
  });

  it('adds latency and counts requests per route', async () => {
    const octokit = await plainClient();
    await gh.control.resetRequestCounts();
    await gh.control.latency({ route: '/repos/{owner}/{repo}/issues/{issue_number}', ms: 300, times: 1 });
    const started = Date.now();
    await octokit.rest.issues.get({ owner, repo, issue_number: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await octokit.rest.issues.get({ owner, repo, issue_number: 2 });
    await octokit.rest.repos.get({ owner, repo }).catch(() => undefined);
    expect(await gh.control.requestCounts()).toMatchObject({ 'GET /repos/{owner}/{repo}/issues/{issue_number}': 2, 'GET /repos/{owner}/{repo}': 1 });
  });

  it('serves REST at / as well as /api/v3', async () => {
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    const root = new Octokit({ auth: token, baseUrl: gh.url, log: quiet });
    expect((await root.rest.issues.get({ owner, repo, issue_number: 2 })).data.title).toBe('Tracking');
  });
});
