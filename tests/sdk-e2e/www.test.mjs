// The www page (www/index.html + www/app.js, importing /pkg/index.js through its import map, under
// its own Content-Security-Policy) against the real chorus-server in headless Chromium:
// two users, each in a fresh browser context, log in through the form, see a group (created
// beforehand over REST, with a few messages) in the conversation list, open it and read its
// messages; A sends a text through the form and B's open conversation shows it.
//
// Run: node --test tests/sdk-e2e/www.test.mjs, with
//   CHORUS_SERVER_BIN  the chorus-server binary (required)
//   CHROMIUM           the browser (default /usr/bin/chromium)
// Needs the built package (pkg/index.js and pkg/dist/ from `cargo xtask pkg`); fails if missing.
// Screenshots, page consoles and the server log land in artifacts/sdk-e2e/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS,
  Server,
  clip,
  consoleProblems,
  launchChromium,
  pageErrorsShown,
  requirePackage,
  serveRepo,
  watchPage,
} from './harness.mjs';

const LOGIN_TIMEOUT = 60_000;
const MESSAGE_TIMEOUT = 30_000;

const run = {
  server: new Server(),
  site: null,
  browser: null,
  groupID: '',
  before: [],
  users: {},
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
  run.failed = false;
});

after(async () => {
  if (run.failed) {
    console.error(
      [
        `server log (last lines):\n${run.server.log.slice(-60).map((l) => clip(l)).join('\n')}`,
        `page errors:\n${run.log.pageErrors.join('\n')}`,
        `consoles (last lines):\n${run.log.console.slice(-80).map((l) => clip(l)).join('\n')}`,
      ].join('\n\n'),
    );
  }
  fs.writeFileSync(path.join(ARTIFACTS, 'www-console.log'), run.log.console.join('\n'));
  fs.writeFileSync(path.join(ARTIFACTS, 'www-server.log'), run.server.log.join('\n'));
  await run.browser?.close().catch(() => {});
  await run.site?.close();
  await run.server.stop();
});

/** Opens the page for `user` in a fresh browser context and logs in through the form. */
async function logIn(user) {
  const context = await run.browser.newContext({ viewport: { width: 1100, height: 700 } });
  const page = await context.newPage();
  watchPage(page, run.log, user.role);
  user.context = context;
  user.page = page;
  // The query string fills the API and gateway addresses; the user ID and token are typed.
  const query = new URLSearchParams({ api: run.server.apiAddr, ws: run.server.wsAddr });
  await page.goto(`${run.site.origin}/www/?${query}`);
  await page.waitForSelector('body[data-sdk-ready="true"]', { timeout: LOGIN_TIMEOUT }).catch(async (err) => {
    throw new Error(`${user.userID}: SDK not ready: ${err.message.split('\n')[0]}; shown: ${await pageErrorsShown(page)}`);
  });
  assert.equal(await page.inputValue('#api-addr'), run.server.apiAddr, 'API address from the query string');
  assert.equal(await page.inputValue('#ws-addr'), run.server.wsAddr, 'gateway address from the query string');
  await page.fill('#user-id', user.userID);
  await page.fill('#token', user.token);
  await page.click('#login-button');
  await page.waitForSelector('body[data-logged-in="true"]', { timeout: LOGIN_TIMEOUT }).catch(async (err) => {
    throw new Error(`${user.userID}: login: ${err.message.split('\n')[0]}; shown: ${await pageErrorsShown(page)}`);
  });
  assert.equal(await page.textContent('#who'), user.userID);
  assert.equal(await page.isVisible('#login-form'), false, 'the login form is gone');
}

/** Waits until the conversation list shows the group, then opens it. */
async function openGroup(user) {
  const { page } = user;
  const row = `#conversations li[data-conversation-id="sg_${run.groupID}"]`;
  await page.waitForSelector(row, { timeout: LOGIN_TIMEOUT }).catch(async (err) => {
    const shown = await page.$$eval('#conversations li', (lis) => lis.map((li) => li.dataset.conversationId));
    throw new Error(`${user.userID}: group not listed (${shown}): ${err.message.split('\n')[0]}`);
  });
  assert.equal((await page.textContent(`${row} .name`)).trim(), 'www check', 'the group is listed by its name');
  await page.click(`${row} button`);
  await page.waitForSelector(`#messages[data-loaded="sg_${run.groupID}"]`, { timeout: MESSAGE_TIMEOUT });
  assert.equal(await page.textContent('#conversation-title'), 'www check');
}

const shownTexts = (page) => page.$$eval('#messages li:not(.notice) .text', (items) => items.map((t) => t.textContent));

step('the server provisions two users, a group with three messages, and tokens', async () => {
  const suffix = randomUUID().slice(0, 8);
  const ids = { a: `www_a_${suffix}`, b: `www_b_${suffix}` };
  await run.server.register({ [ids.a]: 'Ada', [ids.b]: 'Bo' });
  run.groupID = await run.server.group(ids.a, [ids.b], 'www check');
  // The third text would be executed if the page ever parsed message text as HTML.
  run.before = ['first message', 'second message', `<img src=x onerror="window.injected=1"> ${suffix}`];
  for (const [i, text] of run.before.entries()) {
    await run.server.sendGroupText(i % 2 ? ids.a : ids.b, run.groupID, text);
  }
  for (const [role, userID] of Object.entries(ids)) {
    run.users[role] = { role, userID, token: await run.server.token(userID) };
  }
});

