/** Real local servers that notifications are delivered to: an HTTP receiver and an SMTP server. */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** How to answer the n-th request (0-based): a status, or `hang` to never answer. */
export type Responder = (index: number) => number | 'hang';

export interface HttpReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Resolves once `count` requests have arrived. */
  received(count: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startHttpReceiver(respond: Responder = () => 200): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const index = requests.length;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) waiter.resolve();
      const answer = respond(index);
      if (answer === 'hang') return void hanging.push(res);
      res.writeHead(answer, { 'Content-Type': 'text/plain', ...(answer >= 300 && answer < 400 ? { Location: '/moved' } : {}) }).end(answer < 300 ? 'ok' : 'receiver is down');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    received: (count) =>
      new Promise((resolve) => {
        const done = () => resolve(requests.slice(0, count));
        if (requests.length >= count) done();
        else waiters.push({ count, resolve: done });
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  user?: string;
  mail: ParsedMail;
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  received(count: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** A real SMTP server (plain text, no STARTTLS, AUTH required with the given credentials), on loopback unless told another address. */
export async function startSmtpReceiver(credentials: { user: string; pass: string }, host = '127.0.0.1'): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push({
            envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
            user: session.user as string | undefined,
            mail,
          });
          for (const waiter of waiters.filter((w) => mails.length >= w.count)) waiter.resolve();
          callback();
        })
        .catch(callback);
    },
  });
  server.listen(0, host);
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    received: (count) =>
      new Promise((resolve) => {
        const done = () => resolve(mails.slice(0, count));
        if (mails.length >= count) done();
        else waiters.push({ count, resolve: done });
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
