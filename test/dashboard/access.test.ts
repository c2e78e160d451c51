/**
 * Who sees what on the dashboard, over HTTP: sign-in through GitHub's web flow, cookie flags, requests
 * of unreadable repositories as absent as requests that do not exist, CSRF, sign-out and session expiry.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { cancelledAfterEach, eventually, job, OTHER_REPO, World } from '../app/harness.js';
import { DashboardClient } from './http-client.js';

let world: World;
/** Moves the App's clock (sessions, and everything else) forward. */
let clockOffsetMs = 0;
beforeAll(async () => {
  world = await World.start({ clock: () => Date.now() + clockOffsetMs }, { dashboard: true });
}, 60_000);
afterAll(async () => world?.stop());

const opened = cancelledAfterEach(() => world);
const prJob = () => job({ ref: 'refs/pull/7/merge', event_name: 'pull_request', head_ref: 'feature', base_ref: 'main' });

async function openPending(run = prJob(), body: Record<string, unknown> = { action: 'deploy', environment: 'production' }): Promise<string> {
  const { status, body: answer } = await world.open(run, body);
  expect(status).toBe(200);
  expect(answer.status).toBe('pending');
  opened.push({ run, id: answer.id as string });
  return answer.id as string;
}

async function signedIn(login: string): Promise<DashboardClient> {
  const client = new DashboardClient(world);
  await client.signIn(login);
  return client;
}

describe('signing in', () => {
  it('signs in through GitHub; the session cookie is HttpOnly and SameSite=Lax (not Secure only because the App is on loopback)', async () => {
    const bob = new DashboardClient(world);
    expect(await bob.signIn('bob', '/dashboard/requests')).toBe('/dashboard/requests');
    const session = bob.setCookies.find((line) => line.startsWith('jit_session=') && !/max-age=0/i.test(line))!;
    expect(session).toMatch(/; HttpOnly/i);
    expect(session).toMatch(/; SameSite=Lax/i);
    expect(session).toMatch(/; Path=\//i);
    expect(session).not.toMatch(/; Secure/i);
    const page = await bob.get('/dashboard/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Signed in as <strong>@bob</strong>');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(csp).not.toContain('unsafe-inline');
    expect(page.text).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
  });

  it('refuses a callback this browser did not start, and a code used twice', async () => {
    const victim = new DashboardClient(world);
    const start = await victim.get('/dashboard/auth/start');
    const authorize = new URL(start.headers.get('location')!);
    const consent = await fetch(`${authorize.origin}${authorize.pathname}`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), login: 'mallory' }) });
    const callback = consent.headers.get('location')!;
    // Another browser (no sign-in cookie) is handed mallory's callback: it must not become mallory.
    const other = new DashboardClient(world);
    const forged = await other.get(callback);
    expect(forged.status).toBe(400);
    expect(other.cookies.has('jit_session')).toBe(false);
    expect((await victim.get(callback)).status).toBe(303);
    // GitHub takes a code once: the same callback again signs nobody in.
    const replay = new DashboardClient(world);
    await replay.get('/dashboard/auth/start');
    expect((await replay.get(callback)).status).not.toBe(303);
    expect(replay.cookies.has('jit_session')).toBe(false);
  });

  it('ends the session a browser held when it signs in again, so a copy of the old cookie no longer signs anyone in', async () => {
    const carol = await signedIn('carol');
    const stolen = new DashboardClient(world);
    stolen.cookies.set('jit_session', carol.cookies.get('jit_session')!);
    expect((await stolen.get('/dashboard/requests')).status).toBe(200);
    await carol.signIn('carol');
    expect(carol.cookies.get('jit_session')).not.toBe(stolen.cookies.get('jit_session'));
    expect((await carol.get('/dashboard/requests')).status).toBe(200);
    const after = await stolen.get('/dashboard/requests');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/\/dashboard\/sign-in/);
  });

  it('sends who is not signed in to sign in, showing nothing of the request', async () => {
    const id = await openPending();
    const anonymous = new DashboardClient(world);
    for (const path of [`/dashboard/requests/${id}`, '/dashboard/requests', '/dashboard/audit', '/dashboard/audit/export.csv']) {
      const answer = await anonymous.get(path);
      expect(answer.status).toBe(303);
      expect(answer.headers.get('location')).toBe(`/dashboard/sign-in?return_to=${encodeURIComponent(path)}`);
      expect(answer.text).toBe('');
    }
    const vote = await anonymous.post(`/dashboard/requests/${id}/vote`, { choice: 'approve' });
    expect(vote.status).toBe(403);
    expect(await world.app.store.listVotes(id)).toEqual([]);
  });
});

