/** JSON Schema (draft 2020-12) of the NOTIFIERS_FILE: named notifiers of three kinds. */

/** A loopback host as a URL names it (IPv6 in brackets), as a regular expression: the only one spoken to in clear. */
export const LOOPBACK_HOST = 'localhost|127(?:\\.\\d{1,3}){3}|\\[::1\\]';

// Plain http only to this host: elsewhere it would show the URL (a Slack hook's is its secret) and the
// signed bodies to the network between. The host must end where the pattern says, so that
// `http://localhost.evil.example` and `http://127.0.0.1@evil.example` are refused.
const url = {
  description: 'An https URL; http only to a loopback address (localhost, 127.x.x.x, [::1]).',
  type: 'string',
  pattern: `^(?:https://[^\\s]+|http://(?:${LOOPBACK_HOST})(?::\\d{1,5})?(?:[/?#][^\\s]*)?)$`,
  patternErrorMessage: 'expected an https:// URL (http:// only to localhost, 127.x.x.x or [::1])',
  // No `user:password@` (the http:// form above allows none): fetch refuses such a URL with an error that
  // quotes it whole, and a delivery's errors go into the audit trail, which readers of a repository export.
  allOf: [
    {
      type: 'string',
      pattern: '^(?!https://[^\\s/?#]*@)',
      patternErrorMessage: 'expected a URL without a user name or password, which the audit trail would show when a delivery fails',
    },
  ],
};

// An App installed on several accounts serves them all: without this, any repository's policy could
// send its requests (and its workflow's words) to another account's channel.
const owners = {
  description: "The accounts (organisations or users) whose repositories' policies may name this notifier. Without it, every repository the App is installed on may.",
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { type: 'string', pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$', patternErrorMessage: 'expected a GitHub account name, such as acme' },
};

// `alice@example.com` or `Alice <alice@example.com>`, the two forms nodemailer takes.
const address = {
  type: 'string',
  pattern: '^(?:[^\\s<>@]+@[^\\s<>@]+|[^<>]*<[^\\s<>@]+@[^\\s<>@]+>)$',
  patternErrorMessage: 'expected an e-mail address such as jit@example.com or "JIT <jit@example.com>"',
};

const slack = {
  type: 'object',
  required: ['type', 'url'],
  additionalProperties: false,
  properties: {
    type: { const: 'slack' },
    url: { ...url, description: 'The Slack incoming-webhook URL (a secret: reference an environment variable).' },
    owners,
  },
};

const email = {
  type: 'object',
  required: ['type', 'host', 'from', 'to'],
  additionalProperties: false,
  properties: {
    type: { const: 'email' },
    host: { type: 'string', minLength: 1, description: 'The SMTP server.' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Default: 465 when secure, else 587.' },
    secure: { type: 'boolean', description: 'TLS from the first byte (port 465). When false, STARTTLS is used if the server offers it.' },
    require_tls: { type: 'boolean', description: 'Refuse to send unless STARTTLS succeeds. Default: true, except to a loopback host (localhost, 127.x.x.x, ::1) or with secure.' },
    auth: {
      type: 'object',
      required: ['user', 'pass'],
      additionalProperties: false,
      properties: { user: { type: 'string', minLength: 1 }, pass: { type: 'string', minLength: 1 } },
    },
    from: address,
    to: { type: 'array', minItems: 1, uniqueItems: true, items: address },
    subject_prefix: { type: 'string', description: 'Default: "[JIT approval]".' },
    owners,
  },
};

const webhook = {
  type: 'object',
  required: ['type', 'url', 'secret'],
  additionalProperties: false,
  properties: {
    type: { const: 'webhook' },
    url,
    secret: {
      type: 'string',
      minLength: 16,
      description: 'Key of the HMAC-SHA256 signature in X-Jit-Signature-256 (a secret: reference an environment variable).',
    },
    owners,
  },
};

export const notifiersSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Mercurial JIT Action Approval notifiers',
  type: 'object',
  required: ['notifiers'],
  additionalProperties: false,
  properties: {
    notifiers: {
      description: 'Notifiers by name; policies refer to these names in `notify:`.',
      type: 'object',
      propertyNames: {
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        patternErrorMessage: 'a notifier name is letters, digits, ".", "_" or "-", starting with a letter or digit',
      },
      additionalProperties: {
        type: 'object',
        required: ['type'],
        properties: { type: { description: 'slack, email or webhook.', type: 'string' } },
        discriminator: { propertyName: 'type' },
        oneOf: [slack, email, webhook],
      },
    },
  },
};

export const NOTIFIER_TYPES = ['slack', 'email', 'webhook'] as const;
