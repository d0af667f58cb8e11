// Shared setup of the @chorus/sdk end-to-end tests: the real chorus-server binary, a static server
// for the repository root (so /www/ and /pkg/ resolve as they would on a web server), headless
// Debian Chromium, and REST calls made from node.
//
// Environment:
//   CHORUS_SERVER_BIN  the chorus-server binary (required by the tests that talk to a server)
//   CHROMIUM           the browser (default /usr/bin/chromium)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const ARTIFACTS = path.join(REPO, 'artifacts', 'sdk-e2e');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ADMIN_ID = 'imAdmin';
export const WEB_PLATFORM = 5;
export const WORK_GROUP = 2;
export const TEXT = 101;

/** The flags of every Chromium these tests start. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Fails with a clear message unless the package was built: pkg/index.js (hand-written entry) and
 * the wasm-bindgen output in pkg/dist/. Returns the files that make up the package.
 */
export function requirePackage() {
  const entry = path.join(REPO, 'pkg', 'index.js');
  const dist = path.join(REPO, 'pkg', 'dist');
  assert.ok(fs.existsSync(entry), `${entry} is missing: the package's hand-written entry (pkg/index.js) is required`);
  assert.ok(
    fs.existsSync(dist),
    `${dist} is missing: build the package first with \`cargo xtask pkg\` (from the repository root)`,
  );
  const files = fs.readdirSync(dist);
  const wasm = files.filter((f) => f.endsWith('.wasm')).map((f) => path.join(dist, f));
  const glue = files.filter((f) => f.endsWith('.js')).map((f) => path.join(dist, f));
  assert.ok(wasm.length > 0, `no .wasm file in ${dist}: run \`cargo xtask pkg\``);
  assert.ok(glue.length > 0, `no .js file in ${dist}: run \`cargo xtask pkg\``);
  return { entry, wasm, glue };
}

/**
 * The text of a stored text message (`content` is bytes: base64 in the REST JSON), else null.
 */
export function textOf(msg) {
  if (msg.contentType !== TEXT) return null;
  const raw = msg.content.startsWith('{') ? msg.content : Buffer.from(msg.content, 'base64').toString('utf8');
  return JSON.parse(raw).content;
}

/** A running chorus-server in two-port mode, with an admin token. */
export class Server {
  constructor() {
    this.child = null;
    this.log = [];
    this.dataDir = null;
    this.apiAddr = '';
    this.wsAddr = '';
    this.secret = `sdk-e2e-${randomUUID()}`;
    this.admin = '';
  }

