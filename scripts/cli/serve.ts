import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { createSite, type Site } from '../../core/site';
import { createApp } from '../../core/kernel/http/app';
import { createHttpServer } from '../../core/kernel/http/server';

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

/**
 * Serves the site. With workers > 1 the primary migrates once and forks that many web processes
 * (node:cluster shares the port); each process watches the plugins table so that a plugin enabled
 * or disabled from the CLI or another process takes effect everywhere without a restart.
 */
export async function serve(options: ServeOptions): Promise<void> {
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
    process.once('SIGINT', stopAll);
    process.once('SIGTERM', stopAll);
    return;
  }

  const site = createSite({ watchPlugins: true });
  await site.start();
  const app = createApp(site);
  const server: Server = await new Promise((resolve) => {
    const s = createHttpServer(app).listen(options.port, () => resolve(s));
  });
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
