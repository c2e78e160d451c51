/**
 * The Store over a Database: the same SQL for PGlite and PostgreSQL.
 *
 * Lock order, to stay free of deadlocks: a request row, then its timers, then a repository's turn
 * on the cap on pending requests, then the audit head.
 * Every change to a request notifies the store's channel inside its transaction, so listeners
 * hear of it only once it is committed.
 */
import { randomUUID } from 'node:crypto';
import { auditHashParts, ChainVerifier } from './audit-chain.js';
import type { Database, SqlExecutor, TransactionExecutor } from './database.js';
import { toAuditEvent, toClaimedTimer, toRequest, toSession, toTimer, toVote } from './rows.js';
import {
  ALL_REQUESTS,
  EVALUATE_JOB,
  FINAL_STATUSES,
  DEPLOYMENT_REVIEW_JOB,
  OUTBOX_KINDS,
  OUTBOX_QUEUE,
  PUBLISH_JOB,
  type DecisionRecord,
  AlreadyHandled,
  type HandledBy,
  type HandledOutcome,
  type ApprovalRequest,
  type AuditEvent,
  type AuditVerification,
  type ChangeEvent,
  type ChangeKind,
  type ClaimedTimer,
  isRequestId,
  type RequestPosition,
  type TimerClaim,
  type AuditSearch,
  type DashboardSession,
  type RequestSearch,
  type Completion,
  type NewAuditEvent,
  type ReplyAllowance,
  type NewRequest,
  type Recount,
  type RecountResult,
  type PendingLimits,
  PendingLimitError,
  type NewTimer,
  type NewVote,
  type RequestKey,
  type RequestStatus,
  type RequestUpdate,
  type Store,
  type Timer,
  type TransitionResult,
  type Unsubscribe,
  type Vote,
  type VoteResult,
  type PrunedMarks,
} from './store.js';

export interface SqlStoreOptions {
  /** Used only to name the notification channel: stores on one database and schema share it. */
  schema?: string;
  clock?: () => Date;
  /** How long a claimed timer or webhook delivery stays with its claimant before others may retry it. */
  leaseMs?: number;
}

const DEFAULT_LEASE_MS = 60_000;
const VERIFY_BATCH = 1000;
/** The actor recorded for what the App does on its own, such as a deadline passing. */
const APP_ACTOR = 'app';

export class SqlStore implements Store {
  readonly #db: Database;
  readonly #channel: string;
  readonly #clock: () => Date;
  readonly #leaseMs: number;
  readonly #listeners = new Map<string, Set<(event: ChangeEvent) => void>>();
  #unlisten: Promise<() => Promise<void>> | undefined;
  /** The audit events each open transaction has recorded, appended as it finishes. */
  readonly #pendingAudit = new WeakMap<SqlExecutor, NewAuditEvent[]>();

