/**
 * `npm run dev`: the demo's stage (the GitHub double seeded with acme/payments, the real App in its own
 * process with an embedded store) and a console on stdin to play a flow by hand: start deploy steps from
 * the committed Action bundle, comment as any seeded user, and watch what the App does.
 *
 * The commands live in DevConsole, which takes a line and answers text, so a test drives it without a TTY.
 */
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { killRunningSteps, type StepResult } from '../action/action-process.js';
import { APP_BOT, PEOPLE, REPOSITORY, Stage, type DeployStep } from './stage.js';

export const HELP = `Commands:
  deploy [environment]     start a deploy step (default: production) from the Action bundle; its log is printed as it runs
  comment <user> <text…>   comment as a seeded user on the latest request's approval issue, e.g. comment carol /approve
  users                    the seeded users and their roles
  status                   the requests of this session, their steps and check runs
  help                     this text
  quit                     stop the steps, the App and the GitHub double`;

/** How long after a comment the console keeps printing the App's replies on the issue. */
const REPLY_WINDOW_MS = 30_000;

/** Workflow commands a runner consumes rather than shows in the job log (the token mask among them). */
const HIDDEN_BY_THE_RUNNER = /^::(debug|add-mask)::/;

interface Deploy {
  number: number;
  environment: string;
  step: DeployStep;
  requestId?: string;
  issue?: number;
  exited?: StepResult;
}

interface CheckRun {
  name: string;
  status: string;
  conclusion: string | null;
  external_id: string;
  html_url: string;
}

export class DevConsole {
  private readonly deploys: Deploy[] = [];
  /** Per approval issue, how many of the App's comments have been printed. */
  private readonly repliesShown = new Map<number, number>();
  private stopping: Promise<void> | undefined;

  /** `emit` receives what arrives on its own: the steps' log lines, request ids, exits. */
  constructor(private readonly stage: Stage, private readonly emit: (line: string) => void) {}

  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  /** Runs one command line; answers what to print (empty for a blank line). */
  async run(line: string): Promise<string> {
    const [command = '', ...args] = line.trim().split(/\s+/).filter(Boolean);
    try {
      switch (command) {
        case '': return '';
        case 'deploy': return await this.deploy(args);
        case 'comment': return await this.comment(args);
        case 'users': return this.users();
        case 'status': return await this.status();
        case 'help': return HELP;
        case 'quit': case 'exit': return await this.quit();
        default: return `Unknown command "${command}".\n${HELP}`;
      }
    } catch (err) {
      return `${command} failed: ${(err as Error).message}`;
    }
  }

  private async deploy(args: string[]): Promise<string> {
    if (args.length > 1) return 'usage: deploy [environment]';
    const environment = args[0] ?? 'production';
    const number = this.deploys.length + 1;
    const step = await this.stage.startDeploy({ environment });
    const deploy: Deploy = { number, environment, step };
    this.deploys.push(deploy);
    const prefix = `[deploy ${number}] │ `;
    let pending = '';
    step.running.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const text of lines) if (text.trim() && !HIDDEN_BY_THE_RUNNER.test(text)) this.emit(`${prefix}${text}`);
    });
    void step.running.result.then((done) => {
      deploy.exited = done;
      const outputs = ['decision', 'approved-by', 'reason'].filter((name) => done.outputs[name]).map((name) => `${name}=${done.outputs[name]}`);
      this.emit(`[deploy ${number}] exited ${done.exitCode}${outputs.length ? ` (${outputs.join(', ')})` : ''}`);
      if (done.exitCode !== 0 && done.stderr.trim()) this.emit(`[deploy ${number}] stderr: ${done.stderr.trim()}`);
    });
    return `[deploy ${number}] alice's deploy step to ${environment} in ${REPOSITORY} started (run ${step.runId})`;
  }

  private async comment(args: string[]): Promise<string> {
    const [user, ...words] = args;
    if (!user || words.length === 0) return 'usage: comment <user> <text…>';
    if (!PEOPLE.some((person) => person.login === user)) return `unknown user "${user}"; seeded users: ${PEOPLE.map((person) => person.login).join(', ')}`;
    const deploy = this.deploys.at(-1);
    if (!deploy) return 'no request yet: start one with "deploy"';
    const issue = await this.issueOf(deploy);
    if (!this.repliesShown.has(issue)) this.repliesShown.set(issue, (await this.stage.appCommentsOn(issue)).length);
    await this.stage.comment(issue, user, words.join(' '));
    await this.stage.control.deliveriesIdle();
    void this.showReplies(issue);
    return `${user} commented on #${issue}: ${words.join(' ')}`;
  }

  /** Prints the App's replies on the issue (a refused vote, say) as they come, for a few seconds. */
  private async showReplies(issue: number): Promise<void> {
    const until = Date.now() + REPLY_WINDOW_MS;
    try {
      while (Date.now() < until && !this.stopped) {
        const replies = await this.stage.appCommentsOn(issue);
        // Another comment's watch may run alongside: the shared count keeps each reply printed once.
        const seen = this.repliesShown.get(issue) ?? 0;
        for (const reply of replies.slice(seen)) this.emit(`[#${issue}] ${APP_BOT}: ${reply.split('\n')[0]}`);
        this.repliesShown.set(issue, Math.max(seen, replies.length));
        await new Promise((resolveSleep) => setTimeout(resolveSleep, 200));
      }
    } catch {
      // The double stopped (quit) while we watched.
    }
  }

  /** The deploy's approval issue, once its step has opened its request and the App its issue. */
  private async issueOf(deploy: Deploy): Promise<number> {
    if (deploy.issue !== undefined) return deploy.issue;
    deploy.requestId ??= await this.stage.requestIdOf(deploy.step);
    deploy.issue = (await this.stage.approvalIssueOf(deploy.requestId)).number;
    return deploy.issue;
  }

  private users(): string {
    return usersTable().join('\n');
  }

  private async status(): Promise<string> {
    if (this.deploys.length === 0) return 'No requests yet: start one with "deploy".';
    const checkRuns = (await this.stage.control.checkRuns(REPOSITORY)) as unknown as CheckRun[];
    const lines: string[] = [];
    for (const deploy of this.deploys) {
      deploy.requestId ??= /Approval request (\S+) opened/.exec(deploy.step.running.stdout())?.[1];
      const state = deploy.exited ? `exited ${deploy.exited.exitCode}` : 'waiting';
      lines.push(`deploy ${deploy.number} to ${deploy.environment}: step ${state}, request ${deploy.requestId ?? '(not opened yet)'}${deploy.issue !== undefined ? `, issue #${deploy.issue}` : ''}`);
      const runs = deploy.requestId ? checkRuns.filter((run) => run.external_id === deploy.requestId) : [];
      for (const run of runs) lines.push(`  check run "${run.name}": ${run.status}${run.conclusion ? ` / ${run.conclusion}` : ''}  ${run.html_url}`);
      if (deploy.requestId && runs.length === 0) lines.push('  no check run');
    }
    const pending = this.deploys.filter((deploy) => !deploy.exited).length;
    lines.push(`${pending} pending`);
    return lines.join('\n');
  }

  /** Stops the steps, the App and the double; safe to call again. */
  quit(): Promise<string> {
    this.stopping ??= (async () => {
      killRunningSteps();
      await Promise.all(this.deploys.map((deploy) => deploy.step.running.result));
      await this.stage.stop();
    })();
    return this.stopping.then(() => 'Stopped.');
  }
}

