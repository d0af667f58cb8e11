// The package's official shapes (pkg/src/official.js) made from the engine's model JSON.
//
// The samples in tests/fixtures/model-json.json are the JSON the engine writes (a core test keeps
// the file equal to it); each test checks the official object made from them, field by field.
// Runs in Node alone: `node --test tests/sdk-api/official.test.mjs`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
  notificationDetail,
  publicUserItem,
  revokedItem,
  selfUserInfo,
  textDraft,
} from '../../pkg/src/official.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(HERE, '..', 'fixtures', 'model-json.json');
const { samples } = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));

/** A fresh copy of a sample, so no test sees another's changes. */
const sample = (name) => structuredClone(samples[name]);

const MESSAGE_KEYS = [
  'clientMsgID',
  'serverMsgID',
  'createTime',
  'sendTime',
  'sessionType',
  'sendID',
  'recvID',
  'msgFrom',
  'contentType',
  'senderPlatformID',
  'senderNickname',
  'senderFaceUrl',
  'groupID',
  'content',
  'seq',
  'isRead',
  'status',
  'ex',
  'attachedInfo',
];

test('a text message has textElem and its content as {"content": …} JSON', () => {
  const item = messageItem(sample('text'));
  const text = 'hi "there" \u{1F600}\n</b>';
  assert.deepEqual(Object.keys(item), [...MESSAGE_KEYS, 'textElem']);
  assert.deepEqual(item, {
    clientMsgID: 'si_me_1_you_2-7',
    serverMsgID: '',
    createTime: 1700000000100,
    sendTime: 1700000000123,
    sessionType: 1,
    sendID: 'you_2',
    recvID: 'me_1',
    msgFrom: 100,
    contentType: 101,
    senderPlatformID: 0,
    senderNickname: 'You',
    senderFaceUrl: 'https://example.invalid/y.png',
    groupID: '',
    content: '{"content":"hi \\"there\\" \u{1F600}\\n</b>"}',
    seq: 7,
    isRead: false,
    status: 2,
    ex: '',
    attachedInfo: '',
    textElem: { content: text },
  });
  assert.equal(JSON.parse(item.content).content, text);
});

test('a revoked message shows as 2101 with the revocation as its detail, without the text', () => {
  const item = messageItem(sample('revoked'));
  assert.equal(item.contentType, 2101);
  assert.equal(item.textElem, undefined);
  assert.equal(item.status, 2);
  assert.equal(item.content, item.notificationElem.detail);
  assert.ok(!item.content.includes('secret'), 'the text is gone');
  const detail = JSON.parse(item.notificationElem.detail);
  assert.deepEqual(detail, {
    revokerID: 'owner',
    revokerRole: 100,
    clientMsgID: 'sg_g1-3',
    revokerNickname: 'Olga \\ O',
    revokeTime: 1700000000000,
    sourceMessageSendTime: 1699999999000,
    sourceMessageSendID: 'u2',
    sourceMessageSenderNickname: 'Bo',
    sessionType: 3,
    seq: 3,
    ex: '',
    conversationID: 'sg_g1',
    isAdminRevoke: false,
  });
  // The detail is written in the official key order.
  assert.deepEqual(Object.keys(detail), Object.keys(revokedItem(sample('revocation'))));
});

test('raw content is read as UTF-8; notifications get notificationElem.detail', () => {
  const notification = messageItem(sample('notification'));
  assert.equal(notification.contentType, 1501);
  assert.equal(notification.content, '{"detail":"{\\"group\\":{}}"}');
  assert.deepEqual(notification.notificationElem, { detail: '{"group":{}}' });
  assert.equal(notification.textElem, undefined);

  const raw = messageItem(sample('raw'));
  assert.equal(raw.content, 'x\uFFFDy', 'an invalid byte becomes U+FFFD');
  assert.equal(raw.notificationElem, undefined, 'content type 102 is not a notification');
  assert.equal(raw.createTime, -3);
});

