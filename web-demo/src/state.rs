//! The app's reactive state, fed by the SDK's events; routing; sign-in; the status bars.

use std::future::Future;
use std::pin::Pin;

use chorus_core::driver::Http as _;
use chorus_core::model::{Conversation, ConversationId, Friend, Group, Member, Message, User};
use chorus_sdk_wasm::net::FetchHttp;
use chorus_sdk_wasm::{LoginParams, Sdk, SdkEvent};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

use crate::dynamic::{self, attr, attr_text, flag, maybe, rows, text, value, Row};
use crate::util::{self, DemoError, IdMap};

thread_local! {
    static SDK: Sdk = Sdk::new();
}

/// The page's SDK session.
pub fn sdk() -> Sdk {
    SDK.with(Clone::clone)
}

/// Platform id of the demo's sessions (web).
const WEB: i32 = 5;
/// localStorage key of a user's token (shared by the user's tabs).
fn token_key(user_id: &str) -> String {
    format!("chorus-demo-token:{user_id}")
}
/// localStorage key of the last signed-in user (a reload signs in again).
const LAST_USER: &str = "chorus-demo-user";

/// Which page is shown, from the location hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `#/chats`: the conversation list (alone on phones).
    Chats,
    /// `#/chat/<conversationID>`.
    Chat(String),
    /// `#/friends`.
    Friends,
    /// `#/profile`.
    Profile,
    /// `#/join/<groupID>[?via=qr]`: the join link of a group.
    Join {
        /// The group.
        group_id: String,
        /// Opened from the QR code.
        via_qr: bool,
    },
}

impl Route {
    /// Parses a location hash.
    pub fn parse(hash: &str) -> Route {
        let hash = hash.trim_start_matches('#').trim_start_matches('/');
        let (path, query) = hash.split_once('?').unwrap_or((hash, ""));
        let decode = |s: &str| {
            js_sys::decode_uri_component(s)
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_else(|| s.to_owned())
        };
        match path.split_once('/') {
            Some(("chat", id)) if !id.is_empty() => Route::Chat(decode(id)),
            Some(("join", id)) if !id.is_empty() => Route::Join {
                group_id: decode(id),
                via_qr: query.split('&').any(|p| p == "via=qr"),
            },
            _ => match path {
                "friends" => Route::Friends,
                "profile" => Route::Profile,
                _ => Route::Chats,
            },
        }
    }

    /// The hash of this route.
    pub fn hash(&self) -> String {
        let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
        match self {
            Route::Chats => "#/chats".to_owned(),
            Route::Chat(id) => format!("#/chat/{}", enc(id)),
            Route::Friends => "#/friends".to_owned(),
            Route::Profile => "#/profile".to_owned(),
            Route::Join { group_id, via_qr } => format!(
                "#/join/{}{}",
                enc(group_id),
                if *via_qr { "?via=qr" } else { "" }
            ),
        }
    }
}

/// The connection as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    /// Not connected yet.
    Idle,
    /// Connecting.
    Connecting,
    /// Connected.
    Online,
    /// The last attempt failed; the SDK retries.
    Failed(String),
}

/// A seeded account from `/demo/users`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    /// User id.
    pub user_id: String,
    /// Nickname.
    pub nickname: String,
    /// One line about the account.
    pub about: String,
}

/// Everything the views read; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    /// The signed-in user id.
    pub user: RwSignal<Option<String>>,
    /// The signed-in user's profile.
    pub me: RwSignal<Option<User>>,
    /// The page.
    pub route: RwSignal<Route>,
    /// Connection state.
    pub conn: RwSignal<Conn>,
    /// Catch-up progress `(done, total)` while syncing.
    pub sync: RwSignal<Option<(u64, u64)>>,
    /// Conversations, newest first.
    pub conversations: RwSignal<Vec<Conversation>>,
    /// Joined groups by id.
    pub groups: RwSignal<IdMap<Group>>,
    /// Members by group id.
    pub members: RwSignal<IdMap<Vec<Member>>>,
    /// Friends.
    pub friends: RwSignal<Vec<Friend>>,
    /// Nicknames of other users looked up from the server.
    pub names: RwSignal<IdMap<String>>,
    /// The seeded accounts (for sign-in and the invite dialog).
    pub demo_users: RwSignal<Vec<DemoUser>>,
    /// The open conversation's messages, oldest first.
    pub messages: RwSignal<Vec<Message>>,
    /// The open conversation.
    pub open: RwSignal<Option<ConversationId>>,
    /// A bumped counter: the open chat should scroll to its end.
    pub scroll_end: RwSignal<u64>,
    /// The last error, shown in the page.
    pub error: RwSignal<Option<String>>,
}

