/**
 * The Probot app: webhooks for votes, the request API for the Action, deadlines. A thin adapter:
 * decisions come from `policies/`, state from the store, GitHub access from `app/github/`.
 */
import { setMaxListeners } from 'node:events';
import type { ApplicationFunction } from 'probot';
import { Admission, type AdmissionSettings } from './api/admission.js';
import { handleRuleRequested, recoverLostRules, reviewDeploymentJob } from './deployments/index.js';
import { createApiHandler } from './api/routes.js';
import { createDashboardHandler } from './dashboard/index.js';
import { Gate } from './gate/gate.js';
import { RequestNotifications } from './gate/notifications.js';
import { TimerWorker } from './gate/timers.js';
import { Installations } from './github/installations.js';
import type { OAuthCredentials } from './github/user-access.js';
import { createNotifiers, NotificationDispatcher, notifierNames, storeAudit, storeStillWaiting, type NotifiersConfig, type RetryPolicy } from './notify/index.js';
import { OidcVerifier } from './oidc.js';
import { Metrics } from './ops/metrics.js';
import type { ClaimedTimer, Store } from './store/store.js';
import { OutboxWorker, requestOutbox } from './outbox/index.js';
import { RECONCILE_JOB, Reconciler } from './reconciler/reconciler.js';
import { handlePolicyPreview, runPolicyPreview } from './preview/policy-preview.js';
import { DEPLOYMENT_REVIEW_JOB, PREVIEW_JOB } from './store/store.js';
import { handleButton, handleRerun } from './webhooks/buttons.js';
import { editedIntoCommand, handleComment, handleDeletedComment, handleEditedComment, mayBeCommand } from './webhooks/comments.js';
import { once } from './webhooks/deliveries.js';
import { handleInstallationDeleted, handleRepositoriesRemoved } from './webhooks/installation.js';
import { handleRepositoryRenamed } from './webhooks/repository.js';
import { answerForgedSignaturesWith401 } from './webhooks/signature.js';

export interface JitAppOptions {
  store: Store;
  /** The GitHub App's id (APP_ID), reported to the Action with each request. */
  appId: number;
  /** Public base URL of the App: check run details links, and the default OIDC audience. */
  appUrl: string;
  /** GitHub's REST base URL, for the dashboard's sign-in and its questions asked with a user's token. */
  githubApiUrl: string;
  /** The GitHub App's OAuth credentials (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET): without them the dashboard only says how to enable it. */
  oauth?: OAuthCredentials;
  /** How long a dashboard session lasts (default 8 hours). */
  sessionTtlMs?: number;
  oidcIssuer: string;
  oidcAudience?: string;
  timerPollMs?: number;
  /** How long evaluation is retried through transient GitHub failures before the request fails closed. */
  evaluationBudgetMs?: number;
  /** How many replies one person's commands that do not count get on a thread (default COMMAND_REPLIES). */
  commandReplies?: { perPerson: number; windowMs: number };
  /** Longest sleep of the outbox between looks for jobs other replicas queued. */
  outboxPollMs?: number;
  /** How often the reconciler looks for what GitHub never sent (default 2 minutes). */
  reconcileIntervalMs?: number;
  /** How long GitHub's comment lists may lag behind a new comment, as the reconciler assumes (default a minute). */
  reconcileListingLagMs?: number;
  /** The App's notifiers (NOTIFIERS_FILE); none when absent. */
  notifiers?: NotifiersConfig;
  /** How notifications are retried; docs/NOTIFICATIONS.md describes the default. */
  notificationRetry?: Partial<RetryPolicy>;
  /** Repositories (`owner/name`) besides each owner's `.github` that policies may `_extends`. */
  extendsRepositories?: readonly string[];
  /** Which repository owners may open requests, and how many may be pending. */
  admission?: AdmissionSettings;
  /** `METRICS_TOKEN`: the bearer token `GET /metrics` needs; absent, /metrics is open. */
  metricsToken?: string;
  /** `METRICS_PORT`: the server serves /metrics on its own port, so the App's routes leave it out. */
  metricsElsewhere?: boolean;
  /**
   * The App's clock (milliseconds since the epoch; default Date.now): what freezes and deploy windows
   * are judged against and what timers fall due by. The store must be given the same one.
   */
  clock?: () => number;
}

export interface JitApp {
  appFn: ApplicationFunction;
  /** The App's Prometheus metrics, for a server that serves them on a port of their own. */
  metrics: Metrics;
  /** Stops the timer worker and answers open long polls; the caller then closes the server and the store. */
  stop(): Promise<void>;
}

