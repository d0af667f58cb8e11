// The Vite example (www/vite) builds for real against the package in pkg/: `npm ci` installs the
// pinned Vite and TypeScript and links `@chorus/sdk` from ../../pkg, `npm run build` type-checks
// src/main.ts against the package's declarations and bundles it, and the output carries the SDK's
// WebAssembly module as an asset (byte for byte the package's) that the bundled JavaScript refers to.
//
// Run: node --test tests/sdk-e2e/vite.test.mjs (needs the npm registry for `npm ci`, or its cache).
// Needs the built package (pkg/index.js and pkg/dist/ from `cargo xtask pkg`); fails if missing.
// No server or browser is involved.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, requirePackage } from './harness.mjs';

const APP = path.join(REPO, 'www', 'vite');
const OUT = path.join(APP, 'dist');

function npm(args) {
  const res = spawnSync('npm', args, { cwd: APP, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: 'true' } });
  const output = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
  assert.equal(res.status, 0, `npm ${args.join(' ')} failed (${res.error ?? `exit ${res.status}`}):\n${output}`);
  return output;
}

/** Every file under `dir`, as paths relative to it. */
function walk(dir, prefix = '') {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name), path.join(prefix, e.name)) : [path.join(prefix, e.name)],
  );
}

test('www/vite: npm ci and npm run build produce a bundle with the SDK wasm', () => {
  const pkg = requirePackage();
  const lock = JSON.parse(fs.readFileSync(path.join(APP, 'package-lock.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(path.join(APP, 'package.json'), 'utf8'));
  assert.match(manifest.devDependencies.vite, /^\d+\.\d+\.\d+$/, 'vite is pinned to an exact version');
  assert.equal(lock.packages['node_modules/vite']?.version, manifest.devDependencies.vite, 'the lock holds that vite');
  assert.equal(manifest.dependencies['@chorus/sdk'], 'file:../../pkg', 'the package comes from pkg/');

  fs.rmSync(OUT, { recursive: true, force: true });
  npm(['ci', '--no-audit', '--no-fund']);
  const linked = fs.realpathSync(path.join(APP, 'node_modules', '@chorus', 'sdk'));
  assert.equal(linked, path.join(REPO, 'pkg'), 'node_modules/@chorus/sdk is the repository package');
  const log = npm(['run', 'build']);

  assert.ok(fs.existsSync(path.join(OUT, 'index.html')), `dist/index.html was written; build log:\n${log}`);
  const files = walk(OUT);
  const wasmAssets = files.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasmAssets.length, 1, `one wasm asset in dist/: ${files.join(', ')}`);
  const built = fs.readFileSync(path.join(OUT, wasmAssets[0]));
  assert.deepEqual([...built.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'the asset is a WebAssembly module');
  const original = fs.readFileSync(pkg.wasm[0]);
  assert.ok(built.equals(original), `${wasmAssets[0]} is the package's ${path.basename(pkg.wasm[0])}`);

  const scripts = files.filter((f) => f.endsWith('.js'));
  assert.ok(scripts.length > 0, `a JavaScript bundle in dist/: ${files.join(', ')}`);
  const bundle = scripts.map((f) => fs.readFileSync(path.join(OUT, f), 'utf8')).join('\n');
  assert.ok(bundle.includes(path.basename(wasmAssets[0])), `the bundle refers to ${wasmAssets[0]}`);
  assert.ok(bundle.includes('OnRecvNewMessages'), 'the bundle holds the app code using the SDK events');
  const html = fs.readFileSync(path.join(OUT, 'index.html'), 'utf8');
  assert.ok(scripts.some((f) => html.includes(path.basename(f))), 'index.html loads the bundle');
});
