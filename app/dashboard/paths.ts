/** Where the dashboard lives under APP_URL, and where GitHub sends people back after signing in. */
export const DASHBOARD_PATH = '/dashboard';
export const DASHBOARD_CALLBACK_PATH = `${DASHBOARD_PATH}/auth/callback`;
