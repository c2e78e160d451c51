/**
 * Webhook deliveries: GitHub-shaped payloads, signed, sent one at a time in order or (as GitHub, which promises
 * no order) concurrently and out of order, with hold/reorder/delay/redeliver controls.
 */
import { createHmac } from 'node:crypto';
import { checkRunJson, commentJson, installationJson, issueJson, nodeId, pullJson, repoJson, userJson, type Urls } from './shapes.js';
import { diffTrees } from './git.js';
import type { DomainEvent, DoubleState } from './state.js';
import { seededRandom } from '../seeded-random.js';
import type { App, CheckRun, Comment, Commit, Installation, Issue, Pull } from './types.js';

export interface DeliveryAttempt {
  status: number | null;
  error?: string;
  at: string;
  durationMs: number;
}

export interface Delivery {
  /** X-GitHub-Delivery; a redelivery keeps it, as GitHub's "Redeliver" does. */
  id: string;
  seq: number;
  event: string;
  action: string | null;
  appId: number;
  installationId: number | null;
  url: string | null;
  body: string;
  state: 'queued' | 'held' | 'delivered' | 'failed' | 'undeliverable';
  attempts: DeliveryAttempt[];
}

export interface DeliveryFilter {
  event?: string;
  action?: string;
  appId?: number;
  /** Only deliveries with a larger seq. */
  after?: number;
}

/** Long runs (benchmarks) keep only this many past deliveries. */
const MAX_DELIVERIES = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `sequential`: one delivery at a time, in order. `concurrent`: each at once after its own random delay. */
export interface DeliveryLoss {
  dropRate?: number;
  duplicateRate?: number;
  seed?: number;
}

export type DeliveryMode = { mode: 'sequential' } | { mode: 'concurrent'; maxJitterMs?: number; seed?: number };

function deliveryGuid(seq: number): string {
  return `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`;
}

export function sign(secret: string, body: string, algorithm: 'sha1' | 'sha256' = 'sha256'): string {
  return `${algorithm}=${createHmac(algorithm, secret).update(body).digest('hex')}`;
}

