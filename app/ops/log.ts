/**
 * The App's logger: JSON lines through pino, with secrets kept out of every line. Known places
 * (request headers) are censored by pino's `redact`; then each serialized line goes through a last
 * filter that censors anything shaped like a credential, wherever it sits: in a message, an
 * error's stack, a nested object pino's paths do not name.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export const CENSORED = '[REDACTED]';

/** Where credentials sit in what Probot, pino-http and Octokit log. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-hub-signature"]',
  'req.headers["x-hub-signature-256"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  // @octokit/webhooks attaches the delivery, signature and all, to the error of one that does not verify.
  'err.event.signature',
  'err.request.headers.authorization',
  'err.response.headers["set-cookie"]',
];

const CREDENTIAL_SHAPES: RegExp[] = [
  // JWTs (OIDC tokens, App JWTs): a base64url JSON header, `{"` encoded, then a payload and maybe a signature.
  /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g,
  // GitHub tokens: personal (classic and fine-grained), OAuth, user-to-server, installation, refresh.
  /\bgh[opusr]_[A-Za-z0-9_]+/g,
  /\bgithub_pat_[A-Za-z0-9_]+/g,
  // Webhook signatures, with the hex digest.
  /\bsha(?:1|256)=[0-9a-fA-F]+/g,
  // Slack incoming-webhook URLs are credentials in themselves.
  /hooks\.slack\.com\/[A-Za-z0-9_/-]+/g,
  // PEM private keys (the App's key), escaped newlines and all; within one JSON string, so text someone
  // sent (a link, a header) cannot match across fields and cut the line's JSON open.
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[^"]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];
/**
 * HTTP credentials whatever their format; the scheme stays, so a line still says what was sent. A
 * challenge's parameters (`Bearer error="invalid_token"`) are not credentials.
 */
const HTTP_CREDENTIALS = /\b(Bearer|Basic)\s+(?!(?:realm|scope|error|error_description|error_uri|charset)=)[A-Za-z0-9._~+/-]+=*/gi;
/** The password of `scheme://user:password@host`. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/"]*:)[^\s@/"]+@/gi;
/**
 * Credentials a link carries in its query: the code and `state` of GitHub's sign-in, which the request
 * log would otherwise show in every dashboard callback's URL, and tokens and secrets under their usual names.
 */
const QUERY_CREDENTIALS = /([?&](?:code|state|token|access_token|refresh_token|id_token|client_secret)=)[^&#\s"\\]+/gi;

/** Shorter known secrets would censor ordinary words; the shapes above still apply to them. */
const MIN_KNOWN_SECRET_LENGTH = 8;

/**
 * Censors credential-shaped values in a serialized log line, and every occurrence of the `known`
 * secrets (the webhook secret, say) as they appear in JSON.
 */
export function censorSecrets(line: string, known: readonly string[] = []): string {
  let censored = line;
  for (const secret of known) {
    if (secret.length < MIN_KNOWN_SECRET_LENGTH) continue;
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) censored = censored.split(form).join(CENSORED);
  }
  for (const shape of CREDENTIAL_SHAPES) censored = censored.replace(shape, CENSORED);
  return censored.replace(HTTP_CREDENTIALS, `$1 ${CENSORED}`).replace(URL_PASSWORD, `$1${CENSORED}@`).replace(QUERY_CREDENTIALS, `$1${CENSORED}`);
}

export interface AppLoggerOptions {
  level?: LogLevel;
  /** Where the JSON lines go; stdout by default. */
  destination?: DestinationStream;
  /** Secrets the App holds (webhook secret, private key) that must never appear in a line. */
  secrets?: readonly string[];
}

export function createAppLogger(options: AppLoggerOptions = {}): Logger {
  const target = options.destination ?? pino.destination({ dest: 1, sync: true });
  const secrets = (options.secrets ?? []).filter((secret) => secret.length > 0);
  const filtered: DestinationStream = { write: (line: string) => target.write(censorSecrets(line, secrets)) };
  return pino({ name: 'probot', level: options.level ?? 'info', redact: { paths: REDACTED_PATHS, censor: CENSORED } }, filtered);
}
