//! The JavaScript API: [`ChorusSdk`], whose promise-returning [`ChorusSdk::call`] runs any
//! official SDK method by name.
//!
//! Methods take the official parameter shapes and resolve with the official `data` value; the
//! package's `index.js` exposes one function per method and wraps results into `WsResponse`
//! objects. Failures reject with a plain
//! `{errCode, errMsg}` object built by [`js_error`]. Nothing throws synchronously: parameters
//! are read inside the returned promise.

pub mod convert;

use crate::cell::CellAccess;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use chorus_core::model::ConversationId;
use chorus_core::outbox::Recipient;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::SdkError;
use crate::event::SdkEvent;
use crate::net::now_millis;
use crate::sdk::{
    group_info_change, invite_change, kick_change, member_role_change, GroupUpdate, LoginParams,
    Sdk, ServerChange,
};
use convert::{
    conversation_items, from_js, member_filter, message_item, message_items, require, require_ids,
    revoked_item, text_draft, to_js, HistoryResult, Item, Items, Names, FRIEND_USER_ITEM,
    GROUP_ITEM, GROUP_MEMBER_ITEM, PUBLIC_USER_ITEM, SELF_USER_INFO,
};

/// The error object JavaScript sees: `{errCode, errMsg}`.
pub fn js_error(err: &SdkError) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"errCode".into(), &err.code().into());
    let _ = Reflect::set(&object, &"errMsg".into(), &err.to_string().into());
    object.into()
}

/// One SDK instance for JavaScript.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ChorusSdk {
    sdk: Sdk,
    listener: Rc<RefCell<Option<Function>>>,
    names: Rc<RefCell<Names>>,
}

impl Default for ChorusSdk {
    fn default() -> ChorusSdk {
        ChorusSdk::new()
    }
}

/// An event's `data` (`''` for events that carry nothing).
fn event_data(event: &SdkEvent, names: &Names) -> Result<JsValue, SdkError> {
    match event {
        SdkEvent::SyncServerProgress { done, total } => {
            let percent = if *total == 0 {
                100
            } else {
                (done.saturating_mul(100) / total).min(100)
            };
            Ok(JsValue::from_f64(percent as f64))
        }
        SdkEvent::RecvNewMessages(messages) => to_js(&message_items(messages)),
        SdkEvent::NewRecvMessageRevoked(info) => to_js(&revoked_item(info)),
        SdkEvent::ConversationChanged(list) | SdkEvent::NewConversation(list) => {
            to_js(&conversation_items(list, names))
        }
        SdkEvent::TotalUnreadMessageCountChanged(n) => Ok(JsValue::from_f64(*n as f64)),
        SdkEvent::SelfInfoUpdated(user) => to_js(&Item(user, &SELF_USER_INFO)),
        SdkEvent::FriendAdded(f) | SdkEvent::FriendDeleted(f) | SdkEvent::FriendInfoChanged(f) => {
            to_js(&Item(f, &FRIEND_USER_ITEM))
        }
        SdkEvent::JoinedGroupAdded(g)
        | SdkEvent::JoinedGroupDeleted(g)
        | SdkEvent::GroupInfoChanged(g)
        | SdkEvent::GroupDismissed(g) => to_js(&Item(g, &GROUP_ITEM)),
        SdkEvent::GroupMemberAdded(m)
        | SdkEvent::GroupMemberDeleted(m)
        | SdkEvent::GroupMemberInfoChanged(m) => to_js(&Item(m, &GROUP_MEMBER_ITEM)),
        _ => Ok(JsValue::from_str("")),
    }
}

/// An event's `data`, `errCode` and `errMsg`; a `data` that cannot be made is reported as the
/// error instead.
fn event_payload(event: &SdkEvent, names: &Names) -> (JsValue, i32, JsValue) {
    let (code, message) = match event {
        SdkEvent::ConnectFailed { code, message } => (*code, message.as_str()),
        SdkEvent::UserTokenInvalid { code } => (*code, "token refused"),
        _ => (0, ""),
    };
    match event_data(event, names) {
        Ok(data) => (data, code, JsValue::from_str(message)),
        Err(e) => (JsValue::from_str(""), e.code(), e.to_string().into()),
    }
}

