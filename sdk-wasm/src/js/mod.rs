//! The JavaScript API: [`ChorusSdk`], whose promise-returning [`ChorusSdk::call`] runs any
//! official SDK method by name.
//!
//! Methods take the official parameter shapes ([`convert`]) and resolve with the JSON text of
//! the model value they give (`Message`, `Vec<Group>`, …); events reach the listener as the JSON
//! text of [`crate::event::SdkEvent`]. The official methods that only change server state are
//! checked and written by the package and sent through the `change` method. The
//! package's `index.js` exposes one function per method,
//! shapes results and events into the official objects (`official.js`) and wraps them into
//! `WsResponse` objects. Failures reject with a plain `{errCode, errMsg}` object built by
//! [`js_error`]. Nothing throws synchronously: parameters are read inside the returned promise.

pub mod convert;

use crate::cell::CellAccess;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use chorus_core::model::ConversationId;
use chorus_core::outbox::Recipient;
use chorus_proto::msgjson::{self, FieldSink, FromJson, Json, Out, ToJson, WriteFields};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::error::SdkError;
use crate::sdk::{HistoryPage, LoginParams, Sdk};
use convert::{from_js, member_filter, require, require_ids};

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
}

impl Default for ChorusSdk {
    fn default() -> ChorusSdk {
        ChorusSdk::new()
    }
}

/// Runs `work` inside a promise; its error becomes the `{errCode, errMsg}` rejection.
fn promise<F>(work: F) -> Promise
where
    F: Future<Output = Result<JsValue, SdkError>> + 'static,
{
    wasm_bindgen_futures::future_to_promise(async move { work.await.map_err(|e| js_error(&e)) })
}

fn done() -> Result<JsValue, SdkError> {
    Ok(JsValue::UNDEFINED)
}

/// The `N` strings the package passes for a method whose parameter it checked.
fn args<const N: usize>(method: &str, params: JsValue) -> Result<[String; N], SdkError> {
    from_js::<Vec<String>>(method, params)?
        .try_into()
        .map_err(|_| SdkError::invalid_argument(format!("{method}: give {N} strings")))
}

/// A number the package passed as its decimal text.
fn number<T: FromJson>(text: &str) -> Result<T, SdkError> {
    Json::parse(text)
        .and_then(T::from_json)
        .map_err(|e| SdkError::invalid_argument(e.to_string()))
}

/// A result: the model value's JSON text.
fn json(value: &dyn ToJson) -> Result<JsValue, SdkError> {
    Ok(JsValue::from(msgjson::to_text(value)))
}

/// A page of history: `{"messages":[…],"is_end":…,"last_min_seq":…}`.
impl WriteFields for HistoryPage {
    fn field_count(&self) -> usize {
        3
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("messages", self.messages.to_out());
        sink.field("is_end", Out::Bool(self.is_end));
        sink.field("last_min_seq", Out::U64(self.last_min_seq));
    }
}

impl ToJson for HistoryPage {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
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
        {
            let listener = Rc::clone(&listener);
            sdk.on(move |event| {
                if event.official_name().is_none() {
                    return;
                }
                let Some(callback) = listener.read().clone() else {
                    return;
                };
                let text = JsValue::from(msgjson::to_text(event));
                // A throwing handler must not stop the SDK; the wrapper reports its errors.
                let _ = callback.call1(&JsValue::NULL, &text);
            });
        }
        ChorusSdk { sdk, listener }
    }

    /// Sets the function called with the JSON text of every event that has an official name
    /// (see [`crate::event::SdkEvent`] for the form).
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
    /// none); the promise resolves with the JSON text of the model value the method gives, or
    /// `undefined` for methods that give nothing.
    pub fn call(&self, method: String, params: JsValue) -> Promise {
        // Read now, as the call happens, not when the promise first runs.
        let status = self.sdk.login_status() as i32;
        let sdk = self.sdk.clone();
        promise(run(sdk, method, params, status))
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
    Change,
}

