/** `METRICS_PORT`: /metrics leaves the App's public port for a port of its own, which serves nothing else. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { job, World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start({ metricsPort: 0, metricsHost: '127.0.0.1' });
}, 60_000);
afterAll(async () => world?.stop());

describe('with METRICS_PORT set', () => {
  it('serves Prometheus text on the metrics port', async () => {
    await world.open(job(), { action: 'publish-docs' });
    expect(world.app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(world.app.metricsUrl).not.toBe(world.app.url);
    const answer = await fetch(`${world.app.metricsUrl}/metrics`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toMatch(/^jit_requests\{status="approved"\} [1-9]\d*$/m);
  });

  it("answers 404 for /metrics on the App's own port, which still serves the API and health", async () => {
    const answer = await fetch(`${world.app.url}/metrics`);
    expect(answer.status).toBe(404);
    expect(await answer.text()).not.toContain('jit_');
    expect((await fetch(`${world.app.url}/healthz`)).status).toBe(200);
  });

  it('serves nothing but GET /metrics on the metrics port', async () => {
    for (const [method, path] of [['GET', '/healthz'], ['GET', '/api/v1/requests'], ['POST', '/metrics']]) {
      const answer = await fetch(`${world.app.metricsUrl}${path}`, { method });
      expect(answer.status).toBe(404);
    }
  });
});

describe('with METRICS_PORT set and neither HOST nor METRICS_HOST', () => {
  let local: World;
  beforeAll(async () => {
    local = await World.start({ host: undefined, metricsPort: 0 });
  }, 60_000);
  afterAll(async () => local?.stop());

  /** 127.0.0.2 is this machine too, but not `localhost`: only a server listening on every address answers there. */
  const answersAt = (address: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, address);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  it("listens on localhost, as the App's own port does, not on every address", async () => {
    const metricsPort = Number(new URL(local.app.metricsUrl!).port);
    expect(local.app.metricsUrl).toMatch(/^http:\/\/localhost:\d+$/);
    expect((await fetch(`${local.app.metricsUrl}/metrics`)).status).toBe(200);
    expect(await answersAt('127.0.0.2', local.app.port)).toBe(false);
    expect(await answersAt('127.0.0.2', metricsPort)).toBe(false);
  });
});
