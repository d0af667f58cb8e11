// The Chorus SDK in a TypeScript app: log in, list conversations, follow new messages.
// Every call resolves with a typed WsResponse; network text goes into the page as textContent.
import { getSDK, CbEvents } from '@chorus/sdk';

const sdk = getSDK();

function element<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

const stateEl = element<HTMLElement>('state');
const errorEl = element<HTMLElement>('error');
const list = element<HTMLUListElement>('conversations');
const query = new URLSearchParams(location.search);
for (const id of ['api', 'ws', 'user', 'token']) {
  element<HTMLInputElement>(id).value = query.get(id) ?? '';
}

function showError(what: string, err: unknown): void {
  const detail =
    typeof err === 'object' && err !== null && 'errCode' in err
      ? `${(err as { errCode: number }).errCode} ${(err as { errMsg?: string }).errMsg ?? ''}`
      : String(err);
  errorEl.textContent = `${what}: ${detail}`;
}

async function showConversations(): Promise<void> {
  const res = await sdk.getAllConversationList();
  const rows = res.data.map((c) => {
    const li = document.createElement('li');
    li.textContent = `${c.showName || c.conversationID} (${c.unreadCount} unread)`;
    return li;
  });
  list.replaceChildren(...rows);
}

sdk.on(CbEvents.OnConnectSuccess, () => {
  stateEl.textContent = 'connected';
});
sdk.on(CbEvents.OnSyncServerFinish, () => {
  showConversations().catch((err: unknown) => showError('conversations', err));
});
sdk.on(CbEvents.OnRecvNewMessages, (ev) => {
  for (const msg of ev.data) {
    const text = msg.textElem?.content ?? `[type ${msg.contentType}]`;
    stateEl.textContent = `new message from ${msg.sendID}: ${text}`;
  }
});

element<HTMLFormElement>('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = (id: string) => element<HTMLInputElement>(id).value.trim();
  stateEl.textContent = 'logging in';
  sdk
    .login({
      userID: value('user'),
      token: value('token'),
      platformID: 5,
      apiAddr: value('api'),
      wsAddr: value('ws'),
    })
    .then(async () => {
      const me = await sdk.getSelfUserInfo();
      stateEl.textContent = `logged in as ${me.data.nickname || me.data.userID}`;
      await showConversations();
    })
    .catch((err: unknown) => showError('login', err));
});

sdk.ready.then(
  () => {
    stateEl.textContent = 'ready';
  },
  (err: unknown) => showError('loading the SDK', err),
);
