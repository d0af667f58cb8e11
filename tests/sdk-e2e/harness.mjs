// Shared setup of the @chorus/sdk end-to-end tests: the real chorus-server binary, a static server
// for the repository root (so /www/ and /pkg/ resolve as they would on a web server), headless
// Debian Chromium, and REST calls made from node.
//
// Environment:
//   CHORUS_SERVER_BIN  the chorus-server binary (required by the tests that talk to a server)
//   CHROMIUM           the browser (default /usr/bin/chromium)

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, fileUnder, serveFiles, startServer, withTimeout } from '../harness.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const ARTIFACTS = path.join(REPO, 'artifacts', 'sdk-e2e');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ADMIN_ID = 'imAdmin';
export const WEB_PLATFORM = 5;
export const WORK_GROUP = 2;
export const TEXT = 101;


export { CHROMIUM_ARGS, withTimeout };

/**
 * Fails with a clear message unless the package was built: its entry pkg/index.js (bundled from
 * pkg/src/index.js and the wasm-bindgen glue) and the wasm in pkg/dist/, both written by
 * `cargo xtask pkg`. Returns the files that make up the package: `glue` lists any JavaScript
 * left in pkg/dist/ (none when the entry is bundled).
 */
export function requirePackage() {
  const entry = path.join(REPO, 'pkg', 'index.js');
  const dist = path.join(REPO, 'pkg', 'dist');
  assert.ok(fs.existsSync(entry), `${entry} is missing: build the package first with \`cargo xtask pkg\` (from the repository root)`);
  assert.ok(
    fs.existsSync(dist),
    `${dist} is missing: build the package first with \`cargo xtask pkg\` (from the repository root)`,
  );
  // Recursive: an unbundled build keeps the glue's snippets in dist/snippets/.
  const files = fs.readdirSync(dist, { recursive: true });
  const wasm = files.filter((f) => f.endsWith('.wasm')).map((f) => path.join(dist, f));
  const glue = files.filter((f) => f.endsWith('.js')).map((f) => path.join(dist, f));
  assert.ok(wasm.length > 0, `no .wasm file in ${dist}: run \`cargo xtask pkg\``);
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
    this.running = null;
    this.secret = `sdk-e2e-${randomUUID()}`;
    this.admin = '';
  }

  /** The running server's lines, data directory and addresses. */
  get log() {
    return this.running?.log ?? [];
  }

  get dataDir() {
    return this.running?.dataDir ?? null;
  }

  get apiAddr() {
    return this.running?.apiAddr ?? '';
  }

  get wsAddr() {
    return this.running?.wsAddr ?? '';
  }

  /** Starts the binary named by CHORUS_SERVER_BIN and waits for both of its addresses. */
  async start() {
    this.running = await startServer({ name: 'sdk-e2e', secret: this.secret });
    const { token } = await this.call('/auth/get_admin_token', null, { secret: this.secret, userID: ADMIN_ID });
    assert.ok(token, 'admin token');
    this.admin = token;
  }

  /** One REST call; returns `data`, failing on any non-zero errCode. */
  call(route, token, body) {
    return this.running.call(route, token, body);
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
    await this.running?.stop();
  }
}

/**
 * Serves the repository root on an ephemeral loopback port (no caching, so every fresh profile
 * fetches the files again). Resolves with `{ origin, close() }`.
 */
export function serveRepo() {
  return serveFiles((pathname) => fileUnder(REPO, pathname.slice(1)));
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
