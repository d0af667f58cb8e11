// One user in several tabs of one browser (one profile, shared IndexedDB, same token), on the www
// page against the real chorus-server: one tab leads (Web Lock) and holds the only WebSocket, the
// others follow. Another user's messages arrive over REST while tabs open and close, including the
// leader, whose lock passes to a follower that then connects. At the end every open tab's history
// (getAdvancedHistoryMessageList over the whole conversation, read from the shared IndexedDB)
// equals the server's messages: same seqs and clientMsgIDs, nothing lost, nothing twice. A text sent
// from a follower tab is stored once.
//
// Run: node --test tests/sdk-e2e/tabs.test.mjs, with
//   CHORUS_SERVER_BIN  the chorus-server binary (required)
//   CHROMIUM           the browser (default /usr/bin/chromium)
// Needs the built package (pkg/index.js and pkg/dist/ from `cargo xtask pkg`); fails if missing.
// The page consoles and the server log land in artifacts/sdk-e2e/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS,
  Server,
  TEXT,
  clip,
  consoleProblems,
  launchChromium,
  pageErrorsShown,
  requirePackage,
  serveRepo,
  watchPage,
} from './harness.mjs';

const LOGIN_TIMEOUT = 60_000;
const CONVERGE_TIMEOUT = 40_000;
const HANDOVER_TIMEOUT = 30_000;

const run = {
  server: new Server(),
  site: null,
  browser: null,
  context: null,
  me: '',
  token: '',
  other: '',
  groupID: '',
  conversationID: '',
  /** label → page, for the tabs still open. */
  tabs: new Map(),
  closed: new Set(),
  tabCount: 0,
  /** Leader changes seen (each one opens one more socket). */
  handovers: 0,
  sent: 0,
  log: { console: [], pageErrors: [], sockets: [] },
  failed: false,
};

function step(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (err) {
      run.failed = true;
      throw err;
    }
  });
}

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  run.failed = true;
  requirePackage();
  await run.server.start();
  run.site = await serveRepo();
  run.browser = await launchChromium(run.server.dataDir);
  run.context = await run.browser.newContext();
  run.failed = false;
});

after(async () => {
  if (run.failed) {
    console.error(
      [
        `server log (last lines):\n${run.server.log.slice(-60).map((l) => clip(l)).join('\n')}`,
        `sockets:\n${run.log.sockets.map((s) => `${s.page} ${new URL(s.url).host} closed=${s.closed}`).join('\n')}`,
        `page errors:\n${run.log.pageErrors.join('\n')}`,
        `consoles (last lines):\n${run.log.console.slice(-100).map((l) => clip(l)).join('\n')}`,
      ].join('\n\n'),
    );
  }
  fs.writeFileSync(path.join(ARTIFACTS, 'tabs-console.log'), run.log.console.join('\n'));
  fs.writeFileSync(path.join(ARTIFACTS, 'tabs-server.log'), run.server.log.join('\n'));
  await run.browser?.close().catch(() => {});
  await run.site?.close();
  await run.server.stop();
});

// ---------------------------------------------------------------------------------------------
// Tabs

/** Opens one more tab of the same user (same context: same IndexedDB, locks and channels). */
async function openTab() {
  const label = `tab${++run.tabCount}`;
  const page = await run.context.newPage();
  watchPage(page, run.log, label);
  const query = new URLSearchParams({
    api: run.server.apiAddr,
    ws: run.server.wsAddr,
    user: run.me,
    token: run.token,
    autologin: '1',
  });
  await page.goto(`${run.site.origin}/www/?${query}`);
  await page.waitForSelector('body[data-logged-in="true"]', { timeout: LOGIN_TIMEOUT }).catch(async (err) => {
    throw new Error(`${label}: login: ${err.message.split('\n')[0]}; shown: ${await pageErrorsShown(page)}`);
  });
  run.tabs.set(label, page);
  return label;
}

async function closeTab(label) {
  const page = run.tabs.get(label);
  run.tabs.delete(label);
  await page.close({ runBeforeUnload: false });
  run.closed.add(label);
}

const isLeader = (page) => page.evaluate(() => window.chorusApp.sdk.isLeader());

/** The labels of the open tabs that lead. */
async function leaders() {
  const out = [];
  for (const [label, page] of run.tabs) if (await isLeader(page)) out.push(label);
  return out;
}

