/** `npm run dev`'s console, driven line by line as a person at the prompt would, against the demo's stage. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DevConsole, HELP, banner } from './dev.js';
import { PEOPLE, Stage, until } from './stage.js';

let stage: Stage;
let devConsole: DevConsole;
const emitted: string[] = [];

beforeAll(async () => {
  stage = await Stage.start();
  devConsole = new DevConsole(stage, (line) => emitted.push(line));
}, 180_000);

afterAll(async () => {
  if (devConsole) expect(await devConsole.quit()).toBe('Stopped.');
  // The App no longer answers once the console has quit.
  if (stage) await expect(fetch(`${stage.appUrl}/healthz`)).rejects.toThrow();
}, 30_000);

describe('npm run dev console', () => {
  it('answers an unknown command with the help text, and help with the same', async () => {
    const answer = await devConsole.run('approve everything');
    expect(answer).toBe(`Unknown command "approve".\n${HELP}`);
    expect(await devConsole.run('help')).toBe(HELP);
    expect(HELP).toMatch(/^ {2}deploy \[environment\]/m);
    expect(HELP).toMatch(/^ {2}comment <user> <text…>/m);
  });

  it('lists the seeded users with their access, and refuses comments before any request or from strangers', async () => {
    const users = await devConsole.run('users');
    for (const person of PEOPLE) expect(users).toMatch(new RegExp(`^${person.login} +${person.permission} +${person.role}$`, 'm'));
    expect(await devConsole.run('comment carol /approve')).toBe('no request yet: start one with "deploy"');
    expect(await devConsole.run('comment mallory /approve')).toMatch(/^unknown user "mallory"; seeded users: alice, bob, carol, dave$/);
    expect(banner(stage)).toContain(`App at ${stage.appUrl}`);
    // The dashboard is on: it sends whoever is not signed in to sign in (through the double's OAuth page).
    expect(banner(stage)).toContain(`Dashboard at ${stage.appUrl}/dashboard`);
    expect((await fetch(`${stage.appUrl}/dashboard/`, { redirect: 'manual' })).headers.get('location')).toBe('/dashboard/sign-in?return_to=%2Fdashboard%2F');
  });

  it('deploy → comment carol /approve: the step prints its log, passes, and status shows the check run', async () => {
    expect(await devConsole.run('deploy')).toMatch(/^\[deploy 1\] alice's deploy step to production in acme\/payments started \(run \d+\)$/);
    // bob owns nothing the deploy changed: the step keeps waiting after his vote.
    expect(await devConsole.run('comment bob /approve')).toMatch(/^bob commented on #\d+: \/approve$/);
    await until("the App's reply to bob", () => emitted.some((line) => /^\[#\d+\] mercurial-jit\[bot\]: @bob your vote was not counted: .*not a code owner/.test(line)), 30_000);
    const waiting = await devConsole.run('status');
    expect(waiting).toMatch(/^deploy 1 to production: step waiting, request \S+, issue #\d+$/m);
    expect(waiting).toMatch(/^ {2}check run "jit: deploy to production": completed \/ action_required /m);
    expect(waiting).toMatch(/^1 pending$/m);

    const commented = await devConsole.run('comment carol /approve');
    expect(commented).toMatch(/^carol commented on #\d+: \/approve$/);
    await until('deploy 1 to exit', () => emitted.some((line) => line.startsWith('[deploy 1] exited')), 30_000);
    expect(emitted).toContain('[deploy 1] exited 0 (decision=approved, approved-by=carol, reason=quorum)');
    // The step's own log, prefixed, without the workflow commands a runner hides.
    expect(emitted.some((line) => /^\[deploy 1\] │ .*Approval request \S+ opened/.test(line))).toBe(true);
    expect(emitted.some((line) => /^\[deploy 1\] │ .*Approved by carol\./.test(line))).toBe(true);
    expect(emitted.some((line) => line.includes('::add-mask::'))).toBe(false);

    // The App completes the check run right after it answers the step.
    let done = '';
    await until('the check run to succeed', async () => /^ {2}check run "jit: deploy to production": completed \/ success /m.test(done = await devConsole.run('status')), 10_000);
    expect(done).toMatch(/^deploy 1 to production: step exited 0, request \S+, issue #\d+$/m);
    expect(done).toMatch(/^0 pending$/m);
    // bob's refusal was printed once, though carol's comment watched the same issue while bob's watch ran.
    expect(emitted.filter((line) => line.includes('@bob your vote was not counted'))).toHaveLength(1);
  }, 90_000);
});
