// The Chorus www page (../index.html, with the SDK from ../../pkg) in an Electron window.
//
// Server addresses: --api=URL and --ws=URL on the command line, or CHORUS_API_ADDR and
// CHORUS_WS_ADDR in the environment; defaults http://127.0.0.1:10002 and
// ws://127.0.0.1:10001/msg_gateway.
//
// The files are served from a privileged custom scheme, chorus://app/, rather than file://, so the
// page has a real origin: absolute paths (/pkg/index.js) resolve, the .wasm is served as
// application/wasm (streaming compilation), and IndexedDB and Web Locks (secure context) work.
// Only www/ and pkg/ are served. Every response carries the Content-Security-Policy below; it is
// the page's own policy (the meta tag in index.html) with connect-src narrowed to the configured
// server. See README.md.
const { app, BrowserWindow, ipcMain, protocol } = require('electron');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const SERVED = ['www', 'pkg'];
const SCHEME = 'chorus';
const START = `${SCHEME}://app/www/index.html`;

function option(name, envName, fallback) {
  const prefix = `--${name}=`;
  const arg = process.argv.find((a) => a.startsWith(prefix));
  return arg ? arg.slice(prefix.length) : process.env[envName] || fallback;
}

const config = {
  apiAddr: option('api', 'CHORUS_API_ADDR', 'http://127.0.0.1:10002'),
  wsAddr: option('ws', 'CHORUS_WS_ADDR', 'ws://127.0.0.1:10001/msg_gateway'),
};

/** The origin of `url` (scheme://host:port), which is what connect-src lists. */
function origin(url) {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

/**
 * The page's import map is an inline script; the policy allows exactly that script by its
 * SHA-256 hash, computed here from index.html so the two never disagree.
 */
function importMapHash() {
  const html = fs.readFileSync(path.join(ROOT, 'www', 'index.html'), 'utf8');
  const match = html.match(/<script type="importmap">([\s\S]*?)<\/script>/);
  if (!match) throw new Error('www/index.html has no import map');
  return `'sha256-${crypto.createHash('sha256').update(match[1], 'utf8').digest('base64')}'`;
}

const CSP = [
  "default-src 'none'",
  // 'wasm-unsafe-eval' lets WebAssembly.compile/instantiate run; JavaScript eval stays forbidden.
  `script-src 'self' 'wasm-unsafe-eval' ${importMapHash()}`,
  // The SDK's timer worker is created from a Blob URL.
  'worker-src blob:',
  `connect-src 'self' ${origin(config.apiAddr)} ${origin(config.wsAddr)}`,
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

protocol.registerSchemesAsPrivileged([
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
]);

/** Serves chorus://app/<www|pkg>/… from the repository, with the policy on every response. */
async function serve(request) {
  const url = new URL(request.url);
  const relative = path.normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
  const file = path.join(ROOT, relative);
  const top = relative.split(/[/\\]/)[0];
  if (url.host !== 'app' || !SERVED.includes(top) || !file.startsWith(ROOT + path.sep)) {
    return new Response('forbidden', { status: 403 });
  }
  try {
    const body = await fs.promises.readFile(file);
    return new Response(body, {
      headers: {
        'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
      },
    });
  } catch {
    return new Response('not found', { status: 404 });
  }
}

function createWindow() {
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    webPreferences: {
      preload: path.join(__dirname, 'preload.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
    },
  });
  // The window shows the app and nothing else: no pop-ups, no navigation away.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${SCHEME}://app/`)) event.preventDefault();
  });
  // The login form takes its server addresses from `window.chorusConfig` (preload.js).
  win.loadURL(START);
}

ipcMain.on('chorus:config', (event) => {
  event.returnValue = config;
});

app.whenReady().then(() => {
  protocol.handle(SCHEME, serve);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
