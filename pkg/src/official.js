// The conversions between the official SDK's JavaScript shapes and the engine.
//
// Parameters: each method's official parameter is checked here and handed to the engine as a
// list of strings (`ENGINE_PARAMS`), or, for the methods that only change server state, written
// as their REST call (`SERVER_CHANGES`). Results: the engine resolves methods and raises events
// with the JSON text of its model values (snake_case keys, as sdk-wasm's msgjson writes them:
// `Message`, `Conversation`, `Group`, …); this module turns them into the objects the official
// OpenIM web SDK gives (`MessageItem`, `ConversationItem`, `GroupItem`, …), and keeps the display
// names conversations are shown with. It is bundled into pkg/index.js; the package tests import
// it directly.

/** Content type of text messages. */
const TEXT = 101;
/** Content type the official SDK shows revoked messages with. */
const REVOKED = 2101;

/** The session type of a conversation id's messages, from its prefix (0 for `n_`). */
const SESSION_TYPES = { si: 1, g: 2, sg: 3, sn: 4 };

const sessionType = (conversationID) => SESSION_TYPES[conversationID.split('_')[0]] ?? 0;

/** The official `MessageStatus`: 1 sending, 2 sent, 3 failed (filtered too), 4 deleted. */
const STATUS = { Sending: 1, Failed: 3, Filtered: 3, Deleted: 4 };

/** The variant name of a model enum value: `"Sent"` or `{"Failed": {…}}`. */
const tag = (value) => (typeof value === 'string' ? value : Object.keys(value)[0]);

/** `RevokedInfo`: the revocation of a message, as `OnNewRecvMessageRevoked` and 2101 details carry it. */
const revocation = (revokerID, revokerRole, clientMsgID, revokerNickname, revokeTime, source, sessionType, seq, conversationID, isAdminRevoke) => ({
  revokerID,
  revokerRole,
  clientMsgID,
  revokerNickname,
  revokeTime,
  sourceMessageSendTime: source ? source.send_time : 0,
  sourceMessageSendID: source ? source.send_id : '',
  sourceMessageSenderNickname: source ? source.sender_nickname : '',
  sessionType,
  seq,
  ex: '',
  conversationID,
  isAdminRevoke,
});

/**
 * A notification's `detail`: the content is an object with a string member `detail` (other
 * members ignored) or a list of that one string; anything else is kept whole.
 */
export function notificationDetail(content) {
  let value;
  try {
    value = JSON.parse(content);
  } catch {
    return content;
  }
  if (Array.isArray(value)) value = value.length === 1 ? { detail: value[0] } : null;
  return typeof value?.detail === 'string' ? value.detail : content;
}

/** A message as `MessageItem`; a revoked one becomes content type 2101 with the revocation as its detail. */
export function messageItem(m) {
  const status = m.status;
  const item = {
    clientMsgID: m.client_msg_id,
    serverMsgID: m.server_msg_id,
    createTime: m.create_time,
    sendTime: m.send_time,
    sessionType: m.session_type,
    sendID: m.send_id,
    recvID: m.recv_id,
    msgFrom: m.msg_from,
    contentType: m.content_type,
    senderPlatformID: m.sender_platform_id,
    senderNickname: m.sender_nickname,
    senderFaceUrl: m.sender_face_url,
    groupID: m.group_id,
    content: '',
    seq: m.seq,
    isRead: m.is_read,
    status: STATUS[tag(status)] ?? 2,
    ex: m.ex,
    attachedInfo: m.attached_info,
  };
  const revoked = status.Revoked;
  if (revoked) {
    const detail = JSON.stringify(revocation(revoked.by, revoked.role, m.client_msg_id, revoked.nickname, revoked.time, m, m.session_type, m.seq, m.conversation_id, false));
    item.contentType = REVOKED;
    item.content = detail;
    item.notificationElem = { detail };
  } else if ('Text' in m.content) {
    const content = m.content.Text;
    item.content = JSON.stringify({ content });
    item.textElem = { content };
  } else {
    // Undecodable bytes become U+FFFD.
    item.content = new TextDecoder().decode(new Uint8Array(m.content.Raw));
    if (m.content_type >= 1000 && m.content_type <= 5000) item.notificationElem = { detail: notificationDetail(item.content) };
  }
  return item;
}

