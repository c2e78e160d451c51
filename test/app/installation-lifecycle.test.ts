/**
 * The App's installation changes under pending requests. Suspended: GitHub refuses its tokens and
 * sends it no webhooks until it is unsuspended, when its requests carry on. Uninstalled, or a
 * repository taken out of it: its pending requests there can never be decided, and fail at once
 * saying why, rather than leaving their steps waiting until the deadline.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DashboardClient } from '../dashboard/http-client.js';
import { eventually, INSTALLATION_ID, job, OTHER_REPO, REPO, World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start({ reconcileIntervalMs: 2000 }, { dashboard: true });
  await world.control.seed({ repos: [{ owner: 'acme', name: 'gated', defaultBranch: 'main', collaborators: { alice: 'admin', mallory: 'write' },
    branches: { main: { '.github/jit-approval.yml': 'version: 1\nrules:\n  - name: quick\n    if: { environment: [quick] }\n    require: { approvals: 1, approvers: [alice] }\n    timeout: 4s\n' } } }] });
}, 60_000);
afterAll(async () => world?.stop());

const change = async (action: 'suspend' | 'unsuspend' | 'delete' | 'remove-repositories', repositories?: string[]) => {
  await world.control.changeInstallation({ installation_id: INSTALLATION_ID, user: 'alice', action, ...(repositories ? { repositories } : {}) });
  await world.settle();
};

describe('the installation under pending requests', () => {
  it('suspended: new requests fail saying so, pending ones wait and carry on once it is unsuspended', async () => {
    const run = job();
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    const id = body.id as string;
    const { number } = (await world.issueOf(id))!;
    await change('suspend');
    const opened = await world.openAsIs(job(), { action: 'deploy', environment: 'production' });
    expect(opened.body).toMatchObject({ status: 'failed', reason: expect.stringContaining('suspended your access') });
    // GitHub sends a suspended installation no comments: the approval is not heard of until it is unsuspended.
    await world.control.comment({ repository: REPO, issue_number: number, user: 'bob', body: '/approve' });
    await world.settle();
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
    await change('unsuspend');
    await world.comment(number, 'bob', '/approve');
    expect((await eventually(() => world.poll(run, id), (a) => a.body.status !== 'pending')).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
  }, 60_000);

  it('suspended: a dashboard vote is refused saying the installation is suspended, and counts once it is unsuspended', async () => {
    const run = job();
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    const id = body.id as string;
    const bob = new DashboardClient(world);
    await bob.signIn('bob');
    const csrf = await bob.csrf();
    await change('suspend');
    const page = await bob.get(`/dashboard/requests/${id}`);
    expect(page.text).toContain('suspended');
    const refused = await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', csrf });
    expect(refused.status).toBe(503);
    expect(refused.text).toContain('GitHub App&#39;s installation on acme is suspended');
    expect(refused.text).toContain('nothing was recorded');
    expect((await world.audit(id)).map((e) => e.type)).not.toContain('vote');
    await change('unsuspend');
    const counted = await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', csrf });
    expect(counted.text).toContain('Your approval was recorded.');
    expect((await eventually(() => world.poll(run, id), (a) => a.body.status !== 'pending')).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    // Its publication drains here, not into the next test's timing.
    await world.settle();
  }, 60_000);

  it('a job-level gate decided while suspended gets its answer once the installation is unsuspended', async () => {
    const gate = await world.control.deploymentGate({ repository: 'acme/gated', actor: 'mallory', environment: 'quick' });
    await world.settle();
    await change('suspend');
    const request = await eventually(async () => (await world.app.store.listRequests()).find((r) => r.runId === String(gate.run_id)), (r) => r?.status === 'timed_out', 15_000);
    expect(request?.status).toBe('timed_out');
    await world.settle();
    const answers = async () => (await world.control.deploymentReviews()).filter((r) => r.runId === gate.run_id && r.state !== null);
    expect(await answers()).toEqual([]);
    await change('unsuspend');
    // The reconciler finds the check run behind the store and publishes again, the answer with it.
    expect(await eventually(answers, (list) => list.length > 0, 20_000)).toEqual([expect.objectContaining({ state: 'rejected', comment: expect.stringContaining('timed out') })]);
  }, 60_000);

  it('a repository taken out of the installation: its pending requests fail at once, saying why; others carry on', async () => {
    const run = job();
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    const elsewhere = job({ repository: OTHER_REPO });
    const { body: other } = await world.open(elsewhere, { action: 'migrate' });
    await change('remove-repositories', ['web']);
    const answer = await eventually(() => world.poll(run, body.id as string), (a) => a.body.status !== 'pending', 5000);
    expect(answer.body).toMatchObject({ status: 'failed', reason: expect.stringContaining("acme/web was removed from the GitHub App's installation"), approved_by: [] });
    expect((await world.poll(elsewhere, other.id as string)).body).toMatchObject({ status: 'pending' });
  }, 60_000);

  it('uninstalled: its pending requests fail at once, saying why', async () => {
    const run = job({ repository: OTHER_REPO });
    const { body } = await world.open(run, { action: 'deploy' });
    await change('delete');
    const answer = await eventually(() => world.poll(run, body.id as string), (a) => a.body.status !== 'pending', 5000);
    expect(answer.body).toMatchObject({ status: 'failed', reason: expect.stringContaining('the GitHub App was uninstalled from acme'), approved_by: [] });
    expect((await world.audit(body.id as string)).map((e) => e.type)).not.toContain('vote');
    // GitHub takes nothing from a deleted installation again: the reconciler's rounds stop asking it.
    await world.settle();
    const total = async () => Object.values(await world.control.requestCounts()).reduce((sum, n) => sum + n, 0);
    const before = await total();
    await new Promise((resolve) => setTimeout(resolve, 5000)); // two reconciler rounds and more
    expect((await total()) - before).toBe(0);
  }, 60_000);
});
