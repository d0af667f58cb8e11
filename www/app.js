// The Chorus web page: log in, list conversations, read one, send texts.
//
// Loaded as an ES module without a bundler; `@chorus/sdk` resolves through the page's import map
// to /pkg/index.js. Every string that came from the network is put into the page with
// textContent, never parsed as HTML.
//
// Query string (so a link or a test can fill the form): api, ws, user, token; autologin=1 submits
// the form at once. In the Electron shell, the preload script's `chorusConfig` gives the API and
// gateway defaults instead.
//
// `window.chorusApp` exposes the SDK instance and the page state, for the console and for tests.

const WEB_PLATFORM = 5;
const HISTORY_PAGE = 50;
const TEXT = 101;
const GROUP_CHAT = 3;

const $ = (id) => document.getElementById(id);

const state = {
  sdk: null,
  CbEvents: null,
  userID: '',
  /** conversationID → ConversationItem */
  conversations: new Map(),
  /** The open ConversationItem, or null. */
  open: null,
  /** The open conversation's messages shown, by clientMsgID. */
  shown: new Map(),
  /** Messages received or sent, in arrival order, for tests (clientMsgID, seq, text). */
  received: [],
};

window.chorusApp = state;

function setText(id, text) {
  $(id).textContent = text;
}

/** Shows an error in the page (and the console); `err` may be an SDK rejection or an Error. */
function showError(what, err) {
  const detail =
    err && typeof err === 'object' && 'errCode' in err
      ? `${err.errCode} ${err.errMsg || ''}`.trim()
      : String(err?.message ?? err);
  const li = document.createElement('li');
  li.textContent = `${what}: ${detail}`;
  $('errors').append(li);
  console.error(`${what}:`, err);
}

