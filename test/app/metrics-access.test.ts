/** `METRICS_TOKEN`: with it set, only a scraper holding the token reads /metrics; health stays open for probes. */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { job, World } from './harness.js';

const TOKEN = 'metrics-token-0123456789abcdef';

let world: World;
beforeAll(async () => {
  world = await World.start({ metricsToken: TOKEN });
}, 60_000);
afterAll(async () => world?.stop());

const metrics = (authorization?: string) => fetch(`${world.app.url}/metrics`, { headers: authorization === undefined ? {} : { authorization } });

describe('GET /metrics with METRICS_TOKEN set', () => {
  it('serves Prometheus text to a request bearing the token', async () => {
    await world.open(job(), { action: 'publish-docs' });
    const answer = await metrics(`Bearer ${TOKEN}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    expect(await answer.text()).toMatch(/^jit_requests\{status="approved"\} [1-9]\d*$/m);
  });

  it.each([
    ['no Authorization header', undefined],
    ['another token', 'Bearer metrics-token-0123456789abcdeX'],
    ['the token as a prefix of a longer one', `Bearer ${TOKEN}0`],
    ['the token without the Bearer scheme', TOKEN],
    ['the token as Basic credentials', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`],
  ])('answers 401 without any metric to %s', async (_case, authorization) => {
    const answer = await metrics(authorization);
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const text = await answer.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'unauthenticated', message: 'send the METRICS_TOKEN as "Authorization: Bearer <token>"' } });
    expect(text).not.toContain('jit_');
  });

  it('leaves /healthz open, for load balancers and probes', async () => {
    const health = await fetch(`${world.app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it("answers 503 when the store is down without showing the store's error, which can name its host and user", async () => {
    jest.spyOn(world.app.store, 'ping').mockRejectedValueOnce(new Error('password authentication failed for user "jit_prod" at db-7.internal.example:5432'));
    const health = await fetch(`${world.app.url}/healthz`);
    expect(health.status).toBe(503);
    const text = await health.text();
    expect(JSON.parse(text)).toMatchObject({ status: 'unavailable', error: { code: 'store_unavailable' } });
    expect(text).not.toMatch(/jit_prod|internal\.example|password/);
    expect((await fetch(`${world.app.url}/healthz`)).status).toBe(200);
  });
});

/**
 * /healthz is open to anyone, and /metrics too without METRICS_TOKEN: neither may let a stream of
 * requests make the store count every request it holds each time (the embedded store answers one query
 * at a time, so webhooks and the Action's polls would wait behind them).
 */
describe('answering probes and scrapes cheaply', () => {
  it("answers /healthz without counting the store's requests", async () => {
    const count = jest.spyOn(world.app.store, 'countRequestsByStatus');
    count.mockClear();
    try {
      for (let i = 0; i < 20; i++) expect((await fetch(`${world.app.url}/healthz`)).status).toBe(200);
      expect(count).not.toHaveBeenCalled();
    } finally {
      count.mockRestore();
    }
  });

  it('counts the requests at most once for a burst of scrapes', async () => {
    await world.open(job(), { action: 'publish-docs' });
    const count = jest.spyOn(world.app.store, 'countRequestsByStatus');
    count.mockClear();
    try {
      const scrapes = await Promise.all(Array.from({ length: 10 }, () => metrics(`Bearer ${TOKEN}`)));
      for (let i = 0; i < 10; i++) scrapes.push(await metrics(`Bearer ${TOKEN}`));
      for (const scrape of scrapes) {
        expect(scrape.status).toBe(200);
        expect(await scrape.text()).toMatch(/^jit_requests\{status="approved"\} [1-9]\d*$/m);
      }
      expect(count.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      count.mockRestore();
    }
  });
});
