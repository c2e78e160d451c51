/**
 * APP_URL written with a trailing slash. The Action's default audience is its `app-url` without the
 * slash, so the App must take a token for either spelling, and build its links without a double slash.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APP_URL, job, World } from './harness.js';

let world: World;
beforeAll(async () => {
  world = await World.start({ appUrl: `${APP_URL}/` });
}, 60_000);
afterAll(async () => world?.stop());

describe('an APP_URL with a trailing slash', () => {
  it("takes a token for the URL without the slash, the Action's default audience, and links without a double slash", async () => {
    const token = await world.token(job(), { audience: APP_URL });
    const { status, body } = await world.api('POST', '/api/v1/requests', token, { action: 'lint' });
    expect(status).toBe(200);
    expect(body.details_url).toBe(`${APP_URL}/dashboard/requests/${body.id}`);
    expect((await world.checkRun(body.check_run_id as number)).details_url).toBe(`${APP_URL}/dashboard/requests/${body.id}`);
  });

  it('takes a token for the URL as written, with the slash', async () => {
    const run = job();
    const opened = await world.api('POST', '/api/v1/requests', await world.token(run, { audience: APP_URL }), { action: 'lint' });
    const polled = await world.api('GET', `/api/v1/requests/${opened.body.id}`, await world.token(run, { audience: `${APP_URL}/` }));
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ id: opened.body.id, status: 'approved' });
  });

  it.each([`${APP_URL}//`, `${APP_URL}/api`, `${APP_URL}.evil.example`, 'https://someone-else.example/'])('refuses a token for %s', async (audience) => {
    const answer = await world.api('POST', '/api/v1/requests', await world.token(job(), { audience }), { action: 'lint' });
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe('token_audience');
  });
});
