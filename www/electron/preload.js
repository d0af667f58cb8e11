// Runs in the sandboxed renderer before the page, in its own isolated world. It exposes one frozen
// object, `window.chorusConfig` ({ apiAddr, wsAddr }), which the page uses as the login form's
// defaults; nothing else from Electron or Node reaches the page.
const { contextBridge, ipcRenderer } = require('electron');

const config = ipcRenderer.sendSync('chorus:config');
contextBridge.exposeInMainWorld(
  'chorusConfig',
  Object.freeze({ apiAddr: String(config.apiAddr), wsAddr: String(config.wsAddr) }),
);
