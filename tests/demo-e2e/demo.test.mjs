// The Leptos web demo against a real chorus-server with seeded demo data, in headless Chromium.
//
// Run with `node --test tests/demo-e2e/` and
//   CHORUS_SERVER_BIN  the chorus-server binary (required)
//   CHORUS_DEMO_DIST   the built demo, i.e. target/demo-dist from `cargo xtask demo` (required)
//   CHROMIUM           the browser (default /usr/bin/chromium)
// The server runs in single-port mode with `--static CHORUS_DEMO_DIST --seed-demo` on a fresh data
// directory; every user is a separate browser context (a separate device). One test per seeded
// feature; they run in order and build on each other's changes. Screenshots land in
// artifacts/demo-e2e/, including demo.png, a desktop screenshot of the chat with its group panel (the
// README's docs/demo.png is a copy of one).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, startServer } from '../harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const ARTIFACTS = path.join(REPO, 'artifacts', 'demo-e2e');
const DOCS_SHOT = path.join(REPO, 'artifacts', 'demo-e2e', 'demo.png');

const DEMO_DIST = process.env.CHORUS_DEMO_DIST;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const START_TIMEOUT = 180_000; // seeding 300 messages included
const UI_TIMEOUT = 30_000;
const GROUP = 'Chorus team';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const run = { server: null, log: [], dataDir: null, base: '', browser: null, sessions: [] };

async function startChorus() {
  assert.ok(DEMO_DIST, 'CHORUS_DEMO_DIST must name the built demo directory (target/demo-dist from `cargo xtask demo`)');
  assert.ok(
    fs.existsSync(path.join(DEMO_DIST, 'index.html')),
    `CHORUS_DEMO_DIST=${DEMO_DIST} has no index.html: build the demo with \`cargo xtask demo\` first`,
  );
  const server = await startServer({
    name: 'demo-e2e',
    args: (dataDir) => ['--data', dataDir, '--single', '127.0.0.1:0', '--static', DEMO_DIST, '--seed-demo'],
    single: true,
    timeout: START_TIMEOUT,
    what: 'chorus-server (seeding the demo) printing its address',
  });
  Object.assign(run, { server, log: server.log, dataDir: server.dataDir, base: server.apiAddr });
}

