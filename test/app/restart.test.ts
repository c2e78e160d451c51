import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { eventually, job, World, pullRequestJob } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start();
}, 60_000);
afterAll(async () => world?.stop());

const PR = 7;
const prJob = () => pullRequestJob(PR);

it('loses nothing when restarted mid-wait: votes persist, a missed delivery is handled on redelivery', async () => {
  const run = prJob();
  const { body } = await world.open(run, { action: 'migrate', environment: 'prod-db' });
  expect(body.status).toBe('pending');
  const id = body.id as string;
  await world.comment(PR, 'bob', '/approve');

  const polling = world.poll(run, id, 30);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const stopping = Date.now();
  await world.app.stop();
  // The open long poll is answered at shutdown (still pending), so the Action re-polls without waiting out its 30 s.
  expect((await polling).body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
  expect(Date.now() - stopping).toBeLessThan(5000);

  const { deliveries } = await world.comment(PR, 'alice', '/approve');
  const missed = (await world.control.deliveries({ event: 'issue_comment' })).find((d) => d.seq === deliveries[0])!;
  expect(missed.status).not.toBe(200);

  await world.startApp();
  expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: ['bob'] });
  await world.control.redeliver(deliveries[0]);
  await world.settle();
  expect((await world.poll(run, id)).body).toMatchObject({ status: 'approved', approved_by: ['bob', 'alice'] });
  expect((await world.checkRun(body.check_run_id as number)).conclusion).toBe('success');
}, 60_000);

it('times a request out at its deadline even when the App was down when it passed', async () => {
  const run = job({ environment: 'production' });
  const { body } = await world.open(run, { action: 'deploy', timeout_seconds: 2 });
  expect(body.status).toBe('pending');
  await world.app.stop();
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await world.startApp();
  const deadline = Date.now() + 15_000;
  let status = 'pending';
  while (status === 'pending' && Date.now() < deadline) {
    status = (await world.poll(run, body.id as string, 5)).body.status as string;
  }
  expect(status).toBe('timed_out');
  // GitHub is updated right after the store commits the timeout.
  const checkRun = await eventually(() => world.checkRun(body.check_run_id as number), (run) => run.conclusion === 'timed_out');
  expect(checkRun.conclusion).toBe('timed_out');
  const issue = await eventually(() => world.issueOf(body.id as string), (found) => found?.state === 'closed');
  expect(issue?.state).toBe('closed');
}, 60_000);
