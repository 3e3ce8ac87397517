import cluster from 'node:cluster';
import type { Server } from 'node:http';
import net from 'node:net';
import { createSite, type Site } from '../../core/site';
import { createApp } from '../../core/kernel/http/app';
import { createHttpServer } from '../../core/kernel/http/server';
import { WaymarkError } from '../../core/kernel/errors';
import { describeCliError } from './errors';

export interface ServeOptions {
  port: number;
  workers: number;
  /** Run a background job worker in each web process (the demo and small sites need no separate worker). */
  jobs: boolean;
  /** Tick scheduled tasks in each process (deduplicated across processes by the scheduler). */
  cron: boolean;
  /** Called once the site answers, with the URL (used by `start` to print the demo logins). */
  onListening?: (url: string, site: Site) => Promise<void> | void;
}

const CRON_TICK_MS = 30_000;

/** What a web process sends the primary when it cannot start: the primary stops everything and exits non-zero. */
const FATAL = 'waymark:fatal';

/** Listens on `port`, or rejects with one WaymarkError naming the port (in use, not permitted). */
function listen<S extends net.Server>(server: S, port: number): Promise<S> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE')
        reject(new WaymarkError('PORT_IN_USE', `Port ${port} is already in use by another program: stop it, or choose another port (--port or PORT)`, 503));
      else if (error.code === 'EACCES')
        reject(new WaymarkError('PORT_NOT_PERMITTED', `Port ${port} may not be opened by this user: choose a port above 1023 (--port or PORT)`, 503));
      else reject(new WaymarkError('LISTEN_FAILED', `Cannot listen on port ${port}: ${error.message}`, 503));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port);
  });
}

/**
 * Serves the site. With workers > 1 the primary migrates once and forks that many web processes
 * (node:cluster shares the port); each process watches the plugins table so that a plugin enabled
 * or disabled from the CLI or another process takes effect everywhere without a restart.
 */
export async function serve(options: ServeOptions): Promise<void> {
  // Fail in a moment, before booting anything, when the port is taken; listen() below still
  // reports the same way if another program takes it in between.
  if (cluster.isPrimary) await listen(net.createServer(), options.port).then((probe) => new Promise((resolve) => probe.close(resolve)));
  if (options.workers > 1 && cluster.isPrimary) {
    const site = createSite();
    await site.migrate();
    await site.stop();
    site.logger.info('starting web processes', { workers: options.workers, port: options.port });
    for (let i = 0; i < options.workers; i++) cluster.fork();
    let stopping = false;
    cluster.on('exit', (worker, code) => {
      if (stopping) return;
      site.logger.error('web process exited; starting another', { pid: worker.process.pid, code });
      cluster.fork();
    });
    const stopAll = () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    };
    // A web process that cannot start (the port is taken) would fail the same way on every restart:
    // stop them all and exit non-zero with its reason, once.
    cluster.on('message', (_worker, message: { type?: string; reason?: string }) => {
      if (message?.type !== FATAL || stopping) return;
      stopAll();
      console.error(message.reason ?? 'a web process could not start');
      process.exit(1);
    });
    process.once('SIGINT', stopAll);
    process.once('SIGTERM', stopAll);
    return;
  }

  if (cluster.isWorker) {
    try {
      await serveOneProcess(options);
    } catch (error) {
      process.send?.({ type: FATAL, reason: describeCliError(error).join('\n') }, () => process.exit(1));
    }
    return;
  }
  await serveOneProcess(options);
}

async function serveOneProcess(options: ServeOptions): Promise<void> {
  const site = createSite({ watchPlugins: true });
  let server: Server;
  try {
    await site.start();
    server = await listen(createHttpServer(createApp(site)), options.port);
  } catch (error) {
    await site.stop().catch(() => undefined);
    throw error;
  }
  // Longer than typical proxy/client idle timeouts, so a reused keep-alive socket is never closed
  // under a client that is just about to send on it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const url = `http://localhost:${options.port}`;
  site.logger.info('listening', { url, pid: process.pid });
  if (options.jobs) site.jobs.startWorker({ workerId: `web-${process.pid}` });
  const cronTimer = options.cron
    ? setInterval(() => {
        site.jobs.runDueSchedules(new Date()).catch((error) => site.logger.error('scheduler tick failed', { error: String(error) }));
      }, CRON_TICK_MS)
    : undefined;
  cronTimer?.unref();
  if (!cluster.isWorker) await options.onListening?.(url, site);

  const shutdown = async () => {
    clearInterval(cronTimer);
    server.close();
    await site.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