impl AppState {
    /// Fresh state for the current location.
    pub fn new() -> AppState {
        AppState {
            user: RwSignal::new(None),
            me: RwSignal::new(None),
            route: RwSignal::new(Route::parse(&current_hash())),
            conn: RwSignal::new(Conn::Idle),
            sync: RwSignal::new(None),
            conversations: RwSignal::new(Vec::new()),
            groups: RwSignal::new(IdMap::default()),
            members: RwSignal::new(IdMap::default()),
            friends: RwSignal::new(Vec::new()),
            names: RwSignal::new(IdMap::default()),
            demo_users: RwSignal::new(Vec::new()),
            messages: RwSignal::new(Vec::new()),
            open: RwSignal::new(None),
            scroll_end: RwSignal::new(0),
            error: RwSignal::new(None),
        }
    }

    /// Follows the location hash and the SDK's events; signs in again after a reload.
    pub fn install(self) {
        let _ = window_event_listener(leptos::ev::hashchange, move |_| {
            self.route.set(Route::parse(&current_hash()));
        });
        sdk().on(move |event| self.handle(event));
        spawn_local(async move {
            match fetch_demo_users().await {
                Ok(users) => self.demo_users.set(users),
                Err(e) => self.fail(&e),
            }
        });
        if let Some(user) = storage_get(LAST_USER) {
            if storage_get(&token_key(&user)).is_some() {
                self.sign_in(user);
            }
        }
    }

    /// Shows an error.
    pub fn fail(self, error: &dyn std::fmt::Display) {
        self.error.set(Some(error.to_string()));
    }

    /// Runs `work` and shows its error, if any.
    pub fn run<F>(self, work: F)
    where
        F: std::future::Future<Output = Result<(), DemoError>> + 'static,
    {
        self.run_boxed(Box::pin(work));
    }

    fn run_boxed(self, work: Pin<Box<dyn Future<Output = Result<(), DemoError>>>>) {
        spawn_local(async move {
            if let Err(e) = work.await {
                self.fail(&e);
            }
        });
    }