/// Keeps conversation display names current from events.
fn learn_names(event: &SdkEvent, names: &mut Names) {
    match event {
        SdkEvent::FriendAdded(f) | SdkEvent::FriendInfoChanged(f) => {
            names.friends(std::slice::from_ref(f))
        }
        SdkEvent::JoinedGroupAdded(g) | SdkEvent::GroupInfoChanged(g) => {
            names.groups(std::slice::from_ref(g))
        }
        SdkEvent::RecvNewMessages(messages) => names.senders(messages),
        _ => {}
    }
}

/// Remembers the names of the stored groups and friends; both are read, and the first failed
/// read is the error.
async fn learn_stored_names(sdk: &Sdk, names: &RefCell<Names>) -> Result<(), SdkError> {
    let groups = sdk.joined_groups().await;
    let friends = sdk.friends().await;
    let mut names = names.write();
    let mut first = Ok(());
    match groups {
        Ok(groups) => names.groups(&groups),
        Err(err) => first = Err(err),
    }
    match friends {
        Ok(friends) => names.friends(&friends),
        Err(err) if first.is_ok() => first = Err(err),
        Err(_) => {}
    }
    first
}

/// Runs `work` inside a promise; its error becomes the `{errCode, errMsg}` rejection.
fn promise<F>(work: F) -> Promise
where
    F: Future<Output = Result<JsValue, SdkError>> + 'static,
{
    wasm_bindgen_futures::future_to_promise(async move { work.await.map_err(|e| js_error(&e)) })
}

fn done() -> Result<JsValue, SdkError> {
    Ok(JsValue::from_str(""))
}

fn conversation_id(value: String) -> Result<ConversationId, SdkError> {
    ConversationId::parse(value).map_err(|e| SdkError::invalid_argument(e.to_string()))
}

#[wasm_bindgen]
impl ChorusSdk {
    /// A new SDK instance with no session.
    #[wasm_bindgen(constructor)]
    pub fn new() -> ChorusSdk {
        let sdk = Sdk::new();
        let listener: Rc<RefCell<Option<Function>>> = Rc::default();
        let names: Rc<RefCell<Names>> = Rc::default();
        {
            let listener = Rc::clone(&listener);
            let names = Rc::clone(&names);
            sdk.on(move |event| {
                learn_names(event, &mut names.write());
                let Some(name) = event.official_name() else {
                    return;
                };
                let Some(callback) = listener.read().clone() else {
                    return;
                };
                let (data, code, message) = event_payload(event, &names.read());
                let args = js_sys::Array::of4(&name.into(), &data, &code.into(), &message);
                // A throwing handler must not stop the SDK; the wrapper reports its errors.
                let _ = callback.apply(&JsValue::NULL, &args);
            });
        }
        ChorusSdk {
            sdk,
            listener,
            names,
        }
    }

    /// Sets the function called as `fn(eventName, data, errCode, errMsg)` for every event.
    #[wasm_bindgen(js_name = setListener)]
    pub fn set_listener(&self, callback: Option<Function>) {
        *self.listener.write() = callback;
    }

    /// Whether this tab holds the connection for the logged-in user.
    #[wasm_bindgen(js_name = isLeader)]
    pub fn is_leader(&self) -> bool {
        self.sdk.is_leader()
    }

    /// Runs the official method `method` with its parameter (`undefined` for methods that take
    /// none); the promise resolves with the method's `data`.
    pub fn call(&self, method: String, params: JsValue) -> Promise {
        // Read now, as the call happens, not when the promise first runs.
        let status = self.sdk.login_status() as i32;
        let sdk = self.sdk.clone();
        let names = Rc::clone(&self.names);
        promise(run(sdk, names, method, params, status))
    }
}

/// The official methods [`ChorusSdk::call`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Login,
    Logout,
    GetLoginStatus,
    GetAllConversationList,
    GetAdvancedHistoryMessageList,
    CreateTextMessage,
    SendMessage,
    RevokeMessage,
    MarkConversationMessageAsRead,
    GetSelfUserInfo,
    GetUsersInfo,
    GetJoinedGroupList,
    GetSpecifiedGroupsInfo,
    GetGroupMemberList,
    GetSpecifiedGroupMembersInfo,
    CreateGroup,
    GetFriendList,
    SetSelfInfo,
    SetGroupInfo,
    InviteUserToGroup,
    JoinGroup,
    KickGroupMember,
    QuitGroup,
    SetGroupMemberInfo,
    AddFriend,
    UpdateFriends,
}