  constructor(db: Database, options: SqlStoreOptions = {}) {
    this.#db = db;
    this.#channel = `mercurial_jit_changes${options.schema ? `_${options.schema}` : ''}`;
    this.#clock = options.clock ?? (() => new Date());
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  // ── requests ────────────────────────────────────────────────────────────────────────────────

  async createRequest(input: NewRequest): Promise<{ created: boolean; request: ApprovalRequest }> {
    const { limits } = input;
    return this.#transaction(async (tx) => {
      const now = this.#clock();
      // One statement writes the request, its deadline and evaluation timers, and the notice of it:
      // none of them if the request exists already.
      const inserted = await tx.query(
        `WITH inserted AS (
           INSERT INTO requests (repository_id, run_id, run_attempt, action, job_key, repository, requester, facts,
                                 decision, deadline, pr_number, created_at, updated_at, environment_key, commit_sha)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11, $12, $12, $13, $14)
           ON CONFLICT ON CONSTRAINT requests_key DO NOTHING
           RETURNING *),
         scheduled AS (
           INSERT INTO timers (kind, request_id, key, due_at, payload, created_at)
           SELECT job.kind, inserted.id, job.kind || ':' || inserted.id::text, job.due_at, '{}'::jsonb, $12
           FROM inserted CROSS JOIN LATERAL (VALUES ('deadline', inserted.deadline), ($15, $16::timestamptz)) AS job (kind, due_at)
           WHERE job.due_at IS NOT NULL
           ${RESCHEDULE_ON_CONFLICT})
         SELECT inserted.*, ${notifyChange('inserted', "'created'", '$17')} FROM inserted`,
        [
          input.repositoryId,
          input.runId,
          input.runAttempt,
          input.action,
          input.jobKey,
          input.repository,
          input.requester,
          json(input.facts),
          input.decision === undefined ? null : json(input.decision),
          validDate(input.deadline, 'the request\'s deadline') ?? null,
          input.prNumber ?? null,
          now,
          input.environmentKey,
          input.commitSha ?? null,
          EVALUATE_JOB,
          validDate(input.evaluateAt, 'the request\'s evaluation time') ?? null,
          this.#channel,
        ],
      );
      if (inserted.length === 0) {
        // A concurrent create that won the race has committed: ON CONFLICT waited for it.
        const existing = await tx.query(`SELECT * FROM requests WHERE ${KEY_MATCH}`, keyParams(input));
        return { created: false, request: toRequest(existing[0]) };
      }
      const request = toRequest(inserted[0]);
      this.#append(tx, { type: 'requested', actor: request.requester, requestId: request.id, facts: input.facts });
      return { created: true, request };
    }, (result) => (result.created && limits ? takePendingTurn(result.request, limits) : undefined)).catch((err: unknown) => {
      throw pendingLimitRefusal(err) ?? err;
    });
  }

  async getRequest(id: string): Promise<ApprovalRequest | undefined> {
    if (!isRequestId(id)) return undefined;
    const rows = await this.#db.query('SELECT * FROM requests WHERE id = $1', [id]);
    return rows[0] && toRequest(rows[0]);
  }

  async getRequestWithVotes(id: string): Promise<{ request: ApprovalRequest; votes: Vote[] } | undefined> {
    if (!isRequestId(id)) return undefined;
    // One round trip instead of two: a waiting step's poll reads this on every change of its request.
    const rows = await this.#db.query<Record<string, unknown> & { standing_votes: Record<string, unknown>[] }>(
      `SELECT r.*, COALESCE(
         (SELECT json_agg(v ORDER BY v.id) FROM votes v WHERE v.request_id = r.id AND v.withdrawn_at IS NULL), '[]'::json
       ) AS standing_votes
       FROM requests r WHERE r.id = $1`,
      [id],
    );
    if (!rows[0]) return undefined;
    // json_agg writes timestamps as text; the driver would have given Dates.
    const votes = rows[0].standing_votes.map((vote) => toVote({ ...vote, at: new Date(String(vote.at)), withdrawn_at: null }));
    return { request: toRequest(rows[0]), votes };
  }

  async findRequest(key: RequestKey): Promise<ApprovalRequest | undefined> {
    const rows = await this.#db.query(`SELECT * FROM requests WHERE ${KEY_MATCH}`, keyParams(key));
    return rows[0] && toRequest(rows[0]);
  }

  async findRequestOrCountPending(key: RequestKey, limits: PendingLimits): Promise<{ existing: ApprovalRequest | undefined; pending: { repository: number; runAttempt: number } }> {
    const [row] = await this.#db.query<Record<string, unknown> & { pending_repository: unknown; pending_run_attempt: unknown }>(
      `SELECT r.*, counted.repository AS pending_repository, counted.run_attempt AS pending_run_attempt
       FROM (SELECT ${boundedPendingCounts('$6', '$7')}) counted
       LEFT JOIN requests r ON r.repository_id = $1 AND r.run_id = $2 AND r.run_attempt = $3 AND r.action = $4 AND r.job_key = $5`,
      [...keyParams(key), limits.perRepository + 1, limits.perRunAttempt + 1],
    );
    return {
      existing: row.id === null ? undefined : toRequest(row),
      pending: { repository: Number(row.pending_repository), runAttempt: Number(row.pending_run_attempt) },
    };
  }

  async runRequests(filter: { repositoryId: string; runId: string; action: string; jobKeyPrefix: string }): Promise<ApprovalRequest[]> {
    const rows = await this.#db.query(
      `SELECT * FROM requests WHERE repository_id = $1 AND run_id = $2 AND action = $3 AND left(job_key, length($4)) = $4 ORDER BY created_at, id`,
      [filter.repositoryId, filter.runId, filter.action, filter.jobKeyPrefix],
    );
    return rows.map(toRequest);
  }

  async findLastApproved(filter: { repositoryId: string; action: string; environmentKey: string; ref: string; before: Date }): Promise<ApprovalRequest | undefined> {
    const rows = await this.#db.query(
      `SELECT * FROM requests
       WHERE repository_id = $1 AND action = $2 AND environment_key = $3 AND status = 'approved' AND created_at < $4 AND facts->>'ref' = $5
         AND pr_number IS NULL
       ORDER BY completed_at DESC, id DESC
       LIMIT 1`,
      [filter.repositoryId, filter.action, filter.environmentKey, filter.before, filter.ref],
    );
    return rows[0] && toRequest(rows[0]);
  }

  async listRequests(filter: { status?: RequestStatus; completedAfter?: Date; after?: RequestPosition; limit?: number } = {}): Promise<ApprovalRequest[]> {
    const rows = await this.#db.query(
      `SELECT * FROM requests WHERE ($1::text IS NULL OR status = $1) AND ($3::timestamptz IS NULL OR completed_at >= $3)
         AND ($4::timestamptz IS NULL OR (created_at, id) > ($4, $5::uuid))
       ORDER BY created_at, id LIMIT $2`,
      [filter.status ?? null, filter.limit ?? 1000, filter.completedAfter ?? null, filter.after?.createdAt ?? null, filter.after?.id ?? null],
      // Kept without its values, the plan walks every request in creation order to find the few that ended lately.
      { planEachTime: true },
    );
    return rows.map(toRequest);
  }

  async listServedInstallations(since: Date): Promise<number[]> {
    const rows = await this.#db.query<{ installation: string }>(
      `SELECT DISTINCT facts ->> 'installationId' AS installation FROM requests
       WHERE (status = 'pending' OR completed_at >= $1) AND facts ->> 'installationId' ~ '^[1-9][0-9]{0,15}$'`,
      [since],
      { planEachTime: true },
    );
    return rows.map((row) => Number(row.installation)).filter(Number.isSafeInteger).sort((a, b) => a - b);
  }

  async listRecentRequests(repositoryId: string, limit: number): Promise<ApprovalRequest[]> {
    const rows = await this.#db.query('SELECT * FROM requests WHERE repository_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2', [repositoryId, limit]);
    return rows.map(toRequest);
  }

  async renameRepository(repositoryId: string, now: { owner: string; repo: string; installationId: number }): Promise<number> {
    const [row] = await this.#db.query<{ renamed: string }>(
      `WITH renamed AS (
         UPDATE requests SET repository = $2, facts = facts || jsonb_build_object('owner', $3::text, 'repo', $4::text)
         WHERE repository_id = $1 AND facts -> 'installationId' = to_jsonb($5::bigint) AND repository <> $2
         RETURNING 1)
       SELECT count(*) AS renamed FROM renamed`,
      [repositoryId, `${now.owner}/${now.repo}`, now.owner, now.repo, now.installationId],
    );
    return Number(row?.renamed ?? 0);
  }

  async countRequestsByStatus(): Promise<Record<RequestStatus, number>> {
    const counts: Record<RequestStatus, number> = { pending: 0, approved: 0, rejected: 0, timed_out: 0, cancelled: 0, failed: 0 };
    const rows = await this.#db.query<{ status: RequestStatus; count: unknown }>(
      'SELECT status, count(*) AS count FROM requests GROUP BY status',
    );
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }

  async ping(): Promise<void> {
    await this.#db.query('SELECT 1');
  }

  async markAnnounced(id: string): Promise<boolean> {
    if (!isRequestId(id)) return false;
    const rows = await this.#db.query(
      `UPDATE requests SET facts = facts || '{"announced": true}'::jsonb, updated_at = $2
       WHERE id = $1 AND status = 'pending' AND facts->'announced' IS DISTINCT FROM 'true'::jsonb
       RETURNING id`,
      [id, this.#clock()],
    );
    return rows.length === 1;
  }

  async updateRequest(id: string, update: RequestUpdate): Promise<ApprovalRequest | undefined> {
    if (!isRequestId(id)) return undefined;
    return this.#transaction(async (tx) => {
      const rows = await tx.query(
        `UPDATE requests SET
           decision = COALESCE($2::jsonb, decision),
           facts = COALESCE($3::jsonb, facts),
           deadline = CASE WHEN status = 'pending' THEN COALESCE($4, deadline) ELSE deadline END,
           pr_number = COALESCE($5, pr_number),
           check_run_id = COALESCE($6, check_run_id),
           check_run_url = COALESCE($7, check_run_url),
           comment_id = COALESCE($8, comment_id),
           comment_url = COALESCE($9, comment_url),
           issue_number = COALESCE($10, issue_number),
           issue_url = COALESCE($11, issue_url),
           updated_at = $12
         WHERE id = $1
         RETURNING *`,
        [
          id,
          update.decision === undefined ? null : json(update.decision),
          update.facts === undefined ? null : json(update.facts),
          validDate(update.deadline, 'the request\'s deadline') ?? null,
          update.prNumber ?? null,
          update.checkRunId ?? null,
          update.checkRunUrl ?? null,
          update.commentId ?? null,
          update.commentUrl ?? null,
          update.issueNumber ?? null,
          update.issueUrl ?? null,
          this.#clock(),
        ],
      );
      if (rows.length === 0) return undefined;
      const request = toRequest(rows[0]);
      if (update.deadline && request.status === 'pending') await this.#scheduleDeadline(tx, request.id, update.deadline);
      await this.#notify(tx, request, 'updated');
      return request;
    });
  }

  async completeRequest(id: string, completion: Completion): Promise<TransitionResult | undefined> {
    if (!isRequestId(id)) return undefined;
    return this.#transaction((tx) => this.#complete(tx, id, completion));
  }

  async #complete(tx: SqlExecutor, id: string, completion: Completion): Promise<TransitionResult | undefined> {
    if (!FINAL_STATUSES.includes(completion.status)) throw new Error(`"${completion.status}" is not a final status`);
    const now = this.#clock();
    // One statement ends the request, drops its deadline, escalations and reminders (showing the
    // decision, the outbox, goes on), queues its publication and sends the notice of it: a deciding
    // vote's transaction makes one round trip for all of it, not four.
    const updated = await tx.query(
      `WITH updated AS (
         UPDATE requests SET status = $2, reason = $3, completed_by = $4, completed_at = $5, updated_at = $5
         WHERE id = $1 AND status = 'pending'
         RETURNING *),
       dropped AS (
         DELETE FROM timers WHERE request_id = $1 AND NOT (kind = ANY($6)) AND EXISTS (SELECT FROM updated)),
       queued AS (${publicationOf('updated', '$5', '$7', '$8')})
       SELECT updated.*, ${notifyChange('updated', "'completed'", '$9')} FROM updated`,
      [id, completion.status, completion.reason, completion.actor, now, [...OUTBOX_KINDS], PUBLISH_JOB, DEPLOYMENT_REVIEW_JOB, this.#channel],
    );
    if (updated.length === 0) {
      const current = await tx.query('SELECT * FROM requests WHERE id = $1', [id]);
      return current[0] && { changed: false, request: toRequest(current[0]) };
    }
    const request = toRequest(updated[0]);
    const auditType =
      completion.auditType ?? (completion.status === 'approved' && completion.reason === 'auto' ? 'auto_approved' : completion.status);
    this.#append(tx, {
      type: auditType,
      actor: completion.actor,
      requestId: id,
      facts: { status: completion.status, reason: completion.reason, ...completion.facts },
    });
    return { changed: true, request };
  }

  async countPendingRequests(run: { repositoryId: string; runId: string; runAttempt: string }): Promise<{ repository: number; runAttempt: number }> {
    return countPending(this.#db, run);
  }

  async recordDecision(id: string, record: DecisionRecord): Promise<{ recorded: boolean; request: ApprovalRequest | undefined }> {
    if (!isRequestId(id)) return { recorded: false, request: undefined };
    const now = this.#clock();
    // One statement, its own transaction, records the decision, drops the evaluation job, moves the
    // deadline, queues the publication (and a job-level gate's deployment review) and sends the notice
    // of it: no BEGIN and COMMIT round trips around it.
    const rows = await this.#db.query(
      `WITH updated AS (
         UPDATE requests SET decision = $2::jsonb, facts = $3::jsonb, deadline = $4, pr_number = COALESCE($5, pr_number), updated_at = $6
         WHERE id = $1 AND (decision IS NULL OR $7) AND status = 'pending'
           -- Decided again once its deadline passed (both timers overdue after an outage), the request
           -- keeps that deadline, for its timer to end it, as a late vote's would.
           AND (NOT $7 OR deadline IS NULL OR deadline > $6)
         RETURNING *),
       dropped AS (
         DELETE FROM timers WHERE key = $8 || ':' || $1::text AND EXISTS (SELECT FROM updated)),
       scheduled AS (
         INSERT INTO timers (kind, request_id, key, due_at, payload, created_at)
         SELECT job.kind, updated.id, job.kind || ':' || updated.id::text, job.due_at, '{}'::jsonb, $6
         FROM updated CROSS JOIN LATERAL (VALUES
           ('deadline', updated.deadline),
           ($9, $6::timestamptz),
           ($10, CASE WHEN (updated.facts -> 'deployment') IS NOT NULL THEN $6::timestamptz END)) AS job (kind, due_at)
         WHERE job.due_at IS NOT NULL
         ${RESCHEDULE_ON_CONFLICT})
       SELECT updated.*, ${notifyChange('updated', "'updated'", '$11')} FROM updated`,
      [id, json(record.decision), json(record.facts), validDate(record.deadline, 'the request\'s deadline'), record.prNumber ?? null, now, record.replace ?? false, EVALUATE_JOB, PUBLISH_JOB, DEPLOYMENT_REVIEW_JOB, this.#channel],
    );
    if (rows.length === 0) return { recorded: false, request: await this.getRequest(id) };
    return { recorded: true, request: toRequest(rows[0]) };
  }

  async markPublishStarted(requestId: string): Promise<boolean> {
    const rows = await this.#db.query('UPDATE requests SET publish_started_at = $2 WHERE id = $1 AND publish_started_at IS NULL RETURNING id', [requestId, this.#clock()]);
    return rows.length === 1;
  }

  async recordCheckRun(requestId: string, checkRun: { id: number; url: string }): Promise<{ id: number; url: string } | undefined> {
    if (!isRequestId(requestId)) return undefined;
    const rows = await this.#db.query<{ check_run_id: unknown; check_run_url: unknown }>(
      `UPDATE requests SET
         check_run_id = COALESCE(check_run_id, $2),
         check_run_url = CASE WHEN check_run_id IS NULL THEN $3 ELSE check_run_url END,
         other_check_run_ids = CASE WHEN check_run_id IS NULL OR check_run_id = $2 OR $2 = ANY(other_check_run_ids)
                                    THEN other_check_run_ids ELSE array_append(other_check_run_ids, $2::bigint) END,
         updated_at = $4
       WHERE id = $1
       RETURNING check_run_id, check_run_url`,
      [requestId, checkRun.id, checkRun.url, this.#clock()],
    );
    if (rows.length === 0) return undefined;
    return { id: Number(rows[0].check_run_id), url: String(rows[0].check_run_url ?? '') };
  }

  async enqueuePublish(requestId: string): Promise<void> {
    if (!isRequestId(requestId)) return;
    await this.#transaction((tx) => this.#enqueuePublish(tx, requestId));
  }

  /**
   * One publication job per request: queuing it again while a replica publishes takes the claim
   * back (see SCHEDULE_TIMER), so that replica's completion fails and the latest state is published
   * once more. A burst of votes thus ends in one publication of the final state.
   */
  async #enqueuePublish(tx: SqlExecutor, requestId: string): Promise<void> {
    await tx.query(SCHEDULE_PUBLICATION, [requestId, this.#clock(), PUBLISH_JOB, DEPLOYMENT_REVIEW_JOB]);
  }

  /** #enqueuePublish and #notify in one statement: one round trip, where a vote that leaves the request pending needs both. */
  async #enqueuePublishAndNotify(tx: SqlExecutor, request: ApprovalRequest, change: ChangeKind): Promise<void> {
    const event: ChangeEvent = { requestId: request.id, status: request.status, change };
    await tx.query(`WITH queued AS (${SCHEDULE_PUBLICATION}) SELECT pg_notify($5, $6) AS notified`, [
      request.id,
      this.#clock(),
      PUBLISH_JOB,
      DEPLOYMENT_REVIEW_JOB,
      this.#channel,
      JSON.stringify(event),
    ]);
  }

  /**
   * The delivery, and the command comment, are handled: done in the transaction that records what
   * they did. A claim of this very handling ('processing') is taken over; a mark already 'done' is
   * someone else's handling, and this transaction must not commit.
   */
  async #markHandled(tx: SqlExecutor, handledBy: HandledBy | undefined): Promise<void> {
    const now = this.#clock();
    if (handledBy?.delivery) {
      const marked = await tx.query(
        `INSERT INTO webhook_deliveries AS d (delivery_id, event, state, received_at, lease_until, attempts)
         VALUES ($1, $2, 'done', $3, $3, 1)
         ON CONFLICT (delivery_id) DO UPDATE SET state = 'done' WHERE d.state = 'processing'
         RETURNING delivery_id`,
        [handledBy.delivery.id, handledBy.delivery.event, now],
      );
      if (marked.length === 0) throw new AlreadyHandled(`delivery ${handledBy.delivery.id}`);
    }
    if (handledBy?.comment) {
      // A comment deleted before it was handled is handled now only by what may count despite that.
      const { repositoryId, commentId, despiteDeletion } = handledBy.comment;
      if (!(await this.#markComment(tx, repositoryId, commentId, 'done', despiteDeletion === true ? ['processing', 'deleted'] : ['processing']))) {
        throw new AlreadyHandled(`comment ${commentId}`);
      }
    }
  }

  // ── votes ───────────────────────────────────────────────────────────────────────────────────

  async castVote(vote: NewVote): Promise<VoteResult> {
    if (!isRequestId(vote.requestId)) return { outcome: 'not_found' };
    return this.#castVote(vote).catch((err: unknown) => {
      if (err instanceof AlreadyHandled) return { outcome: 'already_handled' };
      throw err;
    });
  }

  #castVote(vote: NewVote): Promise<VoteResult> {
    return this.#transaction(async (tx): Promise<VoteResult> => {
      // The row lock makes votes on one request take turns, on this replica and on every other.
      const locked = await tx.query('SELECT * FROM requests WHERE id = $1 FOR UPDATE', [vote.requestId]);
      if (locked.length === 0) return { outcome: 'not_found' };
      const request = toRequest(locked[0]);
      const now = this.#clock();
      if (request.status === 'pending' && request.deadline && request.deadline <= now) {
        // The deadline passed before its timer fired: a late vote must not approve.
        const result = await this.#complete(tx, request.id, { status: 'timed_out', reason: 'deadline', actor: APP_ACTOR });
        return { outcome: 'closed', request: result!.request, completed: result!.changed };
      }
      if (request.status !== 'pending') return { outcome: 'closed', request, completed: false };

      // The vote and the request's votes in one statement. Its snapshot is taken after the lock above,
      // so it sees every vote committed before this one; the insert's own row, which the statement's
      // other reads cannot see, is added to them.
      const rows = await tx.query(
        `WITH inserted AS (
           INSERT INTO votes (request_id, login, choice, note, via, facts, at, comment_id)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
           ON CONFLICT (request_id, lower(login)) WHERE withdrawn_at IS NULL DO NOTHING
           RETURNING *)
         SELECT *, true AS inserted FROM inserted
         UNION ALL
         SELECT *, false FROM votes WHERE request_id = $1 AND withdrawn_at IS NULL
         ORDER BY id`,
        [request.id, vote.login, vote.choice, vote.note ?? '', vote.via, json(vote.facts ?? {}), now, vote.commentId ?? null],
      );
      if (!rows.some((row) => row.inserted === true)) return { outcome: 'duplicate', request, votes: rows.map(toVote) };
      const votes = await this.#refreshVoters(tx, request.id, rows.map(toVote), vote.refreshedVoters);
      for (const event of vote.audit ?? []) this.#append(tx, { ...event, requestId: request.id });
      await this.#markHandled(tx, vote.handledBy);

      this.#append(tx, {
        type: 'vote',
        actor: vote.login,
        requestId: request.id,
        facts: { choice: vote.choice, note: vote.note ?? '', via: vote.via, ...vote.facts },
      });
      const tally = vote.tally(votes, request);
      if (tally === 'pending') {
        await this.#enqueuePublishAndNotify(tx, request, 'vote');
        return { outcome: 'recorded', request, votes, completed: false };
      }
      const result = await this.#complete(tx, request.id, {
        status: tally,
        reason: tally === 'approved' ? 'quorum' : (vote.rejectReason ?? vote.note ?? 'rejected'),
        actor: vote.login,
        facts: { votes: votes.map((v) => ({ login: v.login, choice: v.choice })) },
      });
      return { outcome: 'recorded', request: result!.request, votes, completed: result!.changed };
    });
  }

  async recountVotes(recount: Recount): Promise<RecountResult> {
    if (!isRequestId(recount.requestId)) return { outcome: 'not_found' };
    return this.#transaction(async (tx): Promise<RecountResult> => {
      const locked = await tx.query('SELECT * FROM requests WHERE id = $1 FOR UPDATE', [recount.requestId]);
      if (locked.length === 0) return { outcome: 'not_found' };
      const request = toRequest(locked[0]);
      if (request.status !== 'pending' || (request.deadline && request.deadline <= this.#clock())) return { outcome: 'closed', request };
      const votes = await this.#refreshVoters(tx, request.id, await listVotes(tx, request.id), recount.refreshedVoters);
      for (const event of recount.audit ?? []) this.#append(tx, { ...event, requestId: request.id });
      if (recount.tally(votes, request) !== 'approved') {
        await this.#enqueuePublishAndNotify(tx, request, 'updated');
        return { outcome: 'counted', request, votes, completed: false };
      }
      const result = await this.#complete(tx, request.id, {
        status: 'approved',
        reason: 'quorum',
        actor: APP_ACTOR,
        facts: { votes: votes.map((v) => ({ login: v.login, choice: v.choice })), ...recount.facts },
      });
      return { outcome: 'counted', request: result!.request, votes, completed: result!.changed };
    });
  }

  /** Earlier voters as looked up again replace their stored facts before a tally; the votes as they then stand. */
  async #refreshVoters(tx: SqlExecutor, requestId: string, votes: Vote[], refreshedVoters: Recount['refreshedVoters'] = []): Promise<Vote[]> {
    for (const refreshed of refreshedVoters) {
      await tx.query(
        `UPDATE votes SET facts = jsonb_set(facts, '{voter}', $3::jsonb)
         WHERE request_id = $1 AND lower(login) = lower($2) AND withdrawn_at IS NULL`,
        [requestId, refreshed.login, json(refreshed.voter)],
      );
    }
    return refreshedVoters.length > 0 ? listVotes(tx, requestId) : votes;
  }

  async listVotes(requestId: string, options: { includeWithdrawn?: boolean } = {}): Promise<Vote[]> {
    if (!isRequestId(requestId)) return [];
    return listVotes(this.#db, requestId, options.includeWithdrawn);
  }

  async withdrawCommentVotes(repositoryId: string, commentId: number, actor: string): Promise<{ request: ApprovalRequest; vote: Vote }[]> {
    return this.#transaction(async (tx) => {
      // Marked deleted first, whatever it says now (an edit, perhaps by someone else, may have changed
      // it): its creation, delivered later or being handled now, then casts no approval (the vote's own
      // mark finds it deleted), while a rejection still counts; a vote it cast already is found below.
      await this.#markComment(tx, repositoryId, commentId, 'deleted', ['processing']);
      // Then the pending requests (lock order: request, then the rest), then their votes.
      const requests = await tx.query(
        `SELECT r.* FROM requests r
         WHERE r.repository_id = $1 AND r.status = 'pending'
           AND EXISTS (SELECT 1 FROM votes v WHERE v.request_id = r.id AND v.comment_id = $2 AND v.withdrawn_at IS NULL)
         ORDER BY r.id
         FOR UPDATE`,
        [repositoryId, commentId],
      );
      const withdrawn: { request: ApprovalRequest; vote: Vote }[] = [];
      const now = this.#clock();
      for (const row of requests) {
        const request = toRequest(row);
        const rows = await tx.query(
          `UPDATE votes SET withdrawn_at = $3 WHERE request_id = $1 AND comment_id = $2 AND withdrawn_at IS NULL RETURNING *`,
          [request.id, commentId, now],
        );
        for (const voteRow of rows) {
          const vote = toVote(voteRow);
          this.#append(tx, {
            type: 'vote_withdrawn',
            actor,
            requestId: request.id,
            facts: { login: vote.login, choice: vote.choice, comment_id: commentId, reason: 'the comment that cast it was deleted' },
          });
          withdrawn.push({ request, vote });
        }
        await this.#enqueuePublishAndNotify(tx, request, 'vote');
      }
      return withdrawn;
    });
  }

  // ── command comments ────────────────────────────────────────────────────────────────────────

  async commandThread(repositoryId: string, issueNumber: number, commentId: number): Promise<{ requests: ApprovalRequest[]; handled: boolean; deleted: boolean }> {
    // One row at least, whether or not the thread has requests: the mark rides on it.
    const rows = await this.#db.query(
      `SELECT r.*, mark.state AS comment_state
       FROM (SELECT (SELECT state FROM command_comments WHERE repository_id = $1 AND comment_id = $3) AS state) mark
       LEFT JOIN requests r ON r.repository_id = $1 AND (r.pr_number = $2 OR r.issue_number = $2)
       ORDER BY r.created_at, r.id`,
      [repositoryId, issueNumber, commentId],
    );
    const state = rows[0]?.comment_state;
    return { requests: rows.filter((row) => row.id !== null).map(toRequest), handled: state === 'done', deleted: state === 'deleted' };
  }

  async completeComment(repositoryId: string, commentId: number): Promise<void> {
    await this.#markComment(this.#db, repositoryId, commentId, 'done', ['processing', 'done', 'deleted']);
  }

  /** Marks a command comment `state`, over an earlier mark only when that is one of `over`. Whether it marked. */
  async #markComment(db: SqlExecutor, repositoryId: string, commentId: number, state: 'done' | 'deleted', over: readonly string[]): Promise<boolean> {
    const marked = await db.query(
      `INSERT INTO command_comments AS c (repository_id, comment_id, state, received_at, lease_until) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (repository_id, comment_id) DO UPDATE SET state = $3 WHERE c.state = ANY($5::text[])
       RETURNING comment_id`,
      [repositoryId, commentId, state, this.#clock(), [...over]],
    );
    return marked.length > 0;
  }

  async markCommentEdited(repositoryId: string, commentId: number): Promise<void> {
    await this.#db.query(
      'INSERT INTO edited_comments (repository_id, comment_id, edited_at) VALUES ($1, $2, $3) ON CONFLICT (repository_id, comment_id) DO NOTHING',
      [repositoryId, commentId, this.#clock()],
    );
  }

  async editedComments(repositoryId: string, commentIds: readonly number[]): Promise<Set<number>> {
    if (commentIds.length === 0) return new Set();
    const rows = await this.#db.query<{ comment_id: unknown }>('SELECT comment_id FROM edited_comments WHERE repository_id = $1 AND comment_id = ANY($2::bigint[])', [
      repositoryId,
      [...commentIds],
    ]);
    return new Set(rows.map((row) => Number(row.comment_id)));
  }

  async handledComments(repositoryId: string, commentIds: readonly number[]): Promise<Set<number>> {
    if (commentIds.length === 0) return new Set();
    const rows = await this.#db.query<{ comment_id: unknown }>(
      "SELECT comment_id FROM command_comments WHERE repository_id = $1 AND comment_id = ANY($2::bigint[]) AND state = 'done'",
      [repositoryId, [...commentIds]],
    );
    return new Set(rows.map((row) => Number(row.comment_id)));
  }

  // ── webhook deliveries ──────────────────────────────────────────────────────────────────────

  async claimDelivery(deliveryId: string, event: string): Promise<boolean> {
    const now = this.#clock();
    // A claim whose lease ran out belongs to a replica that died mid-delivery: take it over.
    const rows = await this.#db.query(
      `INSERT INTO webhook_deliveries AS d (delivery_id, event, state, received_at, lease_until, attempts)
       VALUES ($1, $2, 'processing', $3, $4, 1)
       ON CONFLICT (delivery_id) DO UPDATE SET lease_until = EXCLUDED.lease_until, attempts = d.attempts + 1
         WHERE d.state = 'processing' AND d.lease_until <= EXCLUDED.received_at
       RETURNING delivery_id`,
      [deliveryId, event, now, new Date(now.getTime() + this.#leaseMs)],
    );
    return rows.length === 1;
  }

  async completeDelivery(deliveryId: string, event: string): Promise<void> {
    const now = this.#clock();
    await this.#db.query(
      `INSERT INTO webhook_deliveries (delivery_id, event, state, received_at, lease_until, attempts) VALUES ($1, $2, 'done', $3, $3, 1)
       ON CONFLICT (delivery_id) DO UPDATE SET state = 'done'`,
      [deliveryId, event, now],
    );
  }

  async releaseDelivery(deliveryId: string): Promise<boolean> {
    const rows = await this.#db.query(`DELETE FROM webhook_deliveries WHERE delivery_id = $1 AND state = 'processing' RETURNING delivery_id`, [deliveryId]);
    return rows.length === 1;
  }

  async pruneHandledMarks(before: Date, limit: number): Promise<PrunedMarks> {
    validDate(before, 'the handled marks\' cutoff');
    // A mark made after a pending request opened may still be needed: a replayed button press or
    // comment could otherwise count for it. A second's margin, as GitHub's comment times are whole seconds.
    const cutoff = `(SELECT LEAST($1::timestamptz, (SELECT min(created_at) - interval '1 second' FROM requests WHERE status = 'pending')))`;
    const prune = async (table: string, key: string, madeAt: string) => {
      const rows = await this.#db.query(
        `DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE ${madeAt} < ${cutoff} LIMIT $2) RETURNING 1`,
        [before, limit],
      );
      return rows.length;
    };
    return {
      deliveries: await prune('webhook_deliveries', 'delivery_id', 'received_at'),
      comments: await prune('command_comments', 'repository_id, comment_id', 'received_at'),
      edits: await prune('edited_comments', 'repository_id, comment_id', 'edited_at'),
    };
  }

  // ── timers ──────────────────────────────────────────────────────────────────────────────────

  async scheduleTimer(timer: NewTimer): Promise<Timer> {
    return this.#scheduleTimer(this.#db, timer);
  }

  /**
   * The outbox sleeps until told, so queueing one of its jobs notifies it; the notice rides on the
   * insert (a `RETURNING` column) rather than costing a statement of its own.
   */
  async #scheduleTimer(sql: SqlExecutor, timer: NewTimer): Promise<Timer> {
    const notice = OUTBOX_KINDS.includes(timer.kind) ? [this.#channel, JSON.stringify({ requestId: OUTBOX_QUEUE, change: 'queued' } satisfies ChangeEvent)] : [];
    const returning = notice.length > 0 ? 'RETURNING *, pg_notify($7, $8) AS notified' : 'RETURNING *';
    const values = [timer.kind, timer.requestId ?? null, timer.key ?? null, validDate(timer.dueAt, `the ${timer.kind} timer's due time`), json(timer.payload ?? {}), this.#clock(), ...notice];
    if (timer.keepExisting && timer.key) {
      const kept = await sql.query(
        `INSERT INTO timers (kind, request_id, key, due_at, payload, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)
         ON CONFLICT (key) DO UPDATE SET key = timers.key
         ${returning}`,
        values,
      );
      return toTimer(kept[0]);
    }
    const rows = await sql.query(`${SCHEDULE_TIMER} ${returning}`, values);
    return toTimer(rows[0]);
  }

  async recordHandled(outcome: HandledOutcome): Promise<boolean> {
    try {
      await this.#transaction(async (tx) => {
        // The marks first: a handling that lost the race stops before writing anything.
        await this.#markHandled(tx, outcome.handledBy);
        for (const event of outcome.audit) this.#append(tx, event);
        for (const timer of outcome.timers ?? []) {
          const allowed = timer.allowance ? await this.#withinAllowance(tx, timer, timer.allowance) : timer;
          if (allowed) await this.#scheduleTimer(tx, allowed);
        }
      });
      return true;
    } catch (err) {
      if (err instanceof AlreadyHandled) return false;
      throw err;
    }
  }

  async recordWhilePending(requestId: string, record: { audit?: NewAuditEvent[]; timers?: NewTimer[]; publish?: boolean }): Promise<boolean> {
    if (!isRequestId(requestId)) return false;
    return this.#transaction(async (tx) => {
      // FOR SHARE: a decision's UPDATE of the row waits for this commit. Its timers' DELETE reads the
      // snapshot it started with, so a reminder scheduled here can outlive it; fired, it finds the
      // request decided and does nothing.
      const rows = await tx.query<{ status: unknown }>('SELECT status FROM requests WHERE id = $1 FOR SHARE', [requestId]);
      if (rows[0]?.status !== 'pending') return false;
      for (const event of record.audit ?? []) this.#append(tx, event);
      for (const timer of record.timers ?? []) await this.#scheduleTimer(tx, timer);
      if (record.publish) await this.#enqueuePublish(tx, requestId);
      return true;
    });
  }

  /**
   * The reply to queue within its author's allowance on the thread: itself, the allowance's last, or
   * none. Counted from the audit trail under a lock per author and thread, held to the commit, whose
   * audit append the next count then sees: two replicas never both answer past the allowance.
   */
  async #withinAllowance(tx: SqlExecutor, timer: NewTimer, allowance: ReplyAllowance): Promise<NewTimer | undefined> {
    const { repositoryId, issueNumber, actor, max, windowMs } = allowance;
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('command-replies:' || $1::text || ':' || $2::text || ':' || $3::text, 0))", [repositoryId, issueNumber, actor]);
    const rows = await tx.query<{ refused: unknown }>(
      `SELECT count(DISTINCT a.facts ->> 'comment_id') AS refused
       FROM requests r JOIN audit_events a ON a.request_id = r.id
       WHERE r.repository_id = $1 AND (r.pr_number = $2 OR r.issue_number = $2)
         AND a.actor = $3 AND a.type IN ('vote_refused', 'vote_ignored') AND a.facts ->> 'via' = 'comment' AND a.at > $4`,
      [repositoryId, issueNumber, actor, new Date(this.#clock().getTime() - windowMs)],
    );
    const refused = Number(rows[0]?.refused ?? 0);
    if (refused < max - 1) return timer;
    return refused === max - 1 ? allowance.last : undefined;
  }

  async claimDueTimers(now: Date, limit: number, claim: TimerClaim = {}): Promise<ClaimedTimer[]> {
    // With a cap per installation, a timer takes its place among its installation's: after those
    // leased now, then by due time; only those within the cap are claimable.
    const perInstallation = claim.perInstallation === undefined ? '' : `
           AND id IN (
             SELECT id FROM (
               SELECT t.id, (t.due_at <= $1 AND (t.lease_until IS NULL OR t.lease_until <= $1)) AS due,
                      row_number() OVER (PARTITION BY COALESCE(t.payload ->> 'installationId', r.facts ->> 'installationId', '')
                                         ORDER BY t.lease_until > $1 DESC NULLS LAST, ($8::text[] IS NOT NULL AND t.kind = ANY($8)), t.due_at, t.id) AS place
               FROM timers t LEFT JOIN requests r ON r.id = t.request_id
               WHERE (t.lease_until > $1 OR t.due_at <= $1)
                 AND ($5::text[] IS NULL OR t.kind = ANY($5)) AND ($6::text[] IS NULL OR NOT (t.kind = ANY($6)))) placed
             WHERE due AND place <= $9::int)`;
    const rows = await this.#db.query(
      `UPDATE timers SET claim_token = $3, lease_until = $4, attempts = attempts + $7::int
       WHERE id IN (
         SELECT id FROM timers
         WHERE due_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
           AND ($5::text[] IS NULL OR kind = ANY($5)) AND ($6::text[] IS NULL OR NOT (kind = ANY($6)))${perInstallation}
         ORDER BY ($8::text[] IS NOT NULL AND kind = ANY($8)), due_at, id
         LIMIT $2
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [
        now,
        limit,
        randomUUID(),
        new Date(now.getTime() + this.#leaseMs),
        claim.only ? [...claim.only] : null,
        claim.except ? [...claim.except] : null,
        claim.startsLater ? 0 : 1,
        claim.behind ? [...claim.behind] : null,
        ...(claim.perInstallation === undefined ? [] : [claim.perInstallation]),
      ],
    );
    // In the order they are to run (an UPDATE's rows come back in no particular order).
    const behind = (timer: ClaimedTimer) => (claim.behind?.includes(timer.kind) ? 1 : 0);
    return rows.map(toClaimedTimer).sort((a, b) => behind(a) - behind(b) || a.dueAt.getTime() - b.dueAt.getTime() || a.id - b.id);
  }

  async startTimer(timer: ClaimedTimer, now: Date): Promise<ClaimedTimer | undefined> {
    const rows = await this.#db.query(
      `UPDATE timers SET attempts = attempts + 1, lease_until = $3
       WHERE id = $1 AND claim_token = $2 AND lease_until > $4
       RETURNING *`,
      [timer.id, timer.claimToken, new Date(now.getTime() + this.#leaseMs), now],
    );
    return rows.length === 1 ? toClaimedTimer(rows[0]) : undefined;
  }

  async completeTimer(timer: ClaimedTimer): Promise<boolean> {
    const rows = await this.#db.query('DELETE FROM timers WHERE id = $1 AND claim_token = $2 RETURNING id', [
      timer.id,
      timer.claimToken,
    ]);
    return rows.length === 1;
  }

  async releaseTimer(timer: ClaimedTimer, retryAt: Date): Promise<void> {
    await this.#db.query(
      'UPDATE timers SET due_at = $3, claim_token = NULL, lease_until = NULL WHERE id = $1 AND claim_token = $2',
      [timer.id, timer.claimToken, retryAt],
    );
  }

  async cancelTimers(filter: { requestId: string; kind?: string } | { key: string } | { keys: readonly string[] }): Promise<number> {
    const rows =
      'requestId' in filter
        ? await this.#db.query('DELETE FROM timers WHERE request_id = $1 AND ($2::text IS NULL OR kind = $2) RETURNING id', [
            filter.requestId,
            filter.kind ?? null,
          ])
        : await this.#db.query('DELETE FROM timers WHERE key = ANY($1::text[]) RETURNING id', ['key' in filter ? [filter.key] : [...filter.keys]]);
    return rows.length;
  }

  async nextTimerDue(kinds: Pick<TimerClaim, 'only' | 'except'> = {}): Promise<Date | undefined> {
    // A timer leased to a replica is not claimable before its lease ends, so it must not wake anyone sooner.
    const rows = await this.#db.query<{ due: Date | null }>(
      `SELECT min(GREATEST(due_at, COALESCE(lease_until, due_at))) AS due FROM timers
       WHERE ($1::text[] IS NULL OR kind = ANY($1)) AND ($2::text[] IS NULL OR NOT (kind = ANY($2)))`,
      [kinds.only ? [...kinds.only] : null, kinds.except ? [...kinds.except] : null],
    );
    return rows[0]?.due ?? undefined;
  }

  async #scheduleDeadline(tx: SqlExecutor, requestId: string, deadline: Date): Promise<void> {
    await tx.query(SCHEDULE_TIMER, ['deadline', requestId, `deadline:${requestId}`, deadline, '{}', this.#clock()]);
  }

  // ── change notifications ────────────────────────────────────────────────────────────────────

  async subscribe(requestId: string, listener: (event: ChangeEvent) => void): Promise<Unsubscribe> {
    let listeners = this.#listeners.get(requestId);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(requestId, listeners);
    }
    listeners.add(listener);
    try {
      this.#unlisten ??= this.#db.listen(this.#channel, (payload) => this.#dispatch(payload));
      await this.#unlisten;
    } catch (err) {
      this.#unlisten = undefined;
      listeners.delete(listener);
      throw err;
    }
    return async () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(requestId) === listeners) this.#listeners.delete(requestId);
    };
  }

  #dispatch(payload: string): void {
    let event: ChangeEvent;
    try {
      event = JSON.parse(payload) as ChangeEvent;
    } catch {
      return; // not ours: someone else NOTIFYing on the channel
    }
    for (const key of [event.requestId, ALL_REQUESTS]) {
      for (const listener of this.#listeners.get(key) ?? []) listener(event);
    }
  }

  async #notify(tx: SqlExecutor, request: ApprovalRequest, change: ChangeKind): Promise<void> {
    const event: ChangeEvent = { requestId: request.id, status: request.status, change };
    await tx.query('SELECT pg_notify($1, $2)', [this.#channel, JSON.stringify(event)]);
  }

  // ── audit trail ─────────────────────────────────────────────────────────────────────────────

  async appendAudit(event: NewAuditEvent): Promise<AuditEvent> {
    return this.#db.transaction(async (tx) => (await this.#appendAll(tx, [event]))[0]);
  }

  /**
   * Records an audit event of the transaction `tx`; the events are appended to the chain together
   * when the transaction's work is done, just before it commits (see #transaction).
   */
  #append(tx: SqlExecutor, event: NewAuditEvent): void {
    const pending = this.#pendingAudit.get(tx);
    if (!pending) throw new Error('an audit event can only be recorded inside a store transaction');
    pending.push(event);
  }

  /**
   * Runs `work` in one transaction, then ends it with `lastly`'s statement, if any, and the append of
   * the audit events the work recorded, sent with the COMMIT in one round trip. The locks these take,
   * a repository's turn on its cap and the chain's head row, are then held on the server only:
   * every append takes its turn on that one row, across replicas, so holding it through the rest of
   * a transaction, or through a round trip to the App, would make every transaction that records an
   * event wait that much longer for every other one.
   */
  #transaction<T>(work: (tx: TransactionExecutor) => Promise<T>, lastly?: (result: T) => string | undefined): Promise<T> {
    return this.#db.transaction(async (tx) => {
      const pending: NewAuditEvent[] = [];
      this.#pendingAudit.set(tx, pending);
      const result = await work(tx);
      const statements: string[] = [];
      const last = lastly?.(result);
      if (last) statements.push(last);
      if (pending.length > 0) {
        const { events, at } = this.#prepareAppend(pending);
        statements.push(appendAudit(sqlText(events) + '::jsonb', sqlText(at.toISOString()) + '::timestamptz'));
      }
      if (statements.length > 0) await tx.commitWith(statements);
      return result;
    });
  }

  async #appendAll(tx: SqlExecutor, events: readonly NewAuditEvent[]): Promise<AuditEvent[]> {
    const prepared = this.#prepareAppend(events);
    const rows = await tx.query<{ chain: Array<{ seq: unknown; hash: string }> }>(APPEND_AUDIT, [prepared.events, prepared.at]);
    const chain = rows[0].chain;
    return prepared.fields.map((fields, i): AuditEvent => ({ ...fields, seq: Number(chain[i + 1].seq), prevHash: chain[i].hash, hash: chain[i + 1].hash }));
  }

  /** The events as APPEND_AUDIT takes them (JSON text), and their time. */
  #prepareAppend(events: readonly NewAuditEvent[]): { events: string; at: Date; fields: Array<Omit<AuditEvent, 'seq' | 'prevHash' | 'hash'>> } {
    const at = this.#clock();
    const fields = events.map((event) => {
      // The facts as the database will give them back (jsonb keeps what JSON text says, in its own
      // key order, which canonical JSON sorts anyway), so each hash covers exactly what is stored.
      const facts = JSON.parse(json(event.facts ?? {})) as Record<string, unknown>;
      return { requestId: event.requestId ?? null, type: event.type, actor: event.actor, at, facts };
    });
    const chained = fields.map((field) => ({ ...auditHashParts(field), requestId: field.requestId, type: field.type, actor: field.actor, facts: field.facts }));
    return { events: json(chained), at, fields };
  }

  async listAudit(filter: { requestId?: string; afterSeq?: number; limit?: number } = {}): Promise<AuditEvent[]> {
    if (filter.requestId !== undefined && !isRequestId(filter.requestId)) return [];
    const rows = await this.#db.query(
      `SELECT * FROM audit_events WHERE ($1::uuid IS NULL OR request_id = $1) AND seq > $2 ORDER BY seq LIMIT $3`,
      [filter.requestId ?? null, filter.afterSeq ?? 0, filter.limit ?? 1000],
    );
    return rows.map(toAuditEvent);
  }

  // ── the dashboard ───────────────────────────────────────────────────────────────────────────

  async listRequestRepositories(): Promise<string[]> {
    // A skip scan: each step finds the next name in the index, so the cost follows the number of
    // repositories, not of requests (SELECT DISTINCT read every request on every dashboard page).
    const rows = await this.#db.query<{ repository: string }>(
      `WITH RECURSIVE names AS (
         (SELECT repository FROM requests ORDER BY repository LIMIT 1)
         UNION ALL
         SELECT (SELECT r.repository FROM requests r WHERE r.repository > names.repository ORDER BY r.repository LIMIT 1)
         FROM names WHERE names.repository IS NOT NULL
       )
       SELECT repository FROM names WHERE repository IS NOT NULL`,
    );
    return rows.map((row) => row.repository);
  }

  async searchRequests(filter: RequestSearch): Promise<ApprovalRequest[]> {
    const order = filter.oldestFirst ? 'ASC' : 'DESC';
    const rows = await this.#db.query(
      `SELECT * FROM requests r
       WHERE r.repository_id = ANY($1::bigint[])
         AND ($2::text IS NULL OR r.status = $2)
         AND ($3::text IS NULL OR r.action = $3)
         AND ($4::text IS NULL OR r.environment_key = lower($4))
         AND ($5::text IS NULL OR lower(r.requester) = lower($5))
         AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM votes v WHERE v.request_id = r.id AND lower(v.login) = lower($6)))
         AND ($7::timestamptz IS NULL OR r.created_at >= $7)
         AND ($8::timestamptz IS NULL OR r.created_at < $8)
         AND ($9::timestamptz IS NULL OR (r.created_at, r.id) ${filter.oldestFirst ? '>' : '<'} ($9, $10::uuid))
       ORDER BY r.created_at ${order}, r.id ${order}
       LIMIT $11`,
      [
        filter.repositoryIds,
        filter.status ?? null,
        filter.action ?? null,
        filter.environment ?? null,
        filter.requester ?? null,
        filter.approver ?? null,
        filter.createdFrom ?? null,
        filter.createdBefore ?? null,
        filter.after?.createdAt ?? null,
        filter.after?.id ?? null,
        filter.limit,
      ],
    );
    return rows.map(toRequest);
  }

  async searchAudit(filter: AuditSearch): Promise<AuditEvent[]> {
    if (filter.requestId !== undefined && !isRequestId(filter.requestId)) return [];
    // An event of no request belongs to no repository: the join leaves it out of every viewer's list.
    const rows = await this.#db.query(
      `SELECT a.* FROM audit_events a JOIN requests r ON r.id = a.request_id
       WHERE r.repository_id = ANY($1::bigint[])
         AND ($2::uuid IS NULL OR a.request_id = $2)
         AND ($3::text IS NULL OR a.type = $3)
         AND ($4::text IS NULL OR lower(a.actor) = lower($4))
         AND ($5::text IS NULL OR r.action = $5)
         AND ($6::text IS NULL OR r.environment_key = lower($6))
         AND ($7::timestamptz IS NULL OR a.at >= $7)
         AND ($8::timestamptz IS NULL OR a.at < $8)
         AND a.seq > $9
       ORDER BY a.seq
       LIMIT $10`,
      [
        filter.repositoryIds,
        filter.requestId ?? null,
        filter.type ?? null,
        filter.actor ?? null,
        filter.action ?? null,
        filter.environment ?? null,
        filter.from ?? null,
        filter.before ?? null,
        filter.afterSeq ?? 0,
        filter.limit,
      ],
    );
    return rows.map(toAuditEvent);
  }

  async createSession(session: DashboardSession): Promise<void> {
    await this.#transaction(async (tx) => {
      await tx.query('DELETE FROM dashboard_sessions WHERE expires_at <= $1', [session.createdAt]);
      await tx.query(
        `INSERT INTO dashboard_sessions (id_hash, login, user_id, access_token, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [session.idHash, session.login, session.userId, session.accessToken, session.csrfToken, session.createdAt, session.expiresAt],
      );
    });
  }

  async getSession(idHash: string, now: Date): Promise<DashboardSession | undefined> {
    const rows = await this.#db.query('SELECT * FROM dashboard_sessions WHERE id_hash = $1 AND expires_at > $2', [idHash, now]);
    return rows[0] && toSession(rows[0]);
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.#db.query('DELETE FROM dashboard_sessions WHERE id_hash = $1', [idHash]);
  }

  async verifyAudit(anchor?: { seq: number; hash: string }): Promise<AuditVerification> {
    return this.#transaction(async (tx) => {
      // One snapshot for the head and every row, so appends made meanwhile don't look like tampering.
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const heads = await tx.query<{ seq: unknown; hash: string }>('SELECT seq, hash FROM audit_head');
      const verifier = new ChainVerifier(anchor);
      // A cursor over every row, rather than pages that each start after the last seq read: a second
      // row with that seq (its key dropped by whoever owns the table) would fall between two pages,
      // unchecked, while lists and exports show it.
      await tx.exec('DECLARE audit_rows NO SCROLL CURSOR FOR SELECT * FROM audit_events ORDER BY seq');
      for (;;) {
        const rows = await tx.query(`FETCH FORWARD ${VERIFY_BATCH} FROM audit_rows`, [], { planEachTime: true });
        for (const row of rows) if (!verifier.push(toAuditEvent(row))) break;
        if (verifier.problem || rows.length < VERIFY_BATCH) break;
      }
      const problem = verifier.finish(heads.map((head) => ({ seq: Number(head.seq), hash: head.hash })));
      if (problem) return { ok: false, ...problem, checked: verifier.checked };
      return { ok: true, count: verifier.checked, headHash: heads[0]!.hash };
    });
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#db.close();
  }
}

