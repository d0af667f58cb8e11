//! The JavaScript API: [`ChorusSdk`], whose promise-returning [`ChorusSdk::call`] runs any
//! official SDK method by name.
//!
//! The package (`pkg/src/official.js`) checks each method's official parameter and hands the
//! engine a list of strings (ids, texts, numbers as decimal text); methods resolve with the JSON
//! text of the model value they give (`Message`, `Vec<Group>`, …), and events reach the listener
//! as the JSON text of [`crate::event::SdkEvent`]. The package shapes both into the official
//! objects. The official methods that only change server state are written by the package as a
//! REST call and sent through the `change` method, with the session's token. Failures reject
//! with a plain `{errCode, errMsg}` object built by [`js_error`]. Nothing throws synchronously.

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

/// The error object JavaScript sees: `{errCode, errMsg}`.
pub fn js_error(err: &SdkError) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"errCode".into(), &err.code().into());
    let _ = Reflect::set(&object, &"errMsg".into(), &format!("{err}").into());
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

/// The `N` argument strings of `method`.
fn take<const N: usize>(method: &str, args: Vec<String>) -> Result<[String; N], SdkError> {
    args.try_into().map_err(|_| missing_args(method))
}

fn missing_args(method: &str) -> SdkError {
    SdkError::invalid_argument(format!("{method}: wrong argument count"))
}

/// A number the package passed as its decimal text.
fn number<T: FromJson>(text: &str) -> Result<T, SdkError> {
    Json::parse(text)
        .and_then(T::from_json)
        .map_err(|e| SdkError::invalid_argument(format!("{e}")))
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
    ConversationId::parse(value).map_err(|e| SdkError::invalid_argument(format!("{e}")))
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

    /// Runs the official method `method` with the argument strings the package made from its
    /// checked parameter (see the module notes); the promise resolves with the JSON text of the model
    /// value the method gives, or `undefined` for methods that give nothing.
    pub fn call(&self, method: String, args: Vec<String>) -> Promise {
        // Read now, as the call happens, not when the promise first runs.
        let status = self.sdk.login_status() as i32;
        let sdk = self.sdk.clone();
        promise(run(sdk, method, args, status))
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

/// One official method with the argument strings the package made from its parameter;
/// `status` is the login status when it was called.
async fn run(
    sdk: Sdk,
    method: String,
    args: Vec<String>,
    status: i32,
) -> Result<JsValue, SdkError> {
    let Some(which) = Method::named(&method) else {
        return Err(no_method(&method));
    };
    match which {
        // `[userID, token, platformID, apiAddr, wsAddr]`.
        Method::Login => {
            let [user_id, token, platform_id, api_addr, ws_addr] = take(&method, args)?;
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
        // `[conversationID, startClientMsgID, count]`.
        Method::GetAdvancedHistoryMessageList => {
            let [id, start, count] = take(&method, args)?;
            let count: u32 = number(&count)?;
            json(
                &sdk.history(&conversation_id(id)?, Some(&start), count as usize)
                    .await?,
            )
        }
        Method::GetSelfUserInfo => json(&sdk.self_info().await?),
        // `[groupID, recvID, text]` (one of the ids empty): the sent message.
        Method::SendMessage => {
            let [group_id, recv_id, text] = take(&method, args)?;
            let recipient = if group_id.is_empty() {
                Recipient::User(recv_id)
            } else {
                Recipient::Group(group_id)
            };
            json(&sdk.send_text(recipient, &text).await?)
        }
        // `[conversationID, clientMsgID]`.
        Method::RevokeMessage => {
            let [id, client_msg_id] = take(&method, args)?;
            sdk.revoke(&conversation_id(id)?, &client_msg_id).await?;
            done()
        }
        // `[conversationID]`.
        Method::MarkConversationMessageAsRead => {
            let [id] = take(&method, args)?;
            sdk.mark_read(&conversation_id(id)?).await?;
            done()
        }
        // The user ids.
        Method::GetUsersInfo => json(&sdk.users_info(&args).await?),
        Method::GetJoinedGroupList => json(&sdk.joined_groups().await?),
        // The group ids.
        Method::GetSpecifiedGroupsInfo => json(&sdk.groups_info(&args).await?),
        // `[groupID]`: every member (the package filters and pages them).
        Method::GetGroupMemberList => {
            let [group_id] = take(&method, args)?;
            json(&sdk.members(&group_id).await?)
        }
        // `[groupID, userID, …]`.
        Method::GetSpecifiedGroupMembersInfo => {
            let Some((group_id, user_ids)) = args.split_first() else {
                return Err(missing_args(&method));
            };
            json(&sdk.members_info(group_id, user_ids).await?)
        }
        // `[groupName, member count, member ids…, admin ids…]`.
        Method::CreateGroup => {
            let (Some(name), Some(count)) = (args.first(), args.get(1)) else {
                return Err(missing_args(&method));
            };
            let count: usize = number::<u32>(count)? as usize;
            let ids = args.get(2..).unwrap_or_default();
            let (members, admins) = ids.split_at(count.min(ids.len()));
            json(&sdk.create_group(name, members, admins).await?)
        }
        Method::GetFriendList => json(&sdk.friends().await?),
        // `[path, body]`: the REST call of an official method that only changes server state
        // (`setGroupInfo`, `kickGroupMember`, …), whose JSON body the package wrote; the call
        // carries the session's token.
        Method::Change => {
            let [path, body] = take(&method, args)?;
            let body =
                Json::parse(&body).map_err(|e| SdkError::invalid_argument(format!("{e}")))?;
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

    /// The error of `method` with `args` on an SDK with no session.
    async fn failure(method: &str, args: &[&str]) -> SdkError {
        let args = args.iter().map(|a| (*a).to_owned()).collect();
        run(Sdk::new(), method.into(), args, 1)
            .await
            .expect_err(method)
    }

    #[wasm_bindgen_test]
    async fn arguments_are_counted_and_read_before_the_session() {
        // 10001: wrong arguments, found before anything else; 10005: no session.
        let cases: [(&str, &[&str], i32); 9] = [
            ("change", &["/group/quit_group", "{"], 10001),
            (
                "change",
                &["/group/quit_group", r#"{"groupID":"g1"}"#],
                10005,
            ),
            (
                "getAdvancedHistoryMessageList",
                &["sg_g1", "", "many"],
                10001,
            ),
            ("getAdvancedHistoryMessageList", &["nope", "", "5"], 10001),
            ("getAdvancedHistoryMessageList", &["sg_g1", "", "5"], 10005),
            ("login", &["u1", "t", "5.5", "http://a", "ws://w"], 10001),
            ("createGroup", &["team"], 10001),
            ("createGroup", &["team", "1", "u2"], 10005),
            ("getSpecifiedGroupMembersInfo", &[], 10001),
        ];
        for (method, args, code) in cases {
            let err = failure(method, args).await;
            assert_eq!(err.code(), code, "{method} {args:?}: {err}");
        }
        assert_eq!(
            failure("change", &["/group/quit_group"]).await.to_string(),
            "invalid argument: change: wrong argument count"
        );
        assert_eq!(
            failure("quitGroup", &["g1"]).await.to_string(),
            "invalid argument: no method quitGroup",
            "the package makes these calls itself"
        );
    }
}
