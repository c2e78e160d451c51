/** Session cookies outside loopback: Secure, with the `__Host-` prefix; the return path after sign-in never leaves the dashboard. */
import { describe, expect, it } from '@jest/globals';
import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { cookiesMayBeInsecure, safeReturnPath, Sessions } from '../../app/dashboard/sessions.js';
import type { Store } from '../../app/store/store.js';

describe('dashboard cookies', () => {
  it('are Secure and __Host- prefixed unless the App is served over http on a loopback address', () => {
    expect(['https://jit.example.test', 'http://jit.example.test', 'https://127.0.0.1:3000', 'http://10.0.0.5:3000'].map(cookiesMayBeInsecure)).toEqual([false, false, false, false]);
    expect(['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000'].map(cookiesMayBeInsecure)).toEqual([true, true, true]);
    const sessions = new Sessions({} as Store, 'https://jit.example.test', '/dashboard', Date.now);
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    sessions.beginSignIn(res, '/dashboard/requests');
    const [cookie] = [res.getHeader('set-cookie')].flat() as string[];
    expect(cookie).toMatch(/^__Host-jit_sign_in=[^;]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('send a signed-in user back only to a page of the dashboard', () => {
    expect(safeReturnPath('/dashboard/requests?status=pending', '/dashboard')).toBe('/dashboard/requests?status=pending');
    for (const evil of ['https://evil.example/dashboard/', '//evil.example/dashboard/', '/\\evil.example', '/other', '/dashboard/\\..\\x', '']) {
      expect(safeReturnPath(evil, '/dashboard')).toBe('/dashboard/');
    }
  });
});