/**
 * A date the store is given, refused when invalid with an error that names it: pg would send
 * PostgreSQL text it cannot read, failing with an error that names nothing (its next major version
 * throws on such a date instead).
 */
function validDate<T extends Date | null | undefined>(date: T, what: string): T {
  if (date && Number.isNaN(date.getTime())) throw new TypeError(`${what} is not a valid date`);
  return date;
}

const KEY_MATCH = 'repository_id = $1 AND run_id = $2 AND run_attempt = $3 AND action = $4 AND job_key = $5';

/**
 * Appends `events` (an SQL expression of type jsonb: an array, each its hash parts, request id,
 * type, actor and facts) at `at` (an expression of type timestamptz). One statement locks the
 * chain's head row, chains the events to it (SHA-256 over each event's canonical JSON, see
 * auditHashParts) and moves the head; it returns the chain from the head it started at, and fails
 * (SQLSTATE MJ002) if the head is missing, so that nothing is committed past a tampered trail. The
 * head is looked up with LIMIT 1 (it is a single row) so that the plan's estimates stay small: a
 * plan estimated past jit_above_cost would be compiled on every append.
 */
function appendAudit(events: string, at: string): string {
  return `
  WITH RECURSIVE
    head AS (SELECT seq, hash FROM audit_head LIMIT 1 FOR UPDATE),
    events AS (SELECT e, ord FROM jsonb_array_elements(${events}) WITH ORDINALITY AS t(e, ord)),
    chain (ord, seq, prev_hash, hash) AS (
      SELECT 0::bigint, seq, NULL::text, hash FROM head
      UNION ALL
      SELECT events.ord, chain.seq + 1, chain.hash, encode(sha256(convert_to(
        (events.e ->> 'head') || to_json(chain.hash)::text || (events.e ->> 'middle') || (chain.seq + 1)::text || (events.e ->> 'tail'),
        'UTF8')), 'hex')
      FROM chain JOIN events ON events.ord = chain.ord + 1),
    appended AS (
      INSERT INTO audit_events (seq, request_id, type, actor, at, facts, prev_hash, hash)
      SELECT chain.seq, (events.e ->> 'requestId')::uuid, events.e ->> 'type', events.e ->> 'actor', ${at}, events.e -> 'facts', chain.prev_hash, chain.hash
      FROM chain JOIN events USING (ord)),
    last AS (SELECT seq, hash FROM chain ORDER BY ord DESC LIMIT 1),
    moved AS (UPDATE audit_head SET seq = last.seq, hash = last.hash FROM last RETURNING 1)
  SELECT CASE WHEN EXISTS (SELECT FROM moved) THEN (SELECT json_agg(json_build_object('seq', seq, 'hash', hash) ORDER BY ord) FROM chain)
              ELSE refuse_audit_append('audit head record is missing: refusing to append to a tampered trail') END AS chain`;
}

