/**
 * A browser's part in the dashboard without a browser: cookies kept per person, GitHub's sign-in
 * through the double's OAuth web flow, and forms posted as a browser posts them.
 */
import type { World } from '../app/harness.js';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export class DashboardClient {
  /** name → value, as the browser would send them back. */
  readonly cookies = new Map<string, string>();
  /** The Set-Cookie lines the App sent, for tests of their attributes. */
  readonly setCookies: string[] = [];

  constructor(private readonly world: World) {}

  private keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at);
      const value = pair!.slice(at + 1);
      if (value === '' || /max-age=0\b/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(method: 'GET' | 'POST', path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
    const url = path.startsWith('http') ? path : `${this.world.app.url}${path}`;
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...headers },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    this.keep(response);
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  get(path: string): Promise<Answer> {
    return this.request('GET', path);
  }

  post(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Answer> {
    return this.request('POST', path, form, headers);
  }

  /** Signs in as `login` through GitHub's (the double's) consent form; returns the page the App sends them to. */
  async signIn(login: string, returnTo = '/dashboard/'): Promise<string> {
    const start = await this.get(`/dashboard/auth/start?return_to=${encodeURIComponent(returnTo)}`);
    const authorize = new URL(start.headers.get('location')!);
    const consent = await fetch(`${authorize.origin}${authorize.pathname}`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), login }),
    });
    const callback = await this.get(consent.headers.get('location')!);
    if (callback.status !== 303) throw new Error(`sign-in as ${login} failed: ${callback.status} ${callback.text}`);
    return callback.headers.get('location')!;
  }

  /** The session's CSRF token, as its pages carry it in every form. */
  async csrf(): Promise<string> {
    const page = await this.get('/dashboard/explain');
    const match = /name="csrf" value="([^"]+)"/.exec(page.text);
    if (!match) throw new Error(`no CSRF token on the page (${page.status})`);
    return match[1]!;
  }
}
