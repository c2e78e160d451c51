/**
 * `npm start` runs build/app/server.js, the start bundle `npm run build` makes (one file, so a start
 * does not resolve and compile hundreds of modules). The approval flow, run through that bundle.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { killRunningSteps } from '../action/action-process.js';
import { BUILT_APP_ENTRY, Stage, until } from './stage.js';

let stage: Stage;
beforeAll(async () => {
  // The stage's own first deploy is approved through the built App already.
  stage = await Stage.start({ built: true });
}, 180_000);
afterAll(async () => {
  killRunningSteps();
  await stage?.stop();
});

describe('the built App', () => {
  it('is one file that imports none of the App\'s own modules', () => {
    const bundle = readFileSync(BUILT_APP_ENTRY, 'utf8');
    expect(bundle).not.toMatch(/\bfrom\s+["']\.{1,2}\//);
    expect(bundle).not.toMatch(/\bimport\(\s*["']\.{1,2}\//);
  });

  it('gates a deploy: the step waits, a code owner approves, the step resumes', async () => {
    const step = await stage.startDeploy({ timeout: '5m' });
    const requestId = await stage.requestIdOf(step, 60_000);
    const issue = await stage.approvalIssueOf(requestId, undefined, 60_000);
    await stage.comment(issue.number, 'bob', '/approve');
    await stage.comment(issue.number, 'carol', '/approve');
    const result = await step.running.result;
    expect(result.outputs).toMatchObject({ decision: 'approved', 'approved-by': 'carol' });
    // bob owns none of the changed files: the App says so on the thread, through its paced outbox.
    await until('the App\'s answer to bob', async () => (await stage.appCommentsOn(issue.number)).some((c) => /@bob your vote was not counted/.test(c)), 60_000);
  }, 120_000);
});