/** $1 the events as JSON text, $2 their time; see appendAudit. */
export const APPEND_AUDIT = appendAudit('$1::jsonb', '$2::timestamptz');

/**
 * `text` as an SQL string literal, for statements that travel with a COMMIT and so cannot take
 * parameters. The E'' form means the same whatever standard_conforming_strings says.
 */
function sqlText(text: string): string {
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * The statement that refuses the request `created` when the others already pending reach a cap
 * (see the take_pending_turn migration). It ends the creation's transaction, sent with the audit
 * append and the COMMIT: creations in one repository take turns from its lock until they commit,
 * so two cannot both count the same last free place, and the turn is held on the database server
 * only. The values are written into the statement, so each must be an integer.
 */
function takePendingTurn(created: ApprovalRequest, limits: PendingLimits): string {
  const values = [created.repositoryId, created.runId, created.runAttempt, limits.perRepository, limits.perRunAttempt, created.status === 'pending' ? 1 : 0];
  for (const value of values) if (!/^-?\d{1,19}$/.test(String(value))) throw new Error(`not an integer: ${JSON.stringify(value)}`);
  return `SELECT take_pending_turn(${values.join(', ')})`;
}

/** take_pending_turn's refusal (SQLSTATE MJ001, its details in JSON) as the store's error. */
function pendingLimitRefusal(err: unknown): PendingLimitError | undefined {
  if (!(err instanceof Error) || (err as { code?: unknown }).code !== 'MJ001') return undefined;
  const detail = JSON.parse(String((err as { detail?: unknown }).detail)) as { scope: PendingLimitError['scope']; pending: number };
  return new PendingLimitError(detail.scope, detail.pending);
}

/**
 * The pending requests of repository $1 (its kept count) and of its run $2's attempt $3 (counted),
 * each only up to the bound given (placeholders): a cap needs to know whether it is reached, not by how much.
 */
function boundedPendingCounts(repositoryBound: string, runAttemptBound: string): string {
  return `LEAST(COALESCE((SELECT pending FROM pending_request_counts WHERE repository_id = $1), 0), ${repositoryBound}) AS repository,
          (SELECT count(*) FROM (SELECT FROM requests WHERE repository_id = $1 AND run_id = $2 AND run_attempt = $3 AND status = 'pending' LIMIT ${runAttemptBound}) a) AS run_attempt`;
}

/** $1 repository id, $2 run id, $3 run attempt. */
const COUNT_PENDING = `
  SELECT count(*) AS repository, count(*) FILTER (WHERE run_id = $2 AND run_attempt = $3) AS run_attempt
  FROM requests WHERE repository_id = $1 AND status = 'pending'`;

async function countPending(sql: SqlExecutor, run: { repositoryId: string; runId: string; runAttempt: string }): Promise<{ repository: number; runAttempt: number }> {
  const rows = await sql.query<{ repository: unknown; run_attempt: unknown }>(COUNT_PENDING, [run.repositoryId, run.runId, run.runAttempt]);
  return { repository: Number(rows[0].repository), runAttempt: Number(rows[0].run_attempt) };
}

function keyParams(key: RequestKey): unknown[] {
  return [key.repositoryId, key.runId, key.runAttempt, key.action, key.jobKey];
}

// Scheduling a key again moves the timer and takes it back from any claimant.
const RESCHEDULE_ON_CONFLICT = `
  ON CONFLICT (key) DO UPDATE SET
    kind = EXCLUDED.kind, request_id = EXCLUDED.request_id, due_at = EXCLUDED.due_at,
    payload = EXCLUDED.payload, claim_token = NULL, lease_until = NULL, attempts = 0`;
/**
 * The change notice of a request (a ChangeEvent, as #notify sends it) as a column of the statement
 * that writes the request: `row` names the written row, `channel` the parameter holding the channel.
 */
function notifyChange(row: string, change: string, channel: string): string {
  return `pg_notify(${channel}, json_build_object('requestId', ${row}.id, 'status', ${row}.status, 'change', ${change})::text) AS notified`;
}

const SCHEDULE_TIMER = `
  INSERT INTO timers (kind, request_id, key, due_at, payload, created_at)
  VALUES ($1, $2, $3, $4, $5::jsonb, $6)
  ${RESCHEDULE_ON_CONFLICT}`;
/**
 * The publication job, and for a job-level gate (shown on, and finally answered through, the run's
 * deployment protection rule) the deployment review job too, of the request `row` names (a FROM item
 * with `id` and `facts`): one statement. `now`, `publishJob` and `reviewJob` are parameters.
 */
function publicationOf(row: string, now: string, publishJob: string, reviewJob: string): string {
  return `INSERT INTO timers (kind, request_id, key, due_at, payload, created_at)
    SELECT job.kind, r.id, job.kind || ':' || r.id::text, ${now}::timestamptz, '{}'::jsonb, ${now}::timestamptz
    FROM ${row} AS r CROSS JOIN LATERAL (VALUES (${publishJob}::text, true), (${reviewJob}::text, (r.facts -> 'deployment') IS NOT NULL)) AS job (kind, wanted)
    WHERE job.wanted
    ${RESCHEDULE_ON_CONFLICT}`;
}
// A request by its id ($1); the publication job is queued whether or not the row is found, so a
// missing request fails on the timers' foreign key rather than queuing nothing.
const SCHEDULE_PUBLICATION = publicationOf('(SELECT $1::text::uuid AS id, (SELECT facts FROM requests WHERE id = $1::text::uuid) AS facts)', '$2', '$3', '$4');

function json(value: unknown): string {
  return JSON.stringify(value);
}

async function listVotes(db: SqlExecutor, requestId: string, includeWithdrawn = false): Promise<Vote[]> {
  const rows = await db.query(
    `SELECT * FROM votes WHERE request_id = $1 AND ($2 OR withdrawn_at IS NULL) ORDER BY id`,
    [requestId, includeWithdrawn],
  );
  return rows.map(toVote);
}
