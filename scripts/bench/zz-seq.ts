import http from 'node:http';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createApp } from '/work/main/core/http/app';
import { createLaunchSite } from '/work/main/test/e2e/launch-fixtures';
const t = await createLaunchSite();
const server = http.createServer(createApp(t.site));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const bare = express(); bare.get('/', (_q, s) => { s.sendStatus(200); });
const bs = http.createServer(bare); await new Promise<void>((r) => bs.listen(0, '127.0.0.1', r));
const bbase = `http://127.0.0.1:${(bs.address() as AddressInfo).port}`;
for (const url of [bbase + '/', base + '/healthz', base + '/login', base + '/courses/1/launch']) {
  let t0 = performance.now();
  for (let i = 0; i < 100; i++) { const r = await fetch(url, { redirect: 'manual' }); await r.text(); }
  console.log(url, ((performance.now() - t0) / 100).toFixed(2), 'ms');
}
server.close(); bs.close(); await t.close();
