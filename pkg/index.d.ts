// Type declarations of @chorus/sdk: the subset of the official OpenIM web SDK (3.8) API that
// Chorus implements, with the official names for methods, parameters, data and events.

/** What every method resolves with, and (with `data: null`) rejects with. */
export interface WsResponse<T = unknown> {
  /** The method or event name. */
  event: string;
  /** 0 on success; the server's code, or 10000 network, 10001 bad argument, 10002 no leader
   * tab, 10005 not logged in, 10006 local storage or internal, 10102 already logged in. */
  errCode: number;
  errMsg: string;
  data: T;
  operationID: string;
}

/** A rejected call: `errCode` is never 0 and `data` is null. */
export type WsError = WsResponse<null>;

/** 1 single chat, 3 group, 4 notification account. */
export type SessionType = 1 | 3 | 4;
/** 1 sending, 2 sent, 3 failed, 4 deleted. */
export type MessageStatus = 1 | 2 | 3 | 4;
/** 20 ordinary member, 60 admin, 100 owner. */
export type GroupMemberRole = 20 | 60 | 100;
/** 1 added by an admin, 2 invitation, 3 search, 4 QR code. */
export type GroupJoinSource = 1 | 2 | 3 | 4;
/** 0 allowed, 1 not allowed. */
export type AllowType = 0 | 1;
/** 1 logged out, 2 logging in, 3 logged in. */
export type LoginStatus = 1 | 2 | 3;
/** 0 all, 1 owner, 2 admins, 3 ordinary members, 4 admins and ordinary members, 5 owner and admins. */
export type GroupMemberFilter = 0 | 1 | 2 | 3 | 4 | 5;

export interface TextElem {
  content: string;
}

export interface NotificationElem {
  /** The notification's JSON; for a revoked message, a `RevokedInfo`. */
  detail: string;
}

/** A message. Text messages have `textElem`; revoked ones have `contentType` 2101 and
 * `notificationElem.detail` holding the `RevokedInfo` JSON. */
export interface MessageItem {
  clientMsgID: string;
  serverMsgID: string;
  createTime: number;
  sendTime: number;
  sessionType: SessionType | 0;
  sendID: string;
  recvID: string;
  msgFrom: number;
  contentType: number;
  senderPlatformID: number;
  senderNickname: string;
  senderFaceUrl: string;
  groupID: string;
  /** The content as JSON text (`{"content":"…"}` for text). */
  content: string;
  seq: number;
  isRead: boolean;
  status: MessageStatus;
  ex: string;
  attachedInfo: string;
  textElem?: TextElem;
  notificationElem?: NotificationElem;
}

export interface RevokedInfo {
  revokerID: string;
  revokerRole: number;
  clientMsgID: string;
  revokerNickname: string;
  revokeTime: number;
  sourceMessageSendTime: number;
  sourceMessageSendID: string;
  sourceMessageSenderNickname: string;
  sessionType: number;
  seq: number;
  ex: string;
  /** Chorus extra: the conversation of the revoked message. */
  conversationID: string;
  /** Chorus extra: whether an app administrator revoked it. */
  isAdminRevoke: boolean;
}

export interface ConversationItem {
  conversationID: string;
  conversationType: SessionType;
  userID: string;
  groupID: string;
  showName: string;
  faceURL: string;
  recvMsgOpt: number;
  unreadCount: number;
  groupAtType: number;
  /** The latest message as `MessageItem` JSON, '' when there is none. */
  latestMsg: string;
  latestMsgSendTime: number;
  draftText: string;
  draftTextTime: number;
  burnDuration: number;
  msgDestructTime: number;
  isPinned: boolean;
  isNotInGroup: boolean;
  isPrivateChat: boolean;
  isMsgDestruct: boolean;
  isMarked: boolean;
  attachedInfo: string;
  ex: string;
}

export interface SelfUserInfo {
  userID: string;
  nickname: string;
  faceURL: string;
  ex: string;
  createTime: number;
  globalRecvMsgOpt: number;
  appManagerLevel: number;
}

export interface PublicUserItem {
  userID: string;
  nickname: string;
  faceURL: string;
  ex: string;
}

export interface FriendUserItem {
  ownerUserID: string;
  userID: string;
  nickname: string;
  faceURL: string;
  /** '' when none is set. */
  remark: string;
  addSource: number;
  createTime: number;
  operatorUserID: string;
  ex: string;
  isPinned: boolean;
  attachedInfo: string;
}

