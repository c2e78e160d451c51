/**
 * The job-level gate: the App as a custom deployment protection rule. A job that targets an
 * environment waits on the same policy, approvers and votes as a gated step, and the App answers
 * GitHub through the run's callback (the double records every answer and status report).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readRuleRequest } from '../../app/deployments/index.js';
import { eventually, INSTALLATION_ID, World } from './harness.js';
import { untilTheSecondAfter } from '../whole-seconds.js';

const GATED = 'acme/gated';
const RELAXED = 'acme/relaxed';
const POLICY = `version: 1
severities: [low, high]
rules:
  - name: production
    if: { environment: [production], severity: { at_least: high } }
    require: { approvals: 1, approvers: [alice] }
  - name: staging
    if: { environment: [staging] }
    unless: { only_paths: ["docs/**"] }
    require: { approvals: 1, approvers: [alice] }
  - name: quick
    if: { environment: [quick] }
    require: { approvals: 1, approvers: [alice] }
    timeout: 4s
`;
/** Production deploys from main need alice; anything else needs nobody. */
const MAIN_ONLY = 'acme/main-only';
const MAIN_ONLY_POLICY = `version: 1
unmatched: approve
rules:
  - name: production
    if: { environment: [production], branch: [main] }
    require: { approvals: 1, approvers: [alice] }
`;
/** Any of three people may approve production: so whoever started or re-ran a run must be kept from it by being its requester. */
const RERUN = 'acme/rerun';
const RERUN_POLICY = `version: 1
rules:
  - name: production
    if: { environment: [production] }
    require: { approvals: 1, approvers: [alice, carol, mallory] }
`;
/** The same production rule, but requests without a severity are \`low\`. */
const RELAXED_POLICY = POLICY.replace('severities: [low, high]', 'severities: [low, high]\ndefaults: { severity: low }');