test('statuses follow the official values: 1 sending, 2 sent, 3 failed or filtered, 4 deleted', () => {
  const withStatus = (status) => messageItem({ ...sample('failed'), status }).status;
  assert.equal(messageItem(sample('failed')).status, 3);
  assert.equal(withStatus('Sending'), 1);
  assert.equal(withStatus('Sent'), 2);
  assert.equal(withStatus('Filtered'), 3);
  assert.equal(withStatus('Deleted'), 4);
});

test("a notification's detail is its string member `detail`, or the whole content", () => {
  const cases = [
    ['{"detail":"{\\"a\\":1}"}', '{"a":1}'],
    ['{"other":1,"detail":"x"}', 'x'],
    [' { "detail" : "spaced \\u00e9" } ', 'spaced \u00e9'],
    ['{"detail":null}', '{"detail":null}'],
    ['{"detail":1}', '{"detail":1}'],
    ['{}', '{}'],
    ['["listed"]', 'listed'],
    ['["a","b"]', '["a","b"]'],
    ['[]', '[]'],
    ['not json', 'not json'],
    ['', ''],
    ['"detail"', '"detail"'],
    ['null', 'null'],
  ];
  for (const [content, detail] of cases) assert.equal(notificationDetail(content), detail, content);
});

test('createTextMessage drafts carry the sender and no clientMsgID, seq or send time', () => {
  const draft = textDraft('draft \u0000', sample('user'), 5);
  assert.deepEqual(Object.keys(draft), [...MESSAGE_KEYS, 'textElem']);
  assert.equal(draft.clientMsgID, '');
  assert.equal(draft.createTime, 5);
  assert.equal(draft.sendTime, 0);
  assert.equal(draft.seq, 0);
  assert.equal(draft.status, 1);
  assert.equal(draft.contentType, 101);
  assert.equal(draft.sendID, 'u1');
  assert.equal(draft.senderNickname, 'Ann');
  assert.equal(draft.senderFaceUrl, 'https://example.invalid/a.png');
  assert.equal(draft.content, '{"content":"draft \\u0000"}');
  assert.deepEqual(draft.textElem, { content: 'draft \u0000' });
  const anonymous = textDraft('x', null, 6);
  assert.equal(anonymous.sendID, '');
  assert.equal(anonymous.senderNickname, '');
});

test('users, friends, groups and members take the official field names', () => {
  assert.deepEqual(selfUserInfo(sample('user')), {
    userID: 'u1',
    nickname: 'Ann',
    faceURL: 'https://example.invalid/a.png',
    ex: '{}',
    createTime: 1700000000000,
    globalRecvMsgOpt: 2,
    appManagerLevel: -1,
  });
  assert.deepEqual(publicUserItem(sample('user')), {
    userID: 'u1',
    nickname: 'Ann',
    faceURL: 'https://example.invalid/a.png',
    ex: '{}',
  });
  assert.deepEqual(friendItem(sample('friend')), {
    ownerUserID: 'u0',
    userID: 'u1',
    nickname: 'Ann',
    faceURL: 'https://example.invalid/a.png',
    remark: 'Annie',
    addSource: 3,
    createTime: 1600000000000,
    operatorUserID: 'u0',
    ex: 'fx',
    isPinned: true,
    attachedInfo: '',
  });
  assert.deepEqual(groupItem(sample('group')), {
    groupID: 'g1',
    groupName: 'Team "A"',
    notification: 'Read the rules',
    notificationUserID: 'owner',
    notificationUpdateTime: 1700000000500,
    introduction: 'intro',
    faceURL: 'https://example.invalid/g.png',
    ownerUserID: 'owner',
    createTime: 1600000000000,
    memberCount: 3,
    status: 0,
    creatorUserID: 'owner',
    groupType: 2,
    needVerification: 1,
    ex: 'gx',
    applyMemberFriend: 1,
    lookMemberInfo: 1,
    displayIsRead: false,
    enableHistoryForNewMembers: false,
  });
  const open = groupItem(sample('open_group'));
  assert.equal(open.enableHistoryForNewMembers, true, 'an unset switch shows history to new members');
  assert.equal(open.lookMemberInfo, 0);
  assert.deepEqual(memberItem(sample('member')), {
    groupID: 'g1',
    userID: 'u2',
    nickname: 'Bo',
    faceURL: 'https://example.invalid/b.png',
    roleLevel: 60,
    muteEndTime: 1800000000000,
    joinTime: 1650000000000,
    joinSource: 2,
    inviterUserID: 'owner',
    operatorUserID: 'owner',
    ex: 'mx',
  });
});