export interface GroupItem {
  groupID: string;
  groupName: string;
  /** The announcement. */
  notification: string;
  /** Who last set the announcement. */
  notificationUserID: string;
  notificationUpdateTime: number;
  introduction: string;
  faceURL: string;
  ownerUserID: string;
  createTime: number;
  memberCount: number;
  /** 0 normal, 1 banned, 2 dismissed, 3 muted. */
  status: number;
  creatorUserID: string;
  /** 2 work group. */
  groupType: number;
  needVerification: number;
  ex: string;
  applyMemberFriend: AllowType;
  lookMemberInfo: AllowType;
  displayIsRead: boolean;
  /** Chorus extra: whether new members see messages from before they joined. */
  enableHistoryForNewMembers: boolean;
}

export interface GroupMemberItem {
  groupID: string;
  userID: string;
  nickname: string;
  faceURL: string;
  roleLevel: GroupMemberRole;
  muteEndTime: number;
  joinTime: number;
  joinSource: GroupJoinSource;
  inviterUserID: string;
  operatorUserID: string;
  ex: string;
}

export interface AdvancedGetMessageResult {
  /** Oldest first. */
  messageList: MessageItem[];
  isEnd: boolean;
  lastMinSeq: number;
  errCode: number;
  errMsg: string;
}

// ----- Parameters -----

export interface LoginParams {
  userID: string;
  token: string;
  /** 5 = web. */
  platformID: number;
  /** e.g. `http://127.0.0.1:10002`. */
  apiAddr: string;
  /** The full gateway URL, e.g. `ws://127.0.0.1:10001/msg_gateway`. */
  wsAddr: string;
}

export interface GetAdvancedHistoryParams {
  conversationID: string;
  count: number;
  /** '' for the newest page, else the oldest message of the previous page. */
  startClientMsgID: string;
  /** Accepted and ignored: paging follows `startClientMsgID`. */
  lastMinSeq?: number;
}

export interface SendMsgParams {
  /** The receiving user, '' for group messages. */
  recvID: string;
  /** The receiving group, '' for single chats. */
  groupID: string;
  /** A draft from `createTextMessage`. */
  message: MessageItem;
}

export interface RevokeMsgParams {
  conversationID: string;
  clientMsgID: string;
}

export interface SetSelfInfoParams {
  nickname?: string;
  faceURL?: string;
}

export interface SetGroupInfoParams {
  groupID: string;
  groupName?: string;
  notification?: string;
  introduction?: string;
  lookMemberInfo?: AllowType;
  applyMemberFriend?: AllowType;
  enableHistoryForNewMembers?: boolean;
}

export interface GetGroupMemberParams {
  groupID: string;
  filter?: GroupMemberFilter;
  offset: number;
  count: number;
}

export interface GetSpecifiedGroupMembersInfoParams {
  groupID: string;
  userIDList: string[];
}

export interface GroupUsersParams {
  groupID: string;
  reason: string;
  userIDList: string[];
}

export interface JoinGroupParams {
  groupID: string;
  reqMsg: string;
  /** 2 invitation, 3 search, 4 QR code. */
  joinSource: 2 | 3 | 4;
  ex?: string;
}

export interface SetGroupMemberInfoParams {
  groupID: string;
  userID: string;
  roleLevel?: 20 | 60;
}

export interface CreateGroupParams {
  memberUserIDs: string[];
  adminUserIDs: string[];
  /** When given, must be the logged-in user. */
  ownerUserID?: string;
  groupInfo: {
    groupName: string;
    /** When given, must be 2 (work group). */
    groupType?: 2;
  };
}

export interface AddFriendParams {
  toUserID: string;
  reqMsg: string;
}

export interface UpdateFriendsParams {
  friendUserIDs: string[];
  /** '' deletes the remark. */
  remark: string;
}

// ----- Events -----

/** Every event's `data`. */
export interface EventPayloads {
  OnConnecting: '';
  OnConnectSuccess: '';
  /** `errCode`/`errMsg` of the event say why. */
  OnConnectFailed: '';
  OnKickedOffline: '';
  OnUserTokenExpired: '';
  /** `errCode` of the event is the server's code. */
  OnUserTokenInvalid: '';
  OnSyncServerStart: '';
  /** Percent done, 0–100. */
  OnSyncServerProgress: number;
  OnSyncServerFinish: '';
  OnSyncServerFailed: '';
  OnRecvNewMessages: MessageItem[];
  OnNewRecvMessageRevoked: RevokedInfo;
  OnConversationChanged: ConversationItem[];
  OnNewConversation: ConversationItem[];
  OnTotalUnreadMessageCountChanged: number;
  OnGroupInfoChanged: GroupItem;
  OnGroupDismissed: GroupItem;
  OnGroupMemberInfoChanged: GroupMemberItem;
  OnGroupMemberAdded: GroupMemberItem;
  OnGroupMemberDeleted: GroupMemberItem;
  OnJoinedGroupAdded: GroupItem;
  OnJoinedGroupDeleted: GroupItem;
  OnFriendInfoChanged: FriendUserItem;
  OnFriendAdded: FriendUserItem;
  OnFriendDeleted: FriendUserItem;
  OnSelfInfoUpdated: SelfUserInfo;
}