/// Every method under its official name.
const METHODS: [(&str, Method); 26] = [
    ("login", Method::Login),
    ("logout", Method::Logout),
    ("getLoginStatus", Method::GetLoginStatus),
    ("getAllConversationList", Method::GetAllConversationList),
    (
        "getAdvancedHistoryMessageList",
        Method::GetAdvancedHistoryMessageList,
    ),
    ("createTextMessage", Method::CreateTextMessage),
    ("sendMessage", Method::SendMessage),
    ("revokeMessage", Method::RevokeMessage),
    (
        "markConversationMessageAsRead",
        Method::MarkConversationMessageAsRead,
    ),
    ("getSelfUserInfo", Method::GetSelfUserInfo),
    ("getUsersInfo", Method::GetUsersInfo),
    ("getJoinedGroupList", Method::GetJoinedGroupList),
    ("getSpecifiedGroupsInfo", Method::GetSpecifiedGroupsInfo),
    ("getGroupMemberList", Method::GetGroupMemberList),
    (
        "getSpecifiedGroupMembersInfo",
        Method::GetSpecifiedGroupMembersInfo,
    ),
    ("createGroup", Method::CreateGroup),
    ("getFriendList", Method::GetFriendList),
    ("setSelfInfo", Method::SetSelfInfo),
    ("setGroupInfo", Method::SetGroupInfo),
    ("inviteUserToGroup", Method::InviteUserToGroup),
    ("joinGroup", Method::JoinGroup),
    ("kickGroupMember", Method::KickGroupMember),
    ("quitGroup", Method::QuitGroup),
    ("setGroupMemberInfo", Method::SetGroupMemberInfo),
    ("addFriend", Method::AddFriend),
    ("updateFriends", Method::UpdateFriends),
];

impl Method {
    /// The method with the official name `name`.
    fn named(name: &str) -> Option<Method> {
        METHODS
            .iter()
            .find(|(official, _)| *official == name)
            .map(|(_, method)| *method)
    }
}