test('a revocation event carries the session type of its conversation', () => {
  assert.deepEqual(revokedItem(sample('revocation')), {
    revokerID: 'a',
    revokerRole: 0,
    clientMsgID: 'c9',
    revokerNickname: 'Al',
    revokeTime: 1700000000900,
    sourceMessageSendTime: 0,
    sourceMessageSendID: '',
    sourceMessageSenderNickname: '',
    sessionType: 1,
    seq: 9,
    ex: '',
    conversationID: 'si_a_b',
    isAdminRevoke: true,
  });
  const inGroup = (conversationID) => revokedItem({ ...sample('revocation'), conversation_id: conversationID }).sessionType;
  assert.equal(inGroup('sg_g1'), 3);
  assert.equal(inGroup('g_g1'), 2);
  assert.equal(inGroup('sn_a_b'), 4);
  assert.equal(inGroup('n_sg_g1'), 0);
});

test('a single chat names its peer, even with underscores in the ids', () => {
  const names = new Names();
  const single = sample('single');
  assert.equal(names.peer(single), '', 'no peer before the logged-in user is known');
  names.self = 'me_1';
  assert.equal(names.peer(single), 'you_2');
  names.self = 'you_2';
  assert.equal(names.peer(single), 'me_1');
  names.self = 'me_1';
  names.profiles([{ ...sample('user'), user_id: 'you_2', nickname: 'You', face_url: 'https://example.invalid/y.png' }]);
  const item = names.conversationItem(single);
  assert.deepEqual(item, {
    conversationID: 'si_me_1_you_2',
    conversationType: 1,
    userID: 'you_2',
    groupID: '',
    showName: 'You',
    faceURL: 'https://example.invalid/y.png',
    recvMsgOpt: 0,
    unreadCount: 5,
    groupAtType: 0,
    latestMsg: JSON.stringify(messageItem(sample('text'))),
    latestMsgSendTime: 1700000000123,
    draftText: '',
    draftTextTime: 0,
    burnDuration: 0,
    msgDestructTime: 0,
    isPinned: true,
    isNotInGroup: false,
    isPrivateChat: false,
    isMsgDestruct: false,
    isMarked: false,
    attachedInfo: '',
    ex: '',
  });
});

test('names: a remark wins over the nickname; groups by name; single-chat senders by their nickname', () => {
  const names = new Names();
  names.self = 'me_1';
  const friend = { ...sample('friend'), user: { ...sample('user'), user_id: 'you_2' } };
  names.friends([friend]);
  assert.equal(names.conversationItem(sample('single')).showName, 'Annie');
  names.friends([{ ...friend, remark: '' }]);
  assert.equal(names.conversationItem(sample('single')).showName, 'Ann', 'a deleted remark falls back to the nickname');
  names.friends([{ ...friend, remark: '', user: { ...friend.user, nickname: '' } }]);
  assert.equal(names.conversationItem(sample('single')).showName, 'you_2', 'then to the user id');
  names.senders([{ ...sample('text'), sender_nickname: 'Sender' }, { ...sample('revoked'), sender_nickname: 'In a group' }]);
  assert.equal(names.conversationItem(sample('single')).showName, 'Sender');
  assert.ok(!names.users.has('u2'), 'group senders are not learnt');

  const group = names.conversationItem(sample('group_chat'));
  assert.equal(group.showName, '', 'unknown groups have no name yet');
  assert.equal(group.userID, '');
  assert.equal(group.latestMsg, '');
  assert.equal(group.latestMsgSendTime, 0);
  assert.equal(group.unreadCount, 0, 'never negative');
  names.groupsOf([sample('group')]);
  const named = names.conversationItem(sample('group_chat'));
  assert.equal(named.showName, 'Team "A"');
  assert.equal(named.faceURL, 'https://example.invalid/g.png');
});