/// Every method under its official name.
const METHODS: [(&str, Method); 17] = [
    ("login", Method::Login),
    ("logout", Method::Logout),
    ("getLoginStatus", Method::GetLoginStatus),
    ("getAllConversationList", Method::GetAllConversationList),
    (
        "getAdvancedHistoryMessageList",
        Method::GetAdvancedHistoryMessageList,
    ),
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
    ("change", Method::Change),
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
async fn run(sdk: Sdk, method: String, params: JsValue, status: i32) -> Result<JsValue, SdkError> {
    let Some(which) = Method::named(&method) else {
        return Err(no_method(&method));
    };
    match which {
        // `login([userID, token, platformID, apiAddr, wsAddr])`.
        Method::Login => {
            let [user_id, token, platform_id, api_addr, ws_addr] = args(&method, params)?;
            sdk.login(LoginParams {
                user_id,
                token,
                platform_id: number(&platform_id)?,
                api_addr,
                ws_addr,
            })
            .await?;
            done()
        }
        Method::Logout => {
            sdk.logout().await?;
            done()
        }
        // 1 logged out, 2 logging in, 3 logged in.
        Method::GetLoginStatus => json(&status),
        Method::GetAllConversationList => json(&sdk.conversations().await?),
        // `getAdvancedHistoryMessageList([conversationID, startClientMsgID, count])`.
        Method::GetAdvancedHistoryMessageList => {
            let [id, start, count] = args(&method, params)?;
            let count: u32 = number(&count)?;
            json(
                &sdk.history(&conversation_id(id)?, Some(&start), count as usize)
                    .await?,
            )
        }
        Method::GetSelfUserInfo => json(&sdk.self_info().await?),
        // `sendMessage([groupID, recvID, text])` (one of the ids empty): the sent message.
        Method::SendMessage => {
            let [group_id, recv_id, text] = args(&method, params)?;
            let recipient = if group_id.is_empty() {
                Recipient::User(recv_id)
            } else {
                Recipient::Group(group_id)
            };
            json(&sdk.send_text(recipient, &text).await?)
        }
        // `revokeMessage({conversationID, clientMsgID})`.
        Method::RevokeMessage => {
            let p: convert::RevokeIn = from_js(&method, params)?;
            require("clientMsgID", &p.client_msg_id)?;
            sdk.revoke(&conversation_id(p.conversation_id)?, &p.client_msg_id)
                .await?;
            done()
        }
        // `markConversationMessageAsRead(conversationID)`.
        Method::MarkConversationMessageAsRead => {
            let id: String = from_js(&method, params)?;
            sdk.mark_read(&conversation_id(id)?).await?;
            done()
        }
        // `getUsersInfo(userIDs)`.
        Method::GetUsersInfo => {
            let ids: Vec<String> = from_js(&method, params)?;
            require_ids("userIDs", &ids)?;
            json(&sdk.users_info(&ids).await?)
        }
        Method::GetJoinedGroupList => json(&sdk.joined_groups().await?),
        // `getSpecifiedGroupsInfo(groupIDs)`.
        Method::GetSpecifiedGroupsInfo => {
            let ids: Vec<String> = from_js(&method, params)?;
            require_ids("groupIDs", &ids)?;
            json(&sdk.groups_info(&ids).await?)
        }
        // `getGroupMemberList({groupID, filter, offset, count})`.
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
            members.truncate(end);
            members.drain(..start);
            json(&members)
        }
        // `getSpecifiedGroupMembersInfo({groupID, userIDList})`.
        Method::GetSpecifiedGroupMembersInfo => {
            let p: convert::MembersInfoIn = from_js(&method, params)?;
            require("groupID", &p.group_id)?;
            require_ids("userIDList", &p.user_id_list)?;
            json(&sdk.members_info(&p.group_id, &p.user_id_list).await?)
        }
        // `createGroup({memberUserIDs, adminUserIDs, ownerUserID?, groupInfo: {groupName}})`.
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
            json(
                &sdk.create_group(
                    &p.group_info.group_name,
                    &p.member_user_ids,
                    &p.admin_user_ids,
                )
                .await?,
            )
        }
        Method::GetFriendList => json(&sdk.friends().await?),
        // `change([path, body])`: the REST call of an official method that only changes server
        // state (`setGroupInfo`, `kickGroupMember`, …), whose parameter the package checked and
        // whose JSON body it wrote; the call carries the session's token.
        Method::Change => {
            let [path, body] = args(&method, params)?;
            let body = Json::parse(&body).map_err(|e| SdkError::invalid_argument(e.to_string()))?;
            sdk.api(&path, body).await?;
            done()
        }
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
        assert_eq!(Method::named("getfriendlist"), None);
        assert_eq!(Method::named(""), None);
    }

    #[wasm_bindgen_test]
    async fn changes_need_a_path_a_json_body_and_a_session() {
        let change = |params: &str| {
            let params = js_sys::JSON::parse(params).unwrap();
            run(Sdk::new(), "change".into(), params, 1)
        };
        let err = change(r#"["/group/quit_group"]"#).await.unwrap_err();
        assert_eq!(
            (err.code(), err.to_string()),
            (
                10001,
                "invalid argument: change: give [path, body]".to_owned()
            )
        );
        let err = change(r#"["/group/quit_group", "{"]"#).await.unwrap_err();
        assert_eq!(err.code(), 10001, "{err}");
        let err = change(r#"["/group/quit_group", "{\"groupID\":\"g1\"}"]"#)
            .await
            .unwrap_err();
        assert_eq!(err.code(), 10005, "{err}");
        let err = run(Sdk::new(), "quitGroup".into(), "g1".into(), 1)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid argument: no method quitGroup",
            "the package makes these calls itself"
        );
    }
}
