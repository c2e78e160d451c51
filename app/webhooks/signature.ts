/**
 * @octokit/webhooks answers a delivery whose signature does not verify with 400. A forged signature
 * is an authentication failure, so the App answers 401. Error handlers run synchronously before the
 * middleware reads the status, which is what makes this small adjustment possible.
 */
import type { Probot } from 'probot';

const BAD_SIGNATURE = /signature does not match/i;

export function answerForgedSignaturesWith401(app: Probot): void {
  app.onError((error) => {
    for (const cause of error.errors as Array<Error & { status?: number }>) {
      if (BAD_SIGNATURE.test(cause.message)) cause.status = 401;
    }
  });
}
