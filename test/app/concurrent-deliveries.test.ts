/**
 * GitHub promises no order for webhook deliveries and sends them concurrently: votes that arrive at the
 * same moment, and a replay among them, must each count once and lead to one consistent decision.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REPO, World, pullRequestJob } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start();
  await world.control.setDeliveryMode({ mode: 'concurrent', max_jitter_ms: 0 });
}, 60_000);
afterAll(async () => world?.stop());

const PR = 7;
const prJob = () => pullRequestJob(PR);

async function threadComments(id: string) {
  const comments = (await world.control.comments(REPO, PR)) as unknown as Array<{ body: string }>;
  return comments.filter((c) => c.body.includes(`request ${id}`));
}

describe('votes delivered at the same time', () => {
  it('counts two approvals and a replay of one once each, and approves once', async () => {
    const run = prJob();
    const { body } = await world.open(run, { action: 'migrate', environment: 'prod-db' });
    const id = body.id as string;
    expect(body).toMatchObject({ status: 'pending', approvals_required: 2 });
    const [alice, bob] = await Promise.all([
      world.control.comment({ repository: REPO, issue_number: PR, user: 'alice', body: '/approve' }),
      world.control.comment({ repository: REPO, issue_number: PR, user: 'bob', body: '/approve' }),
    ]);
    await world.control.redeliver(alice.deliveries[0]);
    await world.settle();
    const decided = (await world.poll(run, id)).body;
    expect(decided).toMatchObject({ status: 'approved', reason: 'quorum' });
    expect([...(decided.approved_by as string[])].sort()).toEqual(['alice', 'bob']);
    expect((await world.checkRunOf(id))?.conclusion).toBe('success');
    expect(await threadComments(id)).toHaveLength(1);
    expect(bob.deliveries).toHaveLength(1);
  });

  it('reaches one decision, the same everywhere, when an approval and a rejection arrive together', async () => {
    const run = prJob();
    const { body } = await world.open(run, { action: 'deploy', environment: 'production' });
    const id = body.id as string;
    await Promise.all([
      world.control.comment({ repository: REPO, issue_number: PR, user: 'alice', body: '/reject not this one' }),
      world.control.comment({ repository: REPO, issue_number: PR, user: 'bob', body: '/approve' }),
    ]);
    await world.settle();
    const { status } = (await world.poll(run, id)).body;
    expect(['approved', 'rejected']).toContain(status);
    const conclusion = (await world.checkRunOf(id))?.conclusion;
    expect(conclusion).toBe(status === 'approved' ? 'success' : 'failure');
    const [thread] = await threadComments(id);
    expect(thread.body).toContain(status === 'approved' ? 'approved by @bob' : 'rejected by @alice');
  });
});
