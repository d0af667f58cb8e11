// The package's type declarations: the strict consumer in pkg/types-check compiles, and the
// declarations reject a wrong parameter type (the consumer's `@ts-expect-error` lines, which
// tsc reports when unused, would otherwise be vacuous).
//
// Needs `npm ci` at the repository root (typescript).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const CHECK = path.join(REPO, 'pkg', 'types-check');

function tsc(project) {
  assert.ok(fs.existsSync(TSC), `${TSC} is missing: run \`npm ci\` at the repository root`);
  return spawnSync(process.execPath, [TSC, '-p', project, '--noEmit'], { encoding: 'utf8' });
}

test('pkg/types-check/consumer.ts compiles under strict settings', () => {
  const out = tsc(CHECK);
  assert.equal(out.status, 0, `tsc failed:\n${out.stdout}${out.stderr}`);
});

test('the declarations reject a wrong parameter type', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-types-'));
  try {
    const entry = path.join(REPO, 'pkg', 'index.js').replaceAll('\\', '/');
    fs.writeFileSync(
      path.join(dir, 'wrong.ts'),
      `import { getSDK } from '${entry}';\nvoid getSDK().getUsersInfo('not-a-list');\n`,
    );
    const config = JSON.parse(fs.readFileSync(path.join(CHECK, 'tsconfig.json'), 'utf8'));
    config.files = ['wrong.ts'];
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config));
    const out = tsc(dir);
    assert.notEqual(out.status, 0, 'tsc accepted a string where string[] is declared');
    assert.match(out.stdout, /wrong\.ts\(2,.*TS2345/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