/** A text message not sent yet (`createTextMessage`) from the sender's profile (or `null`). */
export function textDraft(content, me, now) {
  return {
    clientMsgID: '',
    serverMsgID: '',
    createTime: now,
    sendTime: 0,
    sessionType: 0,
    sendID: me ? me.user_id : '',
    recvID: '',
    msgFrom: 100,
    contentType: TEXT,
    senderPlatformID: 5,
    senderNickname: me ? me.nickname : '',
    senderFaceUrl: me ? me.face_url : '',
    groupID: '',
    content: JSON.stringify({ content }),
    seq: 0,
    isRead: false,
    status: 1,
    ex: '',
    attachedInfo: '',
    textElem: { content },
  };
}

/** A revocation (the engine's `RevokedInfo`) as the official `RevokedInfo`. */
export const revokedItem = (r) =>
  revocation(r.revoker_user_id, r.revoker_role, r.client_msg_id, r.revoker_nickname, r.revoke_time, null, sessionType(r.conversation_id), r.seq, r.conversation_id, r.is_admin_revoke);

/** The logged-in user as `SelfUserInfo`. */
export const selfUserInfo = (u) => ({
  userID: u.user_id,
  nickname: u.nickname,
  faceURL: u.face_url,
  ex: u.ex,
  createTime: u.create_time,
  globalRecvMsgOpt: u.global_recv_msg_opt,
  appManagerLevel: u.app_manager_level,
});

/** A profile as `PublicUserItem`. */
export const publicUserItem = (u) => ({ userID: u.user_id, nickname: u.nickname, faceURL: u.face_url, ex: u.ex });

/** A friend as `FriendUserItem`. */
export const friendItem = (f) => ({
  ownerUserID: f.owner_user_id,
  userID: f.user.user_id,
  nickname: f.user.nickname,
  faceURL: f.user.face_url,
  remark: f.remark,
  addSource: f.add_source,
  createTime: f.create_time,
  operatorUserID: f.operator_user_id,
  ex: f.ex,
  isPinned: f.is_pinned,
  attachedInfo: '',
});

/** A group as `GroupItem`. */
export const groupItem = (g) => ({
  groupID: g.group_id,
  groupName: g.name,
  notification: g.announcement.text,
  notificationUserID: g.announcement.editor_user_id,
  notificationUpdateTime: g.announcement.updated_at,
  introduction: g.introduction,
  faceURL: g.face_url,
  ownerUserID: g.owner_user_id,
  createTime: g.create_time,
  memberCount: g.member_count,
  status: g.status,
  creatorUserID: g.creator_user_id,
  groupType: g.group_type,
  needVerification: g.need_verification,
  ex: g.ex,
  applyMemberFriend: g.apply_member_friend,
  lookMemberInfo: g.look_member_info,
  displayIsRead: false,
  enableHistoryForNewMembers: g.history_for_new_members ?? true,
});

/** A member as `GroupMemberItem`. */
export const memberItem = (m) => ({
  groupID: m.group_id,
  userID: m.user_id,
  nickname: m.nickname,
  faceURL: m.face_url,
  roleLevel: m.role_level,
  muteEndTime: m.mute_end_time,
  joinTime: m.join_time,
  joinSource: m.join_source,
  inviterUserID: m.inviter_user_id,
  operatorUserID: m.operator_user_id,
  ex: m.ex,
});

/**
 * Display names and avatars of users and groups, for `ConversationItem.showName`/`faceURL`:
 * friends under their remark (else nickname, else user id), profiles under their nickname (else
 * user id), senders of single-chat messages under the nickname they carry.
 */
export class Names {
  constructor() {
    this.self = '';
    this.users = new Map();
    this.groups = new Map();
  }

  friends(list) {
    for (const f of list) this.users.set(f.user.user_id, [f.remark || f.user.nickname || f.user.user_id, f.user.face_url]);
  }

  profiles(list) {
    for (const u of list) this.users.set(u.user_id, [u.nickname || u.user_id, u.face_url]);
  }

  groupsOf(list) {
    for (const g of list) this.groups.set(g.group_id, [g.name, g.face_url]);
  }

  senders(messages) {
    for (const m of messages) if (!m.group_id && m.sender_nickname) this.users.set(m.send_id, [m.sender_nickname, m.sender_face_url]);
  }

  /** The other user of a single chat ('' for other conversations, or before login). */
  peer(c) {
    if (c.user_id || c.group_id) return c.user_id;
    const me = this.self;
    if (c.conversation_type !== 1 || !me) return '';
    const rest = c.id.slice(c.id.indexOf('_') + 1);
    if (rest.startsWith(me + '_')) return rest.slice(me.length + 1);
    return rest.endsWith('_' + me) ? rest.slice(0, -me.length - 1) : '';
  }

