/**
 * Replies to commands that do not count are limited per person and thread: anyone who may comment
 * could otherwise fill a thread with the App's replies. Every command is still on record.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REPO, World, cancelledAfterEach, pullRequestJob } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start();
}, 60_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);

const PR = 7;
const prJob = () => pullRequestJob(PR);

async function repliesTo(login: string) {
  const comments = (await world.control.comments(REPO, PR)) as unknown as Array<{ body: string; user: { login: string } }>;
  return comments.filter((c) => c.user.login.endsWith('[bot]') && c.body.startsWith(`@${login} `));
}

describe('replies to refused commands', () => {
  it('answer one person on one thread a few times, then record their refusals without answering them', async () => {
    const run = prJob();
    const { status, body } = await world.open(run, { action: 'deploy', environment: 'production' });
    expect(status).toBe(200);
    const id = body.id as string;
    opened.push({ run, id });
    // carol may comment but owns nothing: each `/approve` is refused, each typo needs fixing.
    for (let i = 0; i < 15; i++) await world.comment(PR, 'carol', i % 3 === 2 ? '/aprove' : `/approve ${i}`);
    await world.settle();
    const toCarol = await repliesTo('carol');
    expect(toCarol).toHaveLength(5);
    expect(toCarol.at(-1)!.body).toContain('will not be answered');
    // Someone else on the same thread is still answered.
    await world.comment(PR, 'mallory', '/approve');
    expect(await repliesTo('mallory')).toHaveLength(1);
    // Every refusal is on record.
    const carols = (await world.audit(id)).filter((event) => event.actor === 'carol' && (event.type === 'vote_refused' || event.type === 'vote_ignored'));
    expect(new Set(carols.map((event) => event.facts.comment_id)).size).toBe(15);
    expect((await world.poll(run, id)).body).toMatchObject({ status: 'pending', approved_by: [] });
  }, 120_000);
});