/// One official method: `status` is the login status when it was called.
async fn run(
    sdk: Sdk,
    names: Rc<RefCell<Names>>,
    method: String,
    params: JsValue,
    status: i32,
) -> Result<JsValue, SdkError> {
    let Some(which) = Method::named(&method) else {
        return Err(no_method(&method));
    };
    match which {
        // `login({userID, token, platformID, apiAddr, wsAddr})` → `''`.
        Method::Login => {
            let p: LoginParams = from_js(&method, params)?;
            sdk.login(p).await?;
            names.write().set_self(&sdk.user_id().unwrap_or_default());
            // Names for the conversations of events raised before the app lists them; the
            // stored groups and friends are enough, and failing to read them changes nothing.
            let _ = learn_stored_names(&sdk, &names).await;
            done()
        }
        // `logout()` → `''`.
        Method::Logout => {
            sdk.logout().await?;
            *names.write() = Names::default();
            done()
        }
        // `getLoginStatus()` → 1 logged out, 2 logging in, 3 logged in.
        Method::GetLoginStatus => Ok(JsValue::from(status)),
        // `getAllConversationList()` → `ConversationItem[]`.
        Method::GetAllConversationList => {
            let list = sdk.conversations().await?;
            learn_stored_names(&sdk, &names).await?;
            let missing: Vec<String> = {
                let mut names = names.write();
                names.set_self(&sdk.user_id().unwrap_or_default());
                list.iter()
                    .map(|c| names.peer(c))
                    .filter(|peer| !peer.is_empty() && !names.knows_user(peer))
                    .collect()
            };
            if !missing.is_empty() {
                // Names are a nicety: the list is still right without them.
                if let Ok(users) = sdk.users_info(&missing).await {
                    names.write().profiles(&users);
                }
            }
            to_js(&conversation_items(&list, &names.read()))
        }
        // `getAdvancedHistoryMessageList({conversationID, count, startClientMsgID})`.
        Method::GetAdvancedHistoryMessageList => {
            let p: convert::HistoryIn = from_js(&method, params)?;
            if p.count == 0 {
                return Err(SdkError::invalid_argument(
                    "count must be at least 1".into(),
                ));
            }
            let id = conversation_id(p.conversation_id)?;
            let page = sdk
                .history(&id, Some(&p.start_client_msg_id), p.count as usize)
                .await?;
            to_js(&HistoryResult {
                message_list: message_items(&page.messages),
                is_end: page.is_end,
                last_min_seq: page.last_min_seq,
                err_code: 0,
                err_msg: String::new(),
            })
        }
        // `createTextMessage(text)` → a draft `MessageItem` (its clientMsgID is assigned on send).
        Method::CreateTextMessage => {
            let text: String = from_js(&method, params)?;
            if text.is_empty() {
                return Err(SdkError::invalid_argument("the text is empty".into()));
            }
            let me = sdk.self_info().await.ok();
            to_js(&text_draft(&text, me.as_ref(), now_millis() as i64))
        }
        // `getSelfUserInfo()` → `SelfUserInfo`.
        Method::GetSelfUserInfo => to_js(&Item(&sdk.self_info().await?, &SELF_USER_INFO)),
        // `sendMessage({recvID, groupID, message})` → the sent `MessageItem`.
        Method::SendMessage => {
            let p: convert::SendIn = from_js(&method, params)?;
            if p.message.content_type != 101 {
                return Err(SdkError::invalid_argument(format!(
                    "only text messages (contentType 101) can be sent, got {}",
                    p.message.content_type
                )));
            }
            let text =
                p.message.text_elem.map(|t| t.content).ok_or_else(|| {
                    SdkError::invalid_argument("message.textElem is missing".into())
                })?;
            let recipient = match (p.group_id.is_empty(), p.recv_id.is_empty()) {
                (false, true) => Recipient::Group(p.group_id),
                (true, false) => Recipient::User(p.recv_id),
                _ => {
                    return Err(SdkError::invalid_argument(
                        "give exactly one of recvID and groupID".into(),
                    ))
                }
            };
            let sent = sdk.send_text(recipient, &text).await?;
            to_js(&message_item(&sent))
        }
        // `revokeMessage({conversationID, clientMsgID})` → `''`.
        Method::RevokeMessage => {
            let p: convert::RevokeIn = from_js(&method, params)?;
            require("clientMsgID", &p.client_msg_id)?;
            sdk.revoke(&conversation_id(p.conversation_id)?, &p.client_msg_id)
                .await?;
            done()
        }
        // `markConversationMessageAsRead(conversationID)` → `''`.
        Method::MarkConversationMessageAsRead => {
            let id: String = from_js(&method, params)?;
            sdk.mark_read(&conversation_id(id)?).await?;
            done()
        }
        // `getUsersInfo(userIDs)` → `PublicUserItem[]`.
        Method::GetUsersInfo => {
            let ids: Vec<String> = from_js(&method, params)?;
            require_ids("userIDs", &ids)?;
            let users = sdk.users_info(&ids).await?;
            to_js(&Items(&users, &PUBLIC_USER_ITEM))
        }
        // `getJoinedGroupList()` → `GroupItem[]`.
        Method::GetJoinedGroupList => {
            let groups = sdk.joined_groups().await?;
            to_js(&Items(&groups, &GROUP_ITEM))
        }
        // `getSpecifiedGroupsInfo(groupIDs)` → `GroupItem[]`.
        Method::GetSpecifiedGroupsInfo => {
            let ids: Vec<String> = from_js(&method, params)?;
            require_ids("groupIDs", &ids)?;
            let groups = sdk.groups_info(&ids).await?;
            to_js(&Items(&groups, &GROUP_ITEM))
        }
        // `getGroupMemberList({groupID, filter, offset, count})` → `GroupMemberItem[]`.
        Method::GetGroupMemberList => {
            let p: convert::MemberListIn = from_js(&method, params)?;
            require("groupID", &p.group_id)?;
            let keep = member_filter(p.filter)?;
            let mut members = sdk.members(&p.group_id).await?;
            // The members that pass the filter move to the front, in order.
            let mut kept = 0;
            for at in 0..members.len() {
                if keep(members[at].role_level) {
                    members.swap(kept, at);
                    kept += 1;
                }
            }
            let start = (p.offset as usize).min(kept);
            let end = start + (p.count as usize).min(kept - start);
            to_js(&Items(&members[start..end], &GROUP_MEMBER_ITEM))
        }
        // `getSpecifiedGroupMembersInfo({groupID, userIDList})` → `GroupMemberItem[]`.
        Method::GetSpecifiedGroupMembersInfo => {
            let p: convert::MembersInfoIn = from_js(&method, params)?;
            require("groupID", &p.group_id)?;
            require_ids("userIDList", &p.user_id_list)?;
            let members = sdk.members_info(&p.group_id, &p.user_id_list).await?;
            to_js(&Items(&members, &GROUP_MEMBER_ITEM))
        }
        // `createGroup({memberUserIDs, adminUserIDs, ownerUserID?, groupInfo: {groupName}})` →
        // `GroupItem`.
        Method::CreateGroup => {
            let p: convert::CreateGroupIn = from_js(&method, params)?;
            require("groupInfo.groupName", &p.group_info.group_name)?;
            if let Some(kind) = p.group_info.group_type.filter(|t| *t != 2) {
                return Err(SdkError::invalid_argument(format!(
                    "groupType must be 2 (work group), got {kind}"
                )));
            }
            if let Some(owner) = p.owner_user_id.filter(|o| !o.is_empty()) {
                if sdk.user_id().as_deref() != Some(owner.as_str()) {
                    return Err(SdkError::invalid_argument(
                        "ownerUserID must be the logged-in user".into(),
                    ));
                }
            }
            let group = sdk
                .create_group(
                    &p.group_info.group_name,
                    &p.member_user_ids,
                    &p.admin_user_ids,
                )
                .await?;
            to_js(&Item(&group, &GROUP_ITEM))
        }
        // `getFriendList()` → `FriendUserItem[]`.
        Method::GetFriendList => {
            let friends = sdk.friends().await?;
            to_js(&Items(&friends, &FRIEND_USER_ITEM))
        }
        // Methods that make one REST call changing server state, and resolve with `''`.
        Method::SetSelfInfo
        | Method::SetGroupInfo
        | Method::InviteUserToGroup
        | Method::JoinGroup
        | Method::KickGroupMember
        | Method::QuitGroup
        | Method::SetGroupMemberInfo
        | Method::AddFriend
        | Method::UpdateFriends => {
            sdk.apply(server_change(&sdk, which, &method, params)?)
                .await?;
            done()
        }
    }
}

