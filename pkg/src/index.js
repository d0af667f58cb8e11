// @chorus/sdk: the official OpenIM web SDK's API over the Chorus WebAssembly engine.
//
// This is the source of the package entry: `cargo xtask pkg` bundles it with official.js (the
// parameter checks and the official data shapes) and the engine's JavaScript glue (and the
// glue's own modules) into one minified module, pkg/index.js, so the paths below are relative
// to pkg/ (`cargo xtask pkg` copies official.js to dist/ for the bundling).
//
// `getSDK()` returns at once; the wasm module is fetched, compiled and instantiated once per
// page, and every method waits for it. Methods resolve with
// `WsResponse` objects `{event, errCode: 0, errMsg: '', data, operationID}` and reject with
// `{event, errCode, errMsg, data: null, operationID}`; they never throw synchronously.

import initEngine, { ChorusSdk } from './dist/chorus_sdk_wasm.js';
import {
  ENGINE_PARAMS,
  Names,
  SERVER_CHANGES,
  draftText,
  friendItem,
  groupItem,
  memberItem,
  memberPage,
  messageItem,
  publicUserItem,
  revokedItem,
  selfUserInfo,
  textDraft,
} from './dist/official.js';

/** Event names, as the official SDK's `CbEvents`. */
export const CbEvents = Object.freeze({
  OnConnecting: 'OnConnecting',
  OnConnectSuccess: 'OnConnectSuccess',
  OnConnectFailed: 'OnConnectFailed',
  OnKickedOffline: 'OnKickedOffline',
  OnUserTokenExpired: 'OnUserTokenExpired',
  OnUserTokenInvalid: 'OnUserTokenInvalid',
  OnSyncServerStart: 'OnSyncServerStart',
  OnSyncServerProgress: 'OnSyncServerProgress',
  OnSyncServerFinish: 'OnSyncServerFinish',
  OnSyncServerFailed: 'OnSyncServerFailed',
  OnRecvNewMessages: 'OnRecvNewMessages',
  OnNewRecvMessageRevoked: 'OnNewRecvMessageRevoked',
  OnConversationChanged: 'OnConversationChanged',
  OnNewConversation: 'OnNewConversation',
  OnTotalUnreadMessageCountChanged: 'OnTotalUnreadMessageCountChanged',
  OnGroupInfoChanged: 'OnGroupInfoChanged',
  OnGroupDismissed: 'OnGroupDismissed',
  OnGroupMemberInfoChanged: 'OnGroupMemberInfoChanged',
  OnGroupMemberAdded: 'OnGroupMemberAdded',
  OnGroupMemberDeleted: 'OnGroupMemberDeleted',
  OnJoinedGroupAdded: 'OnJoinedGroupAdded',
  OnJoinedGroupDeleted: 'OnJoinedGroupDeleted',
  OnFriendInfoChanged: 'OnFriendInfoChanged',
  OnFriendAdded: 'OnFriendAdded',
  OnFriendDeleted: 'OnFriendDeleted',
  OnSelfInfoUpdated: 'OnSelfInfoUpdated',
});

/** The errCode of failures outside the engine (the wasm module could not be loaded). */
const INTERNAL_ERROR = 10006;

/** The methods, by their official names (the engine's `call` runs them by these names). */
const METHODS = [
  'login',
  'logout',
  'getLoginStatus',
  'getAllConversationList',
  'getAdvancedHistoryMessageList',
  'createTextMessage',
  'sendMessage',
  'revokeMessage',
  'markConversationMessageAsRead',
  'getSelfUserInfo',
  'setSelfInfo',
  'getUsersInfo',
  'getJoinedGroupList',
  'getSpecifiedGroupsInfo',
  'setGroupInfo',
  'getGroupMemberList',
  'getSpecifiedGroupMembersInfo',
  'inviteUserToGroup',
  'joinGroup',
  'kickGroupMember',
  'quitGroup',
  'setGroupMemberInfo',
  'createGroup',
  'getFriendList',
  'addFriend',
  'updateFriends',
];

/** Methods that take no parameter (an optional operationID comes first). */
const NO_PARAMETER = new Set([
  'logout',
  'getLoginStatus',
  'getAllConversationList',
  'getSelfUserInfo',
  'getJoinedGroupList',
  'getFriendList',
]);

let loading = null;

/** The wasm module next to the glue, unless `getSDK({wasmURL})` names another. */
const DEFAULT_WASM = new URL('./dist/chorus_sdk_wasm_bg.wasm', import.meta.url);