    /// Goes to a page.
    pub fn go(self, route: Route) {
        let hash = route.hash();
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&hash);
        }
        self.route.set(route);
    }

    /// Signs in: the stored token of this user, or a new one from `/demo/token`.
    pub fn sign_in(self, user_id: String) {
        self.error.set(None);
        self.run(async move {
            let user_id = user_id.trim().to_owned();
            if user_id.is_empty() {
                return Err(DemoError::Input("enter a user ID".to_owned()));
            }
            let token = match storage_get(&token_key(&user_id)) {
                Some(token) => token,
                None => {
                    let token = fetch_token(&user_id).await?;
                    storage_set(&token_key(&user_id), &token);
                    token
                }
            };
            let (api_addr, ws_addr) = server_addresses()?;
            sdk()
                .login(LoginParams {
                    user_id: user_id.clone(),
                    token,
                    api_addr,
                    ws_addr,
                    platform_id: WEB,
                })
                .await?;
            storage_set(LAST_USER, &user_id);
            self.user.set(Some(user_id));
            self.reload().await
        });
    }

    /// Signs out and forgets this user's token.
    pub fn sign_out(self) {
        self.run(async move {
            let user = self.user.get_untracked();
            let result = sdk().logout().await;
            if let Some(user) = user {
                storage_remove(&token_key(&user));
            }
            storage_remove(LAST_USER);
            self.clear();
            result.map_err(DemoError::from)
        });
    }

    fn clear(self) {
        self.user.set(None);
        self.me.set(None);
        self.conversations.set(Vec::new());
        self.groups.set(IdMap::default());
        self.members.set(IdMap::default());
        self.friends.set(Vec::new());
        self.messages.set(Vec::new());
        self.open.set(None);
        self.conn.set(Conn::Idle);
        self.sync.set(None);
    }

    /// Reads everything from the SDK again.
    pub async fn reload(self) -> Result<(), DemoError> {
        let sdk = sdk();
        if let Ok(me) = sdk.self_info().await {
            self.me.set(Some(me));
        }
        self.conversations.set(sdk.conversations().await?);
        let groups = sdk.joined_groups().await?;
        let mut members = IdMap::default();
        for g in &groups {
            members.insert(g.group_id.clone(), sdk.members(&g.group_id).await?);
        }
        let mut by_id = IdMap::default();
        for g in groups {
            by_id.insert(g.group_id.clone(), g);
        }
        self.groups.set(by_id);
        self.members.set(members);
        self.friends.set(sdk.friends().await?);
        self.lookup_names().await;
        Ok(())
    }

    async fn reload_members(self, group_id: String) {
        if let Ok(list) = sdk().members(&group_id).await {
            self.members.update(|m| {
                m.insert(group_id, list);
            });
        }
    }

    /// Looks up the nicknames of single-chat peers not known otherwise.
    async fn lookup_names(self) {
        let known = self.names.get_untracked();
        let me = self.user.get_untracked().unwrap_or_default();
        let missing: Vec<String> = self
            .conversations
            .get_untracked()
            .iter()
            .filter(|c| c.group_id.is_empty() && !c.user_id.is_empty())
            .map(|c| c.user_id.clone())
            .filter(|u| *u != me && !known.contains_key(u))
            .collect();
        if missing.is_empty() {
            return;
        }
        if let Ok(users) = sdk().users_info(&missing).await {
            self.names.update(|n| {
                for u in users {
                    n.insert(u.user_id.clone(), u.display_name().to_owned());
                }
            });
        }
    }

    /// The name to show for a user: own profile, friend remark, group nickname, looked-up name.
    pub fn name_of(self, user_id: &str, group_id: Option<&str>) -> String {
        if self.user.get().as_deref() == Some(user_id) {
            if let Some(me) = self.me.get() {
                return me.display_name().to_owned();
            }
        }
        if let Some(group_id) = group_id {
            let from_group = self.members.with(|m| {
                m.get(group_id)
                    .and_then(|list| list.iter().find(|x| x.user_id == user_id))
                    .map(|x| x.nickname.clone())
            });
            if let Some(name) = from_group.filter(|n| !n.is_empty()) {
                return name;
            }
        }
        let friend = self.friends.with(|f| {
            f.iter()
                .find(|f| f.user_id() == user_id)
                .map(|f| f.display_name().to_owned())
        });
        if let Some(name) = friend {
            return name;
        }
        self.names
            .with(|n| n.get(user_id).cloned())
            .unwrap_or_else(|| user_id.to_owned())
    }

    /// The signed-in user's role level in a group (0 when not a member).
    pub fn my_role(self, group_id: &str) -> i32 {
        let me = self.user.get().unwrap_or_default();
        self.role_of(group_id, &me)
    }

    /// A user's role level in a group (0 when not a member).
    pub fn role_of(self, group_id: &str, user_id: &str) -> i32 {
        self.members.with(|m| {
            m.get(group_id)
                .and_then(|l| l.iter().find(|x| x.user_id == user_id))
                .map_or(0, |x| x.role_level)
        })
    }

    fn upsert_conversations(self, list: &[Conversation]) {
        self.conversations.update(|all| {
            for c in list {
                match all.iter_mut().find(|x| x.id == c.id) {
                    Some(x) => *x = c.clone(),
                    None => all.push(c.clone()),
                }
            }
            // Pinned first, then newest first.
            let keys = all
                .iter()
                .map(|c| {
                    let t = c.latest_message.as_ref().map_or(0, |m| m.send_time);
                    [-i64::from(c.is_pinned), !t, 0]
                })
                .collect();
            util::sort_by_keys(all, keys);
        });
    }

    fn handle(self, event: &SdkEvent) {
        if let Some(name) = event.official_name() {
            web_sys::console::debug_1(&format!("chorus event {name}").into());
        }
        match event {
            SdkEvent::Connecting => self.conn.set(Conn::Connecting),
            SdkEvent::ConnectSuccess => self.conn.set(Conn::Online),
            SdkEvent::ConnectFailed { code, message } => {
                self.conn.set(Conn::Failed(format!("{message} ({code})")));
            }
            SdkEvent::KickedOffline
            | SdkEvent::UserTokenExpired
            | SdkEvent::UserTokenInvalid { .. } => {
                if let Some(user) = self.user.get_untracked() {
                    storage_remove(&token_key(&user));
                }
                storage_remove(LAST_USER);
                let why = match event {
                    SdkEvent::KickedOffline => "another sign-in of this user took over",
                    SdkEvent::UserTokenExpired => "the token expired",
                    _ => "the server refused the token",
                };
                self.clear();
                self.fail(&format!("Signed out: {why}. Sign in again."));
            }
            SdkEvent::SyncServerStart => self.sync.set(Some((0, 0))),
            SdkEvent::SyncServerProgress { done, total } => self.sync.set(Some((*done, *total))),
            SdkEvent::SyncServerFinish | SdkEvent::SyncServerFailed => {
                self.sync.set(None);
                self.run(async move { self.reload().await });
            }
            SdkEvent::RecvNewMessages(messages) => {
                // A conversation met for the first time (e.g. right after joining a group) may
                // come without a NewConversation event: read the list again.
                let unknown = self.conversations.with_untracked(|list| {
                    messages
                        .iter()
                        .any(|m| !list.iter().any(|c| c.id == m.conversation_id))
                });
                if unknown {
                    self.refresh_conversations();
                }
                let open = self.open.get_untracked();
                // Only what follows the view: older messages (catch-up, history pulls) are
                // reached by paging back, so the view never has holes.
                let newest = self
                    .messages
                    .with_untracked(|l| l.iter().map(|m| m.seq.0).max().unwrap_or(0));
                let mine: Vec<Message> = messages
                    .iter()
                    .filter(|m| Some(&m.conversation_id) == open.as_ref())
                    .filter(|m| m.seq.0 == 0 || m.seq.0 > newest)
                    .cloned()
                    .collect();
                if !mine.is_empty() {
                    self.add_messages(mine);
                    self.scroll_to_end();
                    if let Some(id) = open {
                        spawn_local(async move {
                            let _ = sdk().mark_read(&id).await;
                        });
                    }
                }
            }
            SdkEvent::NewRecvMessageRevoked(info) => {
                self.messages.update(|list| {
                    for m in list.iter_mut().filter(|m| {
                        m.client_msg_id == info.client_msg_id
                            || (m.conversation_id == info.conversation_id && m.seq == info.seq)
                    }) {
                        m.status = chorus_core::model::MessageStatus::Revoked {
                            by: info.revoker_user_id.clone(),
                            role: info.revoker_role,
                            nickname: info.revoker_nickname.clone(),
                            time: info.revoke_time,
                        };
                    }
                });
                self.run(async move {
                    self.conversations.set(sdk().conversations().await?);
                    Ok(())
                });
            }
            SdkEvent::ConversationChanged(list) | SdkEvent::NewConversation(list) => {
                self.upsert_conversations(list);
                spawn_local(async move { self.lookup_names().await });
            }
            SdkEvent::SelfInfoUpdated(user) => {
                self.me.set(Some(user.clone()));
                self.rename_in_messages(&user.user_id, user.display_name());
            }
            SdkEvent::FriendAdded(_)
            | SdkEvent::FriendDeleted(_)
            | SdkEvent::FriendInfoChanged(_) => {
                self.run(async move {
                    self.friends.set(sdk().friends().await?);
                    Ok(())
                });
            }
            SdkEvent::JoinedGroupAdded(g) | SdkEvent::GroupInfoChanged(g) => {
                if matches!(event, SdkEvent::JoinedGroupAdded(_)) {
                    self.refresh_conversations();
                }
                self.groups.update(|all| {
                    all.insert(g.group_id.clone(), g.clone());
                });
                let id = g.group_id.clone();
                spawn_local(async move { self.reload_members(id).await });
            }
            SdkEvent::JoinedGroupDeleted(g) | SdkEvent::GroupDismissed(g) => {
                self.groups.update(|all| {
                    all.remove(&g.group_id);
                });
            }
            SdkEvent::GroupMemberAdded(m)
            | SdkEvent::GroupMemberDeleted(m)
            | SdkEvent::GroupMemberInfoChanged(m) => {
                if matches!(event, SdkEvent::GroupMemberInfoChanged(_)) && !m.nickname.is_empty() {
                    self.rename_in_messages(&m.user_id, &m.nickname);
                }
                let id = m.group_id.clone();
                spawn_local(async move { self.reload_members(id).await });
            }
            _ => {}
        }
    }

    /// Adds or replaces messages of the open chat (see [`util::merge_messages`]).
    pub fn add_messages(self, new: Vec<Message>) {
        self.messages.update(|list| util::merge_messages(list, new));
    }

    /// Asks the open chat to scroll to its end.
    pub fn scroll_to_end(self) {
        self.scroll_end.update(|n| *n += 1);
    }

    fn refresh_conversations(self) {
        self.run(async move {
            self.conversations.set(sdk().conversations().await?);
            Ok(())
        });
    }

    /// Shows a new name on the open chat's messages of this sender.
    fn rename_in_messages(self, user_id: &str, name: &str) {
        let stale = self.messages.with_untracked(|l| {
            l.iter()
                .any(|m| m.send_id == user_id && m.sender_nickname != name)
        });
        if stale {
            self.messages.update(|list| {
                for m in list.iter_mut().filter(|m| m.send_id == user_id) {
                    m.sender_nickname = name.to_owned();
                }
            });
        }
    }
}

