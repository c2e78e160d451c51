import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { openStore } from '../../app/store/index.js';
import { openPgliteBackend } from './harness.js';
import { describeStoreBehaviour, newRequest } from './store-behaviour.js';

describe('store on PGlite', () => {
  describeStoreBehaviour(openPgliteBackend);
});

describe('store on PGlite in a data directory', () => {
  test('requests, timers and the audit trail survive a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'jit-store-'));
    try {
      const start = new Date('2030-01-01T00:00:00Z');
      const deadline = new Date(start.getTime() + 3600_000);
      const first = await openStore({ dataDir, clock: () => start });
      const { request } = await first.createRequest(newRequest({ deadline }));
      await first.scheduleTimer({ kind: 'reminder', requestId: request.id, dueAt: new Date(start.getTime() + 600_000) });
      await first.close();

      const reopened = await openStore({ dataDir, clock: () => start });
      try {
        expect(await reopened.getRequest(request.id)).toEqual(request);
        const due = await reopened.claimDueTimers(deadline, 10);
        expect(due.map((timer) => timer.kind).sort()).toEqual(['deadline', 'reminder']);
        expect(await reopened.verifyAudit()).toMatchObject({ ok: true, count: 1 });
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
