/**
 * `npm run demo`: the whole product on one machine, as a short story. The GitHub double, the real
 * App (its own process, embedded store) and the committed Action bundle (a child process with a
 * runner's environment) play: a production deploy waits for a code owner; a non-owner's `/approve`
 * is refused; the owner approves and the step resumes. Then a whole job, with no step, waits on the
 * same policy as a deployment protection rule until it is approved. Exits 0 only if every beat happened.
 * DEMO_VERBOSE=1 also shows the App's logs.
 */
import { killRunningSteps, type StepResult } from '../action/action-process.js';
import { CHANGED_FILE, REPOSITORY, Stage, until } from './stage.js';

const STORY_TIMEOUT_MS = 120_000;
/** How long a write the App paces (a comment, a deployment status report) may take to appear: seconds on a quiet machine. */
const PACED_WRITE_MS = 30_000;
const verbose = process.env.DEMO_VERBOSE === '1';
const t0 = performance.now();

const stamp = () => `[${String(Math.round(performance.now() - t0)).padStart(6)} ms]`;
const say = (line: string) => process.stdout.write(`${stamp()} ${line}\n`);
const detail = (line: string) => process.stdout.write(`${' '.repeat(stamp().length)}    ${line}\n`);

class StoryError extends Error {}
function expectThat(condition: boolean, message: string): void {
  if (!condition) throw new StoryError(message);
}

/** Workflow commands the runner consumes rather than shows in the job log. */
const HIDDEN_BY_THE_RUNNER = /^::(debug|add-mask)::/;

/** Prints the step's log lines as they arrive, as a job log would show them. */
function echoStepLog(child: NodeJS.ReadableStream): void {
  let pending = '';
  child.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.trim() && !HIDDEN_BY_THE_RUNNER.test(line)) say(`  step │ ${line}`);
  });
}

