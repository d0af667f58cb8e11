// @chorus/sdk: the official OpenIM web SDK's API over the Chorus WebAssembly engine.
//
// This is the source of the package entry: `cargo xtask pkg` bundles it with the engine's
// JavaScript glue (and the glue's own modules) into one minified module, pkg/index.js, so the
// paths below are relative to pkg/.
//
// `getSDK()` returns at once; the wasm module is fetched, compiled and instantiated once per
// page, and every method waits for it. Methods resolve with
// `WsResponse` objects `{event, errCode: 0, errMsg: '', data, operationID}` and reject with
// `{event, errCode, errMsg, data: null, operationID}`; they never throw synchronously.

import initEngine, { ChorusSdk } from './dist/chorus_sdk_wasm.js';

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

  const ready = load(options.wasmURL).then((ChorusSdk) => {
    engine = new ChorusSdk();
    engine.setListener(dispatch);
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
        const data = await engine.call(name, takesParameter ? args[0] : undefined);
        return { event: name, errCode: 0, errMsg: '', data, operationID: operation };
      } catch (err) {
        throw failure(name, operation, err);
      }
    };
  }
  return sdk;
}
