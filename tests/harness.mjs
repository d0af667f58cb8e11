// What the node-driven browser suites (official-sdk, sdk-api, sdk-e2e, demo-e2e) share: the real
// chorus-server binary started on ephemeral loopback ports, REST calls to it from node, a static
// file server for the pages under test, and a timeout helper. Node built-ins only, so a suite with
// its own node_modules (official-sdk) can import it too.
//
// Environment: CHORUS_SERVER_BIN names the chorus-server binary.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

/** Rejects with "timed out after `ms` ms: `what`" unless `promise` settles first. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The flags of every Chromium the suites start: no sandbox (root in CI), no GPU, and none of the
 * browser's own network traffic (this machine's network is closed; refused connections are noise).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Content types of the files the suites serve. */
export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * A running chorus-server: `apiAddr` (http://…), `wsAddr` (ws://…, empty with `--single`), every
 * line it printed in `log` (tagged `[out]`/`[err]`), and its data directory `dataDir`.
 */
export class ChorusServer {
  constructor(child, dataDir) {
    this.child = child;
    this.dataDir = dataDir;
    this.log = [];
    this.apiAddr = '';
    this.wsAddr = '';
  }

  /** One REST call; returns `data`, failing on an HTTP error or any non-zero errCode. */
  async call(route, token, body) {
    const headers = { 'content-type': 'application/json', operationID: randomUUID() };
    if (token) headers.token = token;
    const res = await fetch(`${this.apiAddr}${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.equal(res.status, 200, `${route}: HTTP ${res.status}`);
    const envelope = await res.json();
    assert.equal(envelope.errCode, 0, `${route}: ${envelope.errCode} ${envelope.errMsg} ${envelope.errDlt}`);
    return envelope.data;
  }

  /** Stops the server (SIGTERM, SIGKILL after 10 s) and removes its data directory. */
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await withTimeout(exited, 10_000, 'chorus-server stopping').catch(() => this.child.kill('SIGKILL'));
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Starts CHORUS_SERVER_BIN in a new data directory (`chorus-<name>-…` under the OS temp dir) with
 * `args(dataDir)` — by default REST and gateway on two ephemeral loopback ports with the admin
 * `secret` — and resolves once it printed its REST address and, unless `single`, its gateway
 * address. `what` names the wait in a timeout error.
 */
export async function startServer({
  name,
  secret,
  args = (dataDir) => ['--data', dataDir, '--api', '127.0.0.1:0', '--ws', '127.0.0.1:0', '--secret', secret],
  single = false,
  timeout = 30_000,
  what = 'chorus-server printing its addresses',
}) {
  const bin = process.env.CHORUS_SERVER_BIN;
  assert.ok(bin, 'CHORUS_SERVER_BIN must name the chorus-server binary (cargo build --release -p chorus-server)');
  assert.ok(fs.existsSync(bin), `CHORUS_SERVER_BIN=${bin} does not exist`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `chorus-${name}-`));
  const child = spawn(bin, args(dataDir), { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = new ChorusServer(child, dataDir);
  const keep = (stream, tag) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      rest += chunk;
      const lines = rest.split('\n');
      rest = lines.pop();
      for (const line of lines) {
        server.log.push(`${tag} ${line}`);
        const api = line.match(/^chorus-server listening on (http:\/\/\S+)$/);
        if (api) server.apiAddr = api[1];
        const ws = line.match(/^chorus-server gateway on (ws:\/\/\S+)$/);
        if (ws) server.wsAddr = ws[1];
      }
    });
  };
  keep(child.stdout, '[out]');
  keep(child.stderr, '[err]');
  const started = () => server.apiAddr && (single || server.wsAddr);
  try {
    await withTimeout(
      new Promise((resolve, reject) => {
        child.on('exit', (code, signal) => reject(new Error(`chorus-server exited early (${code ?? signal})`)));
        child.on('error', reject);
        const poll = setInterval(() => {
          if (started()) {
            clearInterval(poll);
            resolve();
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      }),
      timeout,
      what,
    );
  } catch (err) {
    await server.stop();
    throw new Error(`${err.message}\n${server.log.slice(-40).join('\n')}`);
  }
  return server;
}

/**
 * Serves files on an ephemeral loopback port, uncached. `resolve(pathname)` maps a request path
 * to `{ file }` (a path, read from disk), `{ body, type }` (an answer in memory) or `null` (404).
 * Resolves with `{ origin, close() }`.
 */
export function serveFiles(resolve) {
  const server = http.createServer((req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://files').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const found = resolve(pathname);
    if (!found) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (found.body !== undefined) {
      res.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-store' }).end(found.body);
      return;
    }
    fs.readFile(found.file, (err, bytes) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res
        .writeHead(200, {
          'content-type': MIME[path.extname(found.file)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
        })
        .end(bytes);
    });
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => {
      done({
        origin: `http://127.0.0.1:${server.address().port}`,
        close: () =>
          new Promise((closed) => {
            server.close(closed);
            server.closeAllConnections();
          }),
      });
    });
  });
}

/**
 * The file under `root` for the request path `rest` (`index.html` for a directory path), or
 * `null` when the path would leave `root`.
 */
export function fileUnder(root, rest) {
  let file = path.join(root, rest);
  if (rest === '' || rest.endsWith('/')) file = path.join(file, 'index.html');
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  return { file };
}
