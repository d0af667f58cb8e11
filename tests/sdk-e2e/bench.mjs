// Cold-start benchmark of @chorus/sdk in headless Chromium (not a test: prints measurements).
//
// For each of 5 runs: a new Chromium profile (fresh --user-data-dir: empty HTTP cache, no compiled
// wasm cache, no IndexedDB), the repository served from a loopback static server, and the page
// tests/sdk-e2e/bench/ which records, in milliseconds since navigation start, when
// `await getSDK().ready` resolved and the user's IndexedDB database was open, plus every long task
// (PerformanceObserver 'longtask') until then. The browser first shows about:blank for
// SETTLE_MS, so that its own start-up work (a new profile's files, its service processes) is over
// when the page loads, as for a visitor whose browser is already running; a second series of 5
// runs opens the page the moment the browser has launched, and is reported beside it.
//
// Prints one JSON object on stdout:
//   { runs: [ms ×5], median_ms, max_long_task_ms, launch_runs: [ms ×5], launch_median_ms,
//     wasm_gzip_bytes, glue_gzip_bytes, phases_median_ms }
// runs: module import start (the page's script asks for the package) → SDK ready + database
// open, per run of the settled series (the page's own load before that is not the SDK's);
// launch_runs: the same in a just-launched browser; max_long_task_ms: the longest task seen in any
// run of either series (0 if none); the sizes are gzip -9 sizes of pkg/dist/*.wasm and of the JS
// (pkg/index.js + any pkg/dist/**/*.js of an unbundled build, compressed with node's zlib at level
// 9); phases_median_ms splits the settled series' runs into their steps (medians per step).
//
// Run: node tests/sdk-e2e/bench.mjs, with
//   CHROMIUM  the browser (default /usr/bin/chromium)
// Needs the built package (pkg/index.js and pkg/dist/ from `cargo xtask pkg`); fails if missing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, requirePackage, serveRepo } from './harness.mjs';

const RUNS = 5;
/** How long the browser shows about:blank before the page, in the settled series. */
const SETTLE_MS = 2000;
const RUN_TIMEOUT = 60_000;

const gzipSize = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const round = (ms) => Math.round(ms * 10) / 10;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function once(origin, index, settle) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-bench-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    if (settle) {
      await page.goto('about:blank');
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
    await page.goto(`${origin}/tests/sdk-e2e/bench/?user=bench${index}`);
    await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: RUN_TIMEOUT });
    const result = await page.evaluate(() => window.benchResult);
    if (!result.ok) throw new Error(`run ${index}: the page failed: ${result.error}`);
    if (errors.length) throw new Error(`run ${index}: page errors: ${errors.join('\n')}`);
    if (!result.longTasksObserved) throw new Error(`run ${index}: this Chromium does not report long tasks`);
    return result;
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function main() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`CHROMIUM=${CHROMIUM} does not exist`);
  const pkg = requirePackage();
  const site = await serveRepo();
  const runs = [];
  const launchRuns = [];
  const marks = [];
  let maxLongTask = 0;
  try {
    // Alternating the two series spreads the machine's load over both.
    for (let i = 0; i < RUNS; i++) {
      for (const settle of [true, false]) {
        const result = await once(site.origin, `${i}${settle ? 's' : 'l'}`, settle);
        // The SDK's cold start: from the page asking for the module (its fetch starts) until the
        // module is instantiated and the user's database is open.
        const ms = round(result.marks.databaseOpen - result.marks.script);
        if (settle) {
          runs.push(ms);
          marks.push(result.marks);
        } else {
          launchRuns.push(ms);
        }
        for (const t of result.longTasks) maxLongTask = Math.max(maxLongTask, t.duration);
      }
    }
  } finally {
    await site.close();
  }
  const out = {
    runs,
    median_ms: median(runs),
    max_long_task_ms: round(maxLongTask),
    wasm_gzip_bytes: sum(pkg.wasm.map(gzipSize)),
    glue_gzip_bytes: gzipSize(pkg.entry) + sum(pkg.glue.map(gzipSize)),
    launch_runs: launchRuns,
    launch_median_ms: median(launchRuns),
    // Where the time goes, from the page asking for the package: median per step of the settled
    // series until the package module was imported, `ready` resolved, and the database was open.
    phases_median_ms: Object.fromEntries(
      ['imported', 'ready', 'databaseOpen'].map((k) => [k, round(median(marks.map((m) => m[k] - m.script)))]),
    ),
  };
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(`bench failed: ${err?.stack ?? err}`);
  process.exit(1);
});