  /** A conversation as `ConversationItem`, with its display name. */
  conversationItem(c) {
    const userID = this.peer(c);
    const [showName, faceURL] = (c.group_id ? this.groups.get(c.group_id) : this.users.get(userID)) ?? ['', ''];
    const latest = c.latest_message;
    return {
      conversationID: c.id,
      conversationType: c.conversation_type,
      userID,
      groupID: c.group_id,
      showName,
      faceURL,
      recvMsgOpt: c.recv_msg_opt,
      unreadCount: Math.max(0, c.max_seq - c.has_read_seq),
      groupAtType: c.group_at_type,
      latestMsg: latest ? JSON.stringify(messageItem(latest)) : '',
      latestMsgSendTime: latest ? latest.send_time : 0,
      draftText: '',
      draftTextTime: 0,
      burnDuration: c.burn_duration,
      msgDestructTime: 0,
      isPinned: c.is_pinned,
      isNotInGroup: false,
      isPrivateChat: c.is_private_chat,
      isMsgDestruct: false,
      isMarked: false,
      attachedInfo: c.attached_info,
      ex: c.ex,
    };
  }
}

// ----- Parameters -----
//
// The rules are those of a serde derive over JavaScript values, as the engine used to read them:
// a member is absent when `key in params` is false (an explicit `undefined` is a value); an
// optional member is unset when absent, `undefined` or `null`; a defaulted one takes its default
// only when absent; integers are numbers that are integers within the type's range; lists are
// arrays or other iterables. Bad parameters fail as the engine's errors do: errCode 10001
// (`invalid argument`, sdk-wasm's error.rs), naming the method and the member, before anything
// reaches the engine.

/** Fails with the engine's invalid-argument error. */
const invalid = (message) => {
  throw { errCode: 10001, errMsg: `invalid argument: ${message}` };
};

/** A string that must not be blank. */
const require = (field, value) => (value.trim() ? value : invalid(`${field} is empty`));

/** A list of ids that must not be empty nor hold a blank id. */
const requireIds = (field, ids) =>
  !ids.length ? invalid(`${field} is empty`) : ids.some((id) => !id.trim()) ? invalid(`${field} holds an empty id`) : ids;

/** Whether `v` is an object: not `null`, and not a function. */
const isObject = (v) => typeof v === 'object' && v !== null;

/**
 * The reader of the parameter `params` (called `name` in errors) of `method`: `read(key, kind,
 * mode)` gives a member of kind 's' (string), 'i' (32-bit integer), 'u' (32-bit unsigned), 'q'
 * (64-bit unsigned: a safe integer or a BigInt), 'b' (boolean), 'o' (object) or 'l' (list of
 * strings); mode 0 requires it, 1 makes it optional (absent, `null` and `undefined` are
 * `undefined`), 2 defaults it when absent.
 */
function reader(method, params, name = 'the parameter') {
  const bad = (key, what) => invalid(`${method}: \`${key}\` is not ${what}`);
  const integer = (key, v, min, max) => (Number.isInteger(v) && v >= min && v <= max ? v : bad(key, 'an integer in range'));
  const value = (key, v, kind) => {
    if (kind === 's') return typeof v === 'string' ? v : bad(key, 'a string');
    if (kind === 'b') return typeof v === 'boolean' ? v : bad(key, 'a boolean');
    if (kind === 'o') return isObject(v) ? v : bad(key, 'an object');
    if (kind === 'i') return integer(key, v, -2147483648, 2147483647);
    if (kind === 'u') return integer(key, v, 0, 4294967295);
    if (kind === 'q') return typeof v === 'bigint' ? (v >= 0n && v < 2n ** 64n ? v : bad(key, 'a u64')) : integer(key, v, 0, Number.MAX_SAFE_INTEGER);
    const list = Array.isArray(v) || (isObject(v) && typeof v[Symbol.iterator] === 'function') ? Array.from(v) : bad(key, 'a list');
    return list.map((item) => value(key, item, 's'));
  };
  if (!isObject(params)) bad(name, 'an object');
  return (key, kind, mode = 0) => {
    if (!(key in params)) {
      if (mode === 0) invalid(`${method}: missing field \`${key}\``);
      return mode === 1 ? undefined : kind === 'l' ? [] : kind === 's' ? '' : 0;
    }
    const v = params[key];
    return mode === 1 && v == null ? undefined : value(key, v, kind);
  };
}