impl Default for AppState {
    fn default() -> AppState {
        AppState::new()
    }
}

fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn storage_get(key: &str) -> Option<String> {
    storage()
        .and_then(|s| s.get_item(key).ok().flatten())
        .filter(|v| !v.is_empty())
}

fn storage_set(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

fn storage_remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// The page's origin (REST) and its `/msg_gateway` WebSocket address.
fn server_addresses() -> Result<(String, String), DemoError> {
    let location = web_sys::window()
        .ok_or_else(|| DemoError::Input("no window".to_owned()))?
        .location();
    let origin = location
        .origin()
        .map_err(|_| DemoError::Input("the page has no origin".to_owned()))?;
    let ws = if let Some(rest) = origin.strip_prefix("https://") {
        format!("wss://{rest}/msg_gateway")
    } else {
        format!("ws://{}/msg_gateway", origin.trim_start_matches("http://"))
    };
    Ok((origin, ws))
}

/// A POST to one of the `/demo/*` routes of the page's server, with a JSON body; the `data`
/// of the answer.
async fn demo_call(path: &str, body: String) -> Result<JsValue, DemoError> {
    let (origin, _) = server_addresses()?;
    let http = FetchHttp::new(&origin);
    let op = format!("demo-{}", js_sys::Date::now() as u64);
    let text = http
        .post(path.to_owned(), vec![("operationID".to_owned(), op)], body)
        .await
        .map_err(|e| DemoError::Demo(format!("{path}: {}", e.0)))?;
    let envelope = util::parse_json(&text)
        .ok_or_else(|| DemoError::Demo(format!("{path} did not answer in JSON")))?;
    let code = util::field(&envelope, "errCode").as_f64().unwrap_or(0.0) as i64;
    if code != 0 {
        return Err(DemoError::Demo(format!(
            "{path}: {code} {}",
            util::str_field(&envelope, "errMsg")
        )));
    }
    Ok(util::field(&envelope, "data"))
}

async fn fetch_demo_users() -> Result<Vec<DemoUser>, DemoError> {
    let data = demo_call("/demo/users", "{}".to_owned()).await?;
    let users = util::field(&data, "users");
    if !js_sys::Array::is_array(&users) {
        return Ok(Vec::new());
    }
    Ok(js_sys::Array::from(&users)
        .iter()
        .map(|u| DemoUser {
            user_id: util::str_field(&u, "userID"),
            nickname: util::str_field(&u, "nickname"),
            about: util::str_field(&u, "about"),
        })
        .collect())
}

async fn fetch_token(user_id: &str) -> Result<String, DemoError> {
    let quoted = js_sys::JSON::stringify(&JsValue::from_str(user_id))
        .map(String::from)
        .unwrap_or_default();
    let body = format!("{{\"userID\":{quoted},\"platformID\":{WEB}}}");
    let data = demo_call("/demo/token", body).await?;
    Some(util::str_field(&data, "token"))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| DemoError::Demo("/demo/token returned no token".to_owned()))
}