  /** Starts the binary named by CHORUS_SERVER_BIN and waits for both of its addresses. */
  async start() {
    const bin = process.env.CHORUS_SERVER_BIN;
    assert.ok(bin, 'CHORUS_SERVER_BIN must name the chorus-server binary (cargo build -p chorus-server)');
    assert.ok(fs.existsSync(bin), `CHORUS_SERVER_BIN=${bin} does not exist (cargo build -p chorus-server)`);
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-sdk-e2e-'));
    const args = ['--data', this.dataDir, '--api', '127.0.0.1:0', '--ws', '127.0.0.1:0', '--secret', this.secret];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (stream, tag) => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        rest += chunk;
        const lines = rest.split('\n');
        rest = lines.pop();
        for (const line of lines) {
          this.log.push(`${tag} ${line}`);
          const api = line.match(/^chorus-server listening on (http:\/\/\S+)$/);
          if (api) this.apiAddr = api[1];
          const ws = line.match(/^chorus-server gateway on (ws:\/\/\S+)$/);
          if (ws) this.wsAddr = ws[1];
        }
      });
    };
    keep(child.stdout, '[out]');
    keep(child.stderr, '[err]');
    await withTimeout(
      new Promise((resolve, reject) => {
        child.on('exit', (code, signal) => reject(new Error(`chorus-server exited early (${code ?? signal})`)));
        child.on('error', reject);
        const poll = setInterval(() => {
          if (this.apiAddr && this.wsAddr) {
            clearInterval(poll);
            resolve();
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      }),
      30_000,
      'chorus-server printing its addresses',
    );
    const { token } = await this.call('/auth/get_admin_token', null, { secret: this.secret, userID: ADMIN_ID });
    assert.ok(token, 'admin token');
    this.admin = token;
  }

  /** One REST call; returns `data`, failing on any non-zero errCode. */
  async call(route, token, body) {
    const headers = { 'content-type': 'application/json', operationID: randomUUID() };
    if (token) headers.token = token;
    const res = await fetch(`${this.apiAddr}${route}`, { method: 'POST', headers, body: JSON.stringify(body) });
    assert.equal(res.status, 200, `${route}: HTTP ${res.status}`);
    const envelope = await res.json();
    assert.equal(envelope.errCode, 0, `${route}: ${envelope.errCode} ${envelope.errMsg} ${envelope.errDlt}`);
    return envelope.data;
  }

  /** A REST call with the admin token. */
  adminCall(route, body) {
    return this.call(route, this.admin, body);
  }

  /** Registers users `{userID: nickname}`. */
  async register(users) {
    await this.adminCall('/user/user_register', {
      users: Object.entries(users).map(([userID, nickname]) => ({ userID, nickname, faceURL: '' })),
    });
  }

  /** A web (platform 5) token for `userID`. */
  async token(userID) {
    const { token } = await this.adminCall('/auth/get_user_token', { userID, platformID: WEB_PLATFORM });
    assert.ok(token, `token for ${userID}`);
    return token;
  }

  /** A work group owned by `owner` with `members`; returns its groupID. */
  async group(owner, members, groupName) {
    const created = await this.adminCall('/group/create_group', {
      memberUserIDs: members,
      adminUserIDs: [],
      ownerUserID: owner,
      groupInfo: { groupName, groupType: WORK_GROUP },
    });
    const groupID = created?.groupInfo?.groupID;
    assert.ok(groupID, `create_group returned a groupID: ${JSON.stringify(created)}`);
    return groupID;
  }

  /** A group text from `sendID` through the admin's /msg/send_msg; returns the SendMsgResp. */
  sendGroupText(sendID, groupID, text) {
    return this.adminCall('/msg/send_msg', {
      sendID,
      recvID: '',
      groupID,
      senderNickname: '',
      senderFaceURL: '',
      senderPlatformID: WEB_PLATFORM,
      content: { content: text },
      contentType: TEXT,
      sessionType: 3,
      isOnlineOnly: false,
      notOfflinePush: false,
      sendTime: 0,
      offlinePushInfo: null,
      ex: '',
    });
  }

  /** The server's max seq of `userID`'s conversation, or 0. */
  async maxSeq(userID, conversationID) {
    const data = await this.adminCall('/msg/newest_seq', { userID });
    return Number(data?.maxSeqs?.[conversationID] ?? 0);
  }

  /**
   * Every message of `userID`'s conversation stored on the server, by seq ascending, each with
   * `text` (see `textOf`).
   */
  async messages(userID, conversationID) {
    const max = await this.maxSeq(userID, conversationID);
    if (max === 0) return [];
    const data = await this.adminCall('/msg/pull_msg_by_seq', {
      userID,
      seqRanges: [{ conversationID, begin: 1, end: max, num: max }],
      order: 0,
    });
    const pulled = [
      ...(data?.msgs?.[conversationID]?.Msgs ?? []),
      ...(data?.notificationMsgs?.[conversationID]?.Msgs ?? []),
    ];
    return pulled.map((m) => ({ ...m, seq: Number(m.seq), text: textOf(m) })).sort((a, b) => a.seq - b.seq);
  }

  /** Stops the server and removes its data directory. */
  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await withTimeout(exited, 10_000, 'chorus-server stopping').catch(() => this.child.kill('SIGKILL'));
    }
    if (this.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * Serves the repository root on an ephemeral loopback port (no caching, so every fresh profile
 * fetches the files again). Resolves with `{ origin, close() }`.
 */
export function serveRepo() {
  const server = http.createServer((req, res) => {
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(req.url, 'http://repo').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    let file = path.join(REPO, pathname);
    if (pathname.endsWith('/')) file = path.join(file, 'index.html');
    if (file !== REPO && !file.startsWith(REPO + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file, (err, bytes) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res
        .writeHead(200, {
          'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
        })
        .end(bytes);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        origin: `http://127.0.0.1:${server.address().port}`,
        close: () =>
          new Promise((done) => {
            server.close(done);
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** Starts headless Chromium; its config and cache go under `scratch`. */
export function launchChromium(scratch) {
  assert.ok(fs.existsSync(CHROMIUM), `CHROMIUM=${CHROMIUM} does not exist (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, XDG_CONFIG_HOME: scratch, XDG_CACHE_HOME: scratch },
  });
}

/**
 * Records a page's console, page errors, CSP violations and WebSockets into `log`
 * (`{ console: [], pageErrors: [], sockets: [] }`); each socket is `{ url, closed, page }`.
 */
export function watchPage(page, log, label) {
  page.on('console', (msg) => log.console.push(`${label} [${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => log.pageErrors.push(`${label} ${String(err?.stack ?? err)}`));
  page.on('websocket', (ws) => {
    const entry = { url: ws.url(), closed: false, page: label };
    log.sockets.push(entry);
    ws.on('close', () => {
      entry.closed = true;
    });
  });
}

/** The errors shown in the page's error list. */
export function pageErrorsShown(page) {
  return page.$$eval('#errors li', (items) => items.map((li) => li.textContent));
}

/** Console lines that report a problem (errors, CSP violations). */
export function consoleProblems(log) {
  return log.console.filter((line) => / \[error\] /.test(line) || /Content Security Policy/i.test(line));
}

export const clip = (line, max = 400) => (line.length > max ? `${line.slice(0, max)}…` : line);