/// The REST call of one of the methods that only change server state.
fn server_change(
    sdk: &Sdk,
    which: Method,
    method: &str,
    params: JsValue,
) -> Result<ServerChange, SdkError> {
    match which {
        // `setSelfInfo({nickname?, faceURL?})` → `''`.
        Method::SetSelfInfo => {
            let p: convert::SelfInfoIn = from_js(method, params)?;
            if p.nickname.is_none() && p.face_url.is_none() {
                return Err(SdkError::invalid_argument(
                    "give nickname and/or faceURL".into(),
                ));
            }
            sdk.self_info_change(p.nickname, p.face_url)
        }
        // `setGroupInfo({groupID, groupName?, notification?, introduction?, lookMemberInfo?,
        // applyMemberFriend?, enableHistoryForNewMembers?})` → `''`.
        Method::SetGroupInfo => {
            let p: convert::GroupInfoIn = from_js(method, params)?;
            require("groupID", &p.group_id)?;
            let update = GroupUpdate {
                group_id: p.group_id,
                name: p.group_name,
                announcement: p.notification,
                introduction: p.introduction,
                look_member_info: p.look_member_info,
                apply_member_friend: p.apply_member_friend,
                history_for_new_members: p.enable_history_for_new_members,
            };
            if update.name.is_none()
                && update.announcement.is_none()
                && update.introduction.is_none()
                && update.look_member_info.is_none()
                && update.apply_member_friend.is_none()
                && update.history_for_new_members.is_none()
            {
                return Err(SdkError::invalid_argument("nothing to change".into()));
            }
            group_info_change(update)
        }
        // `inviteUserToGroup({groupID, reason, userIDList})` → `''`.
        Method::InviteUserToGroup => {
            let p: convert::GroupUsersIn = from_js(method, params)?;
            require("groupID", &p.group_id)?;
            require_ids("userIDList", &p.user_id_list)?;
            Ok(invite_change(&p.group_id, &p.user_id_list, &p.reason))
        }
        // `joinGroup({groupID, reqMsg, joinSource})` → `''`.
        Method::JoinGroup => {
            let p: convert::JoinGroupIn = from_js(method, params)?;
            require("groupID", &p.group_id)?;
            sdk.join_group_change(&p.group_id, &p.req_msg, p.join_source)
        }
        // `kickGroupMember({groupID, reason, userIDList})` → `''`.
        Method::KickGroupMember => {
            let p: convert::GroupUsersIn = from_js(method, params)?;
            require("groupID", &p.group_id)?;
            require_ids("userIDList", &p.user_id_list)?;
            Ok(kick_change(&p.group_id, &p.user_id_list, &p.reason))
        }
        // `quitGroup(groupID)` → `''`.
        Method::QuitGroup => {
            let group_id: String = from_js(method, params)?;
            require("groupID", &group_id)?;
            sdk.quit_group_change(&group_id)
        }
        // `setGroupMemberInfo({groupID, userID, roleLevel})` → `''`.
        Method::SetGroupMemberInfo => {
            let p: convert::MemberInfoIn = from_js(method, params)?;
            require("groupID", &p.group_id)?;
            require("userID", &p.user_id)?;
            let role = match p.role_level {
                Some(role @ (20 | 60)) => role,
                Some(other) => {
                    return Err(SdkError::invalid_argument(format!(
                        "roleLevel must be 20 (member) or 60 (admin), got {other}"
                    )))
                }
                None => return Err(SdkError::invalid_argument("roleLevel is missing".into())),
            };
            Ok(member_role_change(&p.group_id, &p.user_id, role))
        }
        // `addFriend({toUserID, reqMsg})` → `''`.
        Method::AddFriend => {
            let p: convert::AddFriendIn = from_js(method, params)?;
            require("toUserID", &p.to_user_id)?;
            sdk.add_friend_change(&p.to_user_id, &p.req_msg)
        }
        // `updateFriends({friendUserIDs, remark})` → `''` (an empty remark deletes it).
        Method::UpdateFriends => {
            let p: convert::UpdateFriendsIn = from_js(method, params)?;
            require_ids("friendUserIDs", &p.friend_user_ids)?;
            sdk.friend_remark_change(&p.friend_user_ids, &p.remark)
        }
        _ => Err(no_method(method)),
    }
}