/// The sign-in screen.
#[component]
pub fn SignIn(state: AppState) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    view! {
        <div class="signin">
            <h1>"Chorus demo"</h1>
            <p>"Sign in as one of the seeded demo users, or enter a user ID."</p>
            <ErrorBar state=state />
            <ul class="demo-users" data-testid="demo-users">
                {rows(move || state.demo_users.get().into_iter().map(|u| {
                    Row::new(u.user_id.clone(), move || {
                        let id = u.user_id.clone();
                        view! {
                            <li>
                                <button
                                    class="demo-user"
                                    data-testid=format!("signin-{}", u.user_id)
                                    on:click=dynamic::click(move |_| state.sign_in(id.clone()))
                                >
                                    <span class="avatar">{util::initials(&u.nickname)}</span>
                                    <span class="who">
                                        <strong>{u.nickname.clone()}</strong>
                                        <small>{u.about.clone()}</small>
                                    </span>
                                </button>
                            </li>
                        }.into_any()
                    })
                }).collect())}
            </ul>
            <form class="row" on:submit=dynamic::submit(move || state.sign_in(typed.get_untracked()))>
                <label {attr("for", "signin-id")}>"User ID"</label>
                <input {attr("id", "signin-id")} data-testid="signin-id" prop:value=value(typed)
                    on:input=dynamic::input(typed) />
                <button {attr("type", "submit")} data-testid="signin-submit">"Sign in"</button>
            </form>
            <p class="note">
                "Tokens come from POST /demo/token, which exists only on a server started with "
                <code>"--seed-demo"</code>
                ". Each user's token is kept in this browser's localStorage, so the user's tabs share it."
            </p>
        </div>
    }
}

