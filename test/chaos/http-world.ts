/**
 * The whole App, as in production: the real Probot server over HTTP, real OIDC tokens, signed
 * webhooks from the GitHub double (comments, edits, deletions, replayed deliveries, check-run
 * buttons, pushes), the outbox showing each request on GitHub, and the Action's cancel call. Slow,
 * so it plays fewer scenarios; `approval-http.test.ts` checks that it does exactly what the
 * in-process driver does with them. Time does not pass here: scenarios for it have no waits.
 */
import { World, job } from '../app/harness.js';
import { ControlError } from '../github-double/index.js';
import type { ApprovalRequest } from '../../app/store/index.js';
import { observeRequest, observeStep } from './observation.js';
import { ACCOUNTS, codeownersText, commentBody, FILES, isBotLogin, policyYaml, TEAMS, type ChaosEvent, type Observation, type Scenario, type Status, type Trace } from './scenario.js';
import { untilTheSecondAfter } from '../whole-seconds.js';

const OWNER = 'acme';

/** Reads until `accept` holds or `timeoutMs` passes; returns the last value read. */
async function poll<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

interface PostedComment {
  id: number;
  by: string;
  delivery: number;
  deleted: boolean;
}

export class HttpWorld {
  private scenarios = 0;

  private constructor(readonly world: World) {}

  static async start(): Promise<HttpWorld> {
    const world = await World.start();
    await world.control.seed({
      users: ACCOUNTS.filter(isBotLogin).map((login) => ({ login, type: 'Bot' as const })),
      teams: Object.entries(TEAMS).map(([team, members]) => ({ org: team.split('/')[0], slug: team.split('/')[1], members: [...members] })),
    });
    return new HttpWorld(world);
  }

  async stop(): Promise<void> {
    await this.world.stop();
  }

  async play(scenario: Scenario): Promise<Trace> {
    if (scenario.events.some((e) => e.kind === 'wait' || e.kind === 'tick' || e.kind === 'early-comment')) {
      throw new Error('over HTTP the App runs on real time: scenarios for it have no waits, timer runs or comments dated before the request');
    }
    const { world } = this;
    const { control } = world;
    const { run } = scenario;
    const name = `chaos-http-${++this.scenarios}`;
    const repository = `${OWNER}/${name}`;
    const collaborators = Object.fromEntries(Object.entries(scenario.permissions).filter(([, level]) => level !== 'none')) as Record<string, 'admin' | 'maintain' | 'write' | 'triage' | 'read'>;
    await control.seed({
      repos: [
        {
          owner: OWNER,
          name,
          branches: {
            main: {
              '.github/jit-approval.yml': policyYaml(scenario.policy),
              '.github/CODEOWNERS': codeownersText(scenario.codeowners),
              ...Object.fromEntries(FILES.map((file) => [file, `${file} on main\n`])),
            },
          },
          collaborators,
        },
      ],
    });
    const pull = run.kind === 'pull'
      ? await control.openPull({ repository, user: run.author, title: 'Change', head: 'feature', files: Object.fromEntries(run.files.map((file) => [file, `${file} changed\n`])) })
      : undefined;
    const runner = job({
      repository,
      actor: run.actor,
      environment: 'production',
      ...(pull ? { ref: `refs/pull/${pull.number}/merge`, sha: pull.merge_sha, event_name: 'pull_request', head_ref: 'feature', base_ref: 'main' } : { ref: 'refs/heads/main', event_name: 'push' }),
    });
    const answer = await world.openAsIs(runner, { action: 'deploy', ...(run.severity ? { severity: run.severity } : {}) });
    if (answer.status !== 200) throw new Error(`opening the request answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    const id = answer.body.id as string;
    // Its outbox shows it on GitHub: the check run (for the buttons) and, for a waiting request without a pull request, the approval issue.
    const shown = (r: ApprovalRequest | undefined) => r?.checkRunId != null && (pull !== undefined || r.status !== 'pending' || r.issueNumber != null);
    const row = await poll(async () => world.app.store.getRequest(id), shown, 20_000);
    if (!row || !shown(row)) throw new Error(`request ${id} was not shown on GitHub within 20 s`);
    const checkRunId = row.checkRunId!;
    const thread = pull?.number ?? row.issueNumber ?? undefined;
    const opened = await observeRequest(world.app.store, id);
    await untilTheSecondAfter(row.createdAt);

    const comments: PostedComment[] = [];
    const pick = (i: number) => (comments.length === 0 ? undefined : comments[i % comments.length]);
    /** Returns whether anything reached the App. */
    const act = async (event: ChaosEvent): Promise<boolean> => {
      switch (event.kind) {
        case 'comment': {
          if (thread === undefined) return false;
          const { comment, deliveries } = await control.comment({ repository, issue_number: thread, user: event.by, body: commentBody(event.says) });
          comments.push({ id: comment.id, by: event.by, delivery: deliveries[0], deleted: false });
          return true;
        }
        case 'edit': {
          const comment = pick(event.target);
          if (!comment || comment.deleted) return false;
          await control.editComment({ repository, comment_id: comment.id, user: comment.by, body: commentBody(event.says) });
          return true;
        }
        case 'delete': {
          const comment = pick(event.target);
          if (!comment || comment.deleted) return false;
          comment.deleted = true;
          await control.deleteComment({ repository, comment_id: comment.id, user: comment.by });
          return true;
        }
        case 'replay': {
          const comment = pick(event.target);
          if (!comment) return false;
          await control.redeliver(comment.delivery);
          return true;
        }
        case 'button':
          try {
            await control.clickCheckRunButton({ repository, check_run_id: checkRunId, user: event.by, identifier: event.choice === 'approve' ? 'jit-approve' : 'jit-reject' });
          } catch (err) {
            // A decided request's check run shows no buttons (once the outbox caught up): nobody can click them.
            const decided = (await world.app.store.getRequest(id))?.status !== 'pending';
            if (decided && err instanceof ControlError && err.status === 422) return false;
            throw err;
          }
          return true;
        case 'revoke':
          await control.setPermission(repository, event.who, null);
          return false;
        case 'push':
          if (!pull) return false;
          await control.pushCommit(repository, { branch: 'feature', files: { [run.files[0]]: `${run.files[0]} changed again ${Math.random()}\n` } });
          return true;
        case 'give-up': {
          const cancelled = await world.api('POST', `/api/v1/requests/${id}/cancel`, await world.token(runner), { reason: 'timeout' });
          if (cancelled.status !== 200) throw new Error(`cancelling answered ${cancelled.status}: ${JSON.stringify(cancelled.body)}`);
          return true;
        }
        case 'wait':
        case 'tick':
        case 'early-comment':
          return false;
      }
    };

    const steps: Observation[] = [];
    let last: Observation = { status: opened.status, votes: opened.votes };
    for (const event of scenario.events) {
      // The App answers a delivery once its effect is committed: when none is left to deliver, the store says what it did.
      if (await act(event)) await control.deliveriesIdle();
      if (last.status === 'pending') last = await observeStep(world.app.store, row);
      steps.push(last);
    }
    const final = await observeRequest(world.app.store, id);
    // The outbox shows each change on GitHub one write a second (as GitHub asks of Apps); let it catch up, so the next scenario's request is not shown behind this one's.
    await world.settle(60_000);
    return { opened: { status: opened.status as Status, votes: opened.votes }, steps, final };
  }
}