/** A browser context (a device) for one user; `storageState` shares another context's session. */
async function newSession(name, { viewport = DESKTOP, storageState } = {}) {
  const context = await run.browser.newContext({ viewport, storageState });
  const page = await context.newPage();
  const session = { name, context, page, console: [], errors: [] };
  page.on('console', (msg) => session.console.push(`[${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => session.errors.push(String(err?.stack ?? err)));
  run.sessions.push(session);
  return session;
}

/** Signs `userId` in from the sign-in screen and waits for the first sync to finish. */
async function signIn(userId, options) {
  const s = await newSession(userId, options);
  await s.page.goto(`${run.base}/`);
  await s.page.getByTestId(`signin-${userId}`).waitFor({ timeout: UI_TIMEOUT });
  if (!run.signInChecked) {
    run.signInChecked = true;
    const listed = await s.page.locator('[data-testid^="signin-"]').evaluateAll((els) => els.map((e) => e.dataset.testid));
    for (const id of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
      assert.ok(listed.includes(`signin-${id}`), `the sign-in screen offers ${id}: ${listed}`);
    }
    assert.match(await s.page.locator('.signin').innerText(), /only on a server started with\s+--seed-demo/);
    await shot(s, '0-sign-in');
  }
  await s.page.getByTestId(`signin-${userId}`).click({ timeout: UI_TIMEOUT });
  await waitOnline(s);
  return s;
}

async function waitOnline(s) {
  await s.page.getByTestId('conn-status').filter({ hasText: 'Online' }).waitFor({ timeout: UI_TIMEOUT * 2 });
}

async function shot(s, name) {
  await s.page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/** Opens the group chat from the conversation list. */
async function openGroup(s) {
  const page = s.page;
  if (!(await page.getByTestId('conversations').isVisible())) await page.getByTestId('nav-chats').click();
  await page.getByTestId('conversation').filter({ hasText: GROUP }).click({ timeout: UI_TIMEOUT * 2 });
  await page.getByTestId('chat-title').filter({ hasText: GROUP }).waitFor({ timeout: UI_TIMEOUT });
  await page.getByTestId('message').first().waitFor({ timeout: UI_TIMEOUT });
}

async function openPanel(s) {
  if (!(await s.page.getByTestId('group-panel').isVisible())) await s.page.getByTestId('toggle-panel').click();
  await s.page.getByTestId('member').first().waitFor({ timeout: UI_TIMEOUT });
}

function member(s, userId) {
  return s.page.locator(`[data-testid="member"][data-user="${userId}"]`);
}

async function setSwitch(s, testid, on) {
  const box = s.page.getByTestId(testid);
  if ((await box.isChecked()) !== on) await box.click();
}

async function expectSwitch(s, testid, on) {
  const box = s.page.getByTestId(testid);
  await s.page.waitForFunction(
    ([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.checked === want,
    [testid, on],
    { timeout: UI_TIMEOUT },
  );
  assert.equal(await box.isChecked(), on, `${s.name}: ${testid} should be ${on ? 'on' : 'off'}`);
}

const users = {};

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await startChorus();
  run.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, XDG_CONFIG_HOME: run.dataDir, XDG_CACHE_HOME: run.dataDir },
  });
});

after(async () => {
  for (const s of run.sessions) {
    fs.writeFileSync(path.join(ARTIFACTS, `${s.name}-console.log`), [...s.console, ...s.errors].join('\n'));
  }
  fs.writeFileSync(path.join(ARTIFACTS, 'server.log'), run.log.join('\n'));
  if (run.browser) await run.browser.close();
  await run.server?.stop();
});

test('the announcement an admin publishes appears for a member with the admin name and time', async () => {
  users.bob = await signIn('bob');
  users.carol = await signIn('carol');
  await openGroup(users.bob);
  await openGroup(users.carol);
  // The seeded announcement is Bob's.
  await users.carol.page.getByTestId('announcement').filter({ hasText: 'Stand-up is at 09:30' }).waitFor({ timeout: UI_TIMEOUT });
  const text = `Release 0.2 ships on Friday (${Date.now()}).`;
  await users.bob.page.getByTestId('announcement-edit').click();
  await users.bob.page.getByTestId('announcement-input').fill(text);
  const published = new Date();
  await users.bob.page.getByTestId('announcement-save').click();
  await users.carol.page.getByTestId('announcement').filter({ hasText: text }).waitFor({ timeout: UI_TIMEOUT });
  const meta = await users.carol.page.getByTestId('announcement-meta').innerText();
  assert.match(meta, /^Bob · /, `the editor is named: ${meta}`);
  const hm = (d) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const later = new Date(published.getTime() + 60_000);
  assert.ok(meta.endsWith(hm(published)) || meta.endsWith(hm(later)), `the release time ${hm(published)} is shown: ${meta}`);
  // A member cannot edit it.
  assert.equal(await users.carol.page.getByTestId('announcement-edit').count(), 0, 'ordinary members get no Edit button');
  await shot(users.carol, '1-announcement');
});

test('the member list shows who joined by search, by QR code and by whose invitation', async () => {
  const s = users.carol;
  await openPanel(s);
  await member(s, 'erin').getByTestId('member-joined').filter({ hasText: 'joined by search' }).waitFor({ timeout: UI_TIMEOUT });
  assert.match(await member(s, 'frank').getByTestId('member-joined').innerText(), /^joined by QR code · /);
  assert.match(await member(s, 'carol').getByTestId('member-joined').innerText(), /^invited by Alice · /);
  assert.equal(await member(s, 'alice').getByTestId('role').textContent(), 'owner');
  assert.equal(await member(s, 'bob').getByTestId('role').textContent(), 'admin');
  await s.page.getByTestId('member-filter').selectOption('qr');
  await s.page.waitForFunction(() => document.querySelectorAll('[data-testid="member"]').length === 1, null, { timeout: UI_TIMEOUT });
  assert.equal(await member(s, 'frank').count(), 1, 'the QR code filter keeps Frank');
  await shot(s, '2-members-qr-filter');
  await s.page.getByTestId('member-filter').selectOption('search');
  await s.page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="member"]')].map((e) => e.dataset.user).join() === 'erin',
    null,
    { timeout: UI_TIMEOUT },
  );
  await s.page.getByTestId('member-filter').selectOption('all');
  await member(s, 'alice').waitFor({ timeout: UI_TIMEOUT });
});

test('forbidden profile viewing and friending stop an ordinary member but not the owner', async () => {
  users.alice = await signIn('alice');
  const owner = users.alice;
  const carol = users.carol;
  await openGroup(owner);
  await openPanel(owner);
  await openPanel(carol);
  await setSwitch(owner, 'perm-look', false);
  await setSwitch(owner, 'perm-friend', false);
  // Reflected live for the member, who cannot change them.
  await expectSwitch(carol, 'perm-look', false);
  await expectSwitch(carol, 'perm-friend', false);
  assert.ok(await carol.page.getByTestId('perm-look').isDisabled(), 'ordinary members cannot change permissions');

  await member(carol, 'erin').getByTestId('member-name').click();
  await carol.page.getByTestId('profile-hidden').waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await carol.page.getByTestId('member-profile').count(), 0, 'no profile opens for Carol');
  await shot(carol, '3-profile-hidden');

  // Viewing allowed again, friending still forbidden: the profile opens without Add friend.
  await setSwitch(owner, 'perm-look', true);
  await expectSwitch(carol, 'perm-look', true);
  await member(carol, 'erin').getByTestId('member-name').click();
  await carol.page.getByTestId('member-profile').waitFor({ timeout: UI_TIMEOUT });
  await carol.page.getByTestId('friending-forbidden').waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await carol.page.getByTestId('add-friend').count(), 0, 'no Add friend for Carol');
  await shot(carol, '3-friending-forbidden');
  await carol.page.getByTestId('profile-close').click();

  // The owner may do both.
  await setSwitch(owner, 'perm-look', false);
  await expectSwitch(carol, 'perm-look', false);
  await member(owner, 'frank').getByTestId('member-name').click();
  await owner.page.getByTestId('member-profile').waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await owner.page.getByTestId('profile-hidden').count(), 0);
  await owner.page.getByTestId('add-friend').click();
  const result = owner.page.getByTestId('add-friend-result');
  await result.waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await result.innerText(), 'Friend request sent.');
  await shot(owner, '3-owner-adds-friend');
  await owner.page.getByTestId('profile-close').click();
  await setSwitch(owner, 'perm-look', true);
  await setSwitch(owner, 'perm-friend', true);
  await expectSwitch(carol, 'perm-friend', true);
});

test('a rename shows in another user\'s open chat without reload', async () => {
  const bob = users.bob;
  const carol = users.carol;
  const hello = `Hello from Carol ${Date.now()}`;
  await carol.page.getByTestId('composer').fill(hello);
  await carol.page.getByTestId('composer').press('Enter');
  const line = bob.page.getByTestId('message').filter({ hasText: hello });
  await line.waitFor({ timeout: UI_TIMEOUT });
  assert.equal(await line.getByTestId('sender').innerText(), 'Carol');

  await carol.page.getByTestId('nav-profile').click();
  await carol.page.getByTestId('nickname-input').fill('Caroline R.');
  await carol.page.getByTestId('nickname-save').click();
  await carol.page.getByTestId('nickname-saved').waitFor({ timeout: UI_TIMEOUT });

  await line.getByTestId('sender').filter({ hasText: 'Caroline R.' }).waitFor({ timeout: UI_TIMEOUT });
  await openPanel(bob);
  await member(bob, 'carol').getByTestId('member-name').filter({ hasText: 'Caroline R.' }).waitFor({ timeout: UI_TIMEOUT });
  const stale = await bob.page.locator('[data-testid="message"][data-sender="carol"] [data-testid="sender"]').allInnerTexts();
  assert.ok(stale.length > 0 && stale.every((n) => n === 'Caroline R.'), `every Carol message shows the new name: ${stale}`);
  await shot(bob, '4-rename');
});

test('a deleted remark disappears in a second session of the same user', async () => {
  const first = users.alice;
  const second = await newSession('alice-2', { storageState: await first.context.storageState() });
  await second.page.goto(`${run.base}/#/friends`);
  await waitOnline(second);
  for (const s of [first, second]) {
    await s.page.getByTestId('nav-friends').click();
    await s.page
      .locator('[data-testid="friend"][data-user="bob"] [data-testid="friend-name"]')
      .filter({ hasText: 'Bob (design lead)' })
      .waitFor({ timeout: UI_TIMEOUT });
  }
  await first.page.locator('[data-testid="friend"][data-user="bob"] [data-testid="remark-delete"]').click();
  for (const s of [first, second]) {
    await s.page
      .locator('[data-testid="friend"][data-user="bob"] [data-testid="friend-name"]')
      .filter({ hasText: /^Bob$/ })
      .waitFor({ timeout: UI_TIMEOUT });
  }
  assert.equal(await second.page.getByText('Bob (design lead)').count(), 0, 'the remark is gone in the second session');
  await shot(second, '5-remark-deleted-second-session');
  await second.context.close();
});

test('a user invited after the seeded history scrolls back to its first message', async () => {
  const dave = await signIn('dave');
  users.dave = dave;
  const owner = users.alice;
  await openGroup(owner);
  await openPanel(owner);
  await owner.page.getByTestId('invite-open').click();
  await owner.page.getByTestId('invite-dave').click();
  await member(owner, 'dave').waitFor({ timeout: UI_TIMEOUT });
  assert.match(await member(owner, 'dave').getByTestId('member-joined').innerText(), /^invited by Alice · /);

  await openGroup(dave);
  const first = dave.page.getByTestId('message').filter({ hasText: 'Welcome, everyone! This group is where the Chorus team coordinates.' });
  const deadline = Date.now() + 180_000;
  while (!(await first.count())) {
    if (Date.now() >= deadline) {
      // Say where paging stopped: the page logs every history page it received.
      const pages = dave.console.filter((line) => line.includes('history below')).slice(-8);
      assert.fail(`the first seeded message was not reached by scrolling up; last pages:\n${pages.join('\n')}`);
    }
    assert.equal(await dave.page.getByTestId('history-start').count(), 0, 'the history ended before the first seeded message');
    await dave.page.getByTestId('messages').evaluate((el) => {
      el.scrollTop = 0;
    });
    await dave.page.waitForTimeout(300);
  }
  // Scroll the list itself, not the row: a row is re-rendered (a new element)
  // when a later page or a rename changes how it is shown. The page that reached the first
  // message may not yet say it is the end; the page puts the scroll position back after each
  // page, so keep scrolling up until it does.
  const start = dave.page.getByTestId('history-start');
  const endBy = Date.now() + UI_TIMEOUT;
  while (!(await start.count())) {
    assert.ok(Date.now() < endBy, 'the start of the history was not shown after scrolling to the first message');
    await dave.page.getByTestId('messages').evaluate((el) => {
      el.scrollTop = 0;
    });
    await dave.page.waitForTimeout(300);
  }
  const seqs = await dave.page.locator('[data-seq]').evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
  const holes = [];
  for (let q = 1; q <= Math.max(...seqs); q++) if (!seqs.includes(q)) holes.push(q);
  assert.deepEqual(holes, [], 'the history shown has no holes');
  const count = await dave.page.getByTestId('message').count();
  assert.ok(count >= 300, `all 300 seeded messages are shown (${count})`);
  await shot(dave, '6-first-message');
});

test('the owner recalls a member\'s day-old message and both see the recalled form', async () => {
  const owner = users.alice;
  const erin = await signIn('erin', { viewport: PHONE });
  users.erin = erin;
  await openGroup(owner);
  await openGroup(erin);
  const target = owner.page.locator('[data-testid="message"][data-sender="erin"]').last();
  await target.waitFor({ timeout: UI_TIMEOUT });
  const id = await target.getAttribute('data-msgid');
  await erin.page.locator(`[data-testid="message"][data-msgid="${id}"]`).waitFor({ timeout: UI_TIMEOUT });
  // Erin's own message: she may recall it; Bob (admin) may too; Carol may not.
  await target.getByTestId('recall').click();
  for (const s of [owner, erin]) {
    const revoked = s.page.locator(`[data-testid="revoked"][data-msgid="${id}"]`);
    await revoked.waitFor({ timeout: UI_TIMEOUT });
    assert.equal(await revoked.innerText(), 'Alice (owner) recalled a message', `${s.name} sees the recalled form`);
  }
  assert.equal(await users.carol.page.locator('[data-testid="message"]:not([data-sender="carol"]) [data-testid="recall"]').count(), 0);
  await shot(erin, '7-recalled-phone');
  await openPanel(owner);
  await shot(owner, '7-recalled-owner');
  fs.mkdirSync(path.dirname(DOCS_SHOT), { recursive: true });
  await owner.page.screenshot({ path: DOCS_SHOT });
});

test('joining again through the QR code link and by search records how the member joined', async () => {
  const owner = users.alice;
  const erin = users.erin;
  const frank = await signIn('frank');
  await openGroup(owner);
  await openPanel(owner);
  await owner.page.getByTestId('show-qr').click();
  const link = await owner.page.getByTestId('join-link').getAttribute('href');
  assert.match(link, /#\/join\/chorus-team\?via=qr$/, `the QR code carries the join link: ${link}`);
  assert.ok((await owner.page.locator('[data-testid="qr"] svg path').getAttribute('d')).length > 1000, 'the QR code is drawn');
  await shot(owner, '8-qr-code');

  for (const s of [erin, frank]) {
    await openGroup(s);
    await openPanel(s);
    await s.page.getByTestId('quit-group').click();
    await member(owner, s.name).waitFor({ state: 'detached', timeout: UI_TIMEOUT });
  }

  await erin.page.goto(link);
  await erin.page.getByTestId('join-confirm').click({ timeout: UI_TIMEOUT });
  await member(owner, 'erin').getByTestId('member-joined').filter({ hasText: /^joined by QR code · / }).waitFor({ timeout: UI_TIMEOUT });

  await frank.page.getByTestId('nav-chats').click();
  await frank.page.getByTestId('join-search-input').fill('chorus-team');
  await frank.page.getByTestId('join-search').click();
  await frank.page.getByTestId('join-search-result').filter({ hasText: GROUP }).waitFor({ timeout: UI_TIMEOUT });
  await frank.page.getByTestId('join-search-confirm').click();
  await member(owner, 'frank').getByTestId('member-joined').filter({ hasText: /^joined by search · / }).waitFor({ timeout: UI_TIMEOUT });
  await frank.page.getByTestId('chat-title').filter({ hasText: GROUP }).waitFor({ timeout: UI_TIMEOUT });
  await shot(owner, '8-rejoined');
});

test('a second tab of the same user shares the session and takes over when the first closes', async () => {
  const first = users.bob;
  const tab = await first.context.newPage();
  const second = { name: 'bob-tab-2', context: first.context, page: tab, console: [], errors: [] };
  tab.on('console', (msg) => second.console.push(`[${msg.type()}] ${msg.text()}`));
  run.sessions.push(second);
  // No sign-in: the tab finds the user and token in localStorage.
  await tab.goto(`${run.base}/#/friends`);
  await waitOnline(second);
  const remark = (s) => s.page.locator('[data-testid="friend"][data-user="alice"] [data-testid="friend-name"]');
  await remark(second).filter({ hasText: 'Alice · protocol' }).waitFor({ timeout: UI_TIMEOUT });
  await first.page.getByTestId('nav-friends').click();
  await first.page.locator('[data-testid="friend"][data-user="alice"] [data-testid="remark-delete"]').click();
  await remark(second).filter({ hasText: /^Alice$/ }).waitFor({ timeout: UI_TIMEOUT });

  await first.page.close();
  await waitOnline(second);
  await openGroup(second);
  await openGroup(users.carol);
  const text = `From Bob's second tab ${Date.now()}`;
  await tab.getByTestId('composer').fill(text);
  await tab.getByTestId('send').click();
  await tab.getByTestId('message').filter({ hasText: text }).waitFor({ timeout: UI_TIMEOUT });
  await users.carol.page.getByTestId('message').filter({ hasText: text }).waitFor({ timeout: UI_TIMEOUT });
  await shot(second, '9-second-tab');
});