export class WebhookDispatcher {
  readonly deliveries: Delivery[] = [];
  private paused = false;
  private delayMs = 0;
  private chain: Promise<void> = Promise.resolve();
  private concurrent: { maxJitterMs: number; random: () => number } | null = null;
  private loss: { dropRate: number; duplicateRate: number; random: () => number } | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private seq = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly getState: () => DoubleState, private readonly urls: Urls) {}

  /** Turns a domain event into one delivery per App that should hear of it. */
  publish(event: DomainEvent): Delivery[] {
    const state = this.getState();
    const recipients = [...state.installations.values()].filter((i) => {
      if (event.appId !== undefined && i.appId !== event.appId) return false;
      // A suspended installation hears only of its own suspension ending (and of its uninstallation).
      if (i.suspended && event.name !== 'installation') return false;
      if (event.repo) return i.account.id === event.repo.owner.id && (i.repositories === 'all' || i.repositories.has(event.repo.id));
      return event.account !== undefined && i.account.id === event.account.id;
    });
    const created: Delivery[] = [];
    for (const installation of recipients) {
      const app = state.apps.get(installation.appId) as App;
      // Every App hears of its own installation's changes: `installation` and `installation_repositories` need no subscription.
      if (event.name !== 'installation' && event.name !== 'installation_repositories' && app.events && !app.events.includes(event.name)) continue;
      const payload = this.payload(state, event, installation, app);
      this.seq += 1;
      const delivery: Delivery = {
        id: deliveryGuid(this.seq), seq: this.seq, event: event.name, action: event.action ?? null, appId: app.id,
        installationId: installation.id, url: app.webhook?.url ?? null, body: JSON.stringify(payload),
        state: app.webhook ? 'queued' : 'undeliverable', attempts: [],
      };
      this.deliveries.push(delivery);
      if (this.deliveries.length > MAX_DELIVERIES) this.deliveries.shift();
      created.push(delivery);
      if (!app.webhook) continue;
      if (this.paused) delivery.state = 'held';
      else this.scheduleThroughLoss(delivery);
    }
    this.notify();
    return created;
  }

  private payload(state: DoubleState, event: DomainEvent, installation: Installation, app: App): Record<string, unknown> {
    const { repo, urls } = { repo: event.repo, urls: this.urls };
    const body: Record<string, unknown> = { ...event.body };
    if (repo) {
      if (body.issue) body.issue = issueJson(body.issue as Issue, repo, state, urls);
      if (body.comment) body.comment = commentJson(body.comment as Comment, repo, state, urls);
      if (body.pull) {
        const pull = body.pull as Pull;
        delete body.pull;
        const changes = diffTrees((repo.commits.get(pull.baseSha) as Commit).files, (repo.commits.get(pull.mergeSha) as Commit).files);
        body.pull_request = pullJson(pull, repo, state, urls, changes);
      }
      if (body.check_run) {
        const run = body.check_run as CheckRun;
        const json = checkRunJson(run, repo, state, urls);
        body.check_run = {
          ...json,
          check_suite: {
            id: run.checkSuiteId, node_id: nodeId('CheckSuite', run.checkSuiteId), head_branch: null, head_sha: run.headSha,
            status: 'completed', conclusion: null, url: `${urls.api}/repos/${repo.fullName}/check-suites/${run.checkSuiteId}`,
            before: null, after: run.headSha, pull_requests: json.pull_requests, app: json.app, created_at: run.updatedAt,
            updated_at: run.updatedAt, repository: repoJson(repo, state, urls),
          },
        };
      }
    }
    if (body.installation) {
      const inst = body.installation as Installation;
      body.installation = installationJson(inst, app, urls);
      // `installation_repositories` names what changed instead (repositories_added, repositories_removed).
      if (event.name === 'installation') body.repositories = state.installationRepos(inst).map((r) => ({ id: r.id, node_id: nodeId('Repository', r.id), name: r.name, full_name: r.fullName, private: r.private }));
      body.requester = null;
    } else {
      body.installation = { id: installation.id, node_id: nodeId('Installation', installation.id) };
    }
    return {
      ...(event.action ? { action: event.action } : {}),
      ...body,
      ...(repo ? { repository: repoJson(repo, state, urls) } : {}),
      sender: userJson(event.sender, urls),
    };
  }

  /**
   * A new delivery under simulated loss: dropped (GitHub shows it failed and never retries on its own),
   * or sent twice with the same GUID (a proxy retried it), or sent once.
   */
  private scheduleThroughLoss(delivery: Delivery): void {
    const loss = this.loss;
    const roll = loss?.random() ?? 1;
    if (loss && roll < loss.dropRate) {
      delivery.state = 'failed';
      delivery.attempts.push({ status: null, error: 'dropped in transit (simulated loss)', at: new Date().toISOString(), durationMs: 0 });
      return;
    }
    this.schedule(delivery);
    if (loss && roll < loss.dropRate + loss.duplicateRate) this.schedule(delivery);
  }

  private schedule(delivery: Delivery): void {
    delivery.state = 'queued';
    if (this.concurrent) {
      const jitter = Math.floor(this.concurrent.random() * (this.concurrent.maxJitterMs + 1));
      const sending = sleep(this.delayMs + jitter).then(() => this.send(delivery));
      this.inFlight.add(sending);
      void sending.finally(() => this.inFlight.delete(sending));
      return;
    }
    this.chain = this.chain.then(async () => {
      if (this.delayMs) await sleep(this.delayMs);
      await this.send(delivery);
    });
  }

  private async send(delivery: Delivery): Promise<void> {
    const app = this.getState().apps.get(delivery.appId);
    const webhook = app?.webhook;
    if (!webhook) {
      delivery.state = 'undeliverable';
      this.notify();
      return;
    }
    const started = Date.now();
    const clock = performance.now();
    const attempt: DeliveryAttempt = { status: null, at: new Date(started).toISOString(), durationMs: 0 };
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/double',
          'x-github-event': delivery.event, 'x-github-delivery': delivery.id, 'x-github-hook-id': String(delivery.appId),
          'x-github-hook-installation-target-type': 'integration', 'x-github-hook-installation-target-id': String(delivery.appId),
          'x-hub-signature': sign(webhook.secret, delivery.body, 'sha1'), 'x-hub-signature-256': sign(webhook.secret, delivery.body),
        },
        body: delivery.body,
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      attempt.status = response.status;
    } catch (error) {
      attempt.error = (error as Error).message;
    }
    attempt.durationMs = performance.now() - clock;
    delivery.attempts.push(attempt);
    delivery.state = attempt.status !== null && attempt.status >= 200 && attempt.status < 300 ? 'delivered' : 'failed';
    this.notify();
  }

  // ---- controls ------------------------------------------------------------------------------

  /** Forgets deliveries and returns the controls to their defaults (no hold, no delay). */
  reset(): void {
    this.deliveries.length = 0;
    this.paused = false;
    this.delayMs = 0;
    this.concurrent = null;
    this.loss = null;
  }

  setMode(mode: DeliveryMode): void {
    this.concurrent = mode.mode === 'concurrent' ? { maxJitterMs: mode.maxJitterMs ?? 50, random: seededRandom(mode.seed ?? 1) } : null;
  }

  /** New deliveries are dropped or sent twice with these probabilities (replayable with `seed`); zero rates end it. */
  setLoss(loss: DeliveryLoss): void {
    const { dropRate = 0, duplicateRate = 0, seed = 1 } = loss;
    for (const [name, rate] of [['drop rate', dropRate], ['duplicate rate', duplicateRate]] as const) {
      if (!(rate >= 0 && rate <= 1)) throw new Error(`${name} must be between 0 and 1, not ${rate}`);
    }
    if (dropRate + duplicateRate > 1) throw new Error('drop rate and duplicate rate together must not exceed 1');
    this.loss = dropRate === 0 && duplicateRate === 0 ? null : { dropRate, duplicateRate, random: seededRandom(seed) };
  }

  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** Hold new deliveries until `release`. */
  pause(): void {
    this.paused = true;
  }

  /** Sends the held deliveries: in order, reversed, or in the order of the given delivery seqs (others follow in order). */
  release(order: 'fifo' | 'reverse' | number[] = 'fifo'): Delivery[] {
    this.paused = false;
    let held = this.deliveries.filter((d) => d.state === 'held');
    if (order === 'reverse') held = held.reverse();
    else if (Array.isArray(order)) {
      const rank = (d: Delivery) => (order.includes(d.seq) ? order.indexOf(d.seq) : order.length + d.seq);
      held = held.sort((a, b) => rank(a) - rank(b));
    }
    held.forEach((d) => this.schedule(d));
    return held;
  }

  /** Sends a delivery again (same GUID and body). */
  redeliver(seq: number): Delivery {
    const delivery = this.deliveries.find((d) => d.seq === seq);
    if (!delivery) throw new Error(`no delivery ${seq}`);
    this.schedule(delivery);
    return delivery;
  }

  list(filter: DeliveryFilter = {}): Delivery[] {
    return this.deliveries.filter((d) => (!filter.event || d.event === filter.event) && (!filter.action || d.action === filter.action)
      && (filter.appId === undefined || d.appId === filter.appId) && (filter.after === undefined || d.seq > filter.after));
  }

  /** Resolves with the first matching delivery that has been attempted (Apps without a webhook URL never match). */
  waitFor(filter: DeliveryFilter, timeoutMs = 5000): Promise<Delivery> {
    const settled = () => this.list(filter).find((d) => d.state !== 'queued' && d.state !== 'held' && d.attempts.length > 0);
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = settled();
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no delivery matching ${JSON.stringify(filter)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.chain;
      await Promise.all([current, ...this.inFlight]);
    } while (current !== this.chain || this.inFlight.size > 0);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  get lastSeq(): number {
    return this.seq;
  }
}
