/**
 * Keeps the double honest: every response body it served during a broad exercise, and every webhook payload it
 * sent, must validate against GitHub's own descriptions (@octokit/openapi, @octokit/openapi-webhooks).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Probot } from 'probot';
import { APP_ID, appKeys, INSTALLATION_ID, REPO, standardSeed } from './fixtures.js';
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
  private readonly ajv = addFormats(new Ajv({ strict: false, allErrors: false, validateSchema: false }));
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly id: string, components: Json) {
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

const rest = loadJson('@octokit/openapi/generated/api.github.com.json');
nullableToJsonSchema(rest.components);
const restBook = new SchemaBook('rest', { schemas: dig(rest, 'components', 'schemas') });
const webhooks = loadJson('@octokit/openapi-webhooks/generated/api.github.com.json');
const webhookBook = new SchemaBook('webhooks', { schemas: dig(webhooks, 'components', 'schemas') });

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

  await octokit.rest.apps.listReposAccessibleToInstallation();
  await octokit.rest.repos.get({ owner, repo });
  await octokit.rest.repos.getContent({ owner, repo, path: 'CODEOWNERS' });
  await octokit.rest.repos.getContent({ owner, repo, path: 'src', ref: 'feature' });
  await fail(octokit.rest.repos.getContent({ owner, repo, path: 'missing.txt' }));
  const { data: main } = await octokit.rest.repos.getCommit({ owner, repo, ref: 'main' });
  await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: 'main...feature' });
  const pushed = await gh.control.push(REPO, { branch: 'feature', commits: [{ files: { 'a.txt': 'a\n' } }, { files: { 'b.txt': 'b\n' } }] });
  const { data: pagedCompare } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${pushed.before}...${pushed.sha}`, per_page: 1, page: 2 });
  expect(pagedCompare.files).toEqual([]);
  const activities = await octokit.paginate(octokit.rest.repos.listActivities, { owner, repo, ref: 'refs/heads/feature', per_page: 1 });
  expect(activities[0]).toMatchObject({ activity_type: 'push', before: pushed.before, after: pushed.sha, ref: 'refs/heads/feature' });
  expect(activities[activities.length - 1]).toMatchObject({ activity_type: 'branch_creation', before: '0'.repeat(40) });
  await octokit.rest.repos.listActivities({ owner, repo, activity_type: 'push', direction: 'asc', time_period: 'day' });
  const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: 1 });
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

  const gate = await gh.control.deploymentGate({ repository: REPO, actor: 'bob', environment: 'production' });
  await octokit.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule', { owner, repo, run_id: gate.run_id, environment_name: 'production', state: 'approved', comment: 'ok' });

  // Webhooks of every kind the double sends.
  await gh.control.setWebhook(APP_ID, { url: `${gh.url}/_control/info`, secret: 's' }); // any endpoint: only payloads matter here
  const { comment: human } = await gh.control.comment({ repository: REPO, issue_number: 1, user: 'alice', body: '/approve' });
  await gh.control.editComment({ repository: REPO, comment_id: human.id, user: 'alice', body: '/approve now' });
  await gh.control.clickCheckRunButton({ repository: REPO, check_run_id: run.id, user: 'alice', identifier: 'approve' });
  await gh.control.openPull({ repository: REPO, user: 'carol', title: 'More', head: 'more', files: { 'x.txt': 'x\n' } });
  await gh.control.install({ account: 'acme', user: 'alice', repositories: ['secret'] });
  for (const action of ['requested', 'in_progress', 'completed'] as const) await gh.control.workflowRun({ repository: REPO, actor: 'bob', action, run_id: 5 });
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
      'check_run.requested_action', 'deployment_protection_rule.requested', 'installation.created', 'issue_comment.created',
      'issue_comment.edited', 'pull_request.opened', 'workflow_run.completed', 'workflow_run.in_progress', 'workflow_run.requested',
    ]);
  });
});
