/// <reference lib="dom" />
/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core. Approvers sign in
 * through the GitHub double's OAuth flow and click through; axe-core checks each main page; the
 * pages are saved as screenshots in test/dashboard/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseCsv } from 'csv-parse/sync';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { cancelledAfterEach, job, OTHER_REPO, World } from '../app/harness.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let world: World;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  [world, browser] = await Promise.all([
    World.start({}, { dashboard: true }),
    chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await world?.stop();
});

const opened = cancelledAfterEach(() => world);
const prJob = () => job({ ref: 'refs/pull/7/merge', event_name: 'pull_request', head_ref: 'feature', base_ref: 'main' });

async function openPending(run = prJob(), body: Record<string, unknown> = { action: 'deploy', environment: 'production', severity: 'high', summary: 'Ship the feature' }) {
  const { status, body: answer } = await world.open(run, body);
  expect(status).toBe(200);
  expect(answer.status).toBe('pending');
  opened.push({ run, id: answer.id as string });
  return { run, id: answer.id as string };
}

/** A browser of one's own, signed in as `login` by clicking through GitHub's (the double's) sign-in. */
async function signIn(login: string): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${world.app.url}/dashboard/`);
  await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
  await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
  await page.getByLabel('Sign in as').fill(login);
  await page.getByRole('button', { name: /^Authorize/ }).click();
  await page.waitForURL(`${world.app.url}/dashboard/`);
  return page;
}

/** axe-core in the page (evaluated by the driver, so the page's CSP need not allow it): serious and critical violations. */
async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

async function check(page: Page, name: string): Promise<void> {
  expect(await accessibilityProblems(page)).toEqual([]);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describe('approvers in the browser', () => {
  it('a waiting request appears for its eligible approver and not for others', async () => {
    const { id } = await openPending();
    const bob = await signIn('bob');
    const row = bob.getByRole('row').filter({ has: bob.locator(`a[href="/dashboard/requests/${id}"]`) });
    await expect(row.count()).resolves.toBe(1);
    expect(await row.innerText()).toMatch(/deploy\s+acme\/web\s+production\s+high\s+@mallory\s+waiting/);
    await check(bob, 'waiting-for-me');
    // carol may write to the repository but owns no code, so nothing waits for her.
    const carol = await signIn('carol');
    await expect(carol.locator(`a[href="/dashboard/requests/${id}"]`).count()).resolves.toBe(0);
    await expect(carol.getByText('Nothing is waiting for you.').isVisible()).resolves.toBe(true);
    // All requests lists it for her, with its filters.
    await carol.getByRole('link', { name: 'All requests' }).click();
    await carol.getByLabel('Status').selectOption('pending');
    await carol.getByLabel('Environment').fill('production');
    await carol.getByRole('button', { name: 'Filter' }).click();
    await expect(carol.locator(`a[href="/dashboard/requests/${id}"]`).count()).resolves.toBe(1);
    await check(carol, 'all-requests');
  });

  it('an approval from the page resumes the waiting Action: its long poll answers approved', async () => {
    const { run, id } = await openPending();
    const bob = await signIn('bob');
    await bob.locator(`a[href="/dashboard/requests/${id}"]`).click();
    await expect(bob.getByRole('heading', { level: 1 }).innerText()).resolves.toMatch(/waiting\s+deploy to production/);
    await expect(bob.getByText(/^@bob may approve for /).isVisible()).resolves.toBe(true);
    await expect(bob.getByText('Ship the feature').isVisible()).resolves.toBe(true);
    await check(bob, 'request');
    const poll = world.poll(run, id, 30);
    await bob.getByLabel('Note (optional)').fill('checked the plan');
    await bob.getByRole('button', { name: 'Approve' }).click();
    await expect(bob.getByText('Your approval was recorded.').isVisible()).resolves.toBe(true);
    expect((await poll).body).toMatchObject({ status: 'approved', approved_by: ['bob'] });
    await expect(bob.getByRole('heading', { level: 1 }).innerText()).resolves.toMatch(/approved/);
    await expect(bob.locator('.timeline').innerText()).resolves.toMatch(/vote by @bob — approve · via dashboard · “checked the plan”/);
  });

  it('an ineligible user sees why, and has no buttons', async () => {
    const { id } = await openPending();
    const mallory = await signIn('mallory');
    await mallory.goto(`${world.app.url}/dashboard/requests/${id}`);
    const why = await mallory.locator('section[aria-labelledby="you"] p').innerText();
    expect(why).toContain('@mallory');
    expect(why).not.toContain('may approve');
    await expect(mallory.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
  });

  it('another repository\'s request is invisible', async () => {
    const { id } = await openPending(job({ repository: OTHER_REPO }), { action: 'migrate-api' });
    const bob = await signIn('bob');
    await bob.getByRole('link', { name: 'All requests' }).click();
    await expect(bob.locator(`a[href="/dashboard/requests/${id}"]`).count()).resolves.toBe(0);
    const direct = await bob.goto(`${world.app.url}/dashboard/requests/${id}`);
    expect(direct!.status()).toBe(404);
    await expect(bob.getByRole('heading', { name: 'Not found' }).isVisible()).resolves.toBe(true);
    expect(await bob.content()).not.toContain('migrate-api');
  });

  it('a vote posted without the CSRF token is refused', async () => {
    const { id } = await openPending();
    const bob = await signIn('bob');
    await bob.goto(`${world.app.url}/dashboard/requests/${id}`);
    await bob.locator('form:has(button.approve) input[name="csrf"]').evaluate((input) => input.remove());
    const [answer] = await Promise.all([bob.waitForResponse(`**/dashboard/requests/${id}/vote`), bob.getByRole('button', { name: 'Approve' }).click()]);
    expect(answer.status()).toBe(403);
    await expect(bob.getByText(/CSRF token is missing or wrong/).isVisible()).resolves.toBe(true);
    expect(await world.app.store.listVotes(id)).toEqual([]);
  });

  it('the audit export downloads as CSV and JSON Lines, and parses', async () => {
    const { id } = await openPending();
    const bob = await signIn('bob');
    await bob.goto(`${world.app.url}/dashboard/requests/${id}`);
    await bob.getByLabel('Reason (required)').fill('not this week');
    await bob.getByRole('button', { name: 'Reject' }).click();
    await expect(bob.getByText('Your rejection was recorded.').isVisible()).resolves.toBe(true);
    await bob.getByRole('link', { name: 'Audit' }).click();
    await expect(bob.getByText(/hash chain verifies/).isVisible()).resolves.toBe(true);
    await check(bob, 'audit');
    const download = async (name: string) => {
      const [file] = await Promise.all([bob.waitForEvent('download'), bob.getByRole('link', { name }).click()]);
      return readFileSync((await file.path())!, 'utf8');
    };
    const rows = parseCsv(await download('CSV'), { columns: true }) as Array<Record<string, string>>;
    const csvVote = rows.find((r) => r.request_id === id && r.type === 'vote')!;
    expect(JSON.parse(csvVote.facts!)).toMatchObject({ choice: 'reject', via: 'dashboard', note: 'not this week' });
    expect(csvVote.hash).toMatch(/^[0-9a-f]{64}$/);
    const lines = (await download('JSON Lines')).trimEnd().split('\n').map((line) => JSON.parse(line) as { seq: number; type: string; request_id: string });
    expect(lines.map((l) => l.seq)).toEqual(rows.map((r) => Number(r.seq)));
    expect(lines.filter((l) => l.request_id === id).map((l) => l.type)).toEqual(expect.arrayContaining(['requested', 'vote', 'rejected']));
  });

  it('Explain shows what the policy decides for the facts filled in; the sign-in page is accessible too', async () => {
    const alice = await signIn('alice');
    await alice.getByRole('link', { name: 'Explain' }).click();
    await alice.getByLabel('Repository').selectOption('acme/web');
    await alice.getByLabel('Action').fill('deploy');
    await alice.getByLabel('Environment').fill('production');
    await alice.getByLabel('Changed files (one a line)').fill('src/app.ts');
    await alice.getByRole('button', { name: 'Explain' }).click();
    await expect(alice.getByRole('heading', { name: /Decision: approval required/ }).isVisible()).resolves.toBe(true);
    await expect(alice.locator('.rules').innerText()).resolves.toMatch(/production — matched/);
    await check(alice, 'explain');
    const stranger = await (await browser.newContext()).newPage();
    await stranger.goto(`${world.app.url}/dashboard/`);
    await check(stranger, 'sign-in');
    await stranger.context().close();
  });

  it('is readable on a phone: nothing is wider than the screen', async () => {
    const { id } = await openPending();
    const bob = await signIn('bob');
    await bob.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/dashboard/', `/dashboard/requests/${id}`, '/dashboard/audit']) {
      await bob.goto(`${world.app.url}${path}`);
      const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect([path, overflow]).toEqual([path, 0]);
    }
    await bob.goto(`${world.app.url}/dashboard/requests/${id}`);
    await bob.screenshot({ path: join(SCREENSHOTS, 'request-phone.png'), fullPage: true });
  });
});
