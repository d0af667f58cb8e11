// The official OpenIM web SDK (npm `@openim/wasm-client-sdk`, pinned in package-lock.json) against
// chorus-server: two users log in from headless Chromium with tokens minted by the server, finish
// their initial sync, and exchange a text message in a work group in both directions.
//
// Run by `cargo xtask test` as `node --test tests/official-sdk/` with
//   CHORUS_SERVER_BIN  the chorus-server binary (required)
//   CHROMIUM           the browser (default /usr/bin/chromium)
// The server runs in two-port mode (REST and gateway on separate ephemeral ports) and the page is
// served from a third origin, as in a real deployment, so CORS preflights are exercised too.
// Screenshots and the page consoles land in artifacts/official-sdk/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, fileUnder, serveFiles, startServer } from '../harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const PAGE_DIR = path.join(HERE, 'page');
const SDK_DIR = path.join(HERE, 'node_modules', '@openim', 'wasm-client-sdk');
const ARTIFACTS = path.join(REPO, 'artifacts', 'official-sdk');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SECRET = `official-sdk-${randomUUID()}`;
const ADMIN_ID = 'imAdmin';
const WEB_PLATFORM = 5;
const WORK_GROUP = 2;

// Generous: the SDK's Go core is a 35 MB wasm module compiled per page on a shared 2-core machine.
const START_TIMEOUT = 30_000;
const LOGIN_TIMEOUT = 180_000;
const MESSAGE_TIMEOUT = 30_000;

/** Events after which the SDK is not usable; none may ever be seen. */
const FATAL_EVENTS = [
  'OnConnectFailed',
  'OnSyncServerFailed',
  'OnKickedOffline',
  'OnUserTokenExpired',
  'OnUserTokenInvalid',
];

const run = {
  server: null,
  serverLog: [],
  dataDir: null,
  apiAddr: '',
  wsAddr: '',
  pageServer: null,
  pageOrigin: '',
  browser: null,
  groupID: '',
  users: {},
  anyFailed: false,
};

// ---------------------------------------------------------------------------------------------
// Helpers

/** One REST call from node; returns `data`, failing on any non-zero errCode. */
const api = (route, token, body) => run.server.call(route, token, body);

/** The page and the SDK package (`/sdk/…`) on an ephemeral port of its own. */
async function servePage() {
  run.pageServer = await serveFiles((pathname) =>
    pathname.startsWith('/sdk/') ? fileUnder(SDK_DIR, pathname.slice('/sdk/'.length)) : fileUnder(PAGE_DIR, pathname.slice(1)),
  );
  run.pageOrigin = run.pageServer.origin;
}

/**
 * Opens the page for one user in a fresh browser context (its own storage, i.e. a fresh device),
 * recording the console, page errors, the WebSocket and every REST call with its errCode.
 */
