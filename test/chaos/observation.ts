/** Reading what the App decided from its store, the same way for both drivers. */
import type { Store } from '../../app/store/index.js';
import type { Observation, Status } from './scenario.js';

export async function observeRequest(store: Store, requestId: string): Promise<Observation & { completedBy: string | null }> {
  const [row, votes] = await Promise.all([store.getRequest(requestId), store.listVotes(requestId)]);
  if (!row) throw new Error(`request ${requestId} is not in the store`);
  return { status: row.status as Status, votes: votes.map((v) => ({ login: v.login, choice: v.choice })), completedBy: row.completedBy };
}

/**
 * The same, cheaper while the request waits: the store's count of pending requests of its run
 * (each scenario's run has only this one) says whether it still does, without reading its large row.
 */
export async function observeStep(store: Store, request: { id: string; repositoryId: string; runId: string; runAttempt: string }): Promise<Observation> {
  const [pending, votes] = await Promise.all([store.countPendingRequests(request), store.listVotes(request.id)]);
  if (pending.runAttempt === 0) {
    const { status, votes: final } = await observeRequest(store, request.id);
    return { status, votes: final };
  }
  return { status: 'pending', votes: votes.map((v) => ({ login: v.login, choice: v.choice })) };
}