/** Members whose value is not `undefined`, in the given order. */
const defined = (members) => Object.fromEntries(Object.entries(members).filter(([, v]) => v !== undefined));

/** Group members given and removed by invitation and kick. */
const groupUsers = (method, params, listKey) => {
  const read = reader(method, params);
  const groupID = read('groupID', 's');
  const reason = read('reason', 's', 2);
  const users = read('userIDList', 'l');
  return { groupID: require('groupID', groupID), [listKey]: requireIds('userIDList', users), reason };
};

/**
 * The REST call `[path, body]` of each method that only changes server state, for the logged-in
 * user `self`. Bodies keep their keys in byte order, as the engine writes the bodies of its own
 * calls; the engine sends them with the session's token (its `change` method).
 */
export const SERVER_CHANGES = {
  setSelfInfo(params, self) {
    const read = reader('setSelfInfo', params);
    const nickname = read('nickname', 's', 1);
    const faceURL = read('faceURL', 's', 1);
    if (nickname === undefined && faceURL === undefined) invalid('give nickname and/or faceURL');
    if (nickname !== undefined) require('the nickname', nickname);
    return ['/user/update_user_info_ex', { userInfo: defined({ faceURL, nickname, userID: self }) }];
  },
  setGroupInfo(params) {
    const read = reader('setGroupInfo', params);
    const groupID = read('groupID', 's');
    const groupName = read('groupName', 's', 1);
    const notification = read('notification', 's', 1);
    const introduction = read('introduction', 's', 1);
    const lookMemberInfo = read('lookMemberInfo', 'i', 1);
    const applyMemberFriend = read('applyMemberFriend', 'i', 1);
    const enableHistoryForNewMembers = read('enableHistoryForNewMembers', 'b', 1);
    require('groupID', groupID);
    const body = defined({ applyMemberFriend, enableHistoryForNewMembers, groupID, groupName, introduction, lookMemberInfo, notification });
    if (Object.keys(body).length === 1) invalid('nothing to change');
    for (const key of ['lookMemberInfo', 'applyMemberFriend']) if (key in body && body[key] !== 0 && body[key] !== 1) invalid(`${key} must be 0 or 1`);
    return ['/group/set_group_info_ex', body];
  },
  inviteUserToGroup: (params) => ['/group/invite_user_to_group', groupUsers('inviteUserToGroup', params, 'invitedUserIDs')],
  kickGroupMember: (params) => ['/group/kick_group', groupUsers('kickGroupMember', params, 'kickedUserIDs')],
  joinGroup(params, self) {
    const read = reader('joinGroup', params);
    const groupID = read('groupID', 's');
    const reqMessage = read('reqMsg', 's', 2);
    const joinSource = read('joinSource', 'i');
    require('groupID', groupID);
    if (joinSource < 2 || joinSource > 4) invalid('joinSource must be 2 (invitation), 3 (search) or 4 (QR code)');
    return ['/group/join_group', { ex: '', groupID, inviterUserID: self, joinSource, reqMessage }];
  },
  quitGroup(groupID, self) {
    if (typeof groupID !== 'string') invalid('quitGroup: `the parameter` is not a string');
    return ['/group/quit_group', { groupID: require('groupID', groupID), userID: self }];
  },
  setGroupMemberInfo(params) {
    const read = reader('setGroupMemberInfo', params);
    const groupID = read('groupID', 's');
    const userID = read('userID', 's');
    const roleLevel = read('roleLevel', 'i', 1);
    require('groupID', groupID);
    require('userID', userID);
    if (roleLevel === undefined) invalid('roleLevel is missing');
    if (roleLevel !== 20 && roleLevel !== 60) invalid(`roleLevel must be 20 (member) or 60 (admin), got ${roleLevel}`);
    return ['/group/set_group_member_info', { members: [{ groupID, roleLevel, userID }] }];
  },
  addFriend(params, self) {
    const read = reader('addFriend', params);
    const toUserID = read('toUserID', 's');
    const reqMsg = read('reqMsg', 's', 2);
    return ['/friend/add_friend', { ex: '', fromUserID: self, reqMsg, toUserID: require('toUserID', toUserID) }];
  },
  updateFriends(params, self) {
    const read = reader('updateFriends', params);
    const friendUserIDs = read('friendUserIDs', 'l');
    const remark = read('remark', 's');
    return ['/friend/update_friends', { friendUserIDs: requireIds('friendUserIDs', friendUserIDs), ownerUserID: self, remark }];
  },
};