export function jitApp(options: JitAppOptions): JitApp {
  const appUrl = options.appUrl.replace(/\/+$/, '');
  let timers: TimerWorker | undefined;
  let outboxWorker: OutboxWorker | undefined;
  let started: Promise<void> | undefined;
  let dispatcher: NotificationDispatcher | undefined;
  const shutdown = new AbortController();
  const metrics = new Metrics(options.store);
  // Every open long poll listens for shutdown; there may be many more than Node's default warning threshold.
  setMaxListeners(0, shutdown.signal);
  const appFn: ApplicationFunction = (app, { addHandler }) => {
    const { store } = options;
    const clock = options.clock ?? Date.now;
    const log = app.log.child({ name: 'jit' });
    const installations = new Installations(app, options.appId);
    const notifiersConfig = options.notifiers ?? { notifiers: new Map() };
    dispatcher = new NotificationDispatcher({ notifiers: createNotifiers(notifiersConfig), audit: storeAudit(store), retry: options.notificationRetry, log, stillCurrent: storeStillWaiting(store) });
    const gate = new Gate({
      store,
      installations,
      log,
      notifications: new RequestNotifications(dispatcher, clock),
      now: () => new Date(clock()),
      notifiersFor: (owner) => notifierNames(notifiersConfig, owner),
      extendsRepositories: options.extendsRepositories,
      evaluationBudgetMs: options.evaluationBudgetMs,
      commandReplies: options.commandReplies,
      onCompleted: (request) => metrics.requestCompleted(request),
    });
    // The Action's default audience is its app-url without a trailing slash; either spelling of APP_URL is the App.
    const verifier = new OidcVerifier({ issuer: options.oidcIssuer, audience: options.oidcAudience ?? [appUrl, `${appUrl}/`] });

    answerForgedSignaturesWith401(app);
    app.on(['installation', 'installation_repositories'], async () => installations.forget());
    app.on('installation.deleted', async (context) => installations.uninstalled(context.payload.installation.id));
    app.on('installation.deleted', once(store, metrics, handleInstallationDeleted(store, gate)));
    app.on('installation_repositories.removed', once(store, metrics, handleRepositoriesRemoved(store, gate)));
    app.on('issue_comment.created', once(store, metrics, handleComment(gate, store), { concerns: mayBeCommand, dedupedByHandler: true }));
    app.on('issue_comment.edited', once(store, metrics, handleEditedComment(store), { concerns: editedIntoCommand, dedupedByHandler: true }));
    app.on('issue_comment.deleted', once(store, metrics, handleDeletedComment(gate)));
    app.on('check_run.requested_action', once(store, metrics, handleButton(gate)));
    app.on('check_run.rerequested', once(store, metrics, handleRerun(gate, store)));
    app.on('deployment_protection_rule.requested', once(store, metrics, handleRuleRequested(gate)));
    app.on(['pull_request.opened', 'pull_request.synchronize', 'pull_request.reopened'], once(store, metrics, handlePolicyPreview(store, clock)));
    app.on('repository.renamed', once(store, metrics, handleRepositoryRenamed(store, (id) => installations.client(id))));
    const admission = new Admission(store, options.admission);
    const outbox = requestOutbox({ store, gate, appUrl, github: (id) => installations.client(id), log });
    addHandler(createDashboardHandler({ gate, store, appUrl, githubApiUrl: options.githubApiUrl, oauth: options.oauth, log, clock, sessionTtlMs: options.sessionTtlMs }));
    addHandler(createApiHandler({ gate, store, detailsUrl: (id) => outbox.publisher.detailsUrl(id), verifier, metrics, log, appId: options.appId, admission, metricsToken: options.metricsToken, metricsElsewhere: options.metricsElsewhere, shutdown: shutdown.signal }));

    const reconciler = new Reconciler({ store, gate, github: (id) => installations.client(id), log, intervalMs: options.reconcileIntervalMs, listingLagMs: options.reconcileListingLagMs, clock });
    const reconcile = async (job: ClaimedTimer) => {
      await reconciler.run(job);
      await recoverLostRules({ store, gate, github: (id) => installations.client(id), appId: options.appId, log, now: clock });
    };
    timers = new TimerWorker({ store, gate, log, pollMs: options.timerPollMs, handlers: { [RECONCILE_JOB]: reconcile }, clock });
    timers.start();
    const preview = runPolicyPreview({ store, installations, appUrl, notifiersFor: (owner) => notifierNames(notifiersConfig, owner), extendsRepositories: options.extendsRepositories, clock });
    const deploymentReview = reviewDeploymentJob({ store, gate, github: (id) => installations.client(id), now: () => new Date(clock()) });
    outboxWorker = new OutboxWorker({ store, log, handlers: { ...outbox.handlers, [PREVIEW_JOB]: preview, [DEPLOYMENT_REVIEW_JOB]: deploymentReview }, onGiveUp: outbox.onGiveUp, pollMs: options.outboxPollMs, clock });
    started = Promise.all([outboxWorker.start(), reconciler.start()]).then(() => undefined);
  };
  return {
    appFn,
    metrics,
    async stop() {
      shutdown.abort();
      await started;
      await Promise.all([timers?.stop(), outboxWorker?.stop()]);
      // Deliveries still retrying are dropped at shutdown; their attempts so far are in the audit trail.
      await Promise.race([dispatcher?.idle(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
}