/** The `{errCode, errMsg}` a method's parameter check throws. */
const rejection = (method, params) => {
  try {
    SERVER_CHANGES[method](params, 'me');
  } catch (err) {
    return err;
  }
  assert.fail(`${method} accepted ${JSON.stringify(params)}`);
};

const invalid = (errMsg) => ({ errCode: 10001, errMsg: `invalid argument: ${errMsg}` });

/** Whether every object in `value` has its keys in byte order, as the engine writes REST bodies. */
const sortedKeys = (value) =>
  typeof value !== 'object' || value === null
    ? true
    : Object.keys(value).every((key, at, keys) => at === 0 || (Array.isArray(value) ? true : keys[at - 1] < key)) &&
      Object.values(value).every(sortedKeys);

test('server changes are written as the REST calls the server takes, keys in byte order', () => {
  const calls = {
    setSelfInfo: [{ nickname: 'Ann', faceURL: 'https://example.invalid/a.png' }, ['/user/update_user_info_ex', { userInfo: { faceURL: 'https://example.invalid/a.png', nickname: 'Ann', userID: 'me' } }]],
    setGroupInfo: [
      { groupID: 'g1', notification: 'Hi', lookMemberInfo: 1, applyMemberFriend: 0, enableHistoryForNewMembers: false, groupName: undefined, introduction: null },
      ['/group/set_group_info_ex', { applyMemberFriend: 0, enableHistoryForNewMembers: false, groupID: 'g1', lookMemberInfo: 1, notification: 'Hi' }],
    ],
    inviteUserToGroup: [{ groupID: 'g1', userIDList: ['u2', 'u3'], reason: 'welcome' }, ['/group/invite_user_to_group', { groupID: 'g1', invitedUserIDs: ['u2', 'u3'], reason: 'welcome' }]],
    kickGroupMember: [{ groupID: 'g1', userIDList: new Set(['u2']) }, ['/group/kick_group', { groupID: 'g1', kickedUserIDs: ['u2'], reason: '' }]],
    joinGroup: [{ groupID: 'g1', reqMsg: 'hi', joinSource: 3 }, ['/group/join_group', { ex: '', groupID: 'g1', inviterUserID: 'me', joinSource: 3, reqMessage: 'hi' }]],
    quitGroup: ['g1', ['/group/quit_group', { groupID: 'g1', userID: 'me' }]],
    setGroupMemberInfo: [{ groupID: 'g1', userID: 'u2', roleLevel: 60 }, ['/group/set_group_member_info', { members: [{ groupID: 'g1', roleLevel: 60, userID: 'u2' }] }]],
    addFriend: [{ toUserID: 'u2' }, ['/friend/add_friend', { ex: '', fromUserID: 'me', reqMsg: '', toUserID: 'u2' }]],
    updateFriends: [{ friendUserIDs: ['u2'], remark: '' }, ['/friend/update_friends', { friendUserIDs: ['u2'], ownerUserID: 'me', remark: '' }]],
  };
  assert.deepEqual(Object.keys(calls).sort(), Object.keys(SERVER_CHANGES).sort());
  for (const [method, [params, call]] of Object.entries(calls)) {
    const made = SERVER_CHANGES[method](params, 'me');
    assert.deepEqual(made, call, method);
    assert.ok(sortedKeys(made[1]), `${method}: ${JSON.stringify(made[1])}`);
    assert.deepEqual(Object.keys(made[1]), Object.keys(call[1]), method);
  }
  assert.deepEqual(SERVER_CHANGES.setSelfInfo({ nickname: 'Ann', faceURL: null }, 'me')[1], { userInfo: { nickname: 'Ann', userID: 'me' } });
});