/** An event name. */
export type CbEvent = keyof EventPayloads;

/** The event names, as the official SDK's `CbEvents`. */
export declare const CbEvents: { readonly [K in CbEvent]: K };

/** An event handler: receives `{event, errCode, errMsg, data, operationID: ''}`. */
export type EventHandler<E extends CbEvent> = (event: WsResponse<EventPayloads[E]> & { event: E }) => void;

/** A method's result. */
export type Resp<T> = Promise<WsResponse<T>>;

export interface ChorusSDK {
  /** Resolves once the wasm module is loaded (methods wait for it themselves). */
  readonly ready: Promise<void>;
  /** Chorus extra: whether this tab holds the user's connection (false before `ready`). */
  isLeader(): boolean;
  on<E extends CbEvent>(event: E, handler: EventHandler<E>): void;
  /** Removes one handler, or every handler of the event when none is given. */
  off<E extends CbEvent>(event: E, handler?: EventHandler<E>): void;

  login(params: LoginParams, operationID?: string): Resp<''>;
  logout(operationID?: string): Resp<''>;
  getLoginStatus(operationID?: string): Resp<LoginStatus>;
  getAllConversationList(operationID?: string): Resp<ConversationItem[]>;
  getAdvancedHistoryMessageList(params: GetAdvancedHistoryParams, operationID?: string): Resp<AdvancedGetMessageResult>;
  /** A draft: its `clientMsgID` is '' until `sendMessage` assigns one. */
  createTextMessage(text: string, operationID?: string): Resp<MessageItem>;
  /** Resolves once the server stored the message (offline, it waits in the outbox). */
  sendMessage(params: SendMsgParams, operationID?: string): Resp<MessageItem>;
  revokeMessage(params: RevokeMsgParams, operationID?: string): Resp<''>;
  markConversationMessageAsRead(conversationID: string, operationID?: string): Resp<''>;
  getSelfUserInfo(operationID?: string): Resp<SelfUserInfo>;
  setSelfInfo(params: SetSelfInfoParams, operationID?: string): Resp<''>;
  /** Chorus extra: public profiles from the server. */
  getUsersInfo(userIDs: string[], operationID?: string): Resp<PublicUserItem[]>;
  getJoinedGroupList(operationID?: string): Resp<GroupItem[]>;
  getSpecifiedGroupsInfo(groupIDs: string[], operationID?: string): Resp<GroupItem[]>;
  setGroupInfo(params: SetGroupInfoParams, operationID?: string): Resp<''>;
  getGroupMemberList(params: GetGroupMemberParams, operationID?: string): Resp<GroupMemberItem[]>;
  getSpecifiedGroupMembersInfo(params: GetSpecifiedGroupMembersInfoParams, operationID?: string): Resp<GroupMemberItem[]>;
  inviteUserToGroup(params: GroupUsersParams, operationID?: string): Resp<''>;
  joinGroup(params: JoinGroupParams, operationID?: string): Resp<''>;
  kickGroupMember(params: GroupUsersParams, operationID?: string): Resp<''>;
  quitGroup(groupID: string, operationID?: string): Resp<''>;
  setGroupMemberInfo(params: SetGroupMemberInfoParams, operationID?: string): Resp<''>;
  createGroup(params: CreateGroupParams, operationID?: string): Resp<GroupItem>;
  getFriendList(operationID?: string): Resp<FriendUserItem[]>;
  addFriend(params: AddFriendParams, operationID?: string): Resp<''>;
  updateFriends(params: UpdateFriendsParams, operationID?: string): Resp<''>;
}

export interface GetSDKOptions {
  /** Where to fetch the .wasm from (default: next to the package's module). */
  wasmURL?: string | URL;
}

/** A new SDK instance; synchronous, the wasm module loads in the background. */
export declare function getSDK(options?: GetSDKOptions): ChorusSDK;
