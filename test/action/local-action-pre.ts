/**
 * `--pre` entrypoint for `@github/local-action` (see local-action.ts). local-action runs it after it
 * has stubbed `@actions/core` and before it imports the Action, so it can fill the two gaps of
 * local-action 7's core stub (node_modules/@github/local-action/src/stubs/core/core.ts) that this
 * Action depends on, with what the real `@actions/core` does:
 *
 * - `getIDToken` only throws `Not implemented`: here it is the real core's OidcClient, which asks
 *   ACTIONS_ID_TOKEN_REQUEST_URL for a token exactly as on a runner;
 * - `setFailed` records the failure in local-action's own metadata but never sets the exit code, so a
 *   failed step would exit 0: here it also sets `process.exitCode = 1`, as the real core does.
 *
 * Everything else (inputs, outputs, logging, the job summary) stays local-action's own stub.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The ESM module local-action stubs (run.ts: `stubs['@actions/core'].lib`). */
const CORE_MODULE = '/node_modules/@actions/core/lib/core.js';

interface QuibbleUserState {
  quibbledModules: Map<string, { namedExportStubs: Record<string, unknown> }>;
}

export async function run(): Promise<void> {
  // quibble keeps the very object local-action passed (CORE_STUBS) and reads each export from it when
  // the stub module is first evaluated, which is when the Action first imports @actions/core: after this.
  const state = (globalThis as Record<symbol, unknown>)[Symbol.for('__quibbleUserState')] as QuibbleUserState | undefined;
  const stubs = [...(state?.quibbledModules ?? new Map())].find(([url]) => url.endsWith(CORE_MODULE))?.[1].namedExportStubs;
  if (!stubs) throw new Error(`local-action did not stub ${CORE_MODULE}; this shim expects @github/local-action 7 (quibble ESM stubs)`);

  const stubSetFailed = stubs.setFailed as (message: string | Error) => void;
  stubs.setFailed = (message: string | Error) => {
    process.exitCode = 1;
    stubSetFailed(message);
  };

  stubs.getIDToken = async (audience?: string): Promise<string> => {
    // The real implementation, loaded by path (the package's exports hide lib/). Its own imports of
    // ./core.js (debug, setSecret) get local-action's stub, as the Action's do.
    const oidc = pathToFileURL(resolve(process.env.TARGET_ACTION_PATH ?? '.', 'node_modules/@actions/core/lib/oidc-utils.js')).href;
    const { OidcClient } = (await import(oidc)) as { OidcClient: { getIDToken(audience?: string): Promise<string> } };
    return OidcClient.getIDToken(audience);
  };
}
