/** Notifications: configuration, rendering, delivery and the @-mention helper (see docs/NOTIFICATIONS.md). */
export { loadNotifiersConfig, parseNotifiersConfig, notifierNames, formatConfigDiagnostic, NotifiersConfigError, isLoopbackHost } from './config.js';
export type { NotifiersConfig, NotifierConfig, ConfigDiagnostic } from './config.js';
export { approverStrings, NOTIFICATION_KINDS } from './event.js';
export type { NotificationEvent, NotificationKind, NotificationLinks, NotificationDecision, NotificationOverride } from './event.js';
export { createNotifiers, createNotifier, DeliveryError, SIGNATURE_HEADER, EVENT_HEADER, DELIVERY_HEADER } from './notifiers.js';
export type { Notifier, NotifierOptions } from './notifiers.js';
export { NotificationDispatcher, storeAudit, storeStillWaiting, DEFAULT_RETRY_POLICY } from './dispatcher.js';
export type { NotificationAudit, RetryPolicy, DispatcherOptions } from './dispatcher.js';
export { mentionLine, GITHUB_MENTION_LIMIT } from './mentions.js';
export { renderSlack } from './render-slack.js';
export { renderEmail } from './render-email.js';
export { renderWebhook } from './render-webhook.js';