test('server change parameters are checked as the engine checks the others', () => {
  assert.deepEqual(rejection('quitGroup', ' '), invalid('groupID is empty'));
  assert.deepEqual(rejection('quitGroup', 7), invalid('quitGroup: `the parameter` is not a string'));
  assert.deepEqual(rejection('addFriend', {}), invalid('addFriend: missing field `toUserID`'));
  assert.deepEqual(rejection('addFriend', 'u2'), invalid('addFriend: `the parameter` is not an object'));
  assert.deepEqual(rejection('addFriend', null), invalid('addFriend: `the parameter` is not an object'));
  assert.deepEqual(rejection('addFriend', { toUserID: 'u2', reqMsg: undefined }), invalid('addFriend: `reqMsg` is not a string'), 'an explicit undefined is a value');
  assert.deepEqual(rejection('joinGroup', { groupID: 'g1', joinSource: 9 }), invalid('joinSource must be 2 (invitation), 3 (search) or 4 (QR code)'));
  assert.deepEqual(rejection('joinGroup', { groupID: 'g1', joinSource: 2.5 }), invalid('joinGroup: `joinSource` is not an integer in range'));
  assert.deepEqual(rejection('joinGroup', { groupID: 'g1', joinSource: 2 ** 31 }), invalid('joinGroup: `joinSource` is not an integer in range'));
  assert.deepEqual(rejection('setGroupInfo', { groupID: 'g1', groupName: null }), invalid('nothing to change'));
  assert.deepEqual(rejection('setGroupInfo', { groupID: ' ', groupName: 'n' }), invalid('groupID is empty'));
  assert.deepEqual(rejection('setGroupInfo', { groupID: 'g1', lookMemberInfo: 2 }), invalid('lookMemberInfo must be 0 or 1'));
  assert.deepEqual(rejection('setGroupInfo', { groupID: 'g1', applyMemberFriend: -1 }), invalid('applyMemberFriend must be 0 or 1'));
  assert.deepEqual(rejection('setGroupInfo', { groupID: 'g1', enableHistoryForNewMembers: 1 }), invalid('setGroupInfo: `enableHistoryForNewMembers` is not a boolean'));
  assert.deepEqual(rejection('setSelfInfo', { nickname: null, faceURL: undefined }), invalid('give nickname and/or faceURL'));
  assert.deepEqual(rejection('setSelfInfo', { nickname: '  ' }), invalid('the nickname is empty'));
  assert.deepEqual(rejection('setGroupMemberInfo', { groupID: 'g1', userID: 'u2', roleLevel: 100 }), invalid('roleLevel must be 20 (member) or 60 (admin), got 100'));
  assert.deepEqual(rejection('setGroupMemberInfo', { groupID: 'g1', userID: 'u2' }), invalid('roleLevel is missing'));
  assert.deepEqual(rejection('setGroupMemberInfo', { groupID: 'g1', userID: '', roleLevel: 20 }), invalid('userID is empty'));
  assert.deepEqual(rejection('updateFriends', { friendUserIDs: [], remark: 'r' }), invalid('friendUserIDs is empty'));
  assert.deepEqual(rejection('updateFriends', { friendUserIDs: ['u2', ' '], remark: 'r' }), invalid('friendUserIDs holds an empty id'));
  assert.deepEqual(rejection('updateFriends', { friendUserIDs: ['u2', 3], remark: 'r' }), invalid('updateFriends: `friendUserIDs` is not a string'));
  assert.deepEqual(rejection('updateFriends', { friendUserIDs: { 0: 'u2' }, remark: 'r' }), invalid('updateFriends: `friendUserIDs` is not a list'));
  assert.deepEqual(rejection('updateFriends', { friendUserIDs: ['u2'] }), invalid('updateFriends: missing field `remark`'));
  assert.deepEqual(rejection('kickGroupMember', { groupID: 'g1', userIDList: [] }), invalid('userIDList is empty'));
  assert.deepEqual(rejection('kickGroupMember', { groupID: ' ', userIDList: [] }), invalid('groupID is empty'), 'the group is checked first');
  assert.deepEqual(rejection('inviteUserToGroup', { userIDList: ['u2'] }), invalid('inviteUserToGroup: missing field `groupID`'));
});

