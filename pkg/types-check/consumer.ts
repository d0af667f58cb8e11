// A strict TypeScript consumer of @chorus/sdk: every method, several events, and calls the
// declarations must reject. Checked by `tsc -p pkg/types-check --noEmit`; never run.

import {
  CbEvents,
  getSDK,
  type ConversationItem,
  type EventHandler,
  type GroupItem,
  type MessageItem,
  type RevokedInfo,
  type WsResponse,
} from '../index.js';

async function everyMethod(): Promise<void> {
  const sdk = getSDK({ wasmURL: '/pkg/dist/chorus_sdk_wasm_bg.wasm' });
  await sdk.ready;
  const leader: boolean = sdk.isLeader();

  const login: WsResponse<''> = await sdk.login({
    userID: 'u1',
    token: 't',
    platformID: 5,
    apiAddr: 'http://127.0.0.1:10002',
    wsAddr: 'ws://127.0.0.1:10001/msg_gateway',
  });
  const status: 1 | 2 | 3 = (await sdk.getLoginStatus('op-1')).data;

  const conversations: ConversationItem[] = (await sdk.getAllConversationList()).data;
  const first = conversations[0];
  const latest: MessageItem | null = first && first.latestMsg ? (JSON.parse(first.latestMsg) as MessageItem) : null;
  const history = await sdk.getAdvancedHistoryMessageList({
    conversationID: first?.conversationID ?? 'si_u1_u2',
    count: 20,
    startClientMsgID: '',
  });
  const texts: string[] = history.data.messageList.map((m) => m.textElem?.content ?? '');
  const more = await sdk.getAdvancedHistoryMessageList({
    conversationID: 'si_u1_u2',
    count: 20,
    startClientMsgID: history.data.messageList[0]?.clientMsgID ?? '',
    lastMinSeq: history.data.lastMinSeq,
  });

  const draft = (await sdk.createTextMessage('hello')).data;
  const sent: MessageItem = (await sdk.sendMessage({ recvID: 'u2', groupID: '', message: draft })).data;
  const seq: number = sent.seq;
  await sdk.revokeMessage({ conversationID: 'si_u1_u2', clientMsgID: sent.clientMsgID });
  await sdk.markConversationMessageAsRead('si_u1_u2');

  const me = (await sdk.getSelfUserInfo()).data;
  await sdk.setSelfInfo({ nickname: `${me.nickname}!` });
  await sdk.setSelfInfo({ faceURL: 'https://example.invalid/a.png' });
  const users = (await sdk.getUsersInfo(['u2'])).data;
  const userName: string | undefined = users[0]?.nickname;

  const group: GroupItem = (
    await sdk.createGroup({ memberUserIDs: ['u2'], adminUserIDs: [], groupInfo: { groupName: 'g' } })
  ).data;
  const joined: GroupItem[] = (await sdk.getJoinedGroupList()).data;
  const infos = (await sdk.getSpecifiedGroupsInfo([group.groupID])).data;
  await sdk.setGroupInfo({ groupID: group.groupID, notification: 'read the rules', lookMemberInfo: 1 });
  const members = (await sdk.getGroupMemberList({ groupID: group.groupID, filter: 0, offset: 0, count: 100 })).data;
  const role: 20 | 60 | 100 | undefined = members[0]?.roleLevel;
  const some = (await sdk.getSpecifiedGroupMembersInfo({ groupID: group.groupID, userIDList: ['u2'] })).data;
  await sdk.inviteUserToGroup({ groupID: group.groupID, reason: 'join us', userIDList: ['u3'] });
  await sdk.joinGroup({ groupID: group.groupID, reqMsg: 'hi', joinSource: 3 });
  await sdk.kickGroupMember({ groupID: group.groupID, reason: '', userIDList: ['u3'] });
  await sdk.setGroupMemberInfo({ groupID: group.groupID, userID: 'u2', roleLevel: 60 });
  await sdk.quitGroup(group.groupID);

  await sdk.addFriend({ toUserID: 'u2', reqMsg: 'hello' });
  const friends = (await sdk.getFriendList()).data;
  const remark: string | undefined = friends[0]?.remark;
  await sdk.updateFriends({ friendUserIDs: ['u2'], remark: '' });
  await sdk.logout();

  try {
    await sdk.quitGroup('');
  } catch (err) {
    const failed = err as WsResponse<null>;
    const code: number = failed.errCode;
    void code;
  }

  void [leader, login, status, latest, texts, more, seq, userName, joined, infos, role, some, remark];
}

function events(): void {
  const sdk = getSDK();
  sdk.on(CbEvents.OnRecvNewMessages, (ev) => {
    const text: string | undefined = ev.data[0]?.textElem?.content;
    void text;
  });
  const onRevoked: EventHandler<'OnNewRecvMessageRevoked'> = (ev) => {
    const info: RevokedInfo = ev.data;
    void info.revokerID;
  };
  sdk.on(CbEvents.OnNewRecvMessageRevoked, onRevoked);
  sdk.off(CbEvents.OnNewRecvMessageRevoked, onRevoked);
  sdk.on(CbEvents.OnGroupInfoChanged, (ev) => {
    const editor: string = ev.data.notificationUserID;
    void editor;
  });
  sdk.on(CbEvents.OnSyncServerProgress, (ev) => {
    const percent: number = ev.data;
    void percent;
  });
  sdk.on(CbEvents.OnConversationChanged, (ev) => {
    const unread: number = ev.data.reduce((n, c) => n + c.unreadCount, 0);
    void unread;
  });
  sdk.on(CbEvents.OnGroupMemberAdded, (ev) => void ev.data.joinSource);
  sdk.on(CbEvents.OnFriendInfoChanged, (ev) => void ev.data.remark);
  sdk.on(CbEvents.OnConnectFailed, (ev) => void ev.errCode);
  sdk.off(CbEvents.OnConnectFailed);
}

function rejected(): void {
  const sdk = getSDK();
  // @ts-expect-error userIDs is a list of strings, not a string
  void sdk.getUsersInfo('u2');
  // @ts-expect-error joinSource 1 (added by an admin) cannot be asked for
  void sdk.joinGroup({ groupID: 'g', reqMsg: '', joinSource: 1 });
  // @ts-expect-error a group message payload is GroupItem, it has no textElem
  sdk.on(CbEvents.OnGroupInfoChanged, (ev) => void ev.data.textElem);
  // @ts-expect-error not an event name
  sdk.on('OnSomethingElse', () => {});
  // @ts-expect-error count is required
  void sdk.getGroupMemberList({ groupID: 'g', offset: 0 });
}

void everyMethod;
void events;
void rejected;
