/**
 * APP_URL with a path (`https://example.com/jit`), a proxy serving the App there and stripping the
 * prefix before the App: the dashboard's redirects, links and sign-in lead the browser under that path.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { World } from '../app/harness.js';
import { DashboardClient } from './http-client.js';

let world: World;
let appUrl: string;
beforeAll(async () => {
  world = await World.start({}, { dashboard: true, path: '/jit' });
  appUrl = `${world.app.url}/jit`;
}, 60_000);
afterAll(async () => world?.stop());

/** What the proxy forwards of a URL the browser opens (resolved against the page it is on): the path without the prefix. */
function forwarded(url: string, from = `${appUrl}/`): string {
  const target = new URL(url, from);
  expect(`${target.origin}${target.pathname}`.startsWith(`${appUrl}/`)).toBe(true);
  return `${target.pathname.slice('/jit'.length)}${target.search}`;
}

const unescape = (text: string) => text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('an APP_URL with a path, behind a proxy that strips it', () => {
  it('signs people in and back to the page they opened, and links every page under that path', async () => {
    const browser = new DashboardClient(world);
    // A check run's details link.
    const opened = `${appUrl}/dashboard/requests`;
    const first = await browser.get(forwarded(opened));
    expect(first.status).toBe(303);
    const signIn = new URL(first.headers.get('location')!, opened);
    expect(signIn.pathname).toBe('/jit/dashboard/sign-in');
    expect(signIn.searchParams.get('return_to')).toBe('/jit/dashboard/requests');
    const signInPage = await browser.get(forwarded(signIn.href));
    const start = unescape(/<a class="button" href="([^"]+)">Sign in with GitHub/.exec(signInPage.text)![1]!);
    const authorize = new URL((await browser.get(forwarded(start, signIn.href))).headers.get('location')!);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${appUrl}/dashboard/auth/callback`);
    const consent = await fetch(`${authorize.origin}${authorize.pathname}`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), login: 'alice' }) });
    const callback = consent.headers.get('location')!;
    const back = await browser.get(forwarded(callback));
    expect(back.status).toBe(303);
    expect(new URL(back.headers.get('location')!, callback).href).toBe(opened);
    const page = await browser.get(forwarded(opened));
    expect(page.status).toBe(200);
    const links = [...page.text.matchAll(/(?:href|action)="([^"]+)"/g)].map((m) => unescape(m[1]!)).filter((link) => link.startsWith('/'));
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((link) => !link.startsWith('/jit/dashboard/'))).toEqual([]);
  });
});