/** The `{errCode, errMsg}` the check of an engine method's parameter throws. */
const refused = (method, params) => {
  try {
    ENGINE_PARAMS[method](params);
  } catch (err) {
    return err;
  }
  assert.fail(`${method} accepted ${JSON.stringify(params)}`);
};

test('login, history and send parameters become the strings the engine takes', () => {
  const login = { userID: 'u1', token: 't', platformID: 5, apiAddr: 'http://a', wsAddr: 'ws://w', extra: [1] };
  assert.deepEqual(ENGINE_PARAMS.login(login), ['u1', 't', '5', 'http://a', 'ws://w']);
  assert.deepEqual(refused('login', { ...login, userID: undefined }), invalid('login: `userID` is not a string'));
  const { userID, ...noUser } = login;
  assert.equal(userID, 'u1');
  assert.deepEqual(refused('login', noUser), invalid('login: missing field `userID`'));
  assert.deepEqual(refused('login', { ...login, platformID: 5.5 }), invalid('login: `platformID` is not an integer in range'));
  assert.deepEqual(refused('login', { ...login, platformID: 2 ** 31 }), invalid('login: `platformID` is not an integer in range'));
  assert.deepEqual(refused('login', 'u1'), invalid('login: `the parameter` is not an object'));

  const history = ENGINE_PARAMS.getAdvancedHistoryMessageList;
  assert.deepEqual(history({ conversationID: 'sg_g1', count: 20 }), ['sg_g1', '', '20']);
  assert.deepEqual(history({ conversationID: 'sg_g1', count: 5, startClientMsgID: 'c1', lastMinSeq: 2n ** 64n - 1n }), ['sg_g1', 'c1', '5']);
  assert.deepEqual(history({ conversationID: 'sg_g1', count: 5, lastMinSeq: null }), ['sg_g1', '', '5']);
  assert.deepEqual(refused('getAdvancedHistoryMessageList', { conversationID: 'sg_g1', count: 5, lastMinSeq: 2 ** 53 }), invalid('getAdvancedHistoryMessageList: `lastMinSeq` is not an integer in range'));
  assert.deepEqual(refused('getAdvancedHistoryMessageList', { conversationID: 'sg_g1', count: 5, lastMinSeq: 2n ** 64n }), invalid('getAdvancedHistoryMessageList: `lastMinSeq` is not a u64'));
  assert.deepEqual(refused('getAdvancedHistoryMessageList', { conversationID: 'sg_g1', count: 'many' }), invalid('getAdvancedHistoryMessageList: `count` is not an integer in range'));
  assert.deepEqual(refused('getAdvancedHistoryMessageList', { conversationID: 'sg_g1', count: -1 }), invalid('getAdvancedHistoryMessageList: `count` is not an integer in range'));
  assert.deepEqual(refused('getAdvancedHistoryMessageList', { conversationID: 'sg_g1', count: 0 }), invalid('count must be at least 1'));

  const text = { contentType: 101, textElem: { content: 'hi' } };
  assert.deepEqual(ENGINE_PARAMS.sendMessage({ groupID: 'g1', message: text }), ['g1', '', 'hi']);
  assert.deepEqual(ENGINE_PARAMS.sendMessage({ recvID: 'u2', groupID: '', message: text }), ['', 'u2', 'hi']);
  assert.deepEqual(refused('sendMessage', { recvID: 'u2', message: { contentType: 101, textElem: null } }), invalid('message.textElem is missing'));
  assert.deepEqual(refused('sendMessage', { recvID: 'u2', message: { contentType: 102, textElem: { content: 'x' } } }), invalid('only text messages (contentType 101) can be sent, got 102'));
  assert.deepEqual(refused('sendMessage', { recvID: 'u2' }), invalid('sendMessage: missing field `message`'));
  assert.deepEqual(refused('sendMessage', { recvID: 'u2', message: 'hi' }), invalid('sendMessage: `message` is not an object'));
  assert.deepEqual(refused('sendMessage', { recvID: 'u2', message: { textElem: null } }), invalid('sendMessage: missing field `contentType`'));
  assert.deepEqual(refused('sendMessage', { recvID: 'u2', message: { contentType: 101, textElem: 'hi' } }), invalid('sendMessage: `textElem` is not an object'));
  assert.deepEqual(refused('sendMessage', { recvID: 'u2', message: { contentType: 101, textElem: {} } }), invalid('sendMessage: missing field `content`'));
  assert.deepEqual(refused('sendMessage', { recvID: null, message: text }), invalid('sendMessage: `recvID` is not a string'));
  assert.deepEqual(refused('sendMessage', { message: text }), invalid('give exactly one of recvID and groupID'));
  assert.deepEqual(refused('sendMessage', { recvID: 'u2', groupID: 'g1', message: text }), invalid('give exactly one of recvID and groupID'));

  assert.equal(draftText('hello'), 'hello');
  assert.throws(() => draftText(''), invalid('the text is empty'));
  assert.throws(() => draftText(7), invalid('createTextMessage: `the parameter` is not a string'));
});

