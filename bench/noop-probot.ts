/**
 * The yardstick for webhook throughput: a Probot app that does nothing with `issue_comment.created`,
 * served by Probot's own server with the App's secret. Started by bench/deliveries.ts; PORT, APP_ID,
 * PRIVATE_KEY and WEBHOOK_SECRET come from its environment.
 */
import { pino } from 'pino';
import { Probot, Server } from 'probot';

const server = new Server({
  Probot: Probot.defaults({ appId: process.env.APP_ID, privateKey: process.env.PRIVATE_KEY, secret: process.env.WEBHOOK_SECRET }),
  log: pino({ level: 'warn' }),
  port: Number(process.env.PORT),
  host: '127.0.0.1',
  enableStaticFiles: false,
});
await server.load((app) => {
  app.on('issue_comment.created', async () => {});
});
await server.start();
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