fn no_method(method: &str) -> SdkError {
    SdkError::invalid_argument(format!("no method {method}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    fn methods_are_found_by_their_official_names_only() {
        for (at, (name, method)) in METHODS.iter().enumerate() {
            assert_eq!(Method::named(name), Some(*method), "{name}");
            assert!(
                METHODS[..at].iter().all(|(n, m)| n != name && m != method),
                "{name} is listed twice"
            );
        }
        assert_eq!(Method::named("quitgroup"), None);
        assert_eq!(Method::named(""), None);
        let err =
            server_change(&Sdk::new(), Method::Login, "login", JsValue::UNDEFINED).unwrap_err();
        assert_eq!(
            (err.code(), err.to_string()),
            (10001, "invalid argument: no method login".to_owned())
        );
    }

    #[wasm_bindgen_test]
    fn server_changes_check_parameters_before_the_session() {
        let sdk = Sdk::new();
        let err = server_change(&sdk, Method::QuitGroup, "quitGroup", JsValue::from_str(" "))
            .unwrap_err();
        assert_eq!(err.to_string(), "invalid argument: groupID is empty");
        let err = server_change(
            &sdk,
            Method::QuitGroup,
            "quitGroup",
            JsValue::from_str("g1"),
        )
        .unwrap_err();
        assert_eq!(err.code(), 10005);
        let join = |source: i32| {
            let params = js_sys::JSON::parse(&format!(
                r#"{{"groupID":"g1","reqMsg":"","joinSource":{source}}}"#
            ))
            .unwrap();
            server_change(&sdk, Method::JoinGroup, "joinGroup", params).unwrap_err()
        };
        assert_eq!(
            join(9).to_string(),
            "invalid argument: joinSource must be 2 (invitation), 3 (search) or 4 (QR code)"
        );
        assert_eq!(join(3).code(), 10005);
        let params = js_sys::JSON::parse(r#"{"groupID":"g1","userIDList":["u2"]}"#).unwrap();
        let change =
            server_change(&sdk, Method::KickGroupMember, "kickGroupMember", params).unwrap();
        assert_eq!(change.path, "/group/kick_group");
        assert_eq!(
            change.body.to_text(),
            r#"{"groupID":"g1","kickedUserIDs":["u2"],"reason":""}"#
        );
    }
}
