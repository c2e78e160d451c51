/** The manifest code exchange through Octokit; unauthenticated, as GitHub requires. */
import { Octokit } from '@octokit/rest';
import type { AppRegistrar, RegisteredApp } from './github.js';

export function octokitRegistrar(apiUrl: string): AppRegistrar {
  // A refused code is answered on the setup page; Octokit's own error log would only repeat it.
  const quiet = () => undefined;
  const octokit = new Octokit({ baseUrl: apiUrl, userAgent: 'mercurial-jit-setup', log: { debug: quiet, info: quiet, warn: console.warn, error: quiet } });
  return {
    async convertManifest(code: string): Promise<RegisteredApp> {
      const { data } = await octokit.rest.apps.createFromManifest({ code });
      const owner = 'login' in data.owner ? data.owner.login : data.owner.slug;
      return { id: data.id, slug: data.slug ?? String(data.id), name: data.name, owner, htmlUrl: data.html_url, pem: data.pem, webhookSecret: data.webhook_secret ?? '', clientId: data.client_id, clientSecret: data.client_secret };
    },
  };
}