describe('repositories the viewer cannot read', () => {
  it('a request there is a 404, the same as no request at all, and is in no list or export', async () => {
    const id = await openPending(job({ repository: OTHER_REPO }), { action: 'migrate-api' });
    const bob = await signedIn('bob'); // not a collaborator of acme/api
    const hidden = await bob.get(`/dashboard/requests/${id}`);
    const missing = await bob.get('/dashboard/requests/00000000-0000-4000-8000-000000000000');
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(hidden.text).toBe(missing.text);
    for (const path of ['/dashboard/requests', '/dashboard/requests?repository=acme%2Fapi', '/dashboard/', '/dashboard/audit?repository=acme%2Fapi', '/dashboard/audit/export.jsonl', '/dashboard/audit/export.csv']) {
      const page = await bob.get(path);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(id);
      expect(page.text).not.toContain('migrate-api');
    }
    const vote = await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', csrf: await bob.csrf() });
    expect(vote.status).toBe(404);
    // Someone who can read it sees it.
    const mallory = await signedIn('mallory');
    const shown = await mallory.get(`/dashboard/requests/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('migrate-api');
  });
});

describe('voting from the dashboard', () => {
  it('refuses a form without the session\'s CSRF token, or from another origin, and records nothing', async () => {
    const id = await openPending();
    const bob = await signedIn('bob');
    const csrf = await bob.csrf();
    for (const [form, headers] of [
      [{ choice: 'approve' }, {}],
      [{ choice: 'approve', csrf: 'guessed' }, {}],
      [{ choice: 'approve', csrf: await (await signedIn('alice')).csrf() }, {}],
      [{ choice: 'approve', csrf }, { origin: 'https://evil.example' }],
    ] as const) {
      const answer = await bob.post(`/dashboard/requests/${id}/vote`, { ...form }, { ...headers });
      expect(answer.status).toBe(403);
      expect(answer.text).toContain('CSRF');
    }
    expect(await world.app.store.listVotes(id)).toEqual([]);
    expect((await world.audit(id)).filter((e) => e.type.startsWith('vote'))).toEqual([]);
  });

  it('needs a reason to reject, and records an approval as a vote via the dashboard', async () => {
    const id = await openPending();
    const bob = await signedIn('bob');
    const csrf = await bob.csrf();
    const noReason = await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'reject', note: '  ', csrf });
    expect(noReason.text).toContain('A reason is required to reject');
    expect(await world.app.store.listVotes(id)).toEqual([]);
    const approved = await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', note: 'looks right', csrf });
    expect(approved.status).toBe(200);
    expect(approved.text).toContain('Your approval was recorded.');
    const request = await world.app.store.getRequest(id);
    expect(request).toMatchObject({ status: 'approved', completedBy: 'bob' });
    const vote = (await world.audit(id)).find((e) => e.type === 'vote')!;
    expect(vote).toMatchObject({ actor: 'bob', facts: { choice: 'approve', via: 'dashboard', note: 'looks right' } });
  });

  it('reads a request once for its page and once before a vote, and answers a vote with the vote counted', async () => {
    const id = await openPending(prJob(), { action: 'deploy', environment: 'prod-db' }); // two approvals
    const bob = await signedIn('bob');
    const csrf = await bob.csrf();
    const { store } = world.app;
    const reads = { getRequest: 0, listVotes: 0, getRequestWithVotes: 0 };
    // Only the dashboard's reads count: the outbox publishing the request reads it too, at its own pace.
    const fromDashboard = () => {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 100;
      const stack = new Error().stack ?? '';
      Error.stackTraceLimit = limit;
      return /[\\/]app[\\/]dashboard[\\/]/.test(stack);
    };
    const counted = <K extends keyof typeof reads>(name: K) => {
      const original = store[name].bind(store) as (...args: never[]) => unknown;
      return jest.spyOn(store, name).mockImplementation(((...args: never[]) => {
        if (fromDashboard()) reads[name]++;
        return original(...args);
      }) as never);
    };
    const spies = [counted('getRequest'), counted('listVotes'), counted('getRequestWithVotes')];
    try {
      const page = await bob.get(`/dashboard/requests/${id}`);
      expect(page.text).toContain('class="approve"');
      expect(reads).toEqual({ getRequest: 0, listVotes: 0, getRequestWithVotes: 1 });
      const voted = await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', csrf });
      expect(voted.text).toContain('Your approval was recorded.');
      // The request still waits for a second approval; the page knows bob's vote and offers no buttons.
      expect(voted.text).toContain('@bob has already voted on this request');
      expect(voted.text).not.toContain('class="approve"');
      // The vote looks at earlier approvers in the votes read with the request (its transaction checks
      // under the lock that no approval arrived since), so nothing else is read.
      expect(reads).toEqual({ getRequest: 0, listVotes: 0, getRequestWithVotes: 2 });
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(await world.app.store.getRequest(id)).toMatchObject({ status: 'pending' });
  });

  it('refuses a form over its size limit with a clear 413, recording nothing', async () => {
    const id = await openPending();
    const bob = await signedIn('bob');
    const answer = await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', note: 'x'.repeat(70_000), csrf: await bob.csrf() });
    expect(answer.status).toBe(413);
    expect(answer.text).toContain('larger than');
    expect(answer.text).not.toContain('Something went wrong');
    expect(await world.app.store.listVotes(id)).toEqual([]);
  });

  it('refuses a note holding NUL, which the store cannot keep, saying so; the vote can then be sent without it', async () => {
    const id = await openPending();
    const bob = await signedIn('bob');
    for (const choice of ['approve', 'reject']) {
      const answer = await bob.post(`/dashboard/requests/${id}/vote`, { choice, note: 'looks\u0000 right', csrf: await bob.csrf() });
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('The note contains NUL (U+0000) at character 6, which cannot be stored; remove it. Nothing was recorded.');
      expect(answer.text).not.toContain('Something went wrong');
    }
    expect(await world.app.store.listVotes(id)).toEqual([]);
    expect(await world.app.store.getRequest(id)).toMatchObject({ status: 'pending' });
    const approved = await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', note: 'looks right', csrf: await bob.csrf() });
    expect(approved.text).toContain('Your approval was recorded.');
    expect(await world.app.store.getRequest(id)).toMatchObject({ status: 'approved' });
  });

  it('tells an ineligible user why, and does not count their vote', async () => {
    const id = await openPending();
    const mallory = await signedIn('mallory'); // opened the pull request, and is no code owner
    const page = await mallory.get(`/dashboard/requests/${id}`);
    expect(page.text).not.toContain('class="approve"');
    expect(page.text).toMatch(/@mallory/);
    const refusedWhy = /<h2 id="you">Your vote<\/h2>\s*<p class="refused">([^<]+)<\/p>/.exec(page.text)![1]!;
    expect(refusedWhy.length).toBeGreaterThan(10);
    const forced = await mallory.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', csrf: await mallory.csrf() });
    expect(forced.text).toContain('Your vote was not counted');
    expect(await world.app.store.listVotes(id)).toEqual([]);
    expect((await world.audit(id)).find((e) => e.type === 'vote_refused')).toMatchObject({ actor: 'mallory', facts: { via: 'dashboard' } });
  });
});

describe('waiting for me', () => {
  it('lists each request the viewer may approve, asking GitHub about the viewer once per repository for the page', async () => {
    const ids = [await openPending(), await openPending(), await openPending()];
    const bob = await signedIn('bob');
    await bob.get('/dashboard/');
    await world.control.resetRequestCounts();
    const page = await bob.get('/dashboard/');
    expect(page.status).toBe(200);
    for (const id of ids) expect(page.text).toContain(`/dashboard/requests/${id}`);
    const counts = await world.control.requestCounts();
    expect(counts['GET /repos/{owner}/{repo}/collaborators/{username}/permission']).toBe(1);
  });
});

describe('text the App did not write', () => {
  it('is shown as text, never as markup: a summary and a note carrying HTML', async () => {
    const attack = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const id = await openPending(prJob(), { action: 'deploy', environment: 'production', summary: attack });
    const bob = await signedIn('bob');
    await bob.post(`/dashboard/requests/${id}/vote`, { choice: 'reject', note: `no ${attack}`, csrf: await bob.csrf() });
    for (const path of [`/dashboard/requests/${id}`, '/dashboard/audit']) {
      const page = await bob.get(path);
      expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
      expect(page.text).not.toMatch(/<script|<img/i);
    }
  });
});

describe('filters', () => {
  it('refuse what is not a filter, naming the field', async () => {
    const carol = await signedIn('carol');
    const badDate = await carol.get('/dashboard/requests?from=yesterday');
    expect(badDate.status).toBe(400);
    expect(badDate.text).toContain('from: expected a date as YYYY-MM-DD, got &quot;yesterday&quot;');
    const badStatus = await carol.get('/dashboard/requests?status=approvedish');
    expect(badStatus.status).toBe(400);
    expect(badStatus.text).toContain('status: expected one of pending, approved');
    expect((await carol.get('/dashboard/requests?after=not-a-page')).status).toBe(400);
    expect((await carol.get('/dashboard/audit?to=2026-13-45')).status).toBe(400);
  });

  it('refuse a crafted link without showing its words: the page names the field, not the lure', async () => {
    const carol = await signedIn('carol');
    const lure = 'Your session expired. Sign in again at https://evil.example/login';
    for (const path of [`/dashboard/requests?from=${encodeURIComponent(lure)}`, `/dashboard/audit?to=${encodeURIComponent(lure)}`, `/dashboard/requests?status=${encodeURIComponent(lure)}`]) {
      const page = await carol.get(path);
      expect([path, page.status]).toEqual([path, 400]);
      expect(page.text).toMatch(/(from|to|status): expected /);
      expect(page.text).not.toContain('evil.example');
      expect(page.text).not.toContain('session expired');
    }
  });

  it('refuse a free-text filter of another form than its field\'s, keeping a crafted link\'s sentence out of its box', async () => {
    const carol = await signedIn('carol');
    const lure = 'Your session expired. Sign in again at https://evil.example/login';
    const fields = { requests: ['action', 'requester', 'approver'], audit: ['action', 'actor', 'type'] };
    for (const [page, names] of Object.entries(fields)) {
      for (const name of names) {
        const path = `/dashboard/${page}?${name}=${encodeURIComponent(lure)}`;
        const answer = await carol.get(path);
        expect([path, answer.status]).toEqual([path, 400]);
        expect(answer.text).toContain(`${name}: expected `);
        expect(answer.text).not.toContain('evil.example');
      }
    }
    // An environment is any one line GitHub takes; two lines are none.
    expect((await carol.get(`/dashboard/requests?environment=${encodeURIComponent('prod\nSign in at evil.example')}`)).status).toBe(400);
    // Values of the field's form still filter, a bot's login among them.
    for (const path of ['/dashboard/requests?action=db:migrate/v2&requester=deploy-bot[bot]&environment=Production EU', '/dashboard/audit?actor=app&type=vote_refused']) {
      expect([path, (await carol.get(path)).status]).toEqual([path, 200]);
    }
  });

  it('refuse a page of the audit trail that is not an event number, and a day that does not exist, naming the field', async () => {
    const carol = await signedIn('carol');
    for (const raw of ['1.5', '1e400', 'abc', '-1']) {
      const page = await carol.get(`/dashboard/audit?after_seq=${raw}`);
      expect(page.status).toBe(400);
      expect(page.text).toContain('after_seq: not a page of the audit trail');
    }
    // February has no 31st: read as March 3rd, the filter would silently cover other days.
    const impossible = await carol.get('/dashboard/requests?from=2026-02-31');
    expect(impossible.status).toBe(400);
    expect(impossible.text).toContain('from: expected a date as YYYY-MM-DD, got &quot;2026-02-31&quot;');
    expect((await carol.get('/dashboard/audit/export.csv?to=2026-04-31')).status).toBe(400);
  });
});

describe('the sign-in page', () => {
  it('shows no text a link brings: a crafted link cannot put words on the App\'s own page', async () => {
    const anonymous = new DashboardClient(world);
    const lure = 'Your session expired. Sign in again at https://evil.example/login';
    const page = await anonymous.get(`/dashboard/sign-in?message=${encodeURIComponent(lure)}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign in with GitHub');
    expect(page.text).not.toContain('evil.example');
  });
});

describe('the audit export', () => {
  it('streams every matching event, in chain order, across its batches', async () => {
    const id = await openPending(job(), { action: 'export-many', environment: 'production' });
    for (let i = 0; i < 2100; i++) await world.app.store.appendAudit({ type: 'notification_attempt', actor: 'app', requestId: id, facts: { i } });
    const carol = await signedIn('carol');
    const exported = await carol.get('/dashboard/audit/export.jsonl?action=export-many');
    expect(exported.headers.get('content-disposition')).toBe('attachment; filename="audit.jsonl"');
    const events = exported.text.trimEnd().split('\n').map((line) => JSON.parse(line) as { seq: number; request_id: string; facts: { i?: number } });
    const stored = await world.app.store.listAudit({ requestId: id, limit: 10_000 });
    expect(events.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(events.filter((e) => e.facts.i !== undefined).map((e) => e.facts.i)).toEqual(Array.from({ length: 2100 }, (_, i) => i));
    const csv = await carol.get('/dashboard/audit/export.csv?action=export-many');
    expect(csv.text.trimEnd().split('\n')).toHaveLength(stored.length + 1);
  }, 60_000);
});

describe('a long timeline', () => {
  it('is shown a page at a time, to its last event', async () => {
    const id = await openPending(job(), { action: 'long-timeline', environment: 'production' });
    for (let i = 0; i < 620; i++) await world.app.store.appendAudit({ type: 'notification_attempt', actor: 'app', requestId: id, facts: { i } });
    await world.app.store.appendAudit({ type: 'last_word', actor: 'app', requestId: id, facts: {} });
    const stored = await world.app.store.listAudit({ requestId: id, limit: 10_000 });
    const carol = await signedIn('carol');
    const entries = (html: string) => html.split('<li><time datetime=').length - 1;

    const first = await carol.get(`/dashboard/requests/${id}`);
    expect(entries(first.text)).toBe(500);
    expect(first.text).not.toContain('last word');
    expect(first.text).not.toContain('From the first event');
    const later = /<a href="([^"]+)">Later events<\/a>/.exec(first.text)?.[1];
    expect(later).toBe(`/dashboard/requests/${id}?events_after=${stored[499].seq}#timeline`);

    const second = await carol.get(later!.replace('#timeline', ''));
    expect(entries(second.text)).toBe(stored.length - 500);
    expect(second.text).toContain('last word');
    expect(second.text).toContain('From the first event');
    expect(second.text).not.toContain('Later events');
    expect((await carol.get(`/dashboard/requests/${id}?events_after=-1`)).status).toBe(400);
  }, 60_000);
});

