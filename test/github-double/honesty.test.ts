/**
 * Keeps the double honest: every response body it served during a broad exercise, and every webhook payload it
 * sent, must validate against GitHub's own descriptions (@octokit/openapi, @octokit/openapi-webhooks); every
 * request the real App sends in a representative flow must validate against the request side of those
 * descriptions, for api.github.com and for each GitHub Enterprise Server release described; and the limits
 * GitHub is known to enforce are replayed as cases the double must refuse, as GitHub does.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Octokit } from '@octokit/rest';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';
import { createPrivateKey } from 'node:crypto';
import { Probot } from 'probot';
import { eventually, job, REPO as APP_REPO, World } from '../app/harness.js';
import { APP_ID, appKeys, INSTALLATION_ID, OAUTH_CALLBACK, REPO, standardSeed, OTHER_APP_ID, otherAppKeys } from './fixtures.js';
import { exchangeWebFlowCode } from '@octokit/oauth-methods';
import { oauthCredentials } from './oauth.js';
import { startGitHubDouble, type RunningGitHubDouble } from './index.js';
import type { Exchange } from './server.js';

type Json = Record<string, unknown>;

/** Follows a path of keys through parsed JSON; undefined when any step is missing. */
function dig(node: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Json)[key] : undefined), node);
}
const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const loadJson = (specifier: string) => JSON.parse(readFileSync(require.resolve(specifier), 'utf8')) as Json;

/** OpenAPI 3.0's `nullable: true` becomes JSON Schema: `null` added to `type` (and `enum`), or an `anyOf` with null. */
function nullableToJsonSchema(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(nullableToJsonSchema);
  if (!node || typeof node !== 'object') return;
  const schema = node as Json;
  Object.values(schema).forEach(nullableToJsonSchema);
  if (schema.nullable !== true) return;
  delete schema.nullable;
  if (Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum.push(null);
  if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
  else if (schema.type === undefined) {
    const inner = { ...schema };
    for (const key of Object.keys(schema)) delete schema[key];
    schema.anyOf = [inner, { type: 'null' }];
  }
}

/** Compiles schemas from one description lazily, with its `#/components/...` refs pointing into it. */
class SchemaBook {
  private readonly ajv: Ajv;
  private readonly cache = new Map<string, ValidateFunction>();

  /** `coerceTypes`: query and path parameters arrive as strings. */
  constructor(private readonly id: string, components: Json, options: { coerceTypes?: boolean } = {}) {
    this.ajv = addFormats(new Ajv({ strict: false, allErrors: false, validateSchema: false, coerceTypes: options.coerceTypes ?? false }));
    this.ajv.addSchema({ $id: id, components }, id);
  }

  validator(key: string, schema: Json): ValidateFunction {
    let validate = this.cache.get(key);
    if (!validate) {
      validate = this.ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${this.id}#/components/`)) as Json);
      this.cache.set(key, validate);
    }
    return validate;
  }
}

/** A REST description with its schemas compiled for bodies, and (coercing strings) for parameters. */
interface Description {
  name: string;
  json: Json;
  bodies: SchemaBook;
  parameters: SchemaBook;
}

function loadDescription(name: string): Description {
  const json = loadJson(`@octokit/openapi/generated/${name}.json`);
  nullableToJsonSchema(json.components);
  nullableToJsonSchema(json.paths);
  const components = { schemas: dig(json, 'components', 'schemas') };
  return { name, json, bodies: new SchemaBook(name, components), parameters: new SchemaBook(`${name}-parameters`, components, { coerceTypes: true }) };
}

/** The GitHub Enterprise Server releases a package describes, oldest first (`ghes-3.17`, …). */
function ghesReleases(packageName: string): string[] {
  const generated = dirname(require.resolve(`${packageName}/generated/api.github.com.json`));
  const version = (name: string) => name.replace('ghes-', '').split('.').map(Number);
  return readdirSync(generated).filter((f) => /^ghes-\d+\.\d+\.json$/.test(f)).map((f) => f.replace(/\.json$/, ''))
    .sort((a, b) => version(a)[0] - version(b)[0] || version(a)[1] - version(b)[1]);
}

const dotcom = loadDescription('api.github.com');
const rest = dotcom.json;
const restBook = dotcom.bodies;
const webhooks = loadJson('@octokit/openapi-webhooks/generated/api.github.com.json');
const webhookBook = new SchemaBook('webhooks', { schemas: dig(webhooks, 'components', 'schemas') });
const GHES_REST = ghesReleases('@octokit/openapi');
const GHES_WEBHOOKS = ghesReleases('@octokit/openapi-webhooks');

/** The JSON schema GitHub documents for a response, or the generic error schema for undocumented error statuses. */
function responseSchema(exchange: Exchange): Json | undefined {
  let response = dig(rest, 'paths', exchange.route, exchange.method.toLowerCase(), 'responses', String(exchange.status));
  const ref = dig(response, '$ref');
  if (typeof ref === 'string') response = dig(rest, 'components', 'responses', ref.split('/').pop() as string);
  const documented = dig(response, 'content', 'application/json', 'schema') as Json | undefined;
  if (documented) return documented;
  if (exchange.status >= 400) return { $ref: `#/components/schemas/${exchange.status === 422 ? 'validation-error' : 'basic-error'}` };
  return undefined;
}

let gh: RunningGitHubDouble;

beforeAll(async () => {
  gh = await startGitHubDouble({ seed: standardSeed() });
});
afterAll(() => gh.close());

/** A user access token from the OAuth web flow: the double's consent form posted as `login`, the code exchanged as Octokit's OAuth methods do. */
async function userToken(login: string): Promise<string> {
  const { clientId, clientSecret } = oauthCredentials(APP_ID, appKeys.publicKey);
  const code = await authorizationCode(login);
  const { authentication } = await exchangeWebFlowCode({ clientType: 'github-app', clientId, clientSecret, code, redirectUrl: OAUTH_CALLBACK, request: new Octokit({ baseUrl: gh.apiUrl }).request });
  return authentication.token;
}

async function authorizationCode(login: string, redirectUri = OAUTH_CALLBACK): Promise<string> {
  const { clientId } = oauthCredentials(APP_ID, appKeys.publicKey);
  const consent = await fetch(`${gh.url}/login/oauth/authorize`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ client_id: clientId, redirect_uri: redirectUri, state: 'st', login }) });
  const location = new URL(consent.headers.get('location')!);
  expect(location.searchParams.get('state')).toBe('st');
  return location.searchParams.get('code')!;
}