async function play(stage: Stage): Promise<number> {
  const { control } = stage;
  say(`1. alice pushed a change to ${CHANGED_FILE}; her workflow reaches the deploy step: \`deploy\` to \`production\` in ${REPOSITORY}`);
  const step = await stage.startDeploy();
  echoStepLog(step.running.child.stdout!);
  let exited: StepResult | undefined;
  const result = step.running.result.then((done) => (exited = done));

  const requestId = await stage.requestIdOf(step);
  const issue = await stage.approvalIssueOf(requestId);
  const checkRuns = (await control.checkRuns(REPOSITORY)) as unknown as Array<{ external_id: string; name: string; conclusion: string }>;
  const checkRun = checkRuns.find((run) => run.external_id === requestId);
  expectThat(checkRun?.conclusion === 'action_required', `expected the App's check run to ask for action, found ${JSON.stringify(checkRun?.conclusion)}`);
  expectThat(issue.body.includes('@carol'), `expected approval issue #${issue.number} to mention @carol, the code owner of ${CHANGED_FILE}:\n${issue.body}`);
  say(`   Since the last approved deploy only ${CHANGED_FILE} changed, so the policy asks its code owner: the App opened check run "${checkRun!.name}" (action_required)`);
  detail(`and approval issue #${issue.number} "${issue.title}", mentioning @carol`);

  say('2. bob (write access, not a code owner) comments "/approve"');
  await stage.comment(issue.number, 'bob', '/approve');
  await control.deliveriesIdle();
  let reply: string | undefined;
  // The reply is a comment, and GitHub's guidance spaces an installation's comments a few seconds
  // apart (the approval issue went out just before it): on a busy machine that takes a while.
  await until('the App to answer bob', async () => {
    reply = (await stage.appCommentsOn(issue.number)).find((body) => body.startsWith('@bob'));
    return reply !== undefined;
  }, PACED_WRITE_MS);
  expectThat(/not counted/.test(reply!), `expected the App to refuse bob's vote, it replied: ${reply}`);
  say(`   The App refused it, replying on #${issue.number}:`);
  detail(`> ${reply!.split('\n')[0]}`);
  // Give a wrongly counted vote time to reach the step before checking that it still waits.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expectThat(exited === undefined, `expected the step to keep waiting after bob's refused vote, it exited with ${exited?.exitCode}:\n${exited?.stdout}`);
  say('   The step is still waiting.');

  say('3. carol (code owner) comments "/approve ship it"');
  const approvedAt = performance.now();
  await stage.comment(issue.number, 'carol', '/approve ship it');
  const done = await result;
  const latencyMs = performance.now() - approvedAt;
  expectThat(done.exitCode === 0, `expected the step to pass, it exited with ${done.exitCode}:\n${done.stdout}${done.stderr}`);
  expectThat(done.outputs.decision === 'approved', `expected decision=approved, got ${JSON.stringify(done.outputs)}`);
  expectThat(done.outputs['approved-by'] === 'carol', `expected approved-by=carol, got ${JSON.stringify(done.outputs['approved-by'])}`);
  say(`   The step resumed and exited 0, ${Math.round(latencyMs)} ms after carol's comment. Its outputs:`);
  for (const name of ['decision', 'approved-by', 'request-id', 'check-run-url', 'reason']) detail(`${name.padEnd(13)} ${done.outputs[name] ?? ''}`);

  say('4. alice\'s `release` job targets `production` with no step at all: GitHub asks the App, a deployment protection rule of the environment');
  const gate = await control.deploymentGate({ repository: REPOSITORY, actor: 'alice', environment: 'production' });
  const jobIssue = await stage.approvalIssueAfter(issue.number);
  type Review = Awaited<ReturnType<typeof control.deploymentReviews>>[number];
  let reviews: Review[] = [];
  const readReviews = async () => (reviews = (await control.deploymentReviews()).filter((review) => review.runId === gate.run_id));
  await until('the App to report on the waiting job', async () => (await readReviews()).length > 0, PACED_WRITE_MS);
  expectThat(reviews.every((review) => review.state === null), `expected the job to wait, GitHub received ${JSON.stringify(reviews)}`);
  say(`   The job waits. The App opened approval issue #${jobIssue.number}, and the run page shows its status report:`);
  detail(`> ${reviews[0].comment}`);
  say('5. carol comments "/approve" on the job\'s issue');
  await stage.comment(jobIssue.number, 'carol', '/approve', REPOSITORY);
  await until('the App to answer the deployment protection rule', async () => (await readReviews()).some((review) => review.state !== null), PACED_WRITE_MS);
  const answer = reviews.find((review) => review.state !== null)!;
  expectThat(answer.state === 'approved', `expected the App to approve the job, it answered ${JSON.stringify(answer)}`);
  say(`   The App answered GitHub "${answer.state}" through the run's callback, and the job starts:`);
  detail(`> ${answer.comment}`);
  return latencyMs;
}

async function main(): Promise<number> {
  process.stdout.write('Mercurial JIT Action Approval: demo\n\n');
  say('Starting the GitHub double, and the App with its embedded store (a fresh database takes a few seconds)…');
  const stage = await Stage.start({ verbose });
  let failed = false;
  const stopOnSignal = () => {
    killRunningSteps();
    void stage.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  try {
    say(`Ready. GitHub double at ${stage.github.url}: ${REPOSITORY} needs a code owner's approval to deploy to production`);
    detail(`CODEOWNERS gives /infra/ to @carol; bob has write access; alice runs the workflow; dave's earlier deploy was approved`);
    say(`App at ${stage.appUrl} (its own process, embedded store in a temp dir)`);
    say('Action: dist/index.js as a child process with a runner\'s environment\n');
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new StoryError(`the story took longer than ${STORY_TIMEOUT_MS / 1000} s`)), STORY_TIMEOUT_MS).unref());
    const latencyMs = await Promise.race([play(stage), timer]);
    process.stdout.write(`\nThe story played as expected in ${Math.round(performance.now() - t0)} ms; approval → step exit: ${Math.round(latencyMs)} ms.\n`);
  } catch (err) {
    failed = true;
    process.stderr.write(`\nDEMO FAILED: ${err instanceof StoryError ? err.message : (err as Error).stack}\n`);
    if (!verbose && stage.appOutput()) process.stderr.write(`\nThe App's log (warnings and errors):\n${stage.appOutput()}\n`);
  } finally {
    killRunningSteps();
    await stage.stop();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`DEMO FAILED: could not set the stage up: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