describe('when GitHub cannot answer', () => {
  it('the request page says it could not check who may approve, and offers no buttons', async () => {
    const id = await openPending();
    const bob = await signedIn('bob');
    await world.control.fault({ route: '/repos/{owner}/{repo}/collaborators/{username}/permission', method: 'GET', status: 500, times: 1000 });
    try {
      const page = await bob.get(`/dashboard/requests/${id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('GitHub could not be asked whether you may approve');
      expect(page.text).not.toContain('class="approve"');
    } finally {
      await world.control.clearFaults();
    }
    expect((await bob.get(`/dashboard/requests/${id}`)).text).toContain('class="approve"');
  });
});

describe('access that changes', () => {
  it('is asked of GitHub again after a minute: who lost access to the repository no longer sees its requests', async () => {
    const id = await openPending(job({ repository: OTHER_REPO }), { action: 'revoke-me' });
    const mallory = await signedIn('mallory');
    expect((await mallory.get(`/dashboard/requests/${id}`)).status).toBe(200);
    await world.control.setPermission(OTHER_REPO, 'mallory', null);
    try {
      // Within the minute the cached answer stands; after it, GitHub's new answer does.
      expect((await mallory.get(`/dashboard/requests/${id}`)).status).toBe(200);
      clockOffsetMs += 61_000;
      expect((await mallory.get(`/dashboard/requests/${id}`)).status).toBe(404);
      expect((await mallory.get('/dashboard/requests')).text).not.toContain('revoke-me');
    } finally {
      await world.control.setPermission(OTHER_REPO, 'mallory', 'write');
    }
  });
});

describe('the end of a session', () => {
  it('signing out ends the session: its cookie no longer signs anyone in', async () => {
    const carol = await signedIn('carol');
    const cookie = carol.cookies.get('jit_session')!;
    expect((await carol.post('/dashboard/sign-out', { csrf: await carol.csrf() })).status).toBe(303);
    expect(carol.cookies.has('jit_session')).toBe(false);
    carol.cookies.set('jit_session', cookie);
    expect((await carol.get('/dashboard/requests')).status).toBe(303);
  });

  it('a token GitHub no longer takes (the user revoked the App) ends the session', async () => {
    const alice = await signedIn('alice');
    expect((await alice.get('/dashboard/requests')).status).toBe(200);
    const { tokens } = world.github.double.state;
    for (const [token, grant] of tokens) if (grant.kind === 'user' && grant.login === 'alice') tokens.delete(token);
    clockOffsetMs += 61_000; // past the cached answers
    const after = await alice.get('/dashboard/requests');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/dashboard/sign-in');
    expect(alice.cookies.has('jit_session')).toBe(false);
  });

  it('a session expires after eight hours', async () => {
    const alice = await signedIn('alice');
    expect((await alice.get('/dashboard/requests')).status).toBe(200);
    clockOffsetMs += 8 * 60 * 60_000 + 1000;
    const later = await alice.get('/dashboard/requests');
    expect(later.status).toBe(303);
    expect(later.headers.get('location')).toContain('/dashboard/sign-in');
  });
});

describe('an account renamed since it signed in', () => {
  it("votes as itself, never with the permission of whoever took its old login", async () => {
    // The session-expiry test moved the App's clock past the lifetime of GitHub's user tokens.
    clockOffsetMs = 0;
    const repository = 'acme/renames';
    await world.control.seed({
      repos: [{
        owner: 'acme', name: 'renames', defaultBranch: 'main',
        branches: { main: { '.github/jit-approval.yml': 'version: 1\nrules:\n  - name: any-writer\n    require: { approvers: ["role:write"] }\n', 'src/a.ts': 'export {};\n' } },
        collaborators: { yara: 'write', xena: 'read' },
      }],
    });
    // xena, who may only read, signs in; then she takes another name, and yara, who asks for the
    // approval, takes hers: the session still says "xena".
    const xena = await signedIn('xena');
    const run = job({ repository, actor: 'yara' });
    const id = await openPending(run, { action: 'deploy' });
    await world.control.renameUser('xena', 'xena-was-here');
    await world.control.renameUser('yara', 'xena');
    const vote = await xena.post(`/dashboard/requests/${id}/vote`, { choice: 'approve', csrf: await xena.csrf() });
    expect(vote.text).toContain('Your vote was not counted');
    expect(vote.text).toContain('@xena now names another GitHub account (an account was renamed); sign in to the dashboard again');
    expect(await world.app.store.listVotes(id)).toEqual([]);
    expect((await world.app.store.getRequest(id))!.status).toBe('pending');
  }, 60_000);
});

describe("a repository's old name, taken by another repository", () => {
  const policy = 'version: 1\nrules:\n  - name: all\n    if: {}\n    require: { approvals: 1, approvers: [alice] }\n';
  const secret = 'the payments token leaks through /v1/refunds';
  const state = () => world.github.double.state;

  /** A request of `repository` that alice rejected with a reason only its readers may see, as they do. */
  async function rejected(repository: string): Promise<string> {
    const [owner, name] = repository.split('/') as [string, string];
    await world.control.seed({ repos: [{ owner, name, branches: { main: { '.github/jit-approval.yml': policy } }, collaborators: { alice: 'admin' } }] });
    const { body } = await world.open(job({ repository, actor: 'bob' }), { action: 'deploy' });
    const id = body.id as string;
    const issue = await eventually(() => world.issueOf(id, repository), (found) => found !== undefined);
    await world.comment(issue!.number, 'alice', `/reject embargoed: ${secret}`, repository);
    expect(await world.app.store.getRequest(id)).toMatchObject({ status: 'rejected' });
    await seenByAlice(id, repository);
    return id;
  }

  async function seenByAlice(id: string, repository: string) {
    const alice = await signedIn('alice');
    expect((await alice.get(`/dashboard/requests?repository=${encodeURIComponent(repository)}`)).text).toContain(id);
    expect((await alice.get(`/dashboard/audit?repository=${encodeURIComponent(repository)}`)).text).toContain('refunds');
    expect((await alice.get('/dashboard/audit/export.jsonl')).text).toContain(secret);
  }

  /** mallory, who made the repository now at the old name, sees nothing of the old one's request. */
  async function hiddenFromMallory(id: string, repository: string) {
    const mallory = await signedIn('mallory');
    expect((await mallory.get(`/dashboard/requests/${id}`)).status).toBe(404);
    const named = encodeURIComponent(repository);
    for (const path of ['/dashboard/', '/dashboard/requests', `/dashboard/requests?repository=${named}`, '/dashboard/audit', `/dashboard/audit?repository=${named}`, '/dashboard/audit/export.jsonl', '/dashboard/audit/export.csv']) {
      const page = await mallory.get(path);
      expect([path, page.status]).toEqual([path, 200]);
      expect(page.text).not.toContain(id);
      expect(page.text).not.toContain('refunds');
    }
  }

  it('renamed, with the news lost: the lists and exports of whoever takes its name show none of its requests', async () => {
    const id = await rejected('acme/payments');
    // The rename's delivery is lost, so the App still has the old name.
    await world.control.setDeliveryLoss({ drop_rate: 1 });
    await world.control.rename('acme/payments', 'payments-2');
    await world.control.setDeliveryLoss({});
    expect((await world.app.store.getRequest(id))?.repository).toBe('acme/payments');
    // Until another repository takes it, the old name leads to the renamed one, whose readers see its requests.
    await seenByAlice(id, 'acme/payments');
    state().addRepo({ owner: 'acme', name: 'payments', collaborators: { mallory: 'admin' } });
    await hiddenFromMallory(id, 'acme/payments');
  }, 60_000);

  it('deleted, and its name taken by a new repository: the new one\'s readers see none of its requests', async () => {
    const id = await rejected('acme/ledger');
    state().repos.delete('acme/ledger');
    state().addRepo({ owner: 'acme', name: 'ledger', collaborators: { mallory: 'admin' } });
    await hiddenFromMallory(id, 'acme/ledger');
  }, 60_000);
});