/** Gateway sockets still open (a closed tab's sockets count as closed). */
function openSockets() {
  return run.log.sockets.filter((s) => !s.closed && !run.closed.has(s.page));
}

/** The user's gateway connections open on the server, from its log (opens minus closes). */
function serverConnections() {
  const mine = (line, what) => line.includes(`gateway connection ${what} user=${run.me} `);
  const opened = run.server.log.filter((line) => mine(line, 'open')).length;
  const closed = run.server.log.filter((line) => mine(line, 'closed')).length;
  return { opened, open: opened - closed };
}

/**
 * Waits until exactly one open tab leads and holds exactly one open socket, and no other socket is
 * open; returns the leader's label.
 */
async function oneLeaderOneSocket(what) {
  const deadline = Date.now() + HANDOVER_TIMEOUT;
  let seen = '';
  for (;;) {
    const lead = await leaders();
    const open = openSockets();
    const server = serverConnections();
    seen = `leaders ${JSON.stringify(lead)}, open sockets ${JSON.stringify(open.map((s) => s.page))}, server ${JSON.stringify(server)}`;
    if (lead.length === 1 && open.length === 1 && open[0].page === lead[0] && server.open === 1) break;
    if (Date.now() > deadline) assert.fail(`${what}: expected one leader holding the only socket; ${seen}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const [leader] = await leaders();
  const [socket] = openSockets();
  assert.ok(socket.url.startsWith(run.server.wsAddr), `the socket goes to the gateway: ${socket.url}`);
  assert.equal(serverConnections().opened, run.log.sockets.length, 'the server saw every socket the tabs opened');
  assert.equal(
    run.log.sockets.length,
    1 + run.handovers,
    `${what}: one socket per leader so far (${run.handovers} handovers): ${run.log.sockets.map((s) => s.page)}`,
  );
  return leader;
}

/** The whole conversation as a tab sees it, paging through getAdvancedHistoryMessageList. */
function history(page) {
  return page.evaluate(async (conversationID) => {
    const sdk = window.chorusApp.sdk;
    const all = [];
    let startClientMsgID = '';
    let lastMinSeq = 0;
    for (let pageNo = 0; pageNo < 200; pageNo++) {
      const res = await sdk.getAdvancedHistoryMessageList({ conversationID, count: 7, startClientMsgID, lastMinSeq });
      const list = res.data.messageList;
      all.unshift(...list);
      if (res.data.isEnd || list.length === 0) break;
      startClientMsgID = list[0].clientMsgID;
      lastMinSeq = res.data.lastMinSeq;
    }
    return all.map((m) => ({
      seq: m.seq,
      clientMsgID: m.clientMsgID,
      contentType: m.contentType,
      text: m.contentType === 101 ? m.textElem?.content ?? null : null,
    }));
  }, run.conversationID);
}

/** The server's messages of the conversation, in the same shape as `history`. */
async function serverView() {
  const msgs = await run.server.messages(run.me, run.conversationID);
  return msgs.map((m) => ({
    seq: m.seq,
    clientMsgID: m.clientMsgID,
    contentType: m.contentType,
    text: m.text,
  }));
}

/** Waits until every open tab's history equals the server's messages, then asserts it exactly. */
async function converged(what) {
  const expected = await serverView();
  assert.ok(expected.length > 0, 'the server has messages');
  const deadline = Date.now() + CONVERGE_TIMEOUT;
  for (const [label, page] of run.tabs) {
    let got = [];
    for (;;) {
      got = await history(page);
      const lastSeq = got.at(-1)?.seq ?? 0;
      if (lastSeq >= expected.at(-1).seq || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const seqs = got.map((m) => m.seq);
    assert.equal(new Set(seqs).size, seqs.length, `${what}: ${label}: no seq twice: ${seqs}`);
    assert.deepEqual(seqs, expected.map((m) => m.seq), `${what}: ${label}: same seqs as the server`);
    assert.deepEqual(got, expected, `${what}: ${label}: same messages as the server`);
    assert.deepEqual(await pageErrorsShown(page), [], `${what}: ${label}: errors shown in the page`);
  }
}

/** Sends `n` group texts from the other user over REST. */
async function sendFromOther(n, tag) {
  for (let i = 0; i < n; i++) {
    run.sent += 1;
    await run.server.sendGroupText(run.other, run.groupID, `${tag} #${run.sent}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The checks, in order

step('the server provisions two users, a group with messages, and a token', async () => {
  const suffix = randomUUID().slice(0, 8);
  run.me = `tabs_me_${suffix}`;
  run.other = `tabs_other_${suffix}`;
  await run.server.register({ [run.me]: 'Tabby', [run.other]: 'Other' });
  run.groupID = await run.server.group(run.other, [run.me], 'tabs check');
  run.conversationID = `sg_${run.groupID}`;
  await sendFromOther(3, 'before login');
  run.token = await run.server.token(run.me);
});

step('three tabs of one user: one leader, one WebSocket in total', async () => {
  assert.ok(run.token, 'provisioned');
  for (let i = 0; i < 3; i++) await openTab();
  const leader = await oneLeaderOneSocket('three tabs');
  assert.equal(leader, 'tab1', 'the first tab took the lock and kept it');
  await converged('three tabs');
});

step('messages arriving while a follower closes and a new tab opens reach every tab', async () => {
  assert.equal(run.tabs.size, 3, 'three tabs are open');
  await sendFromOther(4, 'three tabs open');
  const lead = await leaders();
  const follower = [...run.tabs.keys()].find((label) => !lead.includes(label));
  const closing = closeTab(follower);
  await sendFromOther(3, 'follower closing');
  await closing;
  const opening = openTab();
  await sendFromOther(3, 'tab opening');
  await opening;
  assert.equal(run.tabs.size, 3);
  await oneLeaderOneSocket('after a follower closed and a tab opened');
  await converged('after a follower closed and a tab opened');
});

step('closing the leader tab hands the connection to a follower, with nothing lost', async () => {
  const [old] = await leaders();
  assert.ok(old, 'a leader exists');
  await sendFromOther(2, 'before the leader closes');
  const closing = closeTab(old);
  await sendFromOther(5, 'leader closing');
  await closing;
  run.handovers += 1;
  const leader = await oneLeaderOneSocket('after the leader closed');
  assert.notEqual(leader, old, 'another tab leads');
  await sendFromOther(3, 'new leader');
  await converged('after the leader closed');
});

step('a text sent from a follower tab is stored once and reaches every tab once', async () => {
  const lead = await leaders();
  const follower = [...run.tabs.keys()].find((label) => !lead.includes(label));
  assert.ok(follower, `a follower tab exists among ${[...run.tabs.keys()]}`);
  const text = `from follower ${randomUUID().slice(0, 8)}`;
  const sent = await run.tabs.get(follower).evaluate(
    async ([groupID, t]) => {
      const sdk = window.chorusApp.sdk;
      try {
        const draft = await sdk.createTextMessage(t);
        const res = await sdk.sendMessage({ recvID: '', groupID, message: draft.data });
        return { ok: true, data: res.data };
      } catch (err) {
        return { ok: false, error: JSON.stringify(err) ?? String(err) };
      }
    },
    [run.groupID, text],
  );
  assert.ok(sent.ok, `sendMessage from ${follower} rejected: ${sent.error}`);
  assert.ok(sent.data.clientMsgID, 'the sent message has its clientMsgID');
  assert.ok(sent.data.seq > 0, `the sent message has its seq: ${sent.data.seq}`);
  const stored = (await serverView()).filter((m) => m.text === text);
  assert.equal(stored.length, 1, `the server stored the text once: ${JSON.stringify(stored)}`);
  assert.equal(stored[0].clientMsgID, sent.data.clientMsgID, 'with the id the tab was given');
  assert.equal(stored[0].seq, sent.data.seq, 'at the seq the tab was given');
  await converged('after a follower sent');
});

step('at the end: one socket, every tab equal to the server, no errors', async () => {
  assert.ok(run.tabs.size >= 2, 'tabs are open');
  await oneLeaderOneSocket('at the end');
  await converged('at the end');
  const texts = (await serverView()).filter((m) => m.contentType === TEXT);
  assert.equal(texts.length, run.sent + 1, 'every text sent is on the server once');
  assert.deepEqual(run.log.pageErrors, [], 'page errors');
  assert.deepEqual(consoleProblems(run.log), [], 'console errors or CSP violations');
});