/** One line per seeded user: login, access to the repository, part played. */
function usersTable(): string[] {
  const width = Math.max(...PEOPLE.map((person) => person.login.length));
  return PEOPLE.map((person) => `${person.login.padEnd(width)}  ${person.permission.padEnd(8)}  ${person.role}`);
}

/** What `npm run dev` prints once everything is up. */
export function banner(stage: Stage): string {
  return [
    `GitHub double at ${stage.github.url} (REST API ${stage.github.apiUrl}), seeded with ${REPOSITORY}`,
    `App at ${stage.appUrl} (its own process, embedded store in a temp dir; bot ${APP_BOT})`,
    `Dashboard at ${stage.appUrl}/dashboard (sign in as any seeded user on the double's page)`,
    'Seeded users:',
    ...usersTable().map((line) => `  ${line}`),
    '',
    'Try this:',
    '  deploy                  (alice deploys to production; the policy asks carol, code owner of the changed file)',
    '  comment bob /approve    (refused: bob owns nothing) — then: comment carol /approve, and the step exits 0',
    '  status                  (requests and check runs); help for all commands, quit to stop',
  ].join('\n');
}

async function main(): Promise<void> {
  process.stdout.write('Starting the GitHub double, and the App with its embedded store (a fresh database takes a few seconds)…\n');
  const stage = await Stage.start({ verbose: process.env.DEV_VERBOSE === '1' });
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'jit> ' });
  // Lines that arrive while the prompt waits: print them above it, then redraw the prompt.
  const devConsole = new DevConsole(stage, (line) => {
    process.stdout.write(process.stdout.isTTY ? `\r\x1b[K${line}\n` : `${line}\n`);
    if (!devConsole.stopped) rl.prompt(true);
  });
  // One command at a time, in order, even when lines are pasted or piped together.
  let queue = Promise.resolve();
  let exiting = false;
  const stop = async () => {
    if (exiting) return;
    exiting = true;
    process.stdout.write(`${await devConsole.quit()}\n`);
    rl.close();
    process.exit(0);
  };
  // Ctrl-C reaches readline on a TTY, the process otherwise; Ctrl-D or the end of piped input closes readline.
  rl.on('SIGINT', () => void stop());
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  rl.on('close', () => void queue.then(stop));
  process.stdout.write(`${banner(stage)}\n\n`);
  rl.prompt();
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      if (exiting) return;
      if (line.trim() === 'quit' || line.trim() === 'exit') return stop();
      const answer = await devConsole.run(line);
      if (answer) process.stdout.write(`${answer}\n`);
      rl.prompt();
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((err) => {
    process.stderr.write(`npm run dev could not start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
