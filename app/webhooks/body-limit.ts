/**
 * Probot's webhook route reads a delivery's whole body, with no limit, before it can check the
 * signature: anyone could make the App buffer any amount. The route is the first handler of
 * Probot's server, so the limit goes in front of it here: the body is read, bounded by GitHub's
 * own payload cap, and handed to the route as `req.body`, which the route then uses as is.
 */
import type { IncomingMessage } from 'node:http';
import type { Probot } from 'probot';
import { readBody, WEBHOOK_BODY_LIMIT_BYTES } from '../api/body.js';
import { HttpError, sendError, sendJson } from '../api/http.js';

type NodeMiddlewareOptions = Parameters<Probot['getNodeMiddleware']>[0];

/** Probot, with the webhook route's body limited to `limitBytes`. */
export function withWebhookBodyLimit(Base: typeof Probot, limitBytes = WEBHOOK_BODY_LIMIT_BYTES): typeof Probot {
  return class WebhookBodyLimit extends Base {
    override async getNodeMiddleware(options: NodeMiddlewareOptions = {}) {
      const route = await super.getNodeMiddleware(options);
      const path = withoutTrailingSlashes(options.path ?? this.webhookPath);
      const decoder = new TextDecoder('utf-8', { fatal: false });
      const limited: typeof route = async (req, res, next) => {
        if (req.method === 'POST' && routePath(req) === path) {
          // Unsigned is no more authenticated than forged (401, see signature.ts); @octokit/webhooks would answer 400 for the missing header. The body is not read, and the connection ends with the answer.
          if (req.headers['x-hub-signature-256'] === undefined) {
            res.setHeader('connection', 'close');
            sendJson(res, 401, { error: { code: 'unsigned', message: 'the delivery has no X-Hub-Signature-256 signature; give the GitHub App a webhook secret, the same as WEBHOOK_SECRET' } });
            return true;
          }
          try {
            Object.assign(req, { body: decoder.decode(await readBody(req, limitBytes)) });
          } catch (err) {
            if (!(err instanceof HttpError)) throw err;
            sendError(res, err);
            return true;
          }
        }
        return route(req, res, next);
      };
      return limited;
    }
  };
}

/** The path exactly as @octokit/webhooks' route computes it, so both agree on which requests are deliveries. */
function routePath(req: IncomingMessage): string | undefined {
  try {
    return new URL(withoutTrailingSlashes(req.url ?? ''), 'http://localhost').pathname;
  } catch {
    return undefined; // the route answers an unparsable URL itself, without reading the body
  }
}

function withoutTrailingSlashes(path: string): string {
  return path.replace(/\/+$/, '') || '/';
}