function formDefaults() {
  const query = new URLSearchParams(location.search);
  const config = window.chorusConfig ?? {};
  $('api-addr').value = query.get('api') ?? config.apiAddr ?? '';
  $('ws-addr').value = query.get('ws') ?? config.wsAddr ?? '';
  $('user-id').value = query.get('user') ?? '';
  $('token').value = query.get('token') ?? '';
  return query.get('autologin') === '1';
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** The text shown for a message: its text, or a short label for other kinds. */
function messageText(msg) {
  if (msg.contentType === TEXT) return msg.textElem?.content ?? '';
  if (msg.notificationElem) return `[notification ${msg.contentType}]`;
  return `[message type ${msg.contentType}]`;
}

/** The latest message of a conversation item (a JSON string in the official shape), as text. */
function latestText(conversation) {
  if (!conversation.latestMsg) return '';
  try {
    return messageText(JSON.parse(conversation.latestMsg));
  } catch {
    return '';
  }
}

function renderConversations() {
  const list = $('conversations');
  const items = [...state.conversations.values()].sort(
    (a, b) => (b.isPinned ? 1 : 0) - (a.isPinned ? 1 : 0) || (b.latestMsgSendTime ?? 0) - (a.latestMsgSendTime ?? 0),
  );
  const rows = items.map((c) => {
    const li = document.createElement('li');
    li.dataset.conversationId = c.conversationID;
    if (state.open?.conversationID === c.conversationID) li.classList.add('open');
    const button = document.createElement('button');
    button.type = 'button';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = c.showName || c.groupID || c.userID || c.conversationID;
    const latest = document.createElement('span');
    latest.className = 'latest';
    latest.textContent = latestText(c);
    button.append(name, latest);
    if (c.unreadCount > 0) {
      const unread = document.createElement('span');
      unread.className = 'unread';
      unread.textContent = String(c.unreadCount);
      button.append(unread);
    }
    button.addEventListener('click', () => openConversation(c.conversationID));
    li.append(button);
    return li;
  });
  list.replaceChildren(...rows);
}

function messageRow(msg) {
  const li = document.createElement('li');
  li.dataset.clientMsgId = msg.clientMsgID;
  li.dataset.seq = String(msg.seq ?? 0);
  if (msg.sendID === state.userID) li.classList.add('mine');
  if (msg.contentType !== TEXT) li.classList.add('notice');
  if (msg.pending) li.classList.add(msg.failed ? 'failed' : 'pending');
  const who = document.createElement('span');
  who.className = 'sender';
  who.textContent = msg.senderNickname || msg.sendID;
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = messageText(msg);
  li.append(who, text);
  return li;
}

/** Orders messages by seq; messages without one yet (0) go last, by send time. */
function bySeq(a, b) {
  const sa = a.seq || Number.MAX_SAFE_INTEGER;
  const sb = b.seq || Number.MAX_SAFE_INTEGER;
  return sa - sb || (a.sendTime ?? 0) - (b.sendTime ?? 0);
}

/** Adds messages to the open conversation (a message already shown is replaced) and redraws it. */
function showMessages(messages) {
  for (const msg of messages) {
    if (msg.clientMsgID) state.shown.set(msg.clientMsgID, msg);
  }
  const list = $('messages');
  list.replaceChildren(...[...state.shown.values()].sort(bySeq).map(messageRow));
  list.lastElementChild?.scrollIntoView({ block: 'end' });
}

/** Whether `msg` belongs to the conversation item `c`. */
function belongsTo(msg, c) {
  if (!c) return false;
  if (c.groupID) return msg.groupID === c.groupID;
  const other = msg.sendID === state.userID ? msg.recvID : msg.sendID;
  return !msg.groupID && other === c.userID;
}

// ---------------------------------------------------------------------------------------------
// Actions

async function refreshConversations() {
  try {
    const res = await state.sdk.getAllConversationList();
    state.conversations = new Map(res.data.map((c) => [c.conversationID, c]));
    renderConversations();
  } catch (err) {
    showError('loading conversations', err);
  }
}

/** Loads the latest page of the open conversation's history into the view. */
async function loadHistory(conversationID) {
  try {
    const res = await state.sdk.getAdvancedHistoryMessageList({
      conversationID,
      count: HISTORY_PAGE,
      startClientMsgID: '',
    });
    // Another conversation may have been opened meanwhile.
    if (state.open?.conversationID !== conversationID) return;
    showMessages(res.data.messageList);
    $('messages').dataset.loaded = conversationID;
  } catch (err) {
    showError('loading messages', err);
  }
}

async function openConversation(conversationID) {
  const conversation = state.conversations.get(conversationID);
  if (!conversation) return;
  state.open = conversation;
  state.shown = new Map();
  $('messages').replaceChildren();
  delete $('messages').dataset.loaded;
  setText('conversation-title', conversation.showName || conversationID);
  $('send-form').hidden = false;
  renderConversations();
  await loadHistory(conversationID);
  if (conversation.unreadCount > 0) {
    state.sdk.markConversationMessageAsRead(conversationID).catch((err) => showError('marking read', err));
  }
}

let pendingCount = 0;

/**
 * Sends a text to the open conversation. The draft shows at once as pending (drafts have no
 * clientMsgID yet, so it is keyed locally) and is replaced by the stored message once the server
 * has it; offline it stays pending while it waits in the SDK's outbox.
 */
async function send(text) {
  const c = state.open;
  if (!c) return;
  const key = `pending-${++pendingCount}`;
  const isOpen = () => state.open?.conversationID === c.conversationID;
  try {
    const draft = await state.sdk.createTextMessage(text);
    if (isOpen()) {
      state.shown.set(key, { ...draft.data, sendID: state.userID, seq: 0, sendTime: Date.now(), pending: true });
      showMessages([]);
    }
    const res = await state.sdk.sendMessage({
      recvID: c.groupID ? '' : c.userID,
      groupID: c.groupID ?? '',
      message: draft.data,
    });
    state.received.push({ clientMsgID: res.data.clientMsgID, seq: res.data.seq, text, sent: true });
    if (isOpen()) {
      state.shown.delete(key);
      showMessages([res.data]);
    }
  } catch (err) {
    const pending = state.shown.get(key);
    if (pending && isOpen()) {
      pending.failed = true;
      showMessages([]);
    }
    showError('sending', err);
  }
}

function onEvents(sdk, CbEvents) {
  const on = (name, handler) => sdk.on(CbEvents[name], handler);
  on('OnConnecting', () => setText('conn-state', 'connecting'));
  on('OnConnectSuccess', () => setText('conn-state', 'connected'));
  on('OnConnectFailed', (e) => {
    setText('conn-state', 'connection failed');
    showError('connection', e);
  });
  on('OnKickedOffline', () => {
    setText('conn-state', 'kicked offline (logged in elsewhere)');
    showError('session', { errCode: 0, errMsg: 'kicked offline' });
  });
  on('OnUserTokenExpired', () => {
    setText('conn-state', 'token expired');
    showError('session', { errCode: 0, errMsg: 'token expired' });
  });
  on('OnUserTokenInvalid', (e) => {
    setText('conn-state', 'token invalid');
    showError('session', e);
  });
  on('OnSyncServerStart', () => setText('sync-state', 'syncing'));
  on('OnSyncServerProgress', (e) => setText('sync-state', `syncing ${e.data}%`));
  on('OnSyncServerFinish', () => {
    setText('sync-state', 'synced');
    refreshConversations();
    // Messages pulled by the sync may be older than the ones already shown.
    if (state.open) loadHistory(state.open.conversationID);
  });
  on('OnSyncServerFailed', (e) => {
    setText('sync-state', 'sync failed');
    showError('sync', e);
  });
  on('OnRecvNewMessages', (e) => {
    for (const msg of e.data) {
      state.received.push({ clientMsgID: msg.clientMsgID, seq: msg.seq, text: messageText(msg), sent: false });
    }
    const mine = e.data.filter((msg) => belongsTo(msg, state.open));
    if (mine.length) showMessages(mine);
    // Latest messages and unread counts also change through OnConversationChanged; reading the
    // list once more keeps it right whichever arrives first.
    clearTimeout(state.listRefresh);
    state.listRefresh = setTimeout(refreshConversations, 300);
  });
  const merge = (e) => {
    for (const c of e.data) {
      state.conversations.set(c.conversationID, c);
      if (state.open?.conversationID === c.conversationID) state.open = c;
    }
    renderConversations();
  };
  on('OnConversationChanged', merge);
  on('OnNewConversation', merge);
}

/** Shows whether this tab holds the connection; leadership moves when the leader tab closes. */
function watchTabRole() {
  const show = () => {
    if (!state.userID) return;
    try {
      setText('tab-role', state.sdk.isLeader() ? 'leader (holds the connection)' : 'follower (another tab holds the connection)');
    } catch (err) {
      setText('tab-role', `unknown: ${err?.message ?? err}`);
    }
  };
  setInterval(show, 1000);
  show();
}

async function login(event) {
  event?.preventDefault();
  const params = {
    userID: $('user-id').value.trim(),
    token: $('token').value.trim(),
    platformID: WEB_PLATFORM,
    apiAddr: $('api-addr').value.trim(),
    wsAddr: $('ws-addr').value.trim(),
  };
  $('login-button').disabled = true;
  setText('conn-state', 'logging in');
  try {
    await state.sdk.login(params);
  } catch (err) {
    setText('conn-state', 'login failed');
    showError('login', err);
    $('login-button').disabled = false;
    return;
  }
  state.userID = params.userID;
  setText('who', params.userID);
  $('login-form').hidden = true;
  $('main').hidden = false;
  document.body.dataset.loggedIn = 'true';
  watchTabRole();
  await refreshConversations();
}

async function logout() {
  try {
    await state.sdk.logout();
  } catch (err) {
    showError('logout', err);
    return;
  }
  location.search = '';
}

async function main() {
  const autologin = formDefaults();
  $('login-form').addEventListener('submit', login);
  $('logout-button').addEventListener('click', logout);
  $('send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('send-text');
    const text = input.value;
    if (!text.trim()) return;
    input.value = '';
    send(text);
  });

  let module;
  try {
    module = await import('@chorus/sdk');
    state.CbEvents = module.CbEvents;
    state.sdk = module.getSDK();
    onEvents(state.sdk, module.CbEvents);
    await state.sdk.ready;
  } catch (err) {
    setText('sdk-state', 'failed to load');
    showError('loading the SDK', err);
    return;
  }
  setText('sdk-state', 'ready');
  document.body.dataset.sdkReady = 'true';
  $('login-button').disabled = false;
  if (autologin) await login();
}

main();