/// Connection and catch-up status.
#[component]
pub fn StatusBar(state: AppState) -> impl IntoView {
    let status = move || match (state.sync.get(), state.conn.get()) {
        (Some((done, total)), _) if total > 0 => format!("Syncing… {done}/{total}"),
        (Some(_), _) => "Syncing…".to_owned(),
        (None, Conn::Online) => "Online".to_owned(),
        (None, Conn::Connecting) => "Connecting…".to_owned(),
        (None, Conn::Idle) => "Starting…".to_owned(),
        (None, Conn::Failed(why)) => format!("Offline: {why}; retrying"),
    };
    let online = flag(move || state.conn.with(|c| *c == Conn::Online));
    let offline = flag(move || state.conn.with(|c| matches!(c, Conn::Failed(_))));
    view! {
        <div class="status" class:online=online class:offline=offline data-testid="conn-status" {attr("role", "status")}>
            <span>{text(status)}</span>
            {maybe(move || state.sync.get().map(|(done, total)| view! {
                <progress data-testid="sync-progress" {attr_text("max", total.max(1).to_string())} {attr_text("value", done.to_string())}></progress>
            }.into_any()))}
        </div>
    }
}

/// The last error, dismissible.
#[component]
pub fn ErrorBar(state: AppState) -> impl IntoView {
    maybe(move || {
        state.error.get().map(|e| {
            view! {
                <div class="error" {attr("role", "alert")} data-testid="error">
                    <span>{e}</span>
                    <button {attr("aria-label", "Dismiss")} on:click=dynamic::click(move |_| state.error.set(None))>"×"</button>
                </div>
            }
            .into_any()
        })
    })
}
