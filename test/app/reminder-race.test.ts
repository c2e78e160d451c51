/**
 * A reminder or a time escalation falls due just as its request is decided (a vote on this replica,
 * the deadline on another): nothing of it may follow the decision, in the notifications people get
 * or in the audit trail. The race is forced: the decision lands right after the gate has read the
 * request, still pending, for the timer.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Store } from '../../app/store/index.js';
import { eventually, pullRequestJob, REPO, World } from './harness.js';

const POLICY = `version: 1
defaults: { reminder: 5s }
rules:
  - name: production
    if: { environment: [production] }
    require: { approvals: 1, approvers: [bob] }
    notify: [ops-hook]
  - name: staging
    if: { environment: [staging] }
    require: { approvals: 1, approvers: [bob] }
    notify: [ops-hook]
    escalate:
      - after: 2s
        also_eligible: [carol]
`;

let world: World;
beforeAll(async () => {
  world = await World.start();
  await world.control.pushCommit(REPO, { branch: 'main', files: { '.github/jit-approval.yml': POLICY } });
});
afterAll(async () => world?.stop());

/**
 * Runs `decide` once the timer worker has claimed the request's `kind` timer and the gate has read
 * the request for it with `read`, before the gate goes on; resolves once that timer is done with.
 */
function decideAsTheTimerReads(store: Store, requestId: string, kind: string, read: 'getRequest' | 'getRequestWithVotes', decide: () => Promise<void>): Promise<void> {
  const patched = store as unknown as Record<string, unknown>;
  const original = { claimDueTimers: store.claimDueTimers.bind(store), completeTimer: store.completeTimer.bind(store), read: store[read].bind(store) as (id: string) => Promise<unknown> };
  let armed = false;
  return new Promise((resolve, reject) => {
    patched.claimDueTimers = async (...args: Parameters<Store['claimDueTimers']>) => {
      const claimed = await original.claimDueTimers(...args);
      if (claimed.some((timer) => timer.kind === kind && timer.requestId === requestId)) armed = true;
      return claimed;
    };
    patched[read] = async (id: string) => {
      const value = await original.read(id);
      if (armed && id === requestId) {
        armed = false;
        await decide().catch(reject);
      }
      return value;
    };
    patched.completeTimer = async (...args: Parameters<Store['completeTimer']>) => {
      const done = await original.completeTimer(...args);
      if (args[0].kind === kind && args[0].requestId === requestId) {
        for (const name of ['claimDueTimers', 'completeTimer', read]) delete patched[name];
        resolve();
      }
      return done;
    };
  });
}

const PR = 7;

/** A request on the pull request, waiting for bob; its id. */
async function openWaiting(environment: string): Promise<string> {
  const opened = await world.open(pullRequestJob(PR), { action: 'deploy', environment });
  expect(opened.body.status).toBe('pending');
  return opened.body.id as string;
}

/** bob's comment decides the request. */
async function bobDecides(requestId: string, command: string, status: string): Promise<void> {
  await world.comment(PR, 'bob', command);
  const request = await eventually(() => world.app.store.getRequest(requestId), (read) => read?.status !== 'pending');
  if (request?.status !== status) throw new Error(`the request is ${request?.status}, not ${status}`);
}

/** The kinds of notification the App tried to deliver for the request, from its audit trail, in order. */
async function notified(requestId: string): Promise<string[]> {
  const events = await world.audit(requestId);
  return events.filter((event) => event.type === 'notification_attempt' || event.type === 'notification_failed').map((event) => String(event.facts.event));
}

it('sends no reminder, and schedules none, for a request decided as its reminder fell due', async () => {
  const id = await openWaiting('production');
  await decideAsTheTimerReads(world.app.store, id, 'reminder', 'getRequest', () => bobDecides(id, '/approve', 'approved'));
  // Looked at before a next reminder would have fallen due (5 s on), so one left behind is still there.
  expect(await world.app.store.nextTimerDue({ only: ['reminder'] })).toBeUndefined();
  // Whatever was sent has been tried once the decision's notice has.
  await eventually(() => notified(id), (kinds) => kinds.includes('decided'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await notified(id)).toEqual(['requested', 'decided']);
  expect(world.notifications.filter((post) => post.request.id === id).map((post) => post.event).sort()).toEqual(['decided', 'requested']);
}, 30_000);

it('records no escalation after the decision of a request decided as its escalation fell due, while GitHub could not be asked', async () => {
  const id = await openWaiting('staging');
  await decideAsTheTimerReads(world.app.store, id, 'escalation', 'getRequestWithVotes', async () => {
    await bobDecides(id, '/reject not during the freeze', 'rejected');
    // The escalation then cannot look the approvers up again, so it would record itself as it is.
    await world.control.fault({ route: '*', status: 500, times: 1000 });
  });
  await world.control.clearFaults();

  const trail = (await world.audit(id)).map((event) => event.type).filter((type) => !type.startsWith('notification_'));
  expect(trail.slice(trail.indexOf('rejected'))).toEqual(['rejected']);
  expect(trail).not.toContain('escalated');
  expect((await world.app.store.getRequest(id))?.status).toBe('rejected');
}, 60_000);