/** A module of one function returning a SIMD constant: valid only where WebAssembly has SIMD. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, ...new Array(16).fill(0), 11]);

/** Fetches and compiles the wasm, compiling while it downloads when served as application/wasm. */
async function compile(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`failed to fetch Wasm: ${response.status} ${response.statusText} fetching '${response.url}'`);
  }
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
  try {
    if (type === 'application/wasm') return await WebAssembly.compileStreaming(response);
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (err) {
    // The engine uses WebAssembly SIMD; say so rather than report an invalid opcode.
    if (err instanceof WebAssembly.CompileError && !WebAssembly.validate(SIMD_PROBE)) {
      throw new Error('this browser lacks WebAssembly SIMD, which the SDK needs (Chrome 91, Firefox 89, Safari 16.4 or newer)');
    }
    throw err;
  }
}

/** Compiles the wasm, then instantiates it, once per page. */
function load(wasmURL) {
  if (!loading) {
    loading = compile(wasmURL ?? DEFAULT_WASM).then(async (module) => {
      await initEngine({ module_or_path: module });
      return ChorusSdk;
    });
  }
  return loading;
}

let operations = 0;

function operationID() {
  operations += 1;
  return `chorus-${Date.now().toString(36)}-${operations}`;
}

function failure(event, operation, err) {
  const known = err !== null && typeof err === 'object' && typeof err.errCode === 'number';
  return {
    event,
    errCode: known ? err.errCode : INTERNAL_ERROR,
    errMsg: known ? String(err.errMsg ?? '') : String(err?.message ?? err),
    data: null,
    operationID: operation,
  };
}

/**
 * A new SDK instance. Synchronous: the wasm module loads in the background (`sdk.ready`).
 * @param {{ wasmURL?: string | URL }} [options]
 */