/** A parameter that is not an object: `kind` as `reader` reads members. */
const single = (method, value, kind) => reader(method, { 'the parameter': value })('the parameter', kind);

/** The text of `createTextMessage`, which must not be empty. */
export const draftText = (text) => single('createTextMessage', text, 's') || invalid('the text is empty');

/** The roles `getGroupMemberList`'s filter keeps (0 all, 1 owner, 2 admins, 3 ordinary members, 4 admins and ordinary members, 5 owner and admins). */
const MEMBER_FILTERS = [null, [100], [60], [20], [60, 20], [100, 60]];

/** `getGroupMemberList`'s page of `members` (all of the group's, in order) for its checked `params`. */
export const memberPage = (members, { filter = 0, offset, count }) =>
  members.filter((m) => !filter || MEMBER_FILTERS[filter].includes(m.role_level)).slice(offset, offset + count);

/**
 * The parameters the package checks and hands to the engine as a list of strings (ids, texts,
 * numbers as decimal text), for the logged-in user `self`; methods missing here take none.
 */
export const ENGINE_PARAMS = {
  login(params) {
    const read = reader('login', params);
    return [read('userID', 's'), read('token', 's'), String(read('platformID', 'i')), read('apiAddr', 's'), read('wsAddr', 's')];
  },
  getAdvancedHistoryMessageList(params) {
    const read = reader('getAdvancedHistoryMessageList', params);
    const conversationID = read('conversationID', 's');
    const count = read('count', 'u');
    const start = read('startClientMsgID', 's', 2);
    // Accepted as the official SDK takes it; pages continue from startClientMsgID.
    read('lastMinSeq', 'q', 1);
    if (!count) invalid('count must be at least 1');
    return [conversationID, start, String(count)];
  },
  sendMessage(params) {
    const read = reader('sendMessage', params);
    const recvID = read('recvID', 's', 2);
    const groupID = read('groupID', 's', 2);
    const message = reader('sendMessage', read('message', 'o'), 'message');
    const contentType = message('contentType', 'i');
    const elem = message('textElem', 'o', 1);
    const text = elem && reader('sendMessage', elem, 'textElem')('content', 's');
    if (contentType !== 101) invalid(`only text messages (contentType 101) can be sent, got ${contentType}`);
    if (text === undefined) invalid('message.textElem is missing');
    if (!groupID === !recvID) invalid('give exactly one of recvID and groupID');
    return [groupID, recvID, text];
  },
  revokeMessage(params) {
    const read = reader('revokeMessage', params);
    const conversationID = read('conversationID', 's');
    return [conversationID, require('clientMsgID', read('clientMsgID', 's'))];
  },
  markConversationMessageAsRead: (conversationID) => [single('markConversationMessageAsRead', conversationID, 's')],
  getUsersInfo: (userIDs) => requireIds('userIDs', single('getUsersInfo', userIDs, 'l')),
  getSpecifiedGroupsInfo: (groupIDs) => requireIds('groupIDs', single('getSpecifiedGroupsInfo', groupIDs, 'l')),
  getGroupMemberList(params) {
    const read = reader('getGroupMemberList', params);
    const groupID = read('groupID', 's');
    const filter = read('filter', 'u', 2);
    read('offset', 'u');
    read('count', 'u');
    require('groupID', groupID);
    if (filter > 5) invalid(`filter must be 0–5, got ${filter}`);
    return [groupID];
  },
  getSpecifiedGroupMembersInfo(params) {
    const read = reader('getSpecifiedGroupMembersInfo', params);
    const groupID = read('groupID', 's');
    const userIDs = read('userIDList', 'l');
    require('groupID', groupID);
    return [groupID, ...requireIds('userIDList', userIDs)];
  },
  createGroup(params, self) {
    const read = reader('createGroup', params);
    const members = read('memberUserIDs', 'l', 2);
    const admins = read('adminUserIDs', 'l', 2);
    const owner = read('ownerUserID', 's', 1);
    const info = reader('createGroup', read('groupInfo', 'o'), 'groupInfo');
    const groupName = info('groupName', 's');
    const groupType = info('groupType', 'i', 1);
    require('groupInfo.groupName', groupName);
    if (groupType !== undefined && groupType !== 2) invalid(`groupType must be 2 (work group), got ${groupType}`);
    if (owner && owner !== self) invalid('ownerUserID must be the logged-in user');
    return [groupName, String(members.length), ...members, ...admins];
  },
};