/** Calls every route the double serves, on success and error paths, the way the App and Action do. */
async function exercise(): Promise<void> {
  const probot = new Probot({ appId: APP_ID, privateKey: appKeys.privateKey, baseUrl: gh.apiUrl, logLevel: 'fatal' });
  const app = await probot.auth();
  const [owner, repo] = REPO.split('/');
  await app.rest.apps.getAuthenticated();
  await app.rest.apps.getRepoInstallation({ owner, repo });
  await app.rest.apps.getInstallation({ installation_id: INSTALLATION_ID });
  const { data: narrowed } = await app.rest.apps.createInstallationAccessToken({ installation_id: INSTALLATION_ID, repositories: ['widgets'] });
  expect(narrowed.repositories).toHaveLength(1);
  const octokit = await probot.auth(INSTALLATION_ID);
  const fail = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected an error'); }, () => undefined);

  // The manifest flow: the web form hands back a code, which anyone may exchange once.
  const manifest = { name: 'Honest Manifest App', url: 'https://honest.example.test', hook_attributes: { url: 'https://honest.example.test/hook' }, redirect_url: 'https://honest.example.test/cb', default_events: ['issue_comment'], default_permissions: { issues: 'write' } };
  const redirect = await fetch(`${gh.url}/settings/apps/new`, { method: 'POST', body: new URLSearchParams({ manifest: JSON.stringify(manifest) }), redirect: 'manual' });
  const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
  const anonymous = new Octokit({ baseUrl: gh.apiUrl, log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
  await anonymous.rest.apps.createFromManifest({ code });
  await fail(anonymous.rest.apps.createFromManifest({ code }));

  // A user signed in through the App's OAuth web flow: who they are, and a repository both they and the App can read.
  const asCarol = new Octokit({ baseUrl: gh.apiUrl, auth: await userToken('carol'), log: anonymous.log });
  await asCarol.rest.users.getAuthenticated();
  await asCarol.rest.repos.get({ owner, repo });
  await fail(asCarol.rest.repos.get({ owner, repo: 'secret' }));
  await fail(octokit.rest.users.getAuthenticated());

  await octokit.rest.apps.listReposAccessibleToInstallation();
  await octokit.rest.repos.get({ owner, repo });
  await octokit.rest.repos.getContent({ owner, repo, path: 'CODEOWNERS' });
  await octokit.rest.repos.getContent({ owner, repo, path: 'src', ref: 'feature' });
  await fail(octokit.rest.repos.getContent({ owner, repo, path: 'missing.txt' }));
  const { data: main } = await octokit.rest.repos.getCommit({ owner, repo, ref: 'main' });
  expect((await octokit.rest.repos.listCommits({ owner, repo, per_page: 1 })).data.map((c) => c.sha)).toEqual([main.sha]);
  await octokit.rest.repos.listCommits({ owner, repo, sha: 'feature' });
  // A tag named like a branch: a bare name is the tag's, as in git; the branch endpoint names only branches.
  await gh.control.pushCommit(REPO, { branch: 'release/1.x', files: { 'r.txt': 'r\n' } });
  const { data: feature } = await octokit.rest.repos.getCommit({ owner, repo, ref: 'feature' });
  await gh.control.createTag(REPO, { tag: 'release/1.x', sha: feature.sha });
  expect((await octokit.rest.repos.listCommits({ owner, repo, sha: 'release/1.x', per_page: 1 })).data[0]?.sha).toBe(feature.sha);
  expect((await octokit.rest.repos.getBranch({ owner, repo, branch: 'release/1.x' })).data).toMatchObject({ name: 'release/1.x', commit: { sha: expect.not.stringMatching(feature.sha) } });
  await fail(octokit.rest.repos.getBranch({ owner, repo, branch: 'no-such-branch' }));
  await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: 'main...feature' });
  const pushed = await gh.control.push(REPO, { branch: 'feature', commits: [{ files: { 'a.txt': 'a\n' } }, { files: { 'b.txt': 'b\n' } }] });
  const { data: pagedCompare } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${pushed.before}...${pushed.sha}`, per_page: 1, page: 2 });
  expect(pagedCompare.files).toEqual([]);
  const activities = await octokit.paginate(octokit.rest.repos.listActivities, { owner, repo, ref: 'refs/heads/feature', per_page: 1 });
  expect(activities[0]).toMatchObject({ activity_type: 'push', before: pushed.before, after: pushed.sha, ref: 'refs/heads/feature' });
  expect(activities[activities.length - 1]).toMatchObject({ activity_type: 'branch_creation', before: '0'.repeat(40) });
  await octokit.rest.repos.listActivities({ owner, repo, activity_type: 'push', direction: 'asc', time_period: 'day' });
  const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
  // A pull request from a fork's branch of the same name as one of the repository's.
  const { full_name: fork } = await gh.control.fork(REPO, 'carol');
  const fromFork = await gh.control.openPull({ repository: REPO, user: 'carol', title: 'From a fork', head: 'main', head_repository: fork, files: { 'fork.txt': 'f\n' } });
  expect((await octokit.rest.pulls.get({ owner, repo, pull_number: fromFork.number })).data.head).toMatchObject({ ref: 'main', label: 'carol:main', repo: { full_name: fork, fork: true } });
  // A pull request whose base is changed: an issue event, and `pull_request.edited` with the base it had.
  await gh.control.pushCommit(REPO, { branch: 'retarget-to', files: { 'rt.txt': 'rt\n' } });
  await gh.control.retargetPull({ repository: REPO, number: fromFork.number, base: 'retarget-to', user: 'carol' });
  expect((await octokit.rest.issues.listEvents({ owner, repo, issue_number: fromFork.number })).data).toEqual([expect.objectContaining({ event: 'base_ref_changed', actor: expect.objectContaining({ login: 'carol' }) })]);
  await octokit.rest.pulls.list({ owner, repo, state: 'all' });
  await octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: 1, per_page: 4 });
  await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: pull.head.sha });

  const actions = [{ label: 'Approve', description: 'Approve the deployment', identifier: 'approve' }];
  const { data: run } = await octokit.rest.checks.create({
    owner, repo, name: 'jit-approval', head_sha: pull.head.sha, status: 'completed', conclusion: 'action_required',
    details_url: 'https://jit.example.com/r/1', output: { title: 'Approval needed', summary: 'Waiting', text: 'details' }, actions,
  });
  await fail(octokit.rest.checks.create({ owner, repo, name: 'x', head_sha: main.sha, status: 'completed' }));
  await octokit.rest.checks.update({ owner, repo, check_run_id: run.id, conclusion: 'success', output: { title: 'Approved', summary: 'ok' } });
  await octokit.rest.checks.get({ owner, repo, check_run_id: run.id });
  await octokit.rest.checks.listForRef({ owner, repo, ref: pull.head.sha });

  const { data: issue } = await octokit.rest.issues.create({ owner, repo, title: 'Approval: deploy', body: '@alice', labels: ['approval'], assignees: ['alice'] });
  await octokit.rest.issues.get({ owner, repo, issue_number: 1 });
  await octokit.rest.issues.listForRepo({ owner, repo, state: 'all' });
  const { data: comment } = await octokit.rest.issues.createComment({ owner, repo, issue_number: 1, body: 'Approval needed' });
  await octokit.rest.issues.updateComment({ owner, repo, comment_id: comment.id, body: 'Approved by alice' });
  await octokit.rest.issues.getComment({ owner, repo, comment_id: comment.id });
  await octokit.rest.issues.listComments({ owner, repo, issue_number: 1 });
  await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: comment.id, content: 'rocket' });
  await octokit.rest.reactions.listForIssueComment({ owner, repo, comment_id: comment.id });
  await octokit.rest.reactions.createForIssue({ owner, repo, issue_number: issue.number, content: 'eyes' });
  await octokit.rest.reactions.listForIssue({ owner, repo, issue_number: issue.number });
  await octokit.rest.issues.update({ owner, repo, issue_number: issue.number, state: 'closed', state_reason: 'completed' });
  await fail(octokit.rest.issues.create({ owner, repo, title: '' }));

  await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: 'dave' });
  await octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'team-leads', username: 'alice' });
  await fail(octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'team-leads', username: 'bob' }));
  await octokit.rest.teams.listMembersInOrg({ org: 'acme', team_slug: 'team-leads' });
  await octokit.rest.users.getByUsername({ username: 'alice' });

  // History beyond plain pushes: a rename, a commit paged past 300 files, a merged pull request, team edge cases.
  const { sha: renamed } = await gh.control.pushCommit(REPO, { branch: 'feature', renames: { 'infra/main.tf': 'infra/moved.tf' } });
  const { data: renameCommit } = await octokit.rest.repos.getCommit({ owner, repo, ref: renamed });
  expect(renameCommit.files?.[0]).toMatchObject({ status: 'renamed', previous_filename: 'infra/main.tf' });
  const many = Object.fromEntries(Array.from({ length: 301 }, (_, i) => [`bulk/${i}.txt`, `${i}\n`]));
  const { sha: bulk } = await gh.control.pushCommit(REPO, { branch: 'bulk', files: many });
  const { data: bulkPage } = await octokit.rest.repos.getCommit({ owner, repo, ref: bulk, per_page: 100, page: 4 });
  expect(bulkPage.files).toHaveLength(1);
  expect((await gh.control.forcePush(REPO, { branch: 'bulk', sha: main.sha })).activity_type).toBe('force_push');
  await gh.control.seed({ teams: [{ org: 'acme', slug: 'team-leads-db', parent: 'team-leads', members: ['bob'], pending: ['carol'] }] });
  const { data: pending } = await octokit.rest.teams.getMembershipForUserInOrg({ org: 'acme', team_slug: 'team-leads-db', username: 'carol' });
  expect(pending.state).toBe('pending');

  const gate = await gh.control.deploymentGate({ repository: REPO, actor: 'bob', environment: 'production', pull_request: 1 });
  await octokit.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', { owner, repo, run_id: gate.run_id, environment_name: 'production', comment: 'Waiting for 1 approval' });
  // What an App reads to find the runs waiting on it.
  const { data: waiting } = await octokit.rest.actions.listWorkflowRunsForRepo({ owner, repo, status: 'waiting' });
  expect(waiting.workflow_runs.map((r) => [r.id, r.pull_requests?.map((p) => p.number)])).toEqual([[gate.run_id, [1]]]);
  const { data: pendingDeployments } = await octokit.rest.actions.getPendingDeploymentsForRun({ owner, repo, run_id: gate.run_id });
  expect(pendingDeployments.map((p) => p.environment.name)).toEqual(['production']);
  const { data: rules } = await octokit.rest.repos.getAllDeploymentProtectionRules({ owner, repo, environment_name: 'production' });
  expect(rules.custom_deployment_protection_rules?.map((r) => r.app.id)).toEqual([APP_ID]);
  const { data: deployments } = await octokit.rest.repos.listDeployments({ owner, repo, sha: waiting.workflow_runs[0].head_sha, environment: 'production' });
  expect(deployments.map((d) => d.id)).toEqual([gate.deployment_id]);
  await octokit.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', { owner, repo, run_id: gate.run_id, environment_name: 'production', state: 'approved', comment: 'ok' });
  // Who started a re-run: known from the attempt a job's token was issued for.
  await gh.control.registerJob({ repository: REPO, actor: 'bob', triggering_actor: 'carol', run_id: 77, run_attempt: 2 });
  const { data: attempt } = await octokit.rest.actions.getWorkflowRunAttempt({ owner, repo, run_id: 77, attempt_number: 2 });
  expect([attempt.actor?.login, attempt.triggering_actor?.login, attempt.run_attempt, attempt.previous_attempt_url]).toEqual(['bob', 'carol', 2, `${gh.apiUrl}/repos/${REPO}/actions/runs/77/attempts/1`]);
  await expect(octokit.rest.actions.getWorkflowRunAttempt({ owner, repo, run_id: 77, attempt_number: 3 })).rejects.toMatchObject({ status: 404 });
  // The run as it is now: its latest attempt. A re-run of a job-level gate makes its deployment as whoever re-ran it.
  const rerunGate = await gh.control.deploymentGate({ repository: REPO, actor: 'bob', triggering_actor: 'carol', run_id: gate.run_id, run_attempt: 2, environment: 'production', pull_request: 1 });
  const { data: latest } = await octokit.rest.actions.getWorkflowRun({ owner, repo, run_id: gate.run_id });
  expect([latest.actor?.login, latest.triggering_actor?.login, latest.run_attempt]).toEqual(['bob', 'carol', 2]);
  const { data: rerunDeployments } = await octokit.rest.repos.listDeployments({ owner, repo, sha: latest.head_sha, environment: 'production' });
  expect(rerunDeployments.map((d) => [d.id, d.creator?.login])).toEqual([[rerunGate.deployment_id, 'carol'], [gate.deployment_id, 'bob']]);
  await expect(octokit.rest.actions.getWorkflowRun({ owner, repo, run_id: 999_999 })).rejects.toMatchObject({ status: 404 });

  // Webhooks of every kind the double sends.
  await gh.control.setWebhook(APP_ID, { url: `${gh.url}/_control/info`, secret: 's' }); // any endpoint: only payloads matter here
  const { comment: human } = await gh.control.comment({ repository: REPO, issue_number: 1, user: 'alice', body: '/approve' });
  await gh.control.editComment({ repository: REPO, comment_id: human.id, user: 'alice', body: '/approve now' });
  await gh.control.deleteComment({ repository: REPO, comment_id: human.id, user: 'alice' });
  await gh.control.clickCheckRunButton({ repository: REPO, check_run_id: run.id, user: 'alice', identifier: 'approve' });
  await gh.control.rerunCheckRun({ repository: REPO, check_run_id: run.id, user: 'alice' });
  const more = await gh.control.openPull({ repository: REPO, user: 'carol', title: 'More', head: 'more', files: { 'x.txt': 'x\n' }, labels: ['infra'] });
  await gh.control.deploymentGate({ repository: REPO, actor: 'carol', environment: 'staging', pull_request: more.number });
  await gh.control.pushCommit(REPO, { branch: 'more', files: { 'y.txt': 'y\n' }, author: 'carol' });
  await gh.control.mergePull({ repository: REPO, number: more.number, user: 'alice' });
  const { data: merged } = await octokit.rest.pulls.get({ owner, repo, pull_number: more.number });
  expect(merged).toMatchObject({ merged: true, labels: [{ name: 'infra' }] });
  await gh.control.deleteBranch(REPO, { branch: 'more', author: 'alice' });
  const { data: history } = await octokit.rest.repos.listActivities({ owner, repo, per_page: 3 });
  expect(history.map((a) => a.activity_type)).toEqual(['branch_deletion', 'pr_merge', 'push']);
  await gh.control.install({ account: 'acme', user: 'alice', repositories: ['secret'] });
  await gh.control.seed({ repos: [{ owner: 'acme', name: 'renamed-soon', branches: { main: { 'r.txt': 'r\n' } } }] });
  await gh.control.rename('acme/renamed-soon', 'renamed-now', 'alice');
  for (const action of ['requested', 'in_progress', 'completed'] as const) await gh.control.workflowRun({ repository: REPO, actor: 'bob', action, run_id: 5 });

  // An installation's life: suspended (its tokens refused, none issued), unsuspended, a repository taken out of it, uninstalled.
  await gh.control.seed({
    repos: [{ owner: 'initech', name: 'tps', branches: { main: { 't.txt': 't\n' } } }, { owner: 'initech', name: 'printer', branches: { main: { 'p.txt': 'p\n' } } }],
    installations: [{ id: 779, appId: OTHER_APP_ID, account: 'initech' }],
  });
  const other = new Probot({ appId: OTHER_APP_ID, privateKey: otherAppKeys.privateKey, baseUrl: gh.apiUrl, logLevel: 'fatal' });
  const asOther = await other.auth(779);
  await asOther.rest.repos.get({ owner: 'initech', repo: 'tps' });
  await gh.control.changeInstallation({ installation_id: 779, user: 'alice', action: 'suspend' });
  await expect(asOther.rest.repos.get({ owner: 'initech', repo: 'tps' })).rejects.toMatchObject({ status: 403, message: expect.stringContaining('This installation owned by initech suspended your access at ') });
  await expect((await other.auth()).rest.apps.createInstallationAccessToken({ installation_id: 779 })).rejects.toMatchObject({ status: 403, message: expect.stringContaining('This installation has been suspended') });
  expect((await (await other.auth()).rest.apps.getRepoInstallation({ owner: 'initech', repo: 'tps' })).data).toMatchObject({ id: 779, suspended_by: { login: 'alice' }, suspended_at: expect.any(String) });
  await gh.control.changeInstallation({ installation_id: 779, user: 'alice', action: 'unsuspend' });
  const { data: fresh } = await (await other.auth()).rest.apps.createInstallationAccessToken({ installation_id: 779 });
  const asFresh = new Octokit({ baseUrl: gh.apiUrl, auth: fresh.token, log: anonymous.log });
  await asFresh.rest.repos.get({ owner: 'initech', repo: 'tps' });
  await gh.control.changeInstallation({ installation_id: 779, user: 'alice', action: 'remove-repositories', repositories: ['tps'] });
  await expect(asFresh.rest.repos.get({ owner: 'initech', repo: 'tps' })).rejects.toMatchObject({ status: 404 });
  await asFresh.rest.repos.get({ owner: 'initech', repo: 'printer' });
  await gh.control.changeInstallation({ installation_id: 779, user: 'alice', action: 'delete' });
  await expect(asFresh.rest.repos.get({ owner: 'initech', repo: 'printer' })).rejects.toMatchObject({ status: 401 });
  await expect((await other.auth()).rest.apps.createInstallationAccessToken({ installation_id: 779 })).rejects.toMatchObject({ status: 404 });
}

describe('honesty against GitHub\'s published descriptions', () => {
  beforeAll(() => exercise(), 60_000);

  it('serves only routes that GitHub documents, and the exercise covers every one of them', () => {
    const served = gh.double.router.templates;
    const undocumented = served.filter((t) => {
      const [method, route] = t.split(' ');
      return !dig(rest, 'paths', route, method.toLowerCase());
    });
    expect(undocumented).toEqual([]);
    const succeeded = new Set(gh.double.exchanges.filter((e) => e.status < 300).map((e) => `${e.method} ${e.route}`));
    expect(served.filter((t) => !succeeded.has(t))).toEqual([]);
  });

  it('every response body matches the documented schema for its route and status', () => {
    const problems: string[] = [];
    let validated = 0;
    for (const exchange of gh.double.exchanges) {
      if (exchange.body === undefined || exchange.status === 304) continue;
      const schema = responseSchema(exchange);
      if (!schema) {
        problems.push(`${exchange.method} ${exchange.route} ${exchange.status}: status not documented`);
        continue;
      }
      const validate = restBook.validator(`${exchange.method} ${exchange.route} ${exchange.status}`, schema);
      validated += 1;
      if (!validate(exchange.body)) problems.push(`${exchange.method} ${exchange.route} ${exchange.status}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    }
    expect(problems).toEqual([]);
    expect(validated).toBeGreaterThanOrEqual(gh.double.router.templates.length);
  });

  it('every webhook payload matches GitHub\'s webhook schema for its event and action', async () => {
    await gh.double.dispatcher.idle();
    const problems: string[] = [];
    const kinds = new Set<string>();
    for (const delivery of gh.double.dispatcher.deliveries) {
      const key = `${delivery.event}-${delivery.action}`.replaceAll('_', '-');
      const schema = dig(webhooks, 'webhooks', key, 'post', 'requestBody', 'content', 'application/json', 'schema') as Json | undefined;
      if (!schema) {
        problems.push(`${key}: no such webhook in GitHub's description`);
        continue;
      }
      const validate = webhookBook.validator(key, schema);
      if (!validate(JSON.parse(delivery.body))) problems.push(`${key}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
      kinds.add(`${delivery.event}.${delivery.action}`);
    }
    expect(problems).toEqual([]);
    expect([...kinds].sort()).toEqual([
      'check_run.requested_action', 'check_run.rerequested', 'deployment_protection_rule.requested', 'installation.created', 'installation.deleted',
      'installation.suspend', 'installation.unsuspend', 'installation_repositories.removed', 'issue_comment.created', 'issue_comment.deleted', 'issue_comment.edited', 'pull_request.closed', 'pull_request.edited', 'pull_request.opened', 'pull_request.synchronize',
      'repository.renamed', 'workflow_run.completed', 'workflow_run.in_progress', 'workflow_run.requested',
    ]);
  });
});

/** Why each limit is believed: GitHub's descriptions and docs, or GitHub's own answers quoted in public issues. */
interface KnownLimit {
  limit: string;
  source: string;
  /** Must be refused with `answer`. */
  refused: (octokit: Octokit) => Promise<unknown>;
  /** The same request at the limit, which must pass. */
  accepted: (octokit: Octokit) => Promise<unknown>;
  answer: { status: number; message?: string; errors?: Json[] };
}

const overBy = (n: number, unit = 'x') => unit.repeat(n + 1);

function knownLimits(mainSha: string): KnownLimit[] {
  const [owner, repo] = REPO.split('/');
  const issue = (octokit: Octokit, fields: { title?: string; body?: string }) => octokit.rest.issues.create({ owner, repo, title: 't', ...fields });
  const comment = (octokit: Octokit, body: string) => octokit.rest.issues.createComment({ owner, repo, issue_number: 2, body });
  const editComment = async (octokit: Octokit, body: string) => {
    const { data } = await comment(octokit, 'draft');
    return octokit.rest.issues.updateComment({ owner, repo, comment_id: data.id, body });
  };
  const checkRun = (octokit: Octokit, fields: Json) => octokit.request('POST /repos/{owner}/{repo}/check-runs', { owner, repo, name: 'gate', head_sha: mainSha, ...fields });
  const action = { label: 'Approve', description: 'Approve it', identifier: 'approve' };
  const annotation = { path: 'a.txt', start_line: 1, end_line: 1, annotation_level: 'notice', message: 'm' };
  const output = (fields: Json) => ({ output: { title: 't', summary: 's', ...fields } });
  const tooLong = (resource: string, code: string, field: string, message: string) => ({ status: 422, message: 'Validation Failed', errors: [{ resource, code, field, message }] });
  // GitHub names no annotation nor field within one: the whole list is invalid.
  const invalidAnnotations = { status: 422, message: 'Validation Failed', errors: [{ resource: 'CheckRun', code: 'invalid', field: 'annotations' }] };
  return [
    {
      limit: 'issue body: 65,536 characters', source: 'GitHub\'s answer quoted in trstringer/manual-approval#89 and JasonEtco/create-an-issue#123',
      refused: (o) => issue(o, { body: overBy(65_536) }), accepted: (o) => issue(o, { body: 'x'.repeat(65_536) }),
      answer: tooLong('Issue', 'custom', 'body', 'body is too long (maximum is 65536 characters)'),
    },
    {
      limit: 'issue title: 256 characters', source: 'GitHub\'s answer quoted in googleapis/repo-automation-bots#1895 and anomalyco/opencode#3723',
      refused: (o) => issue(o, { title: overBy(256) }), accepted: (o) => issue(o, { title: 't'.repeat(256) }),
      answer: tooLong('Issue', 'custom', 'title', 'title is too long (maximum is 256 characters)'),
    },
    {
      limit: 'issue body on edit: 65,536 characters', source: 'as on creation (the same Issue validation)',
      refused: (o) => o.rest.issues.update({ owner, repo, issue_number: 2, body: overBy(65_536) }),
      accepted: (o) => o.rest.issues.update({ owner, repo, issue_number: 2, body: 'x'.repeat(65_536) }),
      answer: tooLong('Issue', 'custom', 'body', 'body is too long (maximum is 65536 characters)'),
    },
    {
      limit: 'comment body: 65,536 characters', source: 'GitHub\'s answer quoted in elastic/kibana#71307 and easybuilders/easybuild-easyconfigs#24647',
      refused: (o) => comment(o, overBy(65_536)), accepted: (o) => comment(o, 'x'.repeat(65_536)),
      answer: tooLong('IssueComment', 'unprocessable', 'data', 'Body is too long (maximum is 65536 characters)'),
    },
    {
      limit: 'comment body on edit: 65,536 characters', source: 'GitHub\'s answer quoted in suzuki-shunsuke/github-comment#124',
      refused: (o) => editComment(o, overBy(65_536)), accepted: (o) => editComment(o, 'x'.repeat(65_536)),
      answer: tooLong('IssueComment', 'custom', 'body', 'body is too long (maximum is 65536 characters)'),
    },
    {
      // 32,768 two-byte characters: well under 65,535 characters, one byte over the limit.
      limit: 'check-run output.summary: 65,535 bytes', source: 'GitHub\'s answer quoted in github/docs#35252 (the docs say characters)',
      refused: (o) => checkRun(o, output({ summary: 'é'.repeat(32_768) })), accepted: (o) => checkRun(o, output({ summary: `${'é'.repeat(32_767)}x` })),
      answer: tooLong('CheckRun', 'custom', 'summary', 'summary exceeds a maximum bytesize of 65535'),
    },
    {
      limit: 'check-run output.text: 65,535 bytes', source: 'as output.summary (github/docs#35252); maxLength 65535 in the OpenAPI description',
      refused: (o) => checkRun(o, output({ text: 'é'.repeat(32_768) })), accepted: (o) => checkRun(o, output({ text: `${'é'.repeat(32_767)}x` })),
      answer: tooLong('CheckRun', 'custom', 'text', 'text exceeds a maximum bytesize of 65535'),
    },
    {
      limit: 'check-run annotations: 50 per request', source: 'OpenAPI description of POST /repos/{owner}/{repo}/check-runs (maxItems 50)',
      refused: (o) => checkRun(o, output({ annotations: Array(51).fill(annotation) })), accepted: (o) => checkRun(o, output({ annotations: Array(50).fill(annotation) })),
      answer: { status: 422, errors: [expect.objectContaining({ field: 'output.annotations' }) as Json] },
    },
    {
      limit: 'check-run annotation columns: on one line only', source: 'OpenAPI description ("Omit this parameter if start_line and end_line have different values"); GitHub\'s answer quoted in jenkinsci/github-checks-plugin#20',
      refused: (o) => checkRun(o, output({ annotations: [{ ...annotation, end_line: 2, start_column: 1, end_column: 2 }] })),
      accepted: (o) => checkRun(o, output({ annotations: [{ ...annotation, start_column: 1, end_column: 2 }] })),
      answer: invalidAnnotations,
    },
    {
      limit: 'check-run annotation columns: from 1', source: 'OpenAPI description ("Column numbers start at 1"); jenkinsci/warnings-ng-plugin#3424',
      refused: (o) => checkRun(o, output({ annotations: [{ ...annotation, start_column: 0, end_column: 0 }] })),
      accepted: (o) => checkRun(o, output({ annotations: [{ ...annotation, start_column: 1, end_column: 1 }] })),
      answer: invalidAnnotations,
    },
    {
      limit: 'check-run annotation start_line: from 1', source: 'OpenAPI description ("Line numbers start at 1")',
      refused: (o) => checkRun(o, output({ annotations: [{ ...annotation, start_line: 0 }] })), accepted: (o) => checkRun(o, output({ annotations: [annotation] })),
      answer: invalidAnnotations,
    },
    {
      limit: 'check-run annotation title: 255 characters', source: 'OpenAPI description ("The maximum size is 255 characters")',
      refused: (o) => checkRun(o, output({ annotations: [{ ...annotation, title: overBy(255) }] })),
      accepted: (o) => checkRun(o, output({ annotations: [{ ...annotation, title: 't'.repeat(255) }] })),
      answer: invalidAnnotations,
    },
    {
      // 32,768 two-byte characters are 64 KB: one more byte is over.
      limit: 'check-run annotation message: 64 KB', source: 'OpenAPI description ("The maximum size is 64 KB")',
      refused: (o) => checkRun(o, output({ annotations: [{ ...annotation, message: `${'é'.repeat(32_768)}x` }] })),
      accepted: (o) => checkRun(o, output({ annotations: [{ ...annotation, message: 'é'.repeat(32_768) }] })),
      answer: invalidAnnotations,
    },
    {
      limit: 'check-run annotation raw_details: 64 KB', source: 'OpenAPI description ("The maximum size is 64 KB")',
      refused: (o) => checkRun(o, output({ annotations: [{ ...annotation, raw_details: `${'é'.repeat(32_768)}x` }] })),
      accepted: (o) => checkRun(o, output({ annotations: [{ ...annotation, raw_details: 'é'.repeat(32_768) }] })),
      answer: invalidAnnotations,
    },
    {
      limit: 'check-run actions: 3', source: 'OpenAPI description of POST /repos/{owner}/{repo}/check-runs (maxItems 3)',
      refused: (o) => checkRun(o, { actions: Array(4).fill(action) }), accepted: (o) => checkRun(o, { actions: Array(3).fill(action) }),
      answer: { status: 422, errors: [expect.objectContaining({ field: 'actions' }) as Json] },
    },
    {
      limit: 'check-run action label: 20 characters', source: 'OpenAPI description (maxLength 20)',
      refused: (o) => checkRun(o, { actions: [{ ...action, label: overBy(20) }] }), accepted: (o) => checkRun(o, { actions: [{ ...action, label: 'l'.repeat(20) }] }),
      answer: { status: 422, errors: [expect.objectContaining({ field: 'actions[0].label' }) as Json] },
    },
    {
      limit: 'check-run action identifier: 20 characters', source: 'OpenAPI description (maxLength 20)',
      refused: (o) => checkRun(o, { actions: [{ ...action, identifier: overBy(20) }] }), accepted: (o) => checkRun(o, { actions: [{ ...action, identifier: 'i'.repeat(20) }] }),
      answer: { status: 422, errors: [expect.objectContaining({ field: 'actions[0].identifier' }) as Json] },
    },
    {
      limit: 'check-run action description: 40 characters', source: 'OpenAPI description (maxLength 40)',
      refused: (o) => checkRun(o, { actions: [{ ...action, description: overBy(40) }] }), accepted: (o) => checkRun(o, { actions: [{ ...action, description: 'd'.repeat(40) }] }),
      answer: { status: 422, errors: [expect.objectContaining({ field: 'actions[0].description' }) as Json] },
    },
  ];
}

describe('limits GitHub is known to enforce', () => {
  let octokit: Octokit;
  let mainSha: string;
  beforeAll(async () => {
    await gh.control.reset();
    const { token } = await gh.control.installationToken(INSTALLATION_ID);
    octokit = new Octokit({ auth: token, baseUrl: gh.apiUrl, log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    mainSha = (await octokit.rest.repos.getCommit({ owner: 'acme', repo: 'widgets', ref: 'main' })).data.sha;
  });

  it.each(knownLimits('0'.repeat(40)).map((l) => [l.limit, l.source]))('refuses past the limit, accepts at it: %s (%s)', async (limit) => {
    const known = knownLimits(mainSha).find((l) => l.limit === limit) as KnownLimit;
    const refusal = await known.refused(octokit).then(() => undefined, (error: { status: number; response: { data: Json } }) => error);
    expect(refusal).toMatchObject({ status: known.answer.status, response: { data: { ...(known.answer.message ? { message: known.answer.message } : {}), errors: known.answer.errors } } });
    await expect(known.accepted(octokit)).resolves.toMatchObject({ status: expect.any(Number) });
  });

  it('refuses issue reads and writes in a repository whose issues are off, 410 (GitHub docs: "Create an issue", "Get an issue", "List issue comments"), and still takes pull request comments', async () => {
    await gh.control.seed({ repos: [{ owner: 'acme', name: 'issueless', hasIssues: false, branches: { main: { 'x.txt': 'x\n' } } }] });
    const pull = await gh.control.openPull({ repository: 'acme/issueless', user: 'alice', title: 'A change', head: 'change', files: { 'y.txt': 'y\n' } });
    // The other App's installation covers all of acme's repositories, new ones too.
    const { token } = await gh.control.installationToken(778);
    const other = new Octokit({ auth: token, baseUrl: gh.apiUrl, log: octokit.log });
    const where = { owner: 'acme', repo: 'issueless' };
    expect((await other.rest.repos.get(where)).data.has_issues).toBe(false);
    await expect(other.rest.issues.create({ ...where, title: 't' })).rejects.toMatchObject({ status: 410, response: { data: { message: 'Issues are disabled for this repo' } } });
    await expect(other.rest.issues.createComment({ ...where, issue_number: pull.number, body: 'on the pull request' })).resolves.toMatchObject({ status: 201 });
    await expect(other.rest.issues.listComments({ ...where, issue_number: pull.number })).resolves.toMatchObject({ status: 200 });
    // An issue opened before its repository turned issues off.
    const { state } = gh.double;
    const repo = state.repoByFullName('acme/issueless');
    const issue = state.createIssue(repo, state.ensureUser('alice'), { title: 'from before', body: null, labels: [] });
    for (const read of [() => other.rest.issues.get({ ...where, issue_number: issue.number }), () => other.rest.issues.listComments({ ...where, issue_number: issue.number })]) {
      await expect(read()).rejects.toMatchObject({ status: 410, response: { data: { message: 'Issues are disabled for this repo' } } });
    }
  });

  it('refuses App JWTs that live longer than 10 minutes (GitHub docs: "Generating a JSON Web Token")', async () => {
    const now = Math.floor(Date.now() / 1000);
    const key = await importPKCS8(createPrivateKey(appKeys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
    const jwt = (exp: number) => new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(String(APP_ID)).setIssuedAt(now - 30).setExpirationTime(exp).sign(key);
    const call = async (exp: number) => (await fetch(`${gh.apiUrl}/app`, { headers: { authorization: `Bearer ${await jwt(exp)}` } })).status;
    expect([await call(now + 660), await call(now + 590)]).toEqual([401, 200]);
  });
});

describe('the OAuth web flow refuses what GitHub refuses (GitHub docs: "Troubleshooting OAuth app access token request errors", "Generating a user access token for a GitHub App")', () => {
  const { clientId, clientSecret } = oauthCredentials(APP_ID, appKeys.publicKey);
  const exchange = (fields: Record<string, string>) => fetch(`${gh.url}/login/oauth/access_token`, {
    method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ client_id: clientId, client_secret: clientSecret, ...fields }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));

  it('answers a wrong secret, a reused code and another redirect_uri with 200 and the error GitHub names', async () => {
    const code = await authorizationCode('bob');
    expect(await exchange({ code, client_secret: 'wrong' })).toMatchObject({ status: 200, body: { error: 'incorrect_client_credentials' } });
    expect(await exchange({ code, redirect_uri: `${OAUTH_CALLBACK}/elsewhere` })).toMatchObject({ status: 200, body: { error: 'redirect_uri_mismatch' } });
    expect(await exchange({ code })).toMatchObject({ status: 200, body: { token_type: 'bearer', access_token: expect.stringMatching(/^ghu_/) } });
    expect(await exchange({ code })).toMatchObject({ status: 200, body: { error: 'bad_verification_code' } });
  });

  it('sends a redirect_uri outside the App\'s callback URLs back to the callback with redirect_uri_mismatch', async () => {
    const consent = await fetch(`${gh.url}/login/oauth/authorize?client_id=${clientId}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&state=st`, { redirect: 'manual' });
    const location = new URL(consent.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(OAUTH_CALLBACK);
    expect(location.searchParams.get('error')).toBe('redirect_uri_mismatch');
  });

  it('gives a user token only what both the user and the App can reach', async () => {
    const asErin = new Octokit({ baseUrl: gh.apiUrl, auth: await userToken('erin'), log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    const [owner, repo] = REPO.split('/');
    await expect(asErin.rest.repos.get({ owner, repo })).rejects.toMatchObject({ status: 404 });
    await expect(asErin.rest.users.getAuthenticated()).resolves.toMatchObject({ data: { login: 'erin' } });
  });
});

/** The request side of one exchange against one description: route, path and query parameters, JSON body. */
function requestProblems(description: Description, exchange: Exchange): string[] {
  const method = exchange.method.toLowerCase();
  const where = `${description.name}: ${exchange.method} ${exchange.route}`;
  const operation = dig(description.json, 'paths', exchange.route, method) as Json | undefined;
  if (!operation) return [`${where}: not described`];
  const problems: string[] = [];
  const parameters = ((operation.parameters ?? []) as Json[]).map((p) =>
    (typeof p.$ref === 'string' ? dig(description.json, 'components', 'parameters', p.$ref.split('/').pop() as string) : p) as Json);
  for (const [location, given] of [['path', exchange.request.params], ['query', exchange.request.query]] as const) {
    const declared = parameters.filter((p) => p.in === location);
    for (const [name, value] of Object.entries(given)) {
      const parameter = declared.find((p) => p.name === name);
      if (!parameter) {
        problems.push(`${where}: undocumented ${location} parameter ${name}`);
        continue;
      }
      const validate = description.parameters.validator(`${where} ${location} ${name}`, { type: 'object', properties: { value: parameter.schema as Json } });
      if (!validate({ value })) problems.push(`${where}: ${location} parameter ${name}=${JSON.stringify(value)}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
    }
    for (const parameter of declared) {
      if (parameter.required && !(String(parameter.name) in given)) problems.push(`${where}: missing ${location} parameter ${String(parameter.name)}`);
    }
  }
  const schema = dig(operation, 'requestBody', 'content', 'application/json', 'schema') as Json | undefined;
  const body = exchange.request.body;
  if (body === undefined) {
    if (dig(operation, 'requestBody', 'required') === true) problems.push(`${where}: the body is required`);
  } else if (!schema) {
    problems.push(`${where}: sends a body the route does not take`);
  } else {
    const validate = description.bodies.validator(`${where} body`, schema);
    if (!validate(body)) problems.push(`${where}: body ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    // GitHub ignores fields it does not know, which hides typos; the App should send none.
    const known = schema.properties as Json | undefined;
    if (known && body && typeof body === 'object') {
      for (const field of Object.keys(body)) if (!(field in known)) problems.push(`${where}: undocumented body field ${field}`);
    }
  }
  return problems;
}

const TEAM_POLICY = `version: 1
rules:
  - name: all
    if: {}
    require: { approvals: 2, approvers: ["@acme/leads"] }
`;

/** A representative flow of the real App: pull request and push runs, comment and button votes, a refusal, teams. */
async function driveTheApp(world: World): Promise<void> {
  const prRun = job({ ref: 'refs/pull/7/merge', event_name: 'pull_request', head_ref: 'feature', base_ref: 'main' });
  const onPull = await world.open(prRun, { action: 'deploy', environment: 'production' });
  expect(onPull.body.status).toBe('pending');
  await world.comment(7, 'mallory', '/approve'); // the requester: refused, with a reply
  await world.comment(7, 'bob', '/approve ship it');
  expect((await world.poll(prRun, onPull.body.id as string)).body.status).toBe('approved');

  // A push run approved on main: the base the next one's changes are measured from (a comparison).
  const first = await world.control.push(APP_REPO, { branch: 'main', commits: [{ files: { 'src/first.ts': 'export {};\n' } }] });
  const firstRun = job({ ref: 'refs/heads/main', sha: first.sha, event_name: 'push' });
  const onFirst = await world.open(firstRun, { action: 'deploy', environment: 'production' });
  await world.control.clickCheckRunButton({ repository: APP_REPO, check_run_id: onFirst.body.check_run_id as number, user: 'bob', identifier: 'jit-approve' });
  await world.settle();
  expect((await world.poll(firstRun, onFirst.body.id as string)).body.status).toBe('approved');

  const pushed = await world.control.push(APP_REPO, { branch: 'main', commits: [{ renames: { 'src/app.ts': 'src/main.ts' } }] });
  const pushRun = job({ ref: 'refs/heads/main', sha: pushed.sha, event_name: 'push' });
  const onPush = await world.open(pushRun, { action: 'deploy', environment: 'production' });
  const issue = await world.issueOf(onPush.body.id as string);
  await world.comment(issue!.number, 'alice', '/reject not today');
  expect((await world.poll(pushRun, onPush.body.id as string)).body.status).toBe('rejected');

  // A re-run someone else started: the App asks GitHub who.
  const rerun = job({ run_attempt: 2, triggering_actor: 'carol' });
  expect((await world.open(rerun, { action: 'deploy', environment: 'staging' })).body).toMatchObject({ status: 'pending' });

  const stagingRun = job();
  const staging = await world.open(stagingRun, { action: 'deploy', environment: 'staging' });
  await world.control.clickCheckRunButton({ repository: APP_REPO, check_run_id: staging.body.check_run_id as number, user: 'bob', identifier: 'jit-approve' });
  await world.settle();
  expect((await world.poll(stagingRun, staging.body.id as string)).body.status).toBe('approved');
  expect((await world.open(job(), { action: 'publish-docs' })).body.status).toBe('approved');

  // Team approvers: a child team's member counts, a pending member does not.
  await world.control.seed({
    users: [{ login: 'dave' }],
    // carol may write, so only her pending membership keeps her vote from counting.
    repos: [{ owner: 'acme', name: 'teamed', branches: { main: { '.github/jit-approval.yml': TEAM_POLICY } }, collaborators: { carol: 'write' } }],
    teams: [
      { org: 'acme', slug: 'leads', members: ['bob'], pending: ['carol'], repos: { teamed: 'write' } },
      { org: 'acme', slug: 'leads-db', parent: 'leads', members: ['dave'] },
    ],
  });
  const teamRun = job({ repository: 'acme/teamed' });
  const teamed = await world.open(teamRun, { action: 'deploy' });
  const teamIssue = await world.issueOf(teamed.body.id as string, 'acme/teamed');
  for (const user of ['carol', 'dave', 'bob']) await world.control.comment({ repository: 'acme/teamed', issue_number: teamIssue!.number, user, body: '/approve' });
  await world.settle();
  expect((await world.poll(teamRun, teamed.body.id as string)).body).toMatchObject({ status: 'approved', approved_by: ['dave', 'bob'] });

  // A job gated by the deployment protection rule: a status report while it waits, then the answer.
  const gate = await world.control.deploymentGate({ repository: APP_REPO, actor: 'mallory', environment: 'production' });
  await world.settle();
  const gated = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
  const gateIssue = await world.issueOf(gated.id);
  await world.comment(gateIssue!.number, 'bob', '/approve');
  const reviews = await eventually(() => world.control.deploymentReviews(), (list) => list.some((r) => r.runId === gate.run_id && r.state === 'approved'));
  expect(reviews.filter((r) => r.runId === gate.run_id).map((r) => r.state)).toEqual([null, 'approved']);
}

describe('requests the App sends', () => {
  let world: World;
  let exchanges: Exchange[];
  beforeAll(async () => {
    world = await World.start();
    await driveTheApp(world);
    exchanges = world.github.double.exchanges;
  }, 120_000);
  afterAll(async () => world?.stop());

  it('covers the App\'s reads and writes', () => {
    const used = new Set(exchanges.map((e) => `${e.method} ${e.route}`));
    expect([...used].sort()).toEqual(expect.arrayContaining([
      'GET /repos/{owner}/{repo}/commits', 'GET /repos/{owner}/{repo}/commits/{ref}', 'GET /repos/{owner}/{repo}/compare/{basehead}',
      'GET /orgs/{org}/teams/{team_slug}/memberships/{username}', 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}',
      'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', 'PATCH /repos/{owner}/{repo}/issues/{issue_number}',
      'POST /repos/{owner}/{repo}/check-runs', 'POST /repos/{owner}/{repo}/issues', 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
      'POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/attempts/{attempt_number}',
      'GET /repos/{owner}/{repo}/actions/runs/{run_id}', 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls',
    ]));
  });

  it('sends only what GitHub\'s description of each route accepts', () => {
    expect(exchanges.flatMap((e) => requestProblems(dotcom, e))).toEqual([]);
  });

  it('uses only routes and requests every GitHub Enterprise Server release described accepts', () => {
    expect(GHES_REST.length).toBeGreaterThan(0);
    const problems = GHES_REST.flatMap((name) => {
      const description = loadDescription(name);
      return exchanges.flatMap((e) => requestProblems(description, e));
    });
    expect(problems).toEqual([]);
  });

  it('relies beyond this flow only on webhooks and routes every GitHub Enterprise Server release described has', () => {
    // Every webhook the App subscribes to (app/index.ts), and the routes the Action's fallback uses.
    const events = [
      'issue-comment-created', 'issue-comment-deleted', 'check-run-requested-action', 'check-run-rerequested',
      'pull-request-opened', 'pull-request-synchronize', 'pull-request-reopened', 'deployment-protection-rule-requested',
      'installation-created', 'installation-deleted', 'installation-repositories-added', 'installation-repositories-removed',
      'repository-renamed',
    ];
    // Also what the reconciler reads to find runs waiting on the App whose webhook was lost, and what the
    // dashboard asks with a signed-in user's token.
    const routes = [
      'GET /user', 'GET /repos/{owner}/{repo}',
      'GET /repos/{owner}/{repo}/check-runs/{check_run_id}', 'GET /repos/{owner}/{repo}/commits/{ref}/check-runs',
      'GET /installation/repositories', 'GET /repos/{owner}/{repo}/actions/runs', 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments',
      'GET /repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules', 'GET /repos/{owner}/{repo}/deployments',
    ];
    const missing = [
      ...GHES_WEBHOOKS.flatMap((name) => {
        const described = loadJson(`@octokit/openapi-webhooks/generated/${name}.json`);
        return events.filter((event) => !dig(described, 'webhooks', event)).map((event) => `${name}: ${event}`);
      }),
      ...GHES_REST.flatMap((name) => {
        const described = loadJson(`@octokit/openapi/generated/${name}.json`);
        return routes.filter((r) => !dig(described, 'paths', r.split(' ')[1], r.split(' ')[0].toLowerCase())).map((r) => `${name}: ${r}`);
      }),
    ];
    expect([GHES_WEBHOOKS.length > 0, GHES_REST.length > 0, missing]).toEqual([true, true, []]);
  });
});