let world: World;
beforeAll(async () => {
  // Reconciler rounds every 2 s, so a lost webhook is recovered within the test.
  world = await World.start({ reconcileIntervalMs: 2000 });
  const files = { 'src/app.ts': 'export {};\n', 'docs/index.md': '# Docs\n' };
  await world.control.seed({
    repos: [
      {
        owner: 'acme', name: 'gated', defaultBranch: 'main',
        branches: { main: { '.github/jit-approval.yml': POLICY, ...files }, feature: { 'src/app.ts': 'export const feature = 1;\n' } },
        collaborators: { alice: 'admin', carol: 'write', mallory: 'write' },
        pulls: [{ number: 3, title: 'Feature', head: 'feature', user: 'alice' }],
      },
      { owner: 'acme', name: 'relaxed', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': RELAXED_POLICY, ...files } }, collaborators: { alice: 'admin', mallory: 'write' } },
      { owner: 'acme', name: 'main-only', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': MAIN_ONLY_POLICY, ...files } }, collaborators: { alice: 'admin', mallory: 'write' } },
      { owner: 'acme', name: 'rerun', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': RERUN_POLICY, ...files } }, collaborators: { alice: 'admin', carol: 'write', mallory: 'write' } },
    ],
  });
}, 60_000);
afterAll(async () => world?.stop());

/** A job of a new run targets `environment` at `ref` (main's head unless told); mallory started the run. */
async function deploy(environment: string, options: { repository?: string; ref?: string } = {}) {
  const gate = await world.control.deploymentGate({ repository: options.repository ?? GATED, actor: 'mallory', environment, ...(options.ref ? { ref: options.ref } : {}) });
  await world.settle();
  const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id) && r.environmentKey === environment);
  return { runId: gate.run_id, request: request! };
}

async function reviewsOf(runId: number) {
  return (await world.control.deploymentReviews()).filter((r) => r.runId === runId);
}

/** Waits for the App's answer to the run's rule. */
async function answerOf(runId: number, timeoutMs = 10_000) {
  const reviews = await eventually(() => reviewsOf(runId), (list) => list.some((r) => r.state !== null), timeoutMs);
  return reviews.find((r) => r.state !== null);
}

async function issueNumberOf(requestId: string, repository = GATED): Promise<number> {
  const issue = await eventually(() => world.issueOf(requestId, repository), (found) => found !== undefined);
  return issue!.number;
}

describe('a job that targets an environment', () => {
  it('waits for production, refuses ineligible approvals and is released by an eligible one', async () => {
    const { runId, request } = await deploy('production');
    expect(request).toMatchObject({ status: 'pending', action: 'deployment', requester: 'mallory' });
    const head = (await world.control.checkRuns(GATED)) as unknown as { external_id: string; head_sha: string; conclusion: string }[];
    const checkRun = head.find((r) => r.external_id === request.id)!;
    // The check run is on the deployed commit, waiting with its buttons.
    expect(checkRun).toMatchObject({ head_sha: request.commitSha, conclusion: 'action_required' });
    // The run page says who is needed; nothing is decided yet.
    const waiting = await eventually(() => reviewsOf(runId), (list) => list.length > 0);
    expect(waiting).toEqual([expect.objectContaining({ environmentName: 'production', state: null, comment: expect.stringContaining('1 more from @alice') })]);

    const issue = await issueNumberOf(request.id);
    await world.comment(issue, 'mallory', '/approve', GATED); // started the run
    await world.comment(issue, 'carol', '/approve', GATED); // not an approver of this rule
    expect((await world.app.store.getRequest(request.id))!.status).toBe('pending');
    expect((await reviewsOf(runId)).every((r) => r.state === null)).toBe(true);
    const refused = (await world.audit(request.id)).filter((e) => e.type === 'vote_refused').map((e) => e.actor);
    expect(refused).toEqual(['mallory', 'carol']);

    await world.comment(issue, 'alice', '/approve ship it', GATED);
    const answer = await answerOf(runId);
    expect(answer).toMatchObject({ environmentName: 'production', state: 'approved', comment: expect.stringContaining('@alice') });
    expect((await world.audit(request.id)).map((e) => e.type)).toContain('deployment_answered');
  }, 60_000);

  it('is rejected through the callback when an approver rejects it', async () => {
    const { runId, request } = await deploy('production');
    await world.comment(await issueNumberOf(request.id), 'alice', '/reject not today', GATED);
    expect(await answerOf(runId)).toMatchObject({ state: 'rejected', comment: expect.stringContaining('not today') });
  }, 60_000);

  it('is rejected through the callback when nobody decides in time', async () => {
    const { runId, request } = await deploy('quick');
    expect(request.status).toBe('pending');
    expect(await answerOf(runId, 15_000)).toMatchObject({ environmentName: 'quick', state: 'rejected', comment: expect.stringContaining('timed out') });
    expect((await world.app.store.getRequest(request.id))!.status).toBe('timed_out');
  }, 60_000);

  it('approves at once a change of only docs since the last approved deploy of a non-production environment', async () => {
    // The first deploy has nothing to compare with: its changes are unknown, so it needs approval.
    const first = await deploy('staging');
    expect(first.request.status).toBe('pending');
    await world.comment(await issueNumberOf(first.request.id), 'alice', '/approve', GATED);
    expect(await answerOf(first.runId)).toMatchObject({ state: 'approved' });

    await world.control.pushCommit(GATED, { branch: 'main', files: { 'docs/index.md': '# Docs, again\n' }, author: 'mallory' });
    const docs = await deploy('staging');
    expect(docs.request.status).toBe('approved');
    expect(docs.request.reason).toBe('auto');
    expect(await answerOf(docs.runId)).toMatchObject({ state: 'approved', comment: expect.stringContaining('approved automatically') });
    expect(await world.issueOf(docs.request.id, GATED)).toBeUndefined();

    // Code, not docs: approval again.
    await world.control.pushCommit(GATED, { branch: 'main', files: { 'src/app.ts': 'export const x = 2;\n' }, author: 'mallory' });
    const code = await deploy('staging');
    expect(code.request.status).toBe('pending');
  }, 60_000);

  it('does not count a vote for another commit', async () => {
    const before = await deploy('production');
    await world.control.pushCommit(GATED, { branch: 'main', files: { 'src/app.ts': 'export const y = 3;\n' }, author: 'mallory' });
    const after = await deploy('production');
    expect(after.request.commitSha).not.toBe(before.request.commitSha);
    const checkRuns = (await world.control.checkRuns(GATED)) as unknown as { id: number; external_id: string }[];
    const beforeCheckRun = checkRuns.find((r) => r.external_id === before.request.id)!;
    await world.control.clickCheckRunButton({ repository: GATED, check_run_id: beforeCheckRun.id, user: 'alice', identifier: 'jit-approve' });
    await world.settle();
    expect(await answerOf(before.runId)).toMatchObject({ state: 'approved' });
    expect((await world.app.store.getRequest(after.request.id))!.status).toBe('pending');
    expect((await reviewsOf(after.runId)).every((r) => r.state === null)).toBe(true);
  }, 60_000);

  it('counts the author of the pull request a run is about among its requesters', async () => {
    // carol re-runs a deploy of alice's pull request: alice, the only approver, may not approve her own change.
    const gate = await world.control.deploymentGate({ repository: GATED, actor: 'carol', environment: 'production', pull_request: 3 });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(request).toMatchObject({ status: 'pending', requester: 'carol', prNumber: 3 });
    // Asked for on the pull request itself, as a gated step of its run is.
    await eventually(async () => (await world.control.comments(GATED, 3)).length, (count) => count > 0);
    await world.comment(3, 'alice', '/approve', GATED);
    const refusal = (await world.audit(request.id)).find((e) => e.type === 'vote_refused');
    expect(refusal).toMatchObject({ actor: 'alice', facts: { reason: expect.stringContaining('opened the pull request') } });
    expect((await world.app.store.getRequest(request.id))!.status).toBe('pending');
  }, 60_000);

  it('counts the author of a merged pull request among the requesters of the push run that ships it', async () => {
    // carol's pull request, merged by mallory: the push run is mallory's, the code carol's.
    const pr = await world.control.openPull({ repository: RERUN, user: 'carol', title: 'Tune', head: 'tune', files: { 'src/tune.ts': 'export const tuned = true;\n' } });
    await world.control.mergePull({ repository: RERUN, number: pr.number, user: 'mallory' });
    const { request } = await deploy('production', { repository: RERUN });
    const issue = await issueNumberOf(request.id, RERUN);
    await world.comment(issue, 'carol', '/approve', RERUN);
    const refusal = (await world.audit(request.id)).find((e) => e.type === 'vote_refused');
    expect(refusal).toMatchObject({ actor: 'carol', facts: { reason: expect.stringContaining('@carol opened a pull request the run ships and may not approve it') } });
    await world.comment(issue, 'alice', '/approve', RERUN);
    await eventually(async () => (await world.app.store.getRequest(request.id))!.status, (status) => status === 'approved');
    expect((await world.app.store.getRequest(request.id))!.status).toBe('approved');
  }, 60_000);

  it("takes the policy's default severity when it sets one, else the highest", async () => {
    // In acme/relaxed a request without a severity is low, below the production rule's threshold.
    const relaxed = await deploy('production', { repository: RELAXED });
    expect(relaxed.request).toMatchObject({ status: 'approved', reason: 'auto' });
    expect(await answerOf(relaxed.runId)).toMatchObject({ state: 'approved' });
  }, 60_000);

  it('opens one request for a redelivered rule, and takes a 422 for a rule already answered as done', async () => {
    const { runId, request } = await deploy('production');
    const [delivery] = await world.control.deliveries({ event: 'deployment_protection_rule' }).then((list) => list.filter((d) => (d.payload as { deployment_callback_url: string }).deployment_callback_url.endsWith(`/runs/${runId}/deployment_protection_rule`)));
    await world.control.redeliver(delivery.seq);
    await world.settle();
    expect((await world.app.store.listRequests()).filter((r) => r.runId === String(runId))).toHaveLength(1);

    // Someone answers the rule elsewhere first; the App's own answer then meets GitHub's 422.
    const { token } = await world.control.installationToken(INSTALLATION_ID);
    const callback = `${world.github.apiUrl}/repos/${GATED}/actions/runs/${runId}/deployment_protection_rule`;
    const elsewhere = await fetch(callback, { method: 'POST', headers: { authorization: `token ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ environment_name: 'production', state: 'rejected', comment: 'by hand' }) });
    expect(elsewhere.status).toBe(204);
    await world.comment(await issueNumberOf(request.id), 'alice', '/approve', GATED);
    const audit = await eventually(() => world.audit(request.id), (events) => events.some((e) => e.type === 'deployment_answered'));
    expect(audit.map((e) => e.type)).toEqual(expect.arrayContaining(['deployment_already_answered', 'deployment_answered']));
    // Done: no job left retrying, and GitHub kept the first answer.
    expect(await world.app.store.nextTimerDue({ only: ['deployment_review'] })).toBeUndefined();
    expect((await reviewsOf(runId)).filter((r) => r.state !== null)).toEqual([expect.objectContaining({ state: 'rejected', comment: 'by hand' })]);
  }, 60_000);
});

describe('a lost webhook', () => {
  it('is recovered by the reconciler: the waiting run gets its request, and its approval releases the job', async () => {
    const gate = await world.withoutWebhooks(() => world.control.deploymentGate({ repository: GATED, actor: 'mallory', environment: 'production' }));
    const requestOf = async () => (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id));
    expect(await requestOf()).toBeUndefined();
    // A round first reconciles every request the tests before left (recently ended ones too), then looks
    // through every repository of the installation, one GitHub call at a time: on a loaded machine that
    // can take several intervals.
    const request = await eventually(requestOf, (found) => found !== undefined, 30_000);
    const main = (await world.control.deliveries({ event: 'deployment_protection_rule' })).map((d) => d.payload as { deployment: { id: number; sha: string } }).find((p) => p.deployment.id === gate.deployment_id)!;
    expect(request).toMatchObject({ status: 'pending', action: 'deployment', requester: 'mallory', environmentKey: 'production', commitSha: main.deployment.sha });
    await world.comment(await issueNumberOf(request!.id), 'alice', '/approve', GATED);
    expect(await answerOf(gate.run_id)).toMatchObject({ environmentName: 'production', state: 'approved' });
    // Answered, the run no longer waits: later rounds open nothing more for it.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await world.app.store.listRequests()).filter((r) => r.runId === String(gate.run_id))).toHaveLength(1);
  }, 90_000);
});

describe('a re-run', () => {
  const requestsOf = async (runId: number) => (await world.app.store.listRequests()).filter((r) => r.runId === String(runId));
  const ofDeployment = async (runId: number, deploymentId: number) =>
    (await requestsOf(runId)).find((r) => (r.facts as { deployment?: { deploymentId: number } }).deployment?.deploymentId === deploymentId);
  /** mallory starts a run whose job waits on production; carol re-runs it (attempt 2). */
  const startRun = (options: { created_at?: string } = {}) => world.control.deploymentGate({ repository: RERUN, actor: 'mallory', environment: 'production', ...options });
  const rerun = (runId: number) => world.control.deploymentGate({ repository: RERUN, actor: 'mallory', triggering_actor: 'carol', run_id: runId, run_attempt: 2, environment: 'production' });

  it('may be approved neither by whoever started the run nor by whoever re-ran it', async () => {
    const first = await startRun();
    await world.settle();
    const second = await rerun(first.run_id);
    await world.settle();
    const request = (await ofDeployment(first.run_id, second.deployment_id))!;
    // GitHub made the new attempt's deployment as carol; the run says mallory started it.
    expect((request.facts as { requesters: unknown[] }).requesters).toEqual([
      expect.objectContaining({ login: 'mallory', role: 'started the run' }),
      expect.objectContaining({ login: 'carol', role: 're-ran the run' }),
    ]);
    const issue = await issueNumberOf(request.id, RERUN);
    await world.comment(issue, 'mallory', '/approve', RERUN);
    await world.comment(issue, 'carol', '/approve', RERUN);
    expect((await world.app.store.getRequest(request.id))!.status).toBe('pending');
    expect((await world.audit(request.id)).filter((e) => e.type === 'vote_refused').map((e) => e.actor)).toEqual(['mallory', 'carol']);
    expect((await reviewsOf(first.run_id)).filter((r) => r.state !== null)).toEqual([]);
    await world.comment(issue, 'alice', '/approve', RERUN);
    expect(await answerOf(first.run_id)).toMatchObject({ environmentName: 'production', state: 'approved', comment: expect.stringContaining('@alice') });
  }, 60_000);

  it("ends the earlier attempt's waiting request as superseded", async () => {
    const first = await startRun();
    await world.settle();
    const stale = (await ofDeployment(first.run_id, first.deployment_id))!;
    expect(stale.status).toBe('pending');
    await rerun(first.run_id);
    await world.settle();
    expect(await world.app.store.getRequest(stale.id)).toMatchObject({ status: 'failed', reason: expect.stringContaining(`run ${first.run_id} was re-run, and attempt 2 now waits`) });
    // Its end is never sent: GitHub would take it as the new attempt's.
    const audit = await eventually(() => world.audit(stale.id), (events) => events.some((e) => e.type === 'deployment_answer_withheld'));
    expect(audit.find((e) => e.type === 'deployment_answer_withheld')!.facts).toMatchObject({ state: 'rejected', reason: expect.stringContaining('attempt 2') });
    expect((await reviewsOf(first.run_id)).filter((r) => r.state !== null)).toEqual([]);
  }, 60_000);

  it("never answers for the new attempt through the earlier attempt's request, even when the re-run's webhook is lost", async () => {
    const first = await startRun();
    await world.settle();
    const stale = (await ofDeployment(first.run_id, first.deployment_id))!;
    const second = await world.withoutWebhooks(() => rerun(first.run_id));
    // The earlier attempt's request still waits, and an approver approves it.
    await world.comment(await issueNumberOf(stale.id, RERUN), 'alice', '/approve', RERUN);
    const audit = await eventually(() => world.audit(stale.id), (events) => events.some((e) => e.type === 'deployment_answer_withheld'));
    expect(audit.find((e) => e.type === 'deployment_answer_withheld')!.facts).toMatchObject({ state: 'approved' });
    expect((await reviewsOf(first.run_id)).filter((r) => r.state !== null)).toEqual([]);
    // The reconciler opens the new attempt's own request: the earlier attempt's does not stand for it.
    const request = await eventually(() => ofDeployment(first.run_id, second.deployment_id), (found) => found !== undefined, 30_000);
    await eventually(async () => (await world.app.store.getRequest(request!.id))!.decision, (decision) => decision !== null);
    expect((await reviewsOf(first.run_id)).filter((r) => r.state !== null)).toEqual([]);
    await world.comment(await issueNumberOf(request!.id, RERUN), 'alice', '/approve', RERUN);
    expect(await answerOf(first.run_id)).toMatchObject({ environmentName: 'production', state: 'approved' });
  }, 90_000);

  // GitHub's times have whole seconds: attempt 1's deployment may read as made in the second attempt 2 started.
  it.each([
    ['a minute before the re-run started', 60_000],
    ['in the second the re-run started', 0],
  ])("takes an earlier attempt's webhook that arrives after the re-run as superseded, its deployment made %s", async (_when, before) => {
    // Attempt 1's webhook was lost, and arrives again only after carol's re-run.
    const second = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
    const rerunAt = second(30_000);
    const first = await world.withoutWebhooks(() => startRun({ created_at: before === 0 ? rerunAt : second(30_000 + before) }));
    const rerunGate = await world.control.deploymentGate({ repository: RERUN, actor: 'mallory', triggering_actor: 'carol', run_id: first.run_id, run_attempt: 2, environment: 'production', created_at: rerunAt });
    await world.settle();
    const current = (await ofDeployment(first.run_id, rerunGate.deployment_id))!;
    const [late] = (await world.control.deliveries({ event: 'deployment_protection_rule' })).filter((d) => (d.payload as { deployment: { id: number } }).deployment.id === first.deployment_id);
    await world.control.redeliver(late.seq);
    await world.settle();
    const stale = await eventually(() => ofDeployment(first.run_id, first.deployment_id), (found) => found?.status === 'failed');
    expect(stale!.reason).toContain('superseded');
    expect((await world.app.store.getRequest(current.id))!.status).toBe('pending');
    expect((await reviewsOf(first.run_id)).filter((r) => r.state !== null)).toEqual([]);
  }, 60_000);

  it('waits out a rate limit on reading the run, rather than failing the job', async () => {
    // More 403s with retry-after than Octokit retries itself: the App sees the rate limit.
    await world.control.fault({ route: '/repos/{owner}/{repo}/actions/runs/{run_id}', method: 'GET', status: 403, headers: { 'retry-after': '1' }, times: 4 });
    const gate = await world.control.deploymentGate({ repository: RERUN, actor: 'mallory', environment: 'production' });
    const request = await eventually(async () => (await requestsOf(gate.run_id))[0], (found) => found?.decision !== null && found?.decision !== undefined, 30_000);
    expect(request).toMatchObject({ status: 'pending', decision: expect.objectContaining({ outcome: 'approval_required' }) });
    expect((await reviewsOf(gate.run_id)).filter((r) => r.state !== null)).toEqual([]);
  }, 60_000);
});

describe('a deployment of the same commit that is not the job\'s', () => {
  const requestsOf = async (runId: number) => (await world.app.store.listRequests()).filter((r) => r.runId === String(runId));
  /** mallory's deployment of the commit to production, named by its sha rather than a branch, with no webhook (made through the API, not by a job). */
  const plant = (sha: string) => world.withoutWebhooks(() => world.control.deploymentGate({ repository: MAIN_ONLY, actor: 'mallory', environment: 'production', ref: sha }));

  it('never gives a run that has its request a second one', async () => {
    const run = await deploy('production', { repository: MAIN_ONLY });
    expect(run.request).toMatchObject({ status: 'pending' });
    await plant(run.request.commitSha!);
    // Several reconcile rounds.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    expect(await requestsOf(run.runId)).toEqual([expect.objectContaining({ id: run.request.id, status: 'pending' })]);
    expect((await reviewsOf(run.runId)).filter((r) => r.state !== null)).toEqual([]);
  }, 60_000);

  it('is not what a lost webhook is recovered from: the run keeps its branch, so its rule still applies', async () => {
    const { sha } = await world.control.pushCommit(MAIN_ONLY, { branch: 'main', files: { 'src/app.ts': 'export const v = 2;\n' } });
    const lost = await world.withoutWebhooks(() => world.control.deploymentGate({ repository: MAIN_ONLY, actor: 'mallory', environment: 'production' }));
    await plant(sha);
    const request = await eventually(async () => (await requestsOf(lost.run_id))[0], (found) => found !== undefined, 30_000);
    expect(request).toMatchObject({ status: 'pending', requester: 'mallory' });
    expect((request!.facts as { ref?: string }).ref).toBe('refs/heads/main');
    expect((await reviewsOf(lost.run_id)).filter((r) => r.state !== null)).toEqual([]);
  }, 90_000);
});

describe('a tag named like a branch', () => {
  // Staging deploys from main go through; from anywhere else alice approves them.
  const TAGGED = 'acme/tagged';
  beforeAll(async () => {
    const policy = 'version: 1\nunmatched: require\ndefaults: { approvers: [alice] }\nrules:\n  - name: main-to-staging\n    if: { environment: staging, branch: main }\n    auto_approve: true\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'tagged', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': policy, 'src/app.ts': 'export {};\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
  });

  it('is not that branch: a commit the branch does not hold fails the request, never passes as the branch or as no branch', async () => {
    // mallory tags an unmerged commit `main`: GitHub's deployment then names the ref `main` as for the branch,
    // and `commits?sha=main` would list the tag's commit, a bare name being a tag's before a branch's.
    const { sha } = await world.control.pushCommit(TAGGED, { branch: 'unmerged', files: { 'src/app.ts': 'export const backdoor = 1;\n' }, author: 'mallory' });
    await world.control.createTag(TAGGED, { tag: 'main', sha });
    const tagged = await world.control.deploymentGate({ repository: TAGGED, actor: 'mallory', environment: 'staging', ref: 'main', sha });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(tagged.run_id))!;
    expect(request).toMatchObject({ status: 'failed', commitSha: sha, reason: expect.stringContaining(`the deployment names \`main\`, but that branch does not hold commit ${sha.slice(0, 7)}`) });
    expect(await answerOf(tagged.run_id)).toMatchObject({ state: 'rejected' });
    // The branch's own run, whose commit main holds, goes through.
    const branch = await world.control.deploymentGate({ repository: TAGGED, actor: 'mallory', environment: 'staging', ref: 'main' });
    expect(await answerOf(branch.run_id)).toMatchObject({ state: 'approved' });
    // A branch whose name has a "/" is that branch too, judged by its own rules (here: alice approves).
    await world.control.pushCommit(TAGGED, { branch: 'release/1.x', files: { 'src/app.ts': 'export const release = 1;\n' }, author: 'mallory' });
    const release = await world.control.deploymentGate({ repository: TAGGED, actor: 'mallory', environment: 'staging', ref: 'release/1.x' });
    await world.settle();
    const pending = (await world.app.store.listRequests()).find((r) => r.runId === String(release.run_id))!;
    expect(pending).toMatchObject({ status: 'pending' });
    expect((pending.facts as { evaluated?: { branch?: string } }).evaluated).toMatchObject({ branch: 'release/1.x' });
  });

});

describe("a pull request run's job", () => {
  // Anyone of three may approve production; a fork's pull request from a branch named `main` must not pass for main.
  const PULLED = 'acme/pulled';
  beforeAll(async () => {
    const policy = `version: 1
rules:
  - name: production
    if: { environment: [production] }
    require: { approvals: 1, approvers: [alice, carol, mallory] }
  - name: staging
    if: { environment: [staging] }
    unless: { branch: [main] }
    require: { approvals: 1, approvers: [alice] }
`;
    await world.control.seed({ repos: [{ owner: 'acme', name: 'pulled', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': policy, 'src/app.ts': 'export {};\n' } }, collaborators: { alice: 'admin', carol: 'write', mallory: 'write' } }] });
  });

  it('ships its base too: the author of a merged pull request the base holds, never deployed, may not approve it', async () => {
    // main is deployed with approval; then carol's change is merged into it (by mallory) and not deployed since.
    const first = await deploy('production', { repository: PULLED });
    await world.comment(await issueNumberOf(first.request.id, PULLED), 'alice', '/approve', PULLED);
    expect(await answerOf(first.runId)).toMatchObject({ state: 'approved' });
    const tune = await world.control.openPull({ repository: PULLED, user: 'carol', title: 'Tune', head: 'tune', files: { 'src/tune.ts': 'export const tuned = true;\n' } });
    await world.control.mergePull({ repository: PULLED, number: tune.number, user: 'mallory' });
    // alice's docs pull request; mallory starts its run, whose job deploys alice's docs merged into main, carol's change with them.
    const docs = await world.control.openPull({ repository: PULLED, user: 'alice', title: 'Docs', head: 'docs', files: { 'docs/a.md': 'a\n' } });
    // The run is made a moment later (a change of the base in the very second it was made fails it).
    await untilTheSecondAfter(Date.now());
    const since = await world.control.exchangeMark();
    const gate = await world.control.deploymentGate({ repository: PULLED, actor: 'mallory', environment: 'production', pull_request: docs.number });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(request).toMatchObject({ status: 'pending', prNumber: docs.number });
    // Who started the run and when it was made come from one read of it.
    const runReads = ((await world.control.exchanges(since)) as { method: string; route: string }[]).filter((e) => e.method === 'GET' && e.route === '/repos/{owner}/{repo}/actions/runs/{run_id}');
    expect(runReads).toHaveLength(1);
    expect((request.facts as { evaluated?: { changedFiles?: string[] } }).evaluated?.changedFiles?.sort()).toEqual(['docs/a.md', 'src/tune.ts']);
    await world.comment(docs.number, 'carol', '/approve', PULLED);
    const refusal = (await world.audit(request.id)).find((e) => e.type === 'vote_refused');
    expect(refusal).toMatchObject({ actor: 'carol', facts: { reason: expect.stringContaining('@carol opened a pull request the run ships and may not approve it') } });
    expect((await world.app.store.getRequest(request.id))!.status).toBe('pending');
    expect((await reviewsOf(gate.run_id)).every((r) => r.state === null)).toBe(true);
  }, 60_000);

  it("from `main` into a branch of unreviewed commits is no deploy of `main`: `unless: { branch: [main] }` does not spare it", async () => {
    // mallory cannot push to main: she cuts `unreviewed-into` from it, pushes a backdoor there, and opens a pull request from main into it.
    await world.control.pushCommit(PULLED, { branch: 'unreviewed-into', files: { 'src/app.ts': 'export const backdoor = 1;\n' }, author: 'mallory' });
    await world.control.pushCommit(PULLED, { branch: 'main', files: { 'docs/sync.md': 'sync\n' }, author: 'alice' });
    const pull = await world.control.openPull({ repository: PULLED, user: 'mallory', title: 'Sync main', head: 'main', base: 'unreviewed-into' });
    await untilTheSecondAfter(Date.now());
    const gate = await world.control.deploymentGate({ repository: PULLED, actor: 'mallory', environment: 'staging', pull_request: pull.number });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(request.facts).toMatchObject({ evaluated: { branch: 'main', targetBranch: 'unreviewed-into', unapprovedBase: 'unreviewed-into' } });
    expect(request).toMatchObject({ status: 'pending', decision: { outcome: 'approval_required' } });
    const staging = (request.decision as { rules: Array<{ name: string; matched: boolean; unless?: Array<{ reason: string }> }> }).rules.find((r) => r.name === 'staging');
    expect(JSON.stringify(staging)).toContain('also ships changes no approved request covered from `unreviewed-into`');
    expect((await reviewsOf(gate.run_id)).every((r) => r.state === null)).toBe(true);
  }, 60_000);

  it('from `main` into a branch that holds nothing main lacks is a deploy of `main`: the same rule spares it', async () => {
    const { sha: older } = await world.control.pushCommit(PULLED, { branch: 'main', files: { 'docs/older.md': 'o\n' }, author: 'alice' });
    await world.control.pushCommit(PULLED, { branch: 'behind-main', files: { 'docs/tmp.md': 't\n' }, author: 'mallory' });
    await world.control.forcePush(PULLED, { branch: 'behind-main', sha: older, author: 'mallory' });
    await world.control.pushCommit(PULLED, { branch: 'main', files: { 'docs/newer.md': 'n\n' }, author: 'alice' });
    const pull = await world.control.openPull({ repository: PULLED, user: 'mallory', title: 'Catch up', head: 'main', base: 'behind-main' });
    await untilTheSecondAfter(Date.now());
    const gate = await world.control.deploymentGate({ repository: PULLED, actor: 'mallory', environment: 'staging', pull_request: pull.number });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect((request.facts as { evaluated?: Record<string, unknown> }).evaluated).not.toHaveProperty('unapprovedBase');
    expect(request).toMatchObject({ status: 'approved', reason: 'auto' });
    expect(await answerOf(gate.run_id)).toMatchObject({ state: 'approved' });
  }, 60_000);

  it('whose webhook was lost is recovered on its own pull request, though GitHub lists one of another repository for the run too', async () => {
    const docs = await world.control.openPull({ repository: PULLED, user: 'alice', title: 'Lost docs', head: 'lost-docs', files: { 'docs/lost.md': 'l\n' } });
    // The same branch's pull request into another repository (a fork's upstream, say), which GitHub lists for the run as well.
    const upstream = await world.control.openPull({ repository: GATED, user: 'alice', title: 'Lost docs upstream', head: 'lost-docs', files: { 'docs/lost.md': 'l\n' } });
    await untilTheSecondAfter(Date.now());
    const gate = await world.withoutWebhooks(() =>
      world.control.deploymentGate({ repository: PULLED, actor: 'mallory', environment: 'production', pull_request: docs.number, also_listed: { repository: GATED, number: upstream.number } }),
    );
    const requestOf = async () => (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id));
    // Opened, then judged: wait for the judgement.
    const request = await eventually(requestOf, (found) => (found?.facts as { evaluated?: unknown } | undefined)?.evaluated !== undefined || (found !== undefined && found.status !== 'pending'), 30_000);
    expect(request).toMatchObject({ status: 'pending', prNumber: docs.number, requester: 'mallory' });
    expect((request!.facts as { evaluated?: { changedFiles?: string[] } }).evaluated?.changedFiles).toContain('docs/lost.md');
  }, 60_000);

  it('fails when GitHub names no pull request for it, as for a fork\'s: its branch `main` is not this repository\'s main', async () => {
    // A fork's pull request from its own `main`: the deployment names `main` and the fork's commit, and no pull request.
    const { sha } = await world.control.pushCommit(PULLED, { branch: 'fork-head', files: { 'src/app.ts': 'export const backdoor = 1;\n' }, author: 'mallory' });
    const gate = await world.control.deploymentGate({ repository: PULLED, actor: 'mallory', environment: 'staging', event: 'pull_request', ref: 'main', sha });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(request).toMatchObject({ status: 'failed', reason: expect.stringContaining('GitHub names no open pull request of this repository for it') });
    expect(await answerOf(gate.run_id)).toMatchObject({ state: 'rejected' });
  }, 60_000);

  it('ships the base its merge took when the run was made: a revert pushed to the base since does not hide it', async () => {
    // mallory's branch takes an infra change; her docs pull request into it starts a run, whose merge holds that change.
    const REVERTED = 'acme/reverted';
    const policy = 'version: 1\nrules:\n  - name: infrastructure\n    if: { environment: [production], paths: ["infra/**"] }\n    require: { approvals: 1, approvers: [alice] }\n  - name: docs\n    if: { environment: [production], only_paths: ["docs/**"] }\n    auto_approve: true\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'reverted', branches: { main: { '.github/jit-approval.yml': policy, 'docs/index.md': '# Docs\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    await world.control.pushCommit(REVERTED, { branch: 'unreviewed', files: { 'infra/evil.tf': 'open = true\n' }, author: 'mallory' });
    const pull = await world.control.openPull({ repository: REVERTED, user: 'mallory', title: 'Docs', head: 'docs', base: 'unreviewed', files: { 'docs/a.md': 'a\n' } });
    await untilTheSecondAfter(Date.now());
    const madeAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    // While the run builds, she reverts the change on the base: the branch's net difference is nothing again.
    await untilTheSecondAfter(madeAt);
    await world.control.pushCommit(REVERTED, { branch: 'unreviewed', files: { 'infra/evil.tf': null }, author: 'mallory' });
    const gate = await world.control.deploymentGate({ repository: REVERTED, actor: 'mallory', environment: 'production', pull_request: pull.number, created_at: madeAt.toISOString() });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(request).toMatchObject({ status: 'pending' });
    expect((request.facts as { evaluated?: { changedFiles?: string[] } }).evaluated?.changedFiles?.sort()).toEqual(['docs/a.md', 'infra/evil.tf']);
  }, 60_000);

  it('decided again later, keeps the base its merge took rather than reading the base branch\'s activity again', async () => {
    // A freeze holds the request; when it ends the request is decided again, by then with the base's activity unreadable.
    const HELD = 'acme/held-pull';
    const at = (ms: number) => new Date(Date.now() + ms).toISOString().slice(0, 19);
    const policy = ['version: 1', 'rules:', '  - name: production', '    if: { environment: [production] }', '    require: { approvals: 1, approvers: [alice] }', 'freezes:', '  - name: brief', '    time_zone: UTC', `    start: ${at(-3_600_000)}`, `    end: ${at(8_000)}`].join('\n');
    await world.control.seed({ repos: [{ owner: 'acme', name: 'held-pull', branches: { main: { '.github/jit-approval.yml': `${policy}\n` } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const pull = await world.control.openPull({ repository: HELD, user: 'mallory', title: 'Docs', head: 'held', files: { 'docs/h.md': 'h\n' } });
    await untilTheSecondAfter(Date.now());
    const gate = await world.control.deploymentGate({ repository: HELD, actor: 'mallory', environment: 'production', pull_request: pull.number });
    await world.settle();
    const held = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(held.decision).toMatchObject({ outcome: 'held' });
    expect(held.facts).toMatchObject({ pullMergedInto: pull.base_sha });
    await world.control.fault({ route: '/repos/{owner}/{repo}/activity', method: 'GET', status: 404, times: 1000 });
    try {
      const decided = await eventually(async () => (await world.app.store.getRequest(held.id))!, (request) => (request.decision as { outcome?: string } | null)?.outcome !== 'held', 30_000);
      expect(decided).toMatchObject({ status: 'pending', decision: { outcome: 'approval_required' } });
    } finally {
      await world.control.clearFaults();
    }
  }, 60_000);

  it("fails when the pull request's base was changed after its run was made: the job ships the old base", async () => {
    // Her docs pull request into her infra branch starts a run; she then points it at main, which holds no infra change.
    await world.control.pushCommit(PULLED, { branch: 'infra-base', files: { 'infra/evil.tf': 'open = true\n' }, author: 'mallory' });
    const pull = await world.control.openPull({ repository: PULLED, user: 'mallory', title: 'Docs', head: 'docs-retarget', base: 'infra-base', files: { 'docs/r.md': 'r\n' } });
    await untilTheSecondAfter(Date.now());
    const madeAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    await untilTheSecondAfter(madeAt);
    await world.control.retargetPull({ repository: PULLED, number: pull.number, base: 'main', user: 'mallory' });
    const gate = await world.control.deploymentGate({ repository: PULLED, actor: 'mallory', environment: 'staging', pull_request: pull.number, created_at: madeAt.toISOString() });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(request).toMatchObject({ status: 'failed', reason: expect.stringContaining(`the base of pull request #${pull.number} was changed to \`main\` after run ${gate.run_id} was made`) });
    expect(await answerOf(gate.run_id)).toMatchObject({ state: 'rejected' });
  }, 60_000);

  it('fails when the pull request GitHub names was opened after its run was made: it is not the one the run merged', async () => {
    // The run was made for a pull request of this branch into main, since closed; GitHub now names one into another base.
    await world.control.pushCommit(PULLED, { branch: 'reopened', files: { 'docs/o.md': 'o\n' }, author: 'mallory' });
    const madeAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    await untilTheSecondAfter(madeAt);
    const later = await world.control.openPull({ repository: PULLED, user: 'mallory', title: 'Into sandbox', head: 'reopened' });
    const gate = await world.control.deploymentGate({ repository: PULLED, actor: 'mallory', environment: 'staging', pull_request: later.number, created_at: madeAt.toISOString() });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(request).toMatchObject({ status: 'failed', reason: expect.stringContaining(`pull request #${later.number} was opened after run ${gate.run_id} was made`) });
  }, 60_000);

  it('fails when the pull request moved on since its run started', async () => {
    const pull = await world.control.openPull({ repository: PULLED, user: 'alice', title: 'Moving', head: 'moving', files: { 'docs/m.md': 'm\n' } });
    const ran = pull.head_sha;
    await world.control.pushCommit(PULLED, { branch: 'moving', files: { 'docs/m.md': 'm, again\n' }, author: 'alice' });
    const gate = await world.control.deploymentGate({ repository: PULLED, actor: 'mallory', environment: 'production', pull_request: pull.number, sha: ran });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id))!;
    expect(request).toMatchObject({ status: 'failed', reason: expect.stringContaining(`pull request #${pull.number} was updated after this run started (run tested ${ran.slice(0, 7)}`) });
  }, 60_000);
});

describe("a pull request run's approved job", () => {
  // Docs-only deploys to staging since the branch's last approved one need nobody; anything else needs alice.
  const ROLLBACK = 'acme/rollback';
  const policy = 'version: 1\nrules:\n  - name: staging\n    if: { environment: [staging] }\n    unless: { only_paths: ["docs/**"] }\n    require: { approvals: 1, approvers: [alice] }\n';
  beforeAll(async () => {
    await world.control.seed({ repos: [{ owner: 'acme', name: 'rollback', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': policy, 'src/app.ts': 'export const vulnerable = true;\n' } }, collaborators: { alice: 'admin', carol: 'write', mallory: 'write' } }] });
  });

  it('is no approved deploy of its head branch: a later push of that branch is measured from the branch\'s own last approved deploy', async () => {
    // mallory cuts \`old\` from main before carol's fix lands, with a docs change on it.
    await world.control.pushCommit(ROLLBACK, { branch: 'old', files: { 'docs/old.md': 'old\n' }, author: 'mallory' });
    await world.control.pushCommit(ROLLBACK, { branch: 'main', files: { 'src/app.ts': 'export const vulnerable = false;\n' }, author: 'carol' });
    // alice approves main, fix included, for staging.
    const fixed = await deploy('staging', { repository: ROLLBACK });
    await world.comment(await issueNumberOf(fixed.request.id, ROLLBACK), 'alice', '/approve', ROLLBACK);
    expect(await answerOf(fixed.runId)).toMatchObject({ state: 'approved' });
    // Her pull request of \`old\` into main ships main, fix included, with her docs: rightly approved at once.
    const pull = await world.control.openPull({ repository: ROLLBACK, user: 'mallory', title: 'Docs', head: 'old' });
    await untilTheSecondAfter(Date.now());
    const pulled = await world.control.deploymentGate({ repository: ROLLBACK, actor: 'mallory', environment: 'staging', pull_request: pull.number });
    await world.settle();
    const merged = (await world.app.store.listRequests()).find((r) => r.runId === String(pulled.run_id))!;
    expect(merged).toMatchObject({ status: 'approved', reason: 'auto', prNumber: pull.number });
    // A docs push to \`old\` and a run of that branch: its job would deploy \`old\` itself, without the fix.
    await world.control.pushCommit(ROLLBACK, { branch: 'old', files: { 'docs/old.md': 'older\n' }, author: 'mallory' });
    const pushed = await deploy('staging', { repository: ROLLBACK, ref: 'old' });
    expect(pushed.request).toMatchObject({ status: 'pending', reason: null });
    expect(pushed.request.facts).toMatchObject({ evaluated: { branch: 'old', unknownChanges: expect.stringContaining('no earlier run of `deployment` to `staging` from `old` was approved') } });
    expect((await reviewsOf(pushed.runId)).every((r) => r.state === null)).toBe(true);
  }, 60_000);
});

describe('reading the payload', () => {
  const payload = () => ({
    action: 'requested',
    environment: 'production',
    event: 'push',
    deployment_callback_url: 'https://api.github.com/repos/acme/web/actions/runs/42/deployment_protection_rule',
    deployment: { id: 7, sha: 'a'.repeat(40), ref: 'main', creator: { login: 'bob', id: 2 }, created_at: '2026-12-05T12:00:00Z' },
    repository: { id: 9, full_name: 'acme/web' },
    sender: { login: 'github-actions[bot]', id: 3 },
  });

  it('takes the run from the callback, the commit, actor and time from the deployment', () => {
    expect(readRuleRequest(payload())).toEqual({
      run: expect.objectContaining({ repository: 'acme/web', repositoryId: '9', runId: '42', sha: 'a'.repeat(40), ref: 'refs/heads/main', actor: 'bob', actorId: '2', eventName: 'push', environment: 'production' }),
      deployment: { callbackRunId: 42, environment: 'production', deploymentId: 7, createdAt: '2026-12-05T12:00:00Z', pullNumbers: [] },
      pullAuthors: [],
    });
  });

  it('counts the authors of the pull requests the run is about as requesters, and keeps their numbers', () => {
    const pull = (number: number, repoId: number, head = 'main') => ({ number, user: { login: 'carol', id: 4 }, head: { ref: head }, base: { repo: { id: repoId } } });
    const withPull = { ...payload(), pull_requests: [pull(5, 9)] };
    expect(readRuleRequest(withPull).pullAuthors).toEqual([{ login: 'carol', id: '4' }]);
    expect(readRuleRequest(withPull).deployment.pullNumbers).toEqual([5]);
    // Only a pull request from the deployed branch into this repository can be the run's.
    expect(readRuleRequest({ ...payload(), pull_requests: [pull(5, 9), pull(6, 10), pull(7, 9, 'other')] }).deployment.pullNumbers).toEqual([5]);
    expect(() => readRuleRequest({ ...payload(), pull_requests: [{ number: 5, user: { login: 'carol' } }] })).toThrow(/`pull_requests\.0\.user\.id`/);
    expect(() => readRuleRequest({ ...payload(), pull_requests: [{ ...pull(5, 9), number: '5' }] })).toThrow(/`pull_requests\.0\.number`/);
  });

  it('refuses a payload it cannot trust, naming the field', () => {
    const otherRepo = { ...payload(), deployment_callback_url: 'https://api.github.com/repos/evil/web/actions/runs/42/deployment_protection_rule' };
    expect(() => readRuleRequest(otherRepo)).toThrow(/deployment_callback_url.*evil\/web/);
    const noSha = { ...payload(), deployment: { ...payload().deployment, sha: 'main' } };
    expect(() => readRuleRequest(noSha)).toThrow(/deployment\.sha/);
    const { environment: _, ...noEnvironment } = payload();
    expect(() => readRuleRequest(noEnvironment)).toThrow(/`environment`/);
    const noTime = { ...payload(), deployment: { ...payload().deployment, created_at: 'yesterday' } };
    expect(() => readRuleRequest(noTime)).toThrow(/`deployment\.created_at` is not a time/);
  });
});

describe('a tag named like a branch, on a commit the branch holds', () => {
  it('is not that branch on a commit the branch holds but never was: a merged pull request\'s own commit fails too', async () => {
    const HELD = 'acme/tagged-held';
    const policy = 'version: 1\nunmatched: require\ndefaults: { approvers: [alice] }\nrules:\n  - name: main-to-staging\n    if: { environment: staging, branch: main }\n    auto_approve: true\n';
    await world.control.seed({ repos: [{ owner: 'acme', name: 'tagged-held', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': policy, 'src/app.ts': 'export {};\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    // mallory's pull request adds a backdoor and takes it out again; reviewed as a whole, it is merged with a merge commit,
    // so main holds the commit with the backdoor without ever having been it.
    const pull = await world.control.openPull({ repository: HELD, user: 'mallory', title: 'Tidy', head: 'tidy', files: { 'src/app.ts': 'export const backdoor = 1;\n' } });
    await world.control.pushCommit(HELD, { branch: 'tidy', files: { 'src/app.ts': 'export {};\n', 'src/tidy.ts': 'export {};\n' }, author: 'mallory' });
    await world.control.mergePull({ repository: HELD, number: pull.number, user: 'alice' });
    await world.control.createTag(HELD, { tag: 'main', sha: pull.head_sha });
    const tagged = await world.control.deploymentGate({ repository: HELD, actor: 'mallory', environment: 'staging', ref: 'main', sha: pull.head_sha });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(tagged.run_id))!;
    expect(request).toMatchObject({ status: 'failed', commitSha: pull.head_sha, reason: expect.stringContaining(`the deployment names \`main\`, but \`main\` never was commit ${pull.head_sha.slice(0, 7)}`) });
    expect(await answerOf(tagged.run_id)).toMatchObject({ state: 'rejected' });
    // A run main's head started, whose job reaches the environment after main moved on, is still main's.
    const { sha: ran } = await world.control.pushCommit(HELD, { branch: 'main', files: { 'docs/ran.md': 'ran\n' } });
    const madeAt = new Date();
    await untilTheSecondAfter(madeAt);
    await world.control.pushCommit(HELD, { branch: 'main', files: { 'docs/later.md': 'later\n' } });
    const made = await world.control.deploymentGate({ repository: HELD, actor: 'mallory', environment: 'staging', ref: 'main', sha: ran, created_at: madeAt.toISOString() });
    expect(await answerOf(made.run_id)).toMatchObject({ state: 'approved' });
  });
});

describe('a deployment that names no branch', () => {
  // Release tags deploy freely (a tag's run has no branch); every branch's deploy to production needs alice.
  const NAMELESS = 'acme/nameless';
  beforeAll(async () => {
    const policy = "version: 1\nunmatched: approve\nrules:\n  - name: branches-to-production\n    if: { environment: production, branch: '**' }\n    require: { approvals: 1, approvers: [alice] }\n";
    await world.control.seed({ repos: [{ owner: 'acme', name: 'nameless', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': policy, 'src/app.ts': 'export {};\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
  });

  it('fails, never passes as a run of no branch: a job of a `deployment` run made with a sha, or with a full tag ref', async () => {
    // mallory's unmerged commit; an API deployment of it by its sha starts an `on: deployment` run, whose job's deployment names the sha.
    const { sha } = await world.control.pushCommit(NAMELESS, { branch: 'unmerged', files: { 'src/app.ts': 'export const backdoor = 1;\n' }, author: 'mallory' });
    const bySha = await world.control.deploymentGate({ repository: NAMELESS, actor: 'mallory', environment: 'production', event: 'deployment', ref: sha, sha });
    await world.settle();
    const request = (await world.app.store.listRequests()).find((r) => r.runId === String(bySha.run_id))!;
    expect(request).toMatchObject({ status: 'failed', commitSha: sha, reason: expect.stringContaining(`the deployment names no branch (\`${sha}\`)`) });
    expect(await answerOf(bySha.run_id)).toMatchObject({ state: 'rejected' });
    // The same commit named by a full tag ref.
    await world.control.createTag(NAMELESS, { tag: 'v9', sha });
    const byTag = await world.control.deploymentGate({ repository: NAMELESS, actor: 'mallory', environment: 'production', event: 'deployment', ref: 'refs/tags/v9', sha });
    await world.settle();
    const tagged = (await world.app.store.listRequests()).find((r) => r.runId === String(byTag.run_id))!;
    expect(tagged).toMatchObject({ status: 'failed', reason: expect.stringContaining('the deployment names no branch (`refs/tags/v9`)') });
    expect(await answerOf(byTag.run_id)).toMatchObject({ state: 'rejected' });
  });
});

describe("a repository renamed while its job's answer waits to be sent", () => {
  it('is answered under its new name, not withheld for what the repository that took the old name lacks', async () => {
    await world.control.seed({ repos: [{ owner: 'acme', name: 'moved-gate', defaultBranch: 'main', branches: { main: { '.github/jit-approval.yml': RERUN_POLICY, 'src/app.ts': 'export {};\n' } }, collaborators: { alice: 'admin', mallory: 'write' } }] });
    const { runId, request } = await deploy('production', { repository: 'acme/moved-gate' });
    expect(request).toMatchObject({ status: 'pending' });
    const issue = await issueNumberOf(request.id, 'acme/moved-gate');
    await world.settle();
    // The answer's last look at the run, just before it is sent, is slow: the rename, and the old name's new holder, come meanwhile.
    const run = '/repos/{owner}/{repo}/actions/runs/{run_id}';
    const looks = async () => (await world.control.requestCounts())[`GET ${run}`] ?? 0;
    const looked = await looks();
    await world.control.latency({ route: run, method: 'GET', ms: 3000, times: 1 });
    await untilTheSecondAfter(request.createdAt.getTime());
    await world.control.comment({ repository: 'acme/moved-gate', issue_number: issue, user: 'alice', body: '/approve' });
    await eventually(looks, (n) => n > looked, 30_000);
    await world.control.rename('acme/moved-gate', 'moved-gate-2', 'alice');
    await world.control.deliveriesIdle();
    // mallory, who may create repositories in the org, takes the old name and pushes the original's history.
    const { state } = world.github.double;
    const source = state.repoByFullName('acme/moved-gate-2');
    const taken = state.addRepo({ owner: 'acme', name: 'moved-gate', collaborators: { mallory: 'admin' } });
    for (const [sha, commit] of source.commits) taken.commits.set(sha, commit);
    for (const [branch, head] of source.branches) taken.branches.set(branch, head);
    await eventually(() => world.audit(request.id), (events) => events.some((e) => e.type.startsWith('deployment_answer')), 30_000);
    expect((await world.audit(request.id)).filter((e) => e.type === 'deployment_answer_withheld').map((e) => e.facts)).toEqual([]);
    expect(await answerOf(runId)).toMatchObject({ environmentName: 'production', state: 'approved' });
  }, 60_000);
});
