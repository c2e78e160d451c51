/**
 * The names the App lists for waiting requests are what approvers copy into a comment. A listed name
 * must pick, as a comment reads it (rendered Markdown, as GitHub shows it), the request it was listed
 * for, and no other: the environment (believed as sent when the job has no `environment:`) is the
 * workflow's own text.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cancelledAfterEach, POLICY, REPO, World, pullRequestJob } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start();
  // A rule on the action alone, as many policies have: any environment of a release needs a code owner.
  const policy = `${POLICY}  - name: releases\n    if: { action: [release] }\n    require: { approvals: 1, approvers: [codeowners] }\n`;
  await world.control.pushCommit(REPO, { branch: 'main', files: { '.github/jit-approval.yml': policy } });
}, 60_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);
const PR = 7;
const prJob = () => pullRequestJob(PR);

async function openPending(body: Record<string, unknown>) {
  const run = prJob();
  const { status, body: answer } = await world.open(run, body);
  expect(status).toBe(200);
  expect(answer.status).toBe('pending');
  opened.push({ run, id: answer.id as string });
  return { run, id: answer.id as string };
}

async function lastComment() {
  return ((await world.control.comments(REPO, PR)) as unknown as Array<{ body: string }>).at(-1)!.body;
}

/** The names in the App's "several requests are waiting here (…)" reply, as an approver copies them. */
function listedNames(reply: string): string[] {
  const list = /several requests are waiting here \((.*?)\); name the one/.exec(reply)?.[1] ?? '';
  return [...list.matchAll(/(`+) ?(.*?) ?\1/g)].map((m) => m[2]!);
}

describe('a name the App lists for a waiting request', () => {
  for (const [what, environment] of [
    ['a Markdown escape', 'production\\'],
    ['an HTML tag', 'production<b>'],
    ['a character the reply drops', 'production\u200e'],
  ] as const) {
    it(`picks that request, never another, when the environment holds ${what}`, async () => {
      const production = await openPending({ action: 'release', environment: 'production', summary: 'the real release' });
      const other = await openPending({ action: 'release', environment, summary: 'something harmless' });
      await world.comment(PR, 'bob', '/approve');
      const names = listedNames(await lastComment());
      expect(names).toHaveLength(2);
      // bob copies the name listed for the other request, as the App told him to.
      await world.comment(PR, 'bob', `/approve ${names[1]} fine`);
      expect((await world.poll(production.run, production.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
      expect((await world.poll(other.run, other.id)).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    });
  }
});

it('never picks a request the workflow opened in place of the one it was listed for', async () => {
  const staging = await openPending({ action: 'deploy', environment: 'staging', summary: 'a staging deploy' });
  await openPending({ action: 'migrate', environment: 'production', summary: 'a migration' });
  await world.comment(PR, 'bob', '/approve');
  const [listed] = listedNames(await lastComment());
  // The pull request's author ends the staging deploy and opens a production one before bob answers.
  expect((await world.api('POST', `/api/v1/requests/${staging.id}/cancel`, await world.token(staging.run), { reason: 'job_cancelled' })).status).toBe(200);
  const production = await openPending({ action: 'deploy', environment: 'production', summary: 'the real deploy' });
  await world.comment(PR, 'bob', `/approve ${listed} staging is fine`);
  expect((await world.poll(production.run, production.id)).body).toMatchObject({ status: 'pending', approved_by: [] });
});