test('the other parameters: ids, member lists and new groups', () => {
  assert.deepEqual(ENGINE_PARAMS.revokeMessage({ conversationID: 'sg_g1', clientMsgID: 'c1' }), ['sg_g1', 'c1']);
  assert.deepEqual(refused('revokeMessage', { conversationID: 'sg_g1', clientMsgID: ' ' }), invalid('clientMsgID is empty'));
  assert.deepEqual(refused('revokeMessage', { clientMsgID: 'c1' }), invalid('revokeMessage: missing field `conversationID`'));
  assert.deepEqual(ENGINE_PARAMS.markConversationMessageAsRead('si_a_b'), ['si_a_b']);
  assert.deepEqual(refused('markConversationMessageAsRead', ['si_a_b']), invalid('markConversationMessageAsRead: `the parameter` is not a string'));

  assert.deepEqual(ENGINE_PARAMS.getUsersInfo(new Set(['u1', 'u2'])), ['u1', 'u2'], 'any iterable is a list');
  assert.deepEqual(refused('getUsersInfo', ['u1', 2]), invalid('getUsersInfo: `the parameter` is not a string'));
  assert.deepEqual(refused('getUsersInfo', { 0: 'u1' }), invalid('getUsersInfo: `the parameter` is not a list'));
  assert.deepEqual(refused('getUsersInfo', []), invalid('userIDs is empty'));
  assert.deepEqual(refused('getSpecifiedGroupsInfo', ['g1', '']), invalid('groupIDs holds an empty id'));

  assert.deepEqual(ENGINE_PARAMS.getGroupMemberList({ groupID: 'g1', offset: 0, count: 5 }), ['g1']);
  assert.deepEqual(refused('getGroupMemberList', { groupID: 'g1', filter: 6, offset: 0, count: 5 }), invalid('filter must be 0–5, got 6'));
  assert.deepEqual(refused('getGroupMemberList', { groupID: 'g1', filter: undefined, offset: 0, count: 5 }), invalid('getGroupMemberList: `filter` is not an integer in range'), 'an explicit undefined is a value');
  assert.deepEqual(refused('getGroupMemberList', { groupID: 'g1', offset: -1, count: 5 }), invalid('getGroupMemberList: `offset` is not an integer in range'));
  assert.deepEqual(refused('getGroupMemberList', { groupID: 'g1', offset: 0, count: 2 ** 32 }), invalid('getGroupMemberList: `count` is not an integer in range'));
  assert.deepEqual(refused('getGroupMemberList', { groupID: '', offset: 0, count: 5 }), invalid('groupID is empty'));

  const members = [100, 60, 20, 60, 20].map((role, at) => ({ ...sample('member'), user_id: `u${at}`, role_level: role }));
  const page = (params) => memberPage(members, params).map((m) => m.user_id);
  assert.deepEqual(page({ offset: 0, count: 10 }), ['u0', 'u1', 'u2', 'u3', 'u4']);
  assert.deepEqual(page({ filter: 1, offset: 0, count: 10 }), ['u0']);
  assert.deepEqual(page({ filter: 2, offset: 0, count: 10 }), ['u1', 'u3']);
  assert.deepEqual(page({ filter: 3, offset: 0, count: 10 }), ['u2', 'u4']);
  assert.deepEqual(page({ filter: 4, offset: 1, count: 2 }), ['u2', 'u3']);
  assert.deepEqual(page({ filter: 5, offset: 0, count: 10 }), ['u0', 'u1', 'u3']);
  assert.deepEqual(page({ filter: 0, offset: 4, count: 10 }), ['u4']);
  assert.deepEqual(page({ offset: 9, count: 10 }), []);

  assert.deepEqual(ENGINE_PARAMS.getSpecifiedGroupMembersInfo({ groupID: 'g1', userIDList: ['u2', 'u3'] }), ['g1', 'u2', 'u3']);
  assert.deepEqual(refused('getSpecifiedGroupMembersInfo', { groupID: 'g1', userIDList: [] }), invalid('userIDList is empty'));

  const group = (params) => ENGINE_PARAMS.createGroup(params, 'me');
  assert.deepEqual(group({ memberUserIDs: ['u2', 'u3'], adminUserIDs: ['u4'], ownerUserID: 'me', groupInfo: { groupName: 'Team', groupType: 2 } }), ['Team', '2', 'u2', 'u3', 'u4']);
  assert.deepEqual(group({ groupInfo: { groupName: 'Solo', groupType: null }, ownerUserID: null }), ['Solo', '0']);
  const refusedGroup = (params) => {
    try {
      group(params);
    } catch (err) {
      return err;
    }
    assert.fail('accepted');
  };
  assert.deepEqual(refusedGroup({ groupInfo: { groupName: ' ' } }), invalid('groupInfo.groupName is empty'));
  assert.deepEqual(refusedGroup({ groupInfo: {} }), invalid('createGroup: missing field `groupName`'));
  assert.deepEqual(refusedGroup({ groupInfo: 'Team' }), invalid('createGroup: `groupInfo` is not an object'));
  assert.deepEqual(refusedGroup({ groupInfo: { groupName: 'n', groupType: 0 } }), invalid('groupType must be 2 (work group), got 0'));
  assert.deepEqual(refusedGroup({ ownerUserID: 'u9', groupInfo: { groupName: 'n' } }), invalid('ownerUserID must be the logged-in user'));
  assert.deepEqual(refusedGroup({ ownerUserID: 1, groupInfo: { groupName: 'n' } }), invalid('createGroup: `ownerUserID` is not a string'));
  assert.deepEqual(refusedGroup({ memberUserIDs: 'u2', groupInfo: { groupName: 'n' } }), invalid('createGroup: `memberUserIDs` is not a list'));
});
