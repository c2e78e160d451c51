/**
 * Lists GitHub answers a page at a time are read to their end: the App's check run among more than
 * a page of check runs of the same name on one commit (a matrix of jobs gated on one action) is found
 * on a retry, so none is made twice; and every run waiting on an environment is seen by the round
 * that looks for lost protection-rule webhooks, however many wait.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { ProbotOctokit } from 'probot';
import { OctokitGitHubClient } from '../../app/github/octokit-client.js';
import { replyMarker } from '../../app/outbox/replies.js';
import { requestMarker } from '../../app/render/thread.js';
import { startGitHubDouble, type RunningGitHubDouble } from '../github-double/index.js';
import { APP_ID, INSTALLATION_ID, seed } from './harness.js';

let github: RunningGitHubDouble;
let octokit: InstanceType<typeof ProbotOctokit>;
let client: OctokitGitHubClient;
const repo = { owner: 'acme', repo: 'web' };

beforeAll(async () => {
  github = await startGitHubDouble({ seed: seed() });
  const { token } = await github.control.installationToken(INSTALLATION_ID);
  octokit = new ProbotOctokit({ auth: { token }, baseUrl: github.apiUrl, throttle: { enabled: false }, retry: { enabled: false } });
  client = new OctokitGitHubClient(octokit, { appId: APP_ID, botLogin: async () => 'mercurial-jit[bot]' });
}, 60_000);
afterAll(async () => github?.close());

it("finds the App's check run past the first page of check runs of that name on the commit", async () => {
  const sha = await client.defaultBranchHead(repo);
  const made: number[] = [];
  for (let i = 0; i < 130; i++) {
    const { data } = await octokit.rest.checks.create({ ...repo, name: 'jit: deploy', head_sha: sha, external_id: `request-${i}`, status: 'in_progress' });
    made.push(data.id);
  }
  expect(await client.findCheckRun(repo, sha, 'jit: deploy', 'request-3')).toMatchObject({ id: made[3] });
  expect(await client.findCheckRun(repo, sha, 'jit: deploy', 'request-125')).toMatchObject({ id: made[125] });
  expect(await client.findCheckRun(repo, sha, 'jit: deploy', 'request-130')).toBeUndefined();
}, 60_000);

it('lists every run waiting on an environment, past the first page', async () => {
  const gated: number[] = [];
  for (let i = 0; i < 105; i++) gated.push((await github.control.deploymentGate({ repository: 'acme/web', actor: 'mallory', environment: 'production' })).run_id);
  const waiting = await client.waitingRuns(repo);
  expect(waiting.map((run) => run.id).sort((a, b) => a - b)).toEqual(gated.sort((a, b) => a - b));
}, 60_000);

it("finds the App's thread and reply by the marker it writes first or last, not by one quoted inside another of the App's comments or issues", async () => {
  const since = new Date(Date.now() - 60_000);
  const marker = requestMarker('0b1c2d3e-0000-4000-8000-000000000001');
  const { data: thread } = await octokit.rest.issues.create({ ...repo, title: 'Approval needed: deploy', body: 'opened by the App' });
  // The App's reply to a commenter quotes their text, which holds the marker of a request whose thread comment a retry looks for.
  await octokit.rest.issues.createComment({ ...repo, issue_number: thread.number, body: `@mallory \`[x ${marker} ${replyMarker('comment 9')}]\` names none of the requests waiting\n\n${replyMarker('comment 8')}` });
  expect(await client.findComment(repo, thread.number, marker, since)).toBeUndefined();
  expect(await client.findComment(repo, thread.number, replyMarker('comment 9'), since)).toBeUndefined();
  const { data: real } = await octokit.rest.issues.createComment({ ...repo, issue_number: thread.number, body: `${marker}\n### Approval needed: deploy` });
  expect(await client.findComment(repo, thread.number, marker, since)).toMatchObject({ id: real.id });
  expect(await client.findComment(repo, thread.number, replyMarker('comment 8'), since)).toBeDefined();
  // An approval issue whose workflow summary quotes another request's marker is not that request's issue.
  const other = requestMarker('0b1c2d3e-0000-4000-8000-000000000002');
  await octokit.rest.issues.create({ ...repo, title: 'Approval needed: migrate', body: `${marker}\n> \`\`\`\n> ${other}\n> \`\`\`\nReply /approve` });
  expect(await client.findIssue(repo, other, since)).toBeUndefined();
});