async function openUser(user) {
  const context = await run.browser.newContext();
  const page = await context.newPage();
  Object.assign(user, { context, page, console: [], pageErrors: [], calls: [], reads: [], sockets: [] });
  page.on('console', (msg) => user.console.push(`[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => user.pageErrors.push(String(err?.stack ?? err)));
  page.on('websocket', (ws) => {
    const entry = { url: ws.url(), closed: false };
    user.sockets.push(entry);
    ws.on('close', () => {
      entry.closed = true;
    });
  });
  page.on('response', (response) => {
    const request = response.request();
    if (!response.url().startsWith(run.apiAddr) || request.method() !== 'POST') return;
    const call = { path: new URL(response.url()).pathname, status: response.status(), errCode: null, errMsg: '' };
    user.calls.push(call);
    // Bodies arrive asynchronously; checks wait for every read started so far (`settledCalls`).
    user.reads.push(
      response.text().then(
        (text) => {
          try {
            const envelope = JSON.parse(text);
            call.errCode = envelope.errCode;
            call.errMsg = envelope.errMsg;
          } catch (err) {
            call.errMsg = `unreadable response: ${err}`;
          }
        },
        (err) => {
          call.errMsg = `response body lost: ${err}`;
        },
      ),
    );
  });
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(run.apiAddr)) {
      user.calls.push({
        path: new URL(request.url()).pathname,
        status: 0,
        errCode: null,
        errMsg: `request failed: ${request.failure()?.errorText}`,
      });
    }
  });
  await page.goto(`${run.pageOrigin}/`);
  await page.waitForFunction(() => window.chorusCheck !== undefined, null, { timeout: START_TIMEOUT });
}

const eventsOf = (user) => user.page.evaluate(() => window.chorusCheck.events);

function waitForEvent(user, predicateSource, arg, timeout, what) {
  return user.page
    .waitForFunction(
      ([source, a]) => {
        // The predicate travels as source text: the page and node share no functions.
        const predicate = new Function('e', 'arg', `return (${source})(e, arg);`);
        return window.chorusCheck.events.some((e) => predicate(e, a));
      },
      [predicateSource, arg],
      { timeout, polling: 100 },
    )
    .catch((err) => {
      throw new Error(`${user.userID}: ${what}: ${err.message.split('\n')[0]}`);
    });
}

function sdkProblems(user, events) {
  const problems = [];
  for (const e of events) {
    if (FATAL_EVENTS.includes(e.event)) problems.push(`${e.event} ${e.errCode} ${e.errMsg}`);
    else if (e.errCode) problems.push(`${e.event} errCode ${e.errCode} ${e.errMsg}`);
  }
  for (const err of user.pageErrors) problems.push(`page error: ${err}`);
  for (const line of user.console) {
    if (line.startsWith('[error]') || goLogLevel(line) === 'ERROR') problems.push(`console: ${clip(line)}`);
  }
  return problems;
}

/**
 * The level column of one of the SDK core's log lines (tab-separated: time, level, pid, version,
 * source, message, fields; the level is wrapped in terminal colour codes), or '' for other lines.
 */
function goLogLevel(line) {
  const column = line.split('\t')[1] ?? '';
  return column.replace(/\x1b\[[0-9;]*m/g, '').trim();
}

const clip = (line, max = 400) => (line.length > max ? `${line.slice(0, max)}…` : line);

/** The REST calls seen so far, once every response body has been read. */
async function failedCalls(user) {
  await Promise.all(user.reads);
  return user.calls
    .filter((c) => c.status !== 200 || c.errCode !== 0)
    .map((c) => `${c.path} -> HTTP ${c.status} errCode ${c.errCode} ${c.errMsg}`);
}

function dumpDiagnostics() {
  const tail = (lines, n) => lines.slice(-n).map((l) => clip(l)).join('\n');
  const parts = [`server (${run.apiAddr}, ${run.wsAddr}), last lines:\n${tail(run.serverLog, 60)}`];
  for (const user of Object.values(run.users)) {
    if (!user.page) continue;
    parts.push(
      `${user.userID}: REST calls:\n${user.calls.map((c) => `  ${c.path} ${c.status} ${c.errCode} ${c.errMsg}`).join('\n')}`,
      `${user.userID}: page errors:\n${user.pageErrors.join('\n')}`,
      `${user.userID}: console, last lines:\n${tail(user.console, 80)}`,
    );
  }
  console.error(parts.join('\n\n'));
}

/** A top-level test whose failure also dumps the logs when the run ends. */
function step(name, fn) {
  test(name, async (t) => {
    try {
      await fn(t);
    } catch (err) {
      run.anyFailed = true;
      throw err;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Setup and teardown

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  // A failure here fails every test; the server log is still worth printing.
  run.anyFailed = true;
  run.server = await startServer({ name: 'official-sdk', secret: SECRET, timeout: START_TIMEOUT });
  Object.assign(run, { serverLog: run.server.log, dataDir: run.server.dataDir, apiAddr: run.server.apiAddr, wsAddr: run.server.wsAddr });
  await servePage();
  run.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, XDG_CONFIG_HOME: run.dataDir, XDG_CACHE_HOME: run.dataDir },
  });
  run.anyFailed = false;
});

after(async () => {
  if (run.anyFailed) dumpDiagnostics();
  for (const user of Object.values(run.users)) {
    if (user.console) fs.writeFileSync(path.join(ARTIFACTS, `${user.role}-console.log`), user.console.join('\n'));
  }
  fs.writeFileSync(path.join(ARTIFACTS, 'server.log'), run.serverLog.join('\n'));
  await run.browser?.close().catch(() => {});
  await run.pageServer?.close();
  await run.server?.stop();
});

// ---------------------------------------------------------------------------------------------
// The checks, in order; each builds on the previous one.

step('the server provisions two users, a work group and web tokens over REST', async () => {
  const { token: admin } = await api('/auth/get_admin_token', null, { secret: SECRET, userID: ADMIN_ID });
  assert.ok(admin, 'admin token');
  const suffix = randomUUID().slice(0, 8);
  const ids = { a: `sdk_a_${suffix}`, b: `sdk_b_${suffix}` };
  await api('/user/user_register', admin, {
    users: [
      { userID: ids.a, nickname: 'Ada (official SDK)', faceURL: '' },
      { userID: ids.b, nickname: 'Bo (official SDK)', faceURL: '' },
    ],
  });
  const created = await api('/group/create_group', admin, {
    memberUserIDs: [ids.b],
    adminUserIDs: [],
    ownerUserID: ids.a,
    groupInfo: { groupName: 'Official SDK check', groupType: WORK_GROUP },
  });
  run.groupID = created?.groupInfo?.groupID;
  assert.ok(run.groupID, `create_group returned a groupID: ${JSON.stringify(created)}`);
  assert.equal(created.groupInfo.groupType, WORK_GROUP);
  for (const [key, userID] of Object.entries(ids)) {
    const { token } = await api('/auth/get_user_token', admin, { userID, platformID: WEB_PLATFORM });
    assert.ok(token, `token for ${userID}`);
    run.users[key] = { role: key, userID, token };
  }
});

step('both users log in with the official SDK and finish the initial sync without errors', async () => {
  assert.ok(run.users.a && run.users.b, 'users were provisioned');
  const users = [run.users.a, run.users.b];
  // Both pages load and log in concurrently, as two devices would.
  await Promise.all(
    users.map(async (user) => {
      await openUser(user);
      const result = await user.page.evaluate(
        (params) => window.chorusCheck.login(params),
        {
          userID: user.userID,
          token: user.token,
          platformID: WEB_PLATFORM,
          apiAddr: run.apiAddr,
          wsAddr: run.wsAddr,
        },
      );
      assert.equal(result.failed, false, `${user.userID}: login rejected: ${result.error}`);
      await waitForEvent(user, '(e) => e.event === "OnConnectSuccess"', null, LOGIN_TIMEOUT, 'OnConnectSuccess');
      await waitForEvent(user, '(e) => e.event === "OnSyncServerFinish"', null, LOGIN_TIMEOUT, 'OnSyncServerFinish');
    }),
  );
  for (const user of users) {
    const events = await eventsOf(user);
    const names = events.map((e) => e.event);
    assert.ok(names.includes('OnSyncServerStart'), `${user.userID}: OnSyncServerStart in ${names}`);
    assert.deepEqual(sdkProblems(user, events), [], `${user.userID}: SDK reported problems`);
    // The SDK synchronises its lists over REST; those calls must have happened and all succeeded.
    const paths = new Set(user.calls.map((c) => c.path));
    for (const expected of [
      '/group/get_incremental_join_groups',
      '/friend/get_incremental_friends',
      '/conversation/get_incremental_conversations',
      '/user/get_users_info',
    ]) {
      assert.ok(paths.has(expected), `${user.userID}: the SDK called ${expected} (called: ${[...paths].join(', ')})`);
    }
    assert.deepEqual(await failedCalls(user), [], `${user.userID}: REST calls that did not return errCode 0`);
    assert.equal(user.sockets.length, 1, `${user.userID}: one gateway connection`);
    assert.ok(user.sockets[0].url.startsWith(run.wsAddr), `${user.userID}: socket to ${run.wsAddr}: ${user.sockets[0].url}`);
    assert.equal(user.sockets[0].closed, false, `${user.userID}: gateway connection still open`);
  }
});

/** Sends `text` from `from` to the group and waits until `to` receives it as a new message. */
async function exchange(from, to, text) {
  const sent = await from.page.evaluate(([g, t]) => window.chorusCheck.sendGroupText(g, t), [run.groupID, text]);
  assert.equal(sent.failed, false, `${from.userID}: sendMessage rejected: ${sent.error}`);
  assert.equal(sent.data.status, 2, `${from.userID}: message status after send: ${JSON.stringify(sent.data)}`);
  assert.ok(sent.data.serverMsgID, `${from.userID}: the acknowledgement carries a serverMsgID`);
  await waitForEvent(
    to,
    `(e, arg) => e.event === "OnRecvNewMessages" && Array.isArray(e.data) && e.data.some((m) =>
      m.textElem && m.textElem.content === arg.text && m.groupID === arg.groupID && m.sendID === arg.sendID)`,
    { text, groupID: run.groupID, sendID: from.userID },
    MESSAGE_TIMEOUT,
    `OnRecvNewMessages with "${text}"`,
  );
  const events = await eventsOf(to);
  const got = events
    .filter((e) => e.event === 'OnRecvNewMessages')
    .flatMap((e) => e.data)
    .find((m) => m.textElem?.content === text);
  assert.equal(got.sessionType, 3, 'a group (read diffusion) message');
  assert.equal(got.contentType, 101, 'a text message');
  assert.equal(got.serverMsgID, sent.data.serverMsgID, 'same stored message on both sides');
  assert.equal(got.clientMsgID, sent.data.clientMsgID, 'same client message id on both sides');
  // The acknowledgement (SendMsgResp) carries no seq; the receiver's copy must have the stored one.
  assert.ok(got.seq > 0, `the received message has its conversation seq: ${got.seq}`);
  return got;
}

step('a group text from A reaches B', async () => {
  assert.ok(run.users.a?.page && run.users.b?.page, 'both users are logged in');
  run.first = await exchange(run.users.a, run.users.b, `hello from A ${randomUUID().slice(0, 8)}`);
});

step('a group text from B reaches A', async () => {
  assert.ok(run.first, 'the first message arrived');
  const reply = await exchange(run.users.b, run.users.a, `hello from B ${randomUUID().slice(0, 8)}`);
  // One counter per conversation: the reply comes right after the first message.
  assert.equal(reply.seq, run.first.seq + 1, 'seqs of the group conversation are consecutive');
  run.last = reply;
});

step('both conversation lists show the group conversation, and nothing failed on the way', async () => {
  assert.ok(run.users.a?.page && run.users.b?.page, 'both users are logged in');
  for (const user of [run.users.a, run.users.b]) {
    const list = await user.page.evaluate(() => window.chorusCheck.conversations());
    assert.equal(list.failed, false, `${user.userID}: getAllConversationList rejected: ${list.error}`);
    const conversation = list.data.find((c) => c.groupID === run.groupID);
    assert.ok(conversation, `${user.userID}: group conversation in ${JSON.stringify(list.data.map((c) => c.conversationID))}`);
    assert.equal(conversation.conversationID, `sg_${run.groupID}`);
    assert.equal(conversation.conversationType, 3);
    const latest = JSON.parse(conversation.latestMsg || '{}');
    assert.equal(latest.textElem?.content, run.last?.textElem?.content, `${user.userID}: latest message of the group`);
    const events = await eventsOf(user);
    assert.deepEqual(sdkProblems(user, events), [], `${user.userID}: SDK reported problems`);
    assert.deepEqual(await failedCalls(user), [], `${user.userID}: REST calls that did not return errCode 0`);
    assert.equal(user.sockets.filter((s) => s.closed).length, 0, `${user.userID}: no gateway connection closed`);
    await user.page.screenshot({ path: path.join(ARTIFACTS, `${user.role}.png`) });
  }
});