export function getSDK(options = {}) {
  const handlers = new Map();
  let engine = null;

  const dispatch = (event, data, errCode, errMsg) => {
    const set = handlers.get(event);
    if (!set) return;
    const response = { event, errCode: errCode ?? 0, errMsg: errMsg ?? '', data, operationID: '' };
    for (const handler of [...set]) {
      try {
        handler(response);
      } catch (err) {
        // A failing handler must not keep the others from running; report it asynchronously.
        setTimeout(() => {
          throw err;
        });
      }
    }
  };

  // Display names for conversations, learnt from lists and events.
  let names = new Names();

  /** Runs an engine method with its argument strings: its result is the model value's JSON text, or nothing. */
  const call = async (method, args = []) => {
    const text = await engine.call(method, args);
    return text === undefined ? '' : JSON.parse(text);
  };

  /** Learns the names of the stored groups and friends; both are read, the first failure is thrown. */
  const learnStoredNames = async () => {
    const [groups, friends] = await Promise.allSettled([call('getJoinedGroupList'), call('getFriendList')]);
    if (groups.status === 'fulfilled') names.groupsOf(groups.value);
    if (friends.status === 'fulfilled') names.friends(friends.value);
    for (const read of [groups, friends]) if (read.status === 'rejected') throw read.reason;
  };

  /** The official `data` of each method, from the engine's result (`data` as is when absent). */
  const RESULTS = {
    async login(_, params) {
      names.self = params.userID;
      // Names for the conversations of events raised before the app lists them; the stored
      // groups and friends are enough, and failing to read them changes nothing.
      await learnStoredNames().catch(() => {});
      return '';
    },
    logout() {
      names = new Names();
      return '';
    },
    async getAllConversationList(list) {
      await learnStoredNames();
      const missing = [...new Set(list.map((c) => names.peer(c)))].filter((peer) => peer && !names.users.has(peer));
      if (missing.length) {
        // Names are a nicety: the list is still right without them.
        await call('getUsersInfo', missing).then((users) => names.profiles(users), () => {});
      }
      return conversationItems(list);
    },
    getAdvancedHistoryMessageList: (page) => ({
      messageList: page.messages.map(messageItem),
      isEnd: page.is_end,
      lastMinSeq: page.last_min_seq,
      errCode: 0,
      errMsg: '',
    }),
    sendMessage: messageItem,
    getSelfUserInfo: selfUserInfo,
    getUsersInfo: (users) => users.map(publicUserItem),
    getJoinedGroupList: (groups) => groups.map(groupItem),
    getSpecifiedGroupsInfo: (groups) => groups.map(groupItem),
    getGroupMemberList: (members, params) => memberPage(members, params).map(memberItem),
    getSpecifiedGroupMembersInfo: (members) => members.map(memberItem),
    createGroup: groupItem,
    getFriendList: (friends) => friends.map(friendItem),
  };

  /**
   * Runs the method `name`: its parameter is checked here and reaches the engine as a list of
   * strings, and the engine's result becomes the method's official `data`.
   */
  const run = async (name, params) => {
    if (name === 'createTextMessage') {
      // A draft of the logged-in user's (the stored profile, when there is one).
      const text = draftText(params);
      return textDraft(text, await call('getSelfUserInfo').catch(() => null), Date.now());
    }
    let method = name;
    let args = [];
    if (SERVER_CHANGES[name]) {
      // A method that only changes server state: written here as its REST call, sent by the engine.
      const [path, body] = SERVER_CHANGES[name](params, names.self);
      method = 'change';
      args = [path, JSON.stringify(body)];
    } else if (ENGINE_PARAMS[name]) {
      args = ENGINE_PARAMS[name](params, names.self);
    }
    const result = await call(method, args);
    return RESULTS[name] ? RESULTS[name](result, params) : result;
  };

  /** Conversations as `ConversationItem`s, with their display names. */
  const conversationItems = (list) => list.map((c) => names.conversationItem(c));

  /** Each event's `data` from the engine's event value; events missing here carry ''. */
  const EVENTS = {
    SyncServerProgress: ({ done, total }) => (total === 0 ? 100 : Math.min(100, Math.floor((done * 100) / total))),
    RecvNewMessages: (messages) => messages.map(messageItem),
    NewRecvMessageRevoked: revokedItem,
    ConversationChanged: conversationItems,
    NewConversation: conversationItems,
    TotalUnreadMessageCountChanged: (count) => count,
    SelfInfoUpdated: selfUserInfo,
    FriendAdded: friendItem,
    FriendDeleted: friendItem,
    FriendInfoChanged: friendItem,
    JoinedGroupAdded: groupItem,
    JoinedGroupDeleted: groupItem,
    GroupInfoChanged: groupItem,
    GroupDismissed: groupItem,
    GroupMemberAdded: memberItem,
    GroupMemberDeleted: memberItem,
    GroupMemberInfoChanged: memberItem,
  };

  /** An engine event (`"Connecting"` or `{"ConnectFailed": {…}}`) to the app's handlers. */
  const onEngineEvent = (text) => {
    const event = JSON.parse(text);
    const name = typeof event === 'string' ? event : Object.keys(event)[0];
    const value = event[name];
    if (name === 'FriendAdded' || name === 'FriendInfoChanged') names.friends([value]);
    if (name === 'JoinedGroupAdded' || name === 'GroupInfoChanged') names.groupsOf([value]);
    if (name === 'RecvNewMessages') names.senders(value);
    const code = name === 'ConnectFailed' || name === 'UserTokenInvalid' ? value.code : 0;
    const message = name === 'ConnectFailed' ? value.message : name === 'UserTokenInvalid' ? 'token refused' : '';
    dispatch(`On${name}`, EVENTS[name] ? EVENTS[name](value) : '', code, message);
  };

  const ready = load(options.wasmURL).then((ChorusSdk) => {
    engine = new ChorusSdk();
    engine.setListener(onEngineEvent);
  });
  // Methods report a failed load themselves; `ready` still rejects for those who await it.
  ready.catch(() => {});

  const sdk = {
    ready,
    on(event, handler) {
      if (typeof handler !== 'function') return;
      let set = handlers.get(event);
      if (!set) {
        set = new Set();
        handlers.set(event, set);
      }
      set.add(handler);
    },
    off(event, handler) {
      const set = handlers.get(event);
      if (!set) return;
      if (handler === undefined) set.clear();
      else set.delete(handler);
    },
    isLeader() {
      return engine !== null && engine.isLeader();
    },
  };

  for (const name of METHODS) {
    sdk[name] = async (...args) => {
      const takesParameter = !NO_PARAMETER.has(name);
      const given = takesParameter ? args[1] : args[0];
      const operation = typeof given === 'string' && given !== '' ? given : operationID();
      try {
        await ready;
        const params = takesParameter ? args[0] : undefined;
        const data = await run(name, params);
        return { event: name, errCode: 0, errMsg: '', data, operationID: operation };
      } catch (err) {
        throw failure(name, operation, err);
      }
    };
  }
  return sdk;
}
