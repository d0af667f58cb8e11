// Drives the official OpenIM web SDK from inside the page. The node test calls the functions on
// `window.chorusCheck` through the browser driver and reads back what the SDK reported; this
// script only records, it never decides whether anything passed.
import { getSDK, CbEvents } from '/sdk/lib/index.es.js';

const sdk = getSDK({
  coreWasmPath: '/sdk/assets/openIM.wasm',
  sqlWasmPath: '/sdk/assets/sql-wasm.wasm',
  debug: false,
});

/** Every callback event the SDK emitted, in order: `{event, errCode, errMsg, data, at}`. */
const events = [];

const show = (id, text) => {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
};

function record(name, payload) {
  const entry = {
    event: name,
    errCode: payload?.errCode ?? 0,
    errMsg: payload?.errMsg ?? '',
    data: payload?.data ?? null,
    at: Date.now(),
  };
  events.push(entry);
  show('events', events.map((e) => (e.errCode ? `${e.event} (${e.errCode} ${e.errMsg})` : e.event)).join('\n'));
  if (name === CbEvents.OnRecvNewMessages && Array.isArray(entry.data)) {
    const el = document.getElementById('messages');
    for (const m of entry.data) {
      el.textContent += `${m.sendID} → ${m.groupID || m.recvID}: ${m.textElem?.content ?? `(type ${m.contentType})`}\n`;
    }
  }
}

for (const name of new Set(Object.values(CbEvents))) {
  sdk.on(name, (payload) => record(name, payload));
}

/** Turns an SDK rejection (a plain object) into a serialisable value. */
const failure = (err) => ({ failed: true, error: typeof err === 'object' ? JSON.stringify(err) : String(err) });

window.chorusCheck = {
  events,
  async login(params) {
    show('user', params.userID);
    show('state', 'logging in');
    try {
      const res = await sdk.login({ ...params, logLevel: 5, isLogStandardOutput: true });
      show('state', 'logged in');
      return { failed: false, res: res ?? null };
    } catch (err) {
      show('state', 'login failed');
      return failure(err);
    }
  },
  async sendGroupText(groupID, text) {
    try {
      const { data: message } = await sdk.createTextMessage(text);
      const { data } = await sdk.sendMessage({ recvID: '', groupID, message });
      return { failed: false, data };
    } catch (err) {
      return failure(err);
    }
  },
  async conversations() {
    try {
      const { data } = await sdk.getAllConversationList();
      return { failed: false, data };
    } catch (err) {
      return failure(err);
    }
  },
};
show('state', 'ready');