step('both users log in through the form and see the group with its messages', async () => {
  assert.ok(run.users.a && run.users.b, 'users were provisioned');
  await Promise.all([logIn(run.users.a), logIn(run.users.b)]);
  for (const user of [run.users.a, run.users.b]) {
    await openGroup(user);
    await user.page
      .waitForFunction((n) => document.querySelectorAll('#messages li:not(.notice)').length >= n, run.before.length, {
        timeout: MESSAGE_TIMEOUT,
      })
      .catch(async (err) => {
        throw new Error(`${user.userID}: messages shown ${await shownTexts(user.page)}: ${err.message.split('\n')[0]}`);
      });
    assert.deepEqual(await shownTexts(user.page), run.before, `${user.userID}: the group's texts, oldest first`);
    assert.equal(await user.page.evaluate(() => window.injected), undefined, 'message text is never parsed as HTML');
    assert.equal(await user.page.locator('#messages img').count(), 0, 'no element made from message text');
    assert.deepEqual(await pageErrorsShown(user.page), [], `${user.userID}: errors shown in the page`);
    await user.page
      .waitForFunction(() => document.getElementById('tab-role').textContent.startsWith('leader'), null, {
        timeout: MESSAGE_TIMEOUT,
      })
      .catch(async () => assert.fail(`${user.userID}: the only tab leads: ${await user.page.textContent('#tab-role')}`));
  }
});

step('a text sent through the form by A appears in B\'s open conversation', async () => {
  const { a, b } = run.users;
  assert.ok(a?.page && b?.page, 'both users are logged in');
  const text = `hello from the www page ${randomUUID().slice(0, 8)}`;
  await a.page.fill('#send-text', text);
  await a.page.click('#send-button');
  // Stored, not pending: the sender shows a draft until the server has it.
  const inB = `#messages li:not(.notice):not(.pending) .text >> text="${text}"`;
  await b.page.waitForSelector(inB, { timeout: MESSAGE_TIMEOUT }).catch(async (err) => {
    throw new Error(`B shows ${await shownTexts(b.page)}: ${err.message.split('\n')[0]}`);
  });
  await a.page.waitForSelector(inB, { timeout: MESSAGE_TIMEOUT });
  for (const user of [a, b]) {
    const texts = await shownTexts(user.page);
    assert.deepEqual(texts, [...run.before, text], `${user.userID}: every text once, in order`);
    const seqs = await user.page.$$eval('#messages li', (items) => items.map((li) => Number(li.dataset.seq)));
    assert.ok(seqs.every((s) => s > 0), `${user.userID}: every shown message has its seq: ${seqs}`);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `${user.userID}: shown in seq order`);
  }
  // The same stored message on both sides.
  const idIn = (page) => page.$eval(`#messages li:last-child`, (li) => li.dataset.clientMsgId);
  assert.equal(await idIn(a.page), await idIn(b.page), 'same clientMsgID on both sides');
  const stored = await run.server.messages(a.userID, `sg_${run.groupID}`);
  const texts = stored.filter((m) => m.text !== null).map((m) => m.text);
  assert.deepEqual(texts, [...run.before, text], 'the server stored the text once');
  const latest = `#conversations li[data-conversation-id="sg_${run.groupID}"] .latest`;
  await b.page
    .waitForFunction(([sel, t]) => document.querySelector(sel)?.textContent === t, [latest, text], {
      timeout: MESSAGE_TIMEOUT,
    })
    .catch(async () => assert.fail(`B's list shows the text as latest: ${await b.page.textContent(latest)}`));
  await b.page.screenshot({ path: path.join(ARTIFACTS, 'www-receiver.png') });
  await a.page.screenshot({ path: path.join(ARTIFACTS, 'www-sender.png') });
});

step('one gateway connection per user, no page errors, no CSP violation', async () => {
  const { a, b } = run.users;
  assert.ok(a?.page && b?.page, 'both users are logged in');
  for (const user of [a, b]) {
    const sockets = run.log.sockets.filter((s) => s.page === user.role);
    assert.equal(sockets.length, 1, `${user.userID}: one WebSocket (${sockets.map((s) => s.url)})`);
    assert.ok(sockets[0].url.startsWith(run.server.wsAddr), `${user.userID}: to the gateway: ${sockets[0].url}`);
    assert.equal(sockets[0].closed, false, `${user.userID}: still open`);
    assert.deepEqual(await pageErrorsShown(user.page), [], `${user.userID}: errors shown in the page`);
    assert.match(await user.page.textContent('#conn-state'), /connected/, `${user.userID}: connection state`);
  }
  assert.deepEqual(run.log.pageErrors, [], 'page errors');
  assert.deepEqual(consoleProblems(run.log), [], 'console errors or CSP violations');
});
