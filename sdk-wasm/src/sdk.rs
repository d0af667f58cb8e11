//! [`Sdk`]: the Rust API of the browser SDK. The JavaScript API ([`crate::js`]) and the Leptos
//! demo are both built on it.
//!
//! One `Sdk` serves one logged-in user at a time. [`Sdk::login`] opens the user's IndexedDB
//! database and joins the user's tab group (see [`crate::tabs`]):
//!
//! * the **leader** tab (the one holding the user's Web Lock) loads core's client from the
//!   database and runs core's driver over the browser WebSocket, `fetch` and timers; it forwards
//!   every [`SdkEvent`] to the other tabs and runs the commands they send;
//! * **follower** tabs read the same database, raise the forwarded events, and send their
//!   commands (send a message, load history, mark read) to the leader. When the leader closes,
//!   the browser hands the lock to a follower, which becomes the leader: it loads the engine from
//!   the database (cursors, outbox) and connects, so nothing is lost or sent twice.
//!
//! Reads come from the database in every tab. Calls that change server state (group settings,
//! remarks, profile, recall, …) are REST calls made by the calling tab; their effects come back
//! as notifications through the leader's connection, are stored, and are raised as events.

use crate::cell::CellAccess;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use chorus_core::chan::{oneshot, unbounded, OneshotSender, Sender};
use chorus_core::client::ClientConfig;
use chorus_core::conn::SeededEntropy;
use chorus_core::driver::{self, Command, Http};
use chorus_core::model::{
    Conversation, ConversationId, Friend, Group, Member, Message, MessageStatus, Seq, User,
};
use chorus_core::outbox::Recipient;
use chorus_core::store::{Direction, Store};
use chorus_proto::constants::PlatformId;
use chorus_proto::msgjson::{Fields, FromJson, Json, JsonError};
use chorus_proto::pb::sdkws::{GroupInfo, GroupMemberFullInfo, UserInfo};
use serde::{Deserialize, Serialize};

use crate::error::SdkError;
use crate::event::SdkEvent;
use crate::json::{
    as_bool, as_i64, as_text, as_u64, int, member, object, quoted, single, text, texts,
};
use crate::net::{now_millis, within, BrowserClock, BrowserTransport, FetchHttp};
use crate::store::IdbStore;
use crate::tabs::{Leadership, TabChannel, TabInbox};

/// The official SDK's login status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginStatus {
    /// Not logged in.
    Logout = 1,
    /// Logging in.
    Logging = 2,
    /// Logged in.
    Logged = 3,
}

/// What [`Sdk::login`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginParams {
    /// The user.
    pub user_id: String,
    /// A token for this user and platform (from the app's server).
    pub token: String,
    /// The REST API base address, e.g. `http://127.0.0.1:10002`.
    pub api_addr: String,
    /// The WebSocket gateway address, e.g. `ws://127.0.0.1:10001` (the SDK appends nothing:
    /// give the full gateway URL, with `/msg_gateway` where the server mounts it there).
    pub ws_addr: String,
    /// The platform id (5 = web).
    pub platform_id: i32,
}

/// One page of history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    /// The messages (deleted ones left out).
    pub messages: Vec<Message>,
    /// No older message exists (or is visible to this user).
    pub is_end: bool,
    /// The lowest seq of this page (0 when empty): pass it back to page further.
    pub last_min_seq: u64,
}

/// Changes to a group's settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupUpdate {
    /// The group.
    pub group_id: String,
    /// A new name.
    pub name: Option<String>,
    /// A new announcement (the server records the editor and time).
    pub announcement: Option<String>,
    /// A new introduction.
    pub introduction: Option<String>,
    /// Members' profiles: 0 visible to members, 1 hidden from ordinary members.
    pub look_member_info: Option<i32>,
    /// Friend requests between members: 0 allowed, 1 forbidden for ordinary members.
    pub apply_member_friend: Option<i32>,
    /// Whether new members see the messages from before they joined.
    pub history_for_new_members: Option<bool>,
}

/// A listener registration, for [`Sdk::off`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(u32);

type Listener = Rc<dyn Fn(&SdkEvent)>;
/// A leader's answer to a forwarded command: text, or an error code and message.
type TabResult = Result<String, (i32, String)>;
/// A boxed future of this thread (one state machine shared by the call sites).
type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;
/// A one-shot event watcher: returns true once satisfied (and is then removed).
type Watcher = Box<dyn FnMut(&SdkEvent) -> bool>;

/// How long a follower waits for the leader to take a forwarded command.
const LEADER_REPLY_MS: u32 = 10_000;
/// How long a history load may take before the stored part is returned as is.
const HISTORY_WAIT_MS: u32 = 15_000;

/// The browser SDK. Cheap to clone: clones share the session.
#[derive(Clone, Default)]
pub struct Sdk {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for Sdk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sdk")
            .field("status", &self.inner.status.get())
            .field("user_id", &self.user_id())
            .finish_non_exhaustive()
    }
}

struct Inner {
    status: Cell<LoginStatus>,
    session: RefCell<Option<Rc<Session>>>,
    listeners: RefCell<Vec<(ListenerId, Listener)>>,
    next_listener: Cell<u32>,
    tab_id: String,
    /// Separates sessions of one user in one browser (see [`Sdk::with_scope`]).
    scope: String,
}

impl Default for Inner {
    fn default() -> Inner {
        Inner {
            status: Cell::new(LoginStatus::Logout),
            session: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(0),
            tab_id: format!("{:016x}", random_u64()),
            scope: String::new(),
        }
    }
}

/// A logged-in user's session in this tab.
struct Session {
    params: LoginParams,
    store: Rc<SessionStore>,
    http: FetchHttp,
    channel: TabChannel,
    /// The driver's command queue, while this tab leads.
    commands: RefCell<Option<Sender<Command>>>,
    leadership: RefCell<Option<Leadership>>,
    watchers: RefCell<Vec<Watcher>>,
    /// Follower requests awaiting the leader's reply.
    replies: RefCell<Vec<(u64, OneshotSender<TabResult>)>>,
    next_request: Cell<u64>,
    ended: Cell<bool>,
    operation: Cell<u64>,
    /// What the leader's events said last: connected, and caught up.
    connected: Cell<bool>,
    synced: Cell<bool>,
}

/// What tabs tell each other, as JSON text: `{"Event": …}`, `{"Command": {"id", "from",
/// "command"}}`, `{"Reply": {"id", "to", "result": {"Ok": text} | {"Err": [code, message]}}}`,
/// `"Logout"`, `{"Hello": {"from"}}` and `{"State": {"to", "connected", "synced"}}` (serde's
/// externally tagged form, written by hand and read through a `msgjson` tree).
#[derive(Debug)]
enum TabMessage {
    /// An event the leader raised.
    Event(SdkEvent),
    /// A follower's command for the leader.
    Command {
        id: u64,
        from: String,
        command: TabCommand,
    },
    /// The leader's answer to a command.
    Reply {
        id: u64,
        to: String,
        result: Result<String, (i32, String)>,
    },
    /// The user logged out in some tab.
    Logout,
    /// A tab joined and asks the leader where the session stands.
    Hello { from: String },
    /// The leader's answer to [`TabMessage::Hello`].
    State {
        to: String,
        connected: bool,
        synced: bool,
    },
}

/// A follower's command: `{"SendText": {"group", "to", "text"}}`,
/// `{"LoadHistory": {"conversation_id", "before", "count"}}` or
/// `{"MarkRead": {"conversation_id"}}`.
#[derive(Debug)]
enum TabCommand {
    SendText {
        group: bool,
        to: String,
        text: String,
    },
    LoadHistory {
        conversation_id: String,
        before: u64,
        count: u64,
    },
    MarkRead {
        conversation_id: String,
    },
}

fn random_u64() -> u64 {
    let hi = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
    let lo = (js_sys::Math::random() * f64::from(u32::MAX)) as u64;
    (hi << 32) ^ lo ^ now_millis()
}

impl Sdk {
    /// An SDK with no session.
    pub fn new() -> Sdk {
        Sdk::default()
    }

    /// An SDK whose sessions are kept apart from the default ones of the same user in this
    /// browser: its own database, leader lock and tab channel, as if on another device. Tabs
    /// share a session only when they use the same scope (the default is the empty scope).
    pub fn with_scope(scope: &str) -> Sdk {
        Sdk {
            inner: Rc::new(Inner {
                scope: scope.to_owned(),
                ..Inner::default()
            }),
        }
    }

    /// The login status.
    pub fn login_status(&self) -> LoginStatus {
        self.inner.status.get()
    }

    /// The logged-in user.
    pub fn user_id(&self) -> Option<String> {
        self.session().ok().map(|s| s.params.user_id.clone())
    }

    /// Whether this tab holds the connection.
    pub fn is_leader(&self) -> bool {
        self.session()
            .map(|s| s.commands.read().is_some())
            .unwrap_or(false)
    }

    /// Calls `listener` with every event until [`Sdk::off`].
    pub fn on(&self, listener: impl Fn(&SdkEvent) + 'static) -> ListenerId {
        let id = ListenerId(self.inner.next_listener.get());
        self.inner.next_listener.set(id.0 + 1);
        self.inner.listeners.write().push((id, Rc::new(listener)));
        id
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) {
        self.inner.listeners.write().retain(|(l, _)| *l != id);
    }

    fn session(&self) -> Result<Rc<Session>, SdkError> {
        self.inner
            .session
            .read()
            .clone()
            .ok_or_else(SdkError::not_logged_in)
    }

    /// The database name of a user's data (in the default scope: `chorus-<userID>`).
    pub fn database_name(&self, user_id: &str) -> String {
        format!("chorus-{}", self.group_name(user_id))
    }

    /// What the user's tabs in this scope share: lock and channel names.
    fn group_name(&self, user_id: &str) -> String {
        if self.inner.scope.is_empty() {
            user_id.to_owned()
        } else {
            format!("{user_id}@{}", self.inner.scope)
        }
    }

    /// Logs in: opens the user's database, joins the user's tabs and (as the leader tab)
    /// connects. Resolves once local data can be read; connection and sync progress follow as
    /// events.
    pub async fn login(&self, params: LoginParams) -> Result<(), SdkError> {
        if params.user_id.is_empty() {
            return Err(SdkError::invalid_argument("userID is empty".to_owned()));
        }
        if params.token.is_empty() {
            return Err(SdkError::invalid_argument("token is empty".to_owned()));
        }
        if !(params.ws_addr.starts_with("ws://") || params.ws_addr.starts_with("wss://")) {
            return Err(SdkError::invalid_argument(format!(
                "wsAddr must start with ws:// or wss://, got `{}`",
                params.ws_addr
            )));
        }
        if !(params.api_addr.starts_with("http://") || params.api_addr.starts_with("https://")) {
            return Err(SdkError::invalid_argument(format!(
                "apiAddr must start with http:// or https://, got `{}`",
                params.api_addr
            )));
        }
        if self.inner.status.get() != LoginStatus::Logout {
            return Err(SdkError::already_logged_in());
        }
        self.inner.status.set(LoginStatus::Logging);
        if PlatformId::try_from(params.platform_id).is_err() {
            return Err(SdkError::invalid_argument(format!(
                "platformID {} is not a known platform (5 = web)",
                params.platform_id
            )));
        }
        let store = match open_store(&self.database_name(&params.user_id)).await {
            Ok(store) => Rc::new(store),
            Err(e) => {
                self.inner.status.set(LoginStatus::Logout);
                return Err(e);
            }
        };
        let (channel, inbox) = TabChannel::open(&self.group_name(&params.user_id));
        let session = Rc::new(Session {
            http: FetchHttp::new(&params.api_addr),
            params,
            store,
            channel,
            commands: RefCell::new(None),
            leadership: RefCell::new(None),
            watchers: RefCell::new(Vec::new()),
            replies: RefCell::new(Vec::new()),
            next_request: Cell::new(1),
            ended: Cell::new(false),
            operation: Cell::new(0),
            connected: Cell::new(false),
            synced: Cell::new(false),
        });
        *self.inner.session.write() = Some(Rc::clone(&session));
        self.inner.status.set(LoginStatus::Logged);

        let sdk = self.clone();
        let listening = Rc::clone(&session);
        wasm_bindgen_futures::spawn_local(async move {
            sdk.listen_to_tabs(listening, inbox).await;
        });
        // A leader already running tells this tab where the session stands.
        session.channel.post(&encode(&TabMessage::Hello {
            from: self.inner.tab_id.clone(),
        }));
        let leadership = Leadership::request(&self.group_name(&session.params.user_id));
        let sdk = self.clone();
        let leading = Rc::clone(&session);
        let granted = leadership.granted();
        *session.leadership.write() = Some(leadership);
        wasm_bindgen_futures::spawn_local(async move {
            if granted.await.is_ok() && !leading.ended.get() {
                sdk.lead(leading).await;
            }
        });
        Ok(())
    }

    /// Logs out every tab of the user: the leader tells the gateway and closes the connection.
    pub async fn logout(&self) -> Result<(), SdkError> {
        let session = self.session()?;
        session.channel.post(&encode(&TabMessage::Logout));
        self.end_session(&session, true).await;
        Ok(())
    }

    async fn end_session(&self, session: &Rc<Session>, logout: bool) {
        if session.ended.replace(true) {
            return;
        }
        let commands = session.commands.write().take();
        if let Some(commands) = commands {
            if logout {
                let (done, logged_out) = oneshot::<()>();
                let mut done = Some(done);
                session.watch(Box::new(move |e| {
                    if matches!(e, SdkEvent::LoggedOut) {
                        if let Some(done) = done.take() {
                            done.send(());
                        }
                        return true;
                    }
                    false
                }));
                if commands.send(Command::Logout).is_ok() {
                    within(3_000, logged_out).await;
                }
            }
            let _ = commands.send(Command::Stop);
        }
        if let Some(leadership) = session.leadership.write().take() {
            leadership.release();
        }
        let current = self.inner.session.read().clone();
        if current.is_some_and(|c| Rc::ptr_eq(&c, session)) {
            *self.inner.session.write() = None;
            self.inner.status.set(LoginStatus::Logout);
        }
    }

    /// Runs the engine while this tab leads.
    async fn lead(&self, session: Rc<Session>) {
        let params = &session.params;
        let ws_url = params.ws_addr.clone();
        let mut config = ClientConfig::new(ws_url, &params.user_id, &params.token);
        if let Ok(platform) = PlatformId::try_from(params.platform_id) {
            config.conn.platform = platform;
            config.outbox.platform_id = params.platform_id;
        }
        let seed = random_u64();
        let loading: LocalBoxFuture<'_, _> = Box::pin(driver::load_client(
            &*session.store,
            config,
            Box::new(SeededEntropy::new(seed)),
            Box::new(SeededEntropy::new(seed.rotate_left(21))),
            Box::new(SeededEntropy::new(random_u64())),
        ));
        let client = loading.await;
        let mut client = match client {
            Ok(client) => client,
            Err(e) => {
                self.emit(
                    &session,
                    SdkEvent::ConnectFailed {
                        code: 0,
                        message: format!("loading the local database failed: {e}"),
                    },
                    true,
                );
                return;
            }
        };
        let (commands, command_rx) = unbounded();
        let _ = commands.send(Command::Connect);
        *session.commands.write() = Some(commands);
        let sdk = self.clone();
        let events_session = Rc::clone(&session);
        let clock = BrowserClock::new();
        let running: LocalBoxFuture<'_, _> = Box::pin(driver::run(
            &mut client,
            &*session.store,
            &BrowserTransport,
            &session.http,
            &clock,
            command_rx,
            move |event| {
                for event in SdkEvent::from_client(event) {
                    let ends = event.ends_session();
                    sdk.emit(&events_session, event, true);
                    if ends {
                        // The engine stays idle; the session is over for every tab.
                        let sdk = sdk.clone();
                        let session = Rc::clone(&events_session);
                        wasm_bindgen_futures::spawn_local(async move {
                            sdk.end_session(&session, false).await;
                        });
                    }
                }
            },
        ));
        let result = running.await;
        if let Err(e) = result {
            self.emit(
                &session,
                SdkEvent::ConnectFailed {
                    code: 0,
                    message: format!("the engine stopped: {e}"),
                },
                true,
            );
        }
        session.commands.write().take();
    }

    /// Handles what the other tabs post.
    async fn listen_to_tabs(&self, session: Rc<Session>, mut inbox: TabInbox) {
        while let Some(text) = inbox.next().await {
            if session.ended.get() {
                return;
            }
            let Some(message) = decode(&text) else {
                continue;
            };
            match message {
                TabMessage::Event(event) => {
                    if session.commands.read().is_none() {
                        self.emit(&session, event, false);
                    }
                }
                TabMessage::Command { id, from, command } => {
                    if session.commands.read().is_some() {
                        let result = self.run_tab_command(&session, command).await;
                        session.channel.post(&encode(&TabMessage::Reply {
                            id,
                            to: from,
                            result,
                        }));
                    }
                }
                TabMessage::Reply { id, to, result } => {
                    if to == self.inner.tab_id {
                        if let Some(reply) = session.take_reply(id) {
                            reply.send(result);
                        }
                    }
                }
                TabMessage::Logout => {
                    self.end_session(&session, true).await;
                    self.emit_local(&SdkEvent::LoggedOut);
                    return;
                }
                TabMessage::Hello { from } => {
                    if session.commands.read().is_some() {
                        session.channel.post(&encode(&TabMessage::State {
                            to: from,
                            connected: session.connected.get(),
                            synced: session.synced.get(),
                        }));
                    }
                }
                TabMessage::State {
                    to,
                    connected,
                    synced,
                } => {
                    if to == self.inner.tab_id && session.commands.read().is_none() {
                        if connected && !session.connected.get() {
                            self.emit(&session, SdkEvent::ConnectSuccess, false);
                        }
                        if synced && !session.synced.get() {
                            self.emit(&session, SdkEvent::SyncServerFinish, false);
                        }
                    }
                }
            }
        }
    }

    /// Runs a follower's command in the leader tab.
    fn run_tab_command<'a>(
        &'a self,
        session: &'a Rc<Session>,
        command: TabCommand,
    ) -> LocalBoxFuture<'a, TabResult> {
        Box::pin(self.run_tab_command_inner(session, command))
    }

    async fn run_tab_command_inner(&self, session: &Rc<Session>, command: TabCommand) -> TabResult {
        let fail = |e: SdkError| (e.code(), format!("{e}"));
        match command {
            TabCommand::SendText { group, to, text } => {
                let recipient = if group {
                    Recipient::Group(to)
                } else {
                    Recipient::User(to)
                };
                self.leader_send(session, recipient, text)
                    .await
                    .map_err(fail)
            }
            TabCommand::LoadHistory {
                conversation_id,
                before,
                count,
            } => {
                let conversation_id = ConversationId::parse(conversation_id)
                    .map_err(|e| fail(SdkError::invalid_argument(format!("{e}"))))?;
                session
                    .command(Command::LoadHistory {
                        conversation_id,
                        before: Seq(before),
                        count,
                    })
                    .map_err(fail)?;
                Ok(String::new())
            }
            TabCommand::MarkRead { conversation_id } => {
                let conversation_id = ConversationId::parse(conversation_id)
                    .map_err(|e| fail(SdkError::invalid_argument(format!("{e}"))))?;
                session
                    .command(Command::MarkConversationRead { conversation_id })
                    .map_err(fail)?;
                Ok(String::new())
            }
        }
    }

    /// Sends a command to the leader tab and waits for its answer.
    async fn forward(
        &self,
        session: &Rc<Session>,
        command: TabCommand,
    ) -> Result<String, SdkError> {
        let id = session.next_request.get();
        session.next_request.set(id + 1);
        let (tx, rx) = oneshot();
        session.replies.write().push((id, tx));
        session.channel.post(&encode(&TabMessage::Command {
            id,
            from: self.inner.tab_id.clone(),
            command,
        }));
        let outcome = within(LEADER_REPLY_MS, rx).await;
        session.take_reply(id);
        match outcome {
            Some(Some(Ok(text))) => Ok(text),
            Some(Some(Err((code, message)))) => Err(SdkError::from_code(code, message)),
            Some(None) | None => Err(SdkError::no_leader()),
        }
    }

    /// Raises an event in this tab and, from the leader, in the other tabs.
    fn emit(&self, session: &Rc<Session>, event: SdkEvent, from_leader: bool) {
        match &event {
            SdkEvent::ConnectSuccess => session.connected.set(true),
            SdkEvent::Connecting | SdkEvent::ConnectFailed { .. } => session.connected.set(false),
            SdkEvent::SyncServerStart => session.synced.set(false),
            SdkEvent::SyncServerFinish => session.synced.set(true),
            _ => {}
        }
        if from_leader {
            session.channel.post(&encode_event(&event));
        }
        session.watchers.write().retain_mut(|watch| !watch(&event));
        self.emit_local(&event);
    }

    fn emit_local(&self, event: &SdkEvent) {
        let listeners: Vec<Listener> = self
            .inner
            .listeners
            .read()
            .iter()
            .map(|(_, l)| Rc::clone(l))
            .collect();
        for listener in listeners {
            listener(event);
        }
    }

    // ----- Reads (the local database) -----

    /// Every conversation, pinned first, then by latest message time (newest first).
    pub async fn conversations(&self) -> Result<Vec<Conversation>, SdkError> {
        let session = self.session()?;
        let mut list = session.store.conversations().await?;
        let key = |c: &Conversation| {
            let time = c
                .latest_message
                .as_ref()
                .map(|m| m.send_time)
                .unwrap_or_default();
            (std::cmp::Reverse(c.is_pinned), std::cmp::Reverse(time))
        };
        chorus_core::sort::sort_by(&mut list, &|a, b| key(a).cmp(&key(b)));
        Ok(list)
    }

    /// One conversation.
    pub async fn conversation(
        &self,
        conversation_id: &ConversationId,
    ) -> Result<Option<Conversation>, SdkError> {
        Ok(self.session()?.store.conversation(conversation_id).await?)
    }

    /// Up to `count` messages before the one with `start_client_msg_id` (or the newest ones),
    /// oldest first. Seqs missing locally are pulled from the server first (by the leader tab).
    pub async fn history(
        &self,
        conversation_id: &ConversationId,
        start_client_msg_id: Option<&str>,
        count: usize,
    ) -> Result<HistoryPage, SdkError> {
        let session = self.session()?;
        let count = count.clamp(1, 1000);
        let before = match start_client_msg_id.filter(|id| !id.is_empty()) {
            Some(id) => match session.store.message_by_client_id(id).await? {
                Some(m) if m.seq > Seq::ZERO => m.seq,
                _ => {
                    return Err(SdkError::invalid_argument(format!(
                        "no stored message has clientMsgID {id}"
                    )))
                }
            },
            None => {
                let max = session
                    .store
                    .conversation(conversation_id)
                    .await?
                    .map(|c| c.max_seq)
                    .unwrap_or(Seq::ZERO);
                let cursor = session
                    .store
                    .sync_state(conversation_id)
                    .await?
                    .map(|s| s.known.max().unwrap_or(Seq::ZERO))
                    .unwrap_or(Seq::ZERO);
                Seq(max.0.max(cursor.0) + 1)
            }
        };
        let mut page = self
            .stored_page(&session, conversation_id, before, count)
            .await?;
        if !page.1 {
            // Some seqs are missing: have the leader pull them, then read again.
            let (done, loaded) = oneshot::<bool>();
            let mut done = Some(done);
            let wanted = conversation_id.clone();
            session.watch(Box::new(move |e| match e {
                SdkEvent::HistoryLoaded {
                    conversation_id,
                    reached_start,
                } if *conversation_id == wanted => {
                    if let Some(done) = done.take() {
                        done.send(*reached_start);
                    }
                    true
                }
                _ => false,
            }));
            let command = TabCommand::LoadHistory {
                conversation_id: conversation_id.as_str().to_owned(),
                before: before.0,
                count: count as u64,
            };
            self.run_or_forward(&session, command).await?;
            let reached_start = within(HISTORY_WAIT_MS, loaded).await == Some(Some(true));
            page = self
                .stored_page(&session, conversation_id, before, count)
                .await?;
            page.2 |= reached_start;
        }
        let (messages, _complete, reached_start) = page;
        let last_min_seq = messages.first().map(|m| m.seq.0).unwrap_or(0);
        let messages: Vec<Message> = messages
            .into_iter()
            .filter(|m| m.status != MessageStatus::Deleted)
            .collect();
        Ok(HistoryPage {
            is_end: reached_start,
            last_min_seq,
            messages,
        })
    }

    /// The stored messages below `before` (ascending), whether they are the complete page, and
    /// whether they reach the start of the visible history.
    async fn stored_page(
        &self,
        session: &Session,
        conversation_id: &ConversationId,
        before: Seq,
        count: usize,
    ) -> Result<(Vec<Message>, bool, bool), SdkError> {
        if before.0 <= 1 {
            return Ok((Vec::new(), true, true));
        }
        let floor = session
            .store
            .conversation(conversation_id)
            .await?
            .map(|c| c.min_seq.0.max(1))
            .unwrap_or(1);
        let floor = session
            .store
            .sync_state(conversation_id)
            .await?
            .map(|s| s.floor.0.max(floor))
            .unwrap_or(floor);
        let top = Seq(before.0 - 1);
        let mut messages = session
            .store
            .messages(conversation_id, Seq(1)..=top, count, Direction::Descending)
            .await?;
        messages.reverse();
        // Complete when the page is the contiguous run just below `before`, of full length or
        // down to the floor.
        let contiguous = messages
            .iter()
            .rev()
            .zip((1..=top.0).rev())
            .all(|(m, expected)| m.seq.0 == expected);
        let lowest = messages.first().map(|m| m.seq.0).unwrap_or(before.0);
        let reached_start = contiguous && lowest <= floor;
        let complete = contiguous && (messages.len() >= count || reached_start);
        Ok((messages, complete, reached_start))
    }

    /// Runs `command` here when this tab leads, else has the leader run it.
    fn run_or_forward<'a>(
        &'a self,
        session: &'a Rc<Session>,
        command: TabCommand,
    ) -> LocalBoxFuture<'a, Result<String, SdkError>> {
        Box::pin(async move {
            if session.commands.read().is_some() {
                self.run_tab_command(session, command)
                    .await
                    .map_err(|(code, message)| SdkError::from_code(code, message))
            } else {
                self.forward(session, command).await
            }
        })
    }

    /// The logged-in user's profile (from the local database, else the server).
    pub async fn self_info(&self) -> Result<User, SdkError> {
        let session = self.session()?;
        if let Some(user) = session.store.user(&session.params.user_id).await? {
            return Ok(user);
        }
        let mut users = self
            .users_info(std::slice::from_ref(&session.params.user_id))
            .await?;
        users
            .pop()
            .ok_or_else(|| SdkError::server(1004, "the user does not exist".to_owned()))
    }

    /// Profiles from the server (members' profiles may be hidden by a group's setting).
    pub async fn users_info(&self, user_ids: &[String]) -> Result<Vec<User>, SdkError> {
        const PATH: &str = "/user/get_users_info";
        let data = self
            .api(PATH, object(vec![("userIDs", texts(user_ids))]))
            .await?;
        let infos: Vec<UserInfo> = answer_field(PATH, data, "usersInfo")?;
        let mut users = Vec::with_capacity(infos.len());
        for info in infos {
            users.push(User::try_from(info).map_err(|e| SdkError::convert(format!("{e}")))?);
        }
        Ok(users)
    }

    /// The groups the user is in.
    pub async fn joined_groups(&self) -> Result<Vec<Group>, SdkError> {
        Ok(self.session()?.store.groups().await?)
    }

    /// Groups by id: joined ones from the local database, others from the server (to look a
    /// group up before joining it).
    pub async fn groups_info(&self, group_ids: &[String]) -> Result<Vec<Group>, SdkError> {
        let session = self.session()?;
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for id in group_ids {
            match session.store.group(id).await? {
                Some(group) => found.push(group),
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            const PATH: &str = "/group/get_groups_info";
            let data = self
                .api(PATH, object(vec![("groupIDs", texts(&missing))]))
                .await?;
            let infos: Vec<GroupInfo> = answer_field(PATH, data, "groupInfos")?;
            for info in infos {
                found.push(Group::try_from(info).map_err(|e| SdkError::convert(format!("{e}")))?);
            }
        }
        Ok(found)
    }

    /// A group's members from the local database, in user id order.
    pub async fn members(&self, group_id: &str) -> Result<Vec<Member>, SdkError> {
        Ok(self.session()?.store.members(group_id).await?)
    }

    /// Some members of a group, from the server (what the server lets this user see).
    pub async fn members_info(
        &self,
        group_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<Member>, SdkError> {
        const PATH: &str = "/group/get_group_members_info";
        let data = self
            .api(
                PATH,
                object(vec![
                    ("groupID", text(group_id)),
                    ("userIDs", texts(user_ids)),
                ]),
            )
            .await?;
        let infos: Vec<GroupMemberFullInfo> = answer_field(PATH, data, "members")?;
        let mut members = Vec::with_capacity(infos.len());
        for info in infos {
            members.push(Member::try_from(info).map_err(|e| SdkError::convert(format!("{e}")))?);
        }
        Ok(members)
    }

    /// The friend list from the local database.
    pub async fn friends(&self) -> Result<Vec<Friend>, SdkError> {
        Ok(self.session()?.store.friends().await?)
    }

    // ----- Writes -----

    /// Sends a text and resolves with the stored message once the server has assigned its seq.
    /// Offline, the message waits in the outbox (in the database) and the promise resolves when
    /// it has been sent.
    pub async fn send_text(&self, recipient: Recipient, text: &str) -> Result<Message, SdkError> {
        let session = self.session()?;
        if text.is_empty() {
            return Err(SdkError::invalid_argument("the text is empty".to_owned()));
        }
        // Watch before sending: the success event may come right after the id.
        let (done, outcome) = oneshot::<Result<String, SdkError>>();
        let expected: Rc<RefCell<Option<String>>> = Rc::default();
        let early: Rc<RefCell<Vec<SdkEvent>>> = Rc::default();
        {
            let expected = Rc::clone(&expected);
            let early = Rc::clone(&early);
            let mut done = Some(done);
            session.watch(Box::new(move |e| {
                let id = match e {
                    SdkEvent::MessageSent { client_msg_id, .. }
                    | SdkEvent::MessageFailed { client_msg_id, .. } => client_msg_id,
                    _ => return false,
                };
                let Some(want) = expected.read().clone() else {
                    early.write().push(e.clone());
                    return false;
                };
                if *id != want {
                    return false;
                }
                let result = match e {
                    SdkEvent::MessageFailed { code, .. } => Err(SdkError::from_code(
                        *code,
                        "the server refused the message".to_owned(),
                    )),
                    _ => Ok(want),
                };
                if let Some(done) = done.take() {
                    done.send(result);
                }
                true
            }));
        }
        let (group, to) = match &recipient {
            Recipient::Group(g) => (true, g.clone()),
            Recipient::User(u) => (false, u.clone()),
            _ => {
                return Err(SdkError::invalid_argument(
                    "messages go to a user or a group".to_owned(),
                ))
            }
        };
        let client_msg_id = self
            .run_or_forward(
                &session,
                TabCommand::SendText {
                    group,
                    to,
                    text: text.to_owned(),
                },
            )
            .await?;
        *expected.write() = Some(client_msg_id.clone());
        // An outcome that arrived before the id was known.
        let replay: Vec<SdkEvent> = early.write().drain(..).collect();
        for e in replay {
            session.watchers.write().retain_mut(|w| !w(&e));
        }
        let id = outcome.await.ok_or_else(SdkError::not_logged_in)??;
        session
            .store
            .message_by_client_id(&id)
            .await?
            .ok_or_else(|| SdkError::store(format!("message {id} is not stored")))
    }

    async fn leader_send(
        &self,
        session: &Rc<Session>,
        recipient: Recipient,
        text: String,
    ) -> Result<String, SdkError> {
        let (reply, id) = oneshot();
        session.command(Command::SendText {
            recipient,
            text,
            reply,
        })?;
        match id.await {
            Some(Ok(id)) => Ok(id.as_str().to_owned()),
            Some(Err(e)) => Err(SdkError::invalid_argument(format!("{e}"))),
            None => Err(SdkError::not_logged_in()),
        }
    }

    /// Recalls a message (own messages; the owner any member's; admins ordinary members').
    pub async fn revoke(
        &self,
        conversation_id: &ConversationId,
        client_msg_id: &str,
    ) -> Result<(), SdkError> {
        let session = self.session()?;
        let message = session
            .store
            .message_by_client_id(client_msg_id)
            .await?
            .filter(|m| m.seq > Seq::ZERO)
            .ok_or_else(|| {
                SdkError::invalid_argument(format!(
                    "no sent message has clientMsgID {client_msg_id}"
                ))
            })?;
        if message.conversation_id != *conversation_id {
            return Err(SdkError::invalid_argument(format!(
                "message {client_msg_id} is not in conversation {conversation_id}"
            )));
        }
        self.api(
            "/msg/revoke_msg",
            object(vec![
                ("userID", text(&session.params.user_id)),
                ("conversationID", text(conversation_id.as_str())),
                ("seq", Json::U64(message.seq.0)),
            ]),
        )
        .await?;
        Ok(())
    }

    /// Marks a conversation read up to its newest message, on every device of the user.
    pub async fn mark_read(&self, conversation_id: &ConversationId) -> Result<(), SdkError> {
        let session = self.session()?;
        self.run_or_forward(
            &session,
            TabCommand::MarkRead {
                conversation_id: conversation_id.as_str().to_owned(),
            },
        )
        .await?;
        Ok(())
    }

    /// Changes the user's nickname and/or avatar; groups following the profile show it too.
    pub async fn set_self_info(
        &self,
        nickname: Option<String>,
        face_url: Option<String>,
    ) -> Result<(), SdkError> {
        self.apply(self.self_info_change(nickname, face_url)?).await
    }

    /// The REST call of [`Sdk::set_self_info`].
    fn self_info_change(
        &self,
        nickname: Option<String>,
        face_url: Option<String>,
    ) -> Result<ServerChange, SdkError> {
        let session = self.session()?;
        let mut info = vec![("userID", text(&session.params.user_id))];
        if let Some(nickname) = nickname {
            if nickname.trim().is_empty() {
                return Err(SdkError::invalid_argument(
                    "the nickname is empty".to_owned(),
                ));
            }
            info.push(("nickname", Json::Str(nickname)));
        }
        if let Some(face_url) = face_url {
            info.push(("faceURL", Json::Str(face_url)));
        }
        Ok(ServerChange::new(
            "/user/update_user_info_ex",
            vec![("userInfo", object(info))],
        ))
    }

    /// Changes group settings (owner or admin).
    pub async fn set_group_info(&self, update: GroupUpdate) -> Result<(), SdkError> {
        self.apply(group_info_change(update)?).await
    }

    /// Creates a work group owned by the user; resolves with the group.
    pub async fn create_group(
        &self,
        name: &str,
        member_ids: &[String],
        admin_ids: &[String],
    ) -> Result<Group, SdkError> {
        let session = self.session()?;
        const PATH: &str = "/group/create_group";
        let data = self
            .api(
                PATH,
                object(vec![
                    ("memberUserIDs", texts(member_ids)),
                    ("adminUserIDs", texts(admin_ids)),
                    ("ownerUserID", text(&session.params.user_id)),
                    (
                        "groupInfo",
                        object(vec![("groupName", text(name)), ("groupType", int(2))]),
                    ),
                ]),
            )
            .await?;
        // `groupInfo` is required: an answer without it is not a created group.
        if !data.has_key("groupInfo") {
            return Err(convert_error(
                PATH,
                &JsonError::from_display("missing field `groupInfo`"),
            ));
        }
        let info: GroupInfo = answer_field(PATH, data, "groupInfo")?;
        Group::try_from(info).map_err(|e| SdkError::convert(format!("{e}")))
    }

    /// Invites users into a group (they join with the invitation as their join source).
    pub async fn invite(
        &self,
        group_id: &str,
        user_ids: &[String],
        reason: &str,
    ) -> Result<(), SdkError> {
        self.apply(invite_change(group_id, user_ids, reason)).await
    }

    /// Joins a group; `join_source` 3 = found by search, 4 = scanned QR code.
    pub async fn join_group(
        &self,
        group_id: &str,
        reason: &str,
        join_source: i32,
    ) -> Result<(), SdkError> {
        self.apply(self.join_group_change(group_id, reason, join_source)?)
            .await
    }

    /// The REST call of [`Sdk::join_group`].
    fn join_group_change(
        &self,
        group_id: &str,
        reason: &str,
        join_source: i32,
    ) -> Result<ServerChange, SdkError> {
        // The argument is checked before the session, as the other parameters are.
        if !(2..=4).contains(&join_source) {
            return Err(SdkError::invalid_argument(
                "joinSource must be 2 (invitation), 3 (search) or 4 (QR code)".to_owned(),
            ));
        }
        let session = self.session()?;
        Ok(ServerChange::new(
            "/group/join_group",
            vec![
                ("groupID", text(group_id)),
                ("reqMessage", text(reason)),
                ("joinSource", int(join_source.into())),
                ("inviterUserID", text(&session.params.user_id)),
                ("ex", text("")),
            ],
        ))
    }

    /// Removes members from a group.
    pub async fn kick(
        &self,
        group_id: &str,
        user_ids: &[String],
        reason: &str,
    ) -> Result<(), SdkError> {
        self.apply(kick_change(group_id, user_ids, reason)).await
    }

    /// Leaves a group.
    pub async fn quit_group(&self, group_id: &str) -> Result<(), SdkError> {
        self.apply(self.quit_group_change(group_id)?).await
    }

    /// The REST call of [`Sdk::quit_group`].
    fn quit_group_change(&self, group_id: &str) -> Result<ServerChange, SdkError> {
        let session = self.session()?;
        Ok(ServerChange::new(
            "/group/quit_group",
            vec![
                ("groupID", text(group_id)),
                ("userID", text(&session.params.user_id)),
            ],
        ))
    }

    /// Sets a member's role level (60 admin, 20 ordinary member).
    pub async fn set_member_role(
        &self,
        group_id: &str,
        user_id: &str,
        role_level: i32,
    ) -> Result<(), SdkError> {
        self.apply(member_role_change(group_id, user_id, role_level))
            .await
    }

    /// Sends a friend request.
    pub async fn add_friend(&self, user_id: &str, message: &str) -> Result<(), SdkError> {
        self.apply(self.add_friend_change(user_id, message)?).await
    }

    /// The REST call of [`Sdk::add_friend`].
    fn add_friend_change(&self, user_id: &str, message: &str) -> Result<ServerChange, SdkError> {
        let session = self.session()?;
        Ok(ServerChange::new(
            "/friend/add_friend",
            vec![
                ("fromUserID", text(&session.params.user_id)),
                ("toUserID", text(user_id)),
                ("reqMsg", text(message)),
                ("ex", text("")),
            ],
        ))
    }

    /// Sets the remark of friends; an empty remark deletes it (the nickname shows again, on
    /// every session of the user).
    pub async fn set_friend_remark(
        &self,
        friend_user_ids: &[String],
        remark: &str,
    ) -> Result<(), SdkError> {
        self.apply(self.friend_remark_change(friend_user_ids, remark)?)
            .await
    }

    /// The REST call of [`Sdk::set_friend_remark`].
    fn friend_remark_change(
        &self,
        friend_user_ids: &[String],
        remark: &str,
    ) -> Result<ServerChange, SdkError> {
        let session = self.session()?;
        Ok(ServerChange::new(
            "/friend/update_friends",
            vec![
                ("ownerUserID", text(&session.params.user_id)),
                ("friendUserIDs", texts(friend_user_ids)),
                ("remark", text(remark)),
            ],
        ))
    }

    /// Makes a REST call that changes server state and answers nothing the SDK reads.
    async fn apply(&self, change: ServerChange) -> Result<(), SdkError> {
        self.api(change.path, change.body).await?;
        Ok(())
    }

    /// A REST call with the session's token: the envelope's `data` (`null` when absent) on
    /// `errCode` 0. `body` is the request's JSON object.
    pub async fn api(&self, path: &str, body: Json) -> Result<Json, SdkError> {
        let session = self.session()?;
        let operation = session.operation.get() + 1;
        session.operation.set(operation);
        let headers = vec![
            (
                "operationID".to_owned(),
                format!("chorus-{}-{operation}", self.inner.tab_id),
            ),
            ("token".to_owned(), session.params.token.clone()),
        ];
        let text = session
            .http
            .post(path.to_owned(), headers, body.to_text())
            .await
            .map_err(|e| SdkError::network(e.0))?;
        let (code, message, data) = read_envelope(&text).map_err(|e| convert_error(path, &e))?;
        if code != 0 {
            return Err(SdkError::server(code, message));
        }
        Ok(data)
    }
}

/// A REST call that changes server state: its path and JSON body (see [`Sdk::apply`]).
#[derive(Debug, Clone, PartialEq)]
struct ServerChange {
    /// The REST path, e.g. `/group/kick_group`.
    path: &'static str,
    /// The request's JSON object.
    body: Json,
}

impl ServerChange {
    /// A call of `path` with an object of `members` (keys in byte order) as its body.
    fn new(path: &'static str, members: Vec<(&str, Json)>) -> ServerChange {
        ServerChange {
            path,
            body: object(members),
        }
    }
}

/// The REST call of [`Sdk::invite`].
fn invite_change(group_id: &str, user_ids: &[String], reason: &str) -> ServerChange {
    ServerChange::new(
        "/group/invite_user_to_group",
        vec![
            ("groupID", text(group_id)),
            ("invitedUserIDs", texts(user_ids)),
            ("reason", text(reason)),
        ],
    )
}

/// The REST call of [`Sdk::kick`].
fn kick_change(group_id: &str, user_ids: &[String], reason: &str) -> ServerChange {
    ServerChange::new(
        "/group/kick_group",
        vec![
            ("groupID", text(group_id)),
            ("kickedUserIDs", texts(user_ids)),
            ("reason", text(reason)),
        ],
    )
}

/// The REST call of [`Sdk::set_member_role`].
fn member_role_change(group_id: &str, user_id: &str, role_level: i32) -> ServerChange {
    let member = object(vec![
        ("groupID", text(group_id)),
        ("userID", text(user_id)),
        ("roleLevel", int(role_level.into())),
    ]);
    ServerChange::new(
        "/group/set_group_member_info",
        vec![("members", Json::List(vec![member]))],
    )
}

/// The REST call of [`Sdk::set_group_info`]: the group and the settings `update` changes.
fn group_info_change(update: GroupUpdate) -> Result<ServerChange, SdkError> {
    let mut body = vec![("groupID", Json::Str(update.group_id))];
    if let Some(name) = update.name {
        body.push(("groupName", Json::Str(name)));
    }
    if let Some(text) = update.announcement {
        body.push(("notification", Json::Str(text)));
    }
    if let Some(text) = update.introduction {
        body.push(("introduction", Json::Str(text)));
    }
    for (key, value) in [
        ("lookMemberInfo", update.look_member_info),
        ("applyMemberFriend", update.apply_member_friend),
    ] {
        if let Some(value) = value {
            if !(0..=1).contains(&value) {
                return Err(SdkError::invalid_argument(format!("{key} must be 0 or 1")));
            }
            body.push((key, int(value.into())));
        }
    }
    if let Some(history) = update.history_for_new_members {
        body.push(("enableHistoryForNewMembers", Json::Bool(history)));
    }
    Ok(ServerChange::new("/group/set_group_info_ex", body))
}

/// The members of an answer's `data` object (`null` is not one).
fn answer_fields(data: Json) -> Result<Fields, JsonError> {
    Fields::open(data)?
        .ok_or_else(|| JsonError::from_display("invalid type: null, expected an object"))
}

/// The member `key` of the `data` of an answer of `path` (absent or `null`: the zero value).
fn answer_field<T: FromJson>(path: &str, data: Json, key: &str) -> Result<T, SdkError> {
    answer_fields(data)
        .and_then(|mut fields| fields.take(key))
        .map_err(|e| convert_error(path, &e))
}

/// A REST answer's envelope: `errCode`, `errMsg` (with `errDlt` appended when not empty) and
/// `data` (`null` when absent); absent fields read as zero values.
fn read_envelope(text: &str) -> Result<(i32, String, Json), JsonError> {
    let mut envelope = answer_fields(Json::parse(text)?)?;
    let code: i32 = envelope.take("errCode")?;
    let mut message: String = envelope.take("errMsg")?;
    let detail: String = envelope.take("errDlt")?;
    if !detail.is_empty() {
        message = format!("{message}: {detail}");
    }
    Ok((code, message, envelope.raw("data")?))
}

/// A response of `path` that does not have the expected shape.
fn convert_error(path: &str, error: &JsonError) -> SdkError {
    SdkError::convert(format!("{path}: {error}"))
}

impl Session {
    /// Removes and returns the sender awaiting the reply to request `id`.
    fn take_reply(&self, id: u64) -> Option<OneshotSender<TabResult>> {
        let mut replies = self.replies.write();
        let at = replies.iter().position(|(waiting, _)| *waiting == id)?;
        Some(replies.swap_remove(at).1)
    }

    fn watch(&self, watcher: Watcher) {
        self.watchers.write().push(watcher);
    }

    fn command(&self, command: Command) -> Result<(), SdkError> {
        let commands = self.commands.read();
        let sender = commands.as_ref().ok_or_else(SdkError::no_leader)?;
        sender.send(command).map_err(|_| SdkError::no_leader())
    }
}

/// The JSON text of a tab message, fields in declaration order as serde writes them.
fn encode(message: &TabMessage) -> String {
    match message {
        TabMessage::Event(event) => encode_event(event),
        TabMessage::Command { id, from, command } => {
            let command = match command {
                TabCommand::SendText { group, to, text } => format!(
                    r#"{{"SendText":{{"group":{group},"to":{},"text":{}}}}}"#,
                    quoted(to),
                    quoted(text)
                ),
                TabCommand::LoadHistory {
                    conversation_id,
                    before,
                    count,
                } => format!(
                    r#"{{"LoadHistory":{{"conversation_id":{},"before":{before},"count":{count}}}}}"#,
                    quoted(conversation_id)
                ),
                TabCommand::MarkRead { conversation_id } => format!(
                    r#"{{"MarkRead":{{"conversation_id":{}}}}}"#,
                    quoted(conversation_id)
                ),
            };
            format!(
                r#"{{"Command":{{"id":{id},"from":{},"command":{command}}}}}"#,
                quoted(from)
            )
        }
        TabMessage::Reply { id, to, result } => {
            let result = match result {
                Ok(text) => format!(r#"{{"Ok":{}}}"#, quoted(text)),
                Err((code, message)) => format!(r#"{{"Err":[{code},{}]}}"#, quoted(message)),
            };
            format!(
                r#"{{"Reply":{{"id":{id},"to":{},"result":{result}}}}}"#,
                quoted(to)
            )
        }
        TabMessage::Logout => r#""Logout""#.to_owned(),
        TabMessage::Hello { from } => format!(r#"{{"Hello":{{"from":{}}}}}"#, quoted(from)),
        TabMessage::State {
            to,
            connected,
            synced,
        } => format!(
            r#"{{"State":{{"to":{},"connected":{connected},"synced":{synced}}}}}"#,
            quoted(to)
        ),
    }
}

/// The JSON text of [`TabMessage::Event`] with `event`.
fn encode_event(event: &SdkEvent) -> String {
    format!("{{\"Event\":{}}}", chorus_proto::msgjson::to_text(event))
}

/// Reads a tab message; `None` for text that is not one.
fn decode(text: &str) -> Option<TabMessage> {
    let mut value = Json::parse(text).ok()?;
    // Events, the bulk of the traffic: the body is moved out, not copied.
    if let Json::Obj(members) = &mut value {
        if let [(tag, body)] = members.as_mut_slice() {
            if tag == "Event" {
                let body = std::mem::replace(body, Json::Null);
                return SdkEvent::from_json(body).ok().map(TabMessage::Event);
            }
        }
    }
    if as_text(&value) == Some("Logout") {
        return Some(TabMessage::Logout);
    }
    let (tag, body) = single(&value)?;
    let text_of = |key: &str| member(body, key).and_then(as_text).map(str::to_owned);
    let flag = |key: &str| member(body, key).and_then(as_bool);
    let number = |key: &str| member(body, key).and_then(as_u64);
    Some(match tag {
        "Command" => TabMessage::Command {
            id: number("id")?,
            from: text_of("from")?,
            command: decode_command(member(body, "command")?)?,
        },
        "Reply" => {
            let result = member(body, "result")?;
            let result = if let Some(text) = member(result, "Ok") {
                Ok(as_text(text)?.to_owned())
            } else {
                let error = match member(result, "Err")? {
                    Json::List(items) if items.len() == 2 => items,
                    _ => return None,
                };
                let code = i32::try_from(as_i64(&error[0])?).ok()?;
                Err((code, as_text(&error[1])?.to_owned()))
            };
            TabMessage::Reply {
                id: number("id")?,
                to: text_of("to")?,
                result,
            }
        }
        "Hello" => TabMessage::Hello {
            from: text_of("from")?,
        },
        "State" => TabMessage::State {
            to: text_of("to")?,
            connected: flag("connected")?,
            synced: flag("synced")?,
        },
        _ => return None,
    })
}

/// Reads the command of a [`TabMessage::Command`].
fn decode_command(value: &Json) -> Option<TabCommand> {
    let (tag, body) = single(value)?;
    let text_of = |key: &str| member(body, key).and_then(as_text).map(str::to_owned);
    Some(match tag {
        "SendText" => TabCommand::SendText {
            group: member(body, "group").and_then(as_bool)?,
            to: text_of("to")?,
            text: text_of("text")?,
        },
        "LoadHistory" => TabCommand::LoadHistory {
            conversation_id: text_of("conversation_id")?,
            before: member(body, "before").and_then(as_u64)?,
            count: member(body, "count").and_then(as_u64)?,
        },
        "MarkRead" => TabCommand::MarkRead {
            conversation_id: text_of("conversation_id")?,
        },
        _ => return None,
    })
}

/// The store behind a session.
type SessionStore = IdbStore;

async fn open_store(name: &str) -> Result<SessionStore, SdkError> {
    IdbStore::open(name).await
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::*;

    use super::*;
    use crate::error::ErrorKind;

    /// Every tab message as JSON text, in serde's externally tagged form.
    fn samples() -> Vec<(TabMessage, &'static str)> {
        vec![
            (
                TabMessage::Event(SdkEvent::ConnectFailed {
                    code: 0,
                    message: "gone".into(),
                }),
                r#"{"Event":{"ConnectFailed":{"code":0,"message":"gone"}}}"#,
            ),
            (
                TabMessage::Event(SdkEvent::ConnectSuccess),
                r#"{"Event":"ConnectSuccess"}"#,
            ),
            (
                TabMessage::Command {
                    id: 7,
                    from: "tab-a".into(),
                    command: TabCommand::SendText {
                        group: true,
                        to: "g1".into(),
                        text: "hi \"there\"".into(),
                    },
                },
                r#"{"Command":{"id":7,"from":"tab-a","command":{"SendText":{"group":true,"to":"g1","text":"hi \"there\""}}}}"#,
            ),
            (
                TabMessage::Command {
                    id: 8,
                    from: "tab-a".into(),
                    command: TabCommand::LoadHistory {
                        conversation_id: "sg_g1".into(),
                        before: 41,
                        count: 20,
                    },
                },
                r#"{"Command":{"id":8,"from":"tab-a","command":{"LoadHistory":{"conversation_id":"sg_g1","before":41,"count":20}}}}"#,
            ),
            (
                TabMessage::Command {
                    id: 9,
                    from: "tab-a".into(),
                    command: TabCommand::MarkRead {
                        conversation_id: "si_a_b".into(),
                    },
                },
                r#"{"Command":{"id":9,"from":"tab-a","command":{"MarkRead":{"conversation_id":"si_a_b"}}}}"#,
            ),
            (
                TabMessage::Reply {
                    id: 7,
                    to: "tab-a".into(),
                    result: Ok("c-1".into()),
                },
                r#"{"Reply":{"id":7,"to":"tab-a","result":{"Ok":"c-1"}}}"#,
            ),
            (
                TabMessage::Reply {
                    id: 8,
                    to: "tab-a".into(),
                    result: Err((10002, "no leader".into())),
                },
                r#"{"Reply":{"id":8,"to":"tab-a","result":{"Err":[10002,"no leader"]}}}"#,
            ),
            (TabMessage::Logout, r#""Logout""#),
            (
                TabMessage::Hello {
                    from: "tab-b".into(),
                },
                r#"{"Hello":{"from":"tab-b"}}"#,
            ),
            (
                TabMessage::State {
                    to: "tab-b".into(),
                    connected: true,
                    synced: false,
                },
                r#"{"State":{"to":"tab-b","connected":true,"synced":false}}"#,
            ),
        ]
    }

    /// Request bodies: the same text as `serde_json::json!` wrote (its map sorts keys).
    #[wasm_bindgen_test]
    fn request_bodies_are_the_text_serde_json_wrote() {
        use serde_json::json;
        let ids = vec!["u2".to_owned(), "u\"3".to_owned()];
        let cases = [
            (
                object(vec![
                    ("memberUserIDs", texts(&ids)),
                    ("adminUserIDs", texts(&[])),
                    ("ownerUserID", text("u1")),
                    (
                        "groupInfo",
                        object(vec![("groupName", text("Team")), ("groupType", int(2))]),
                    ),
                ]),
                json!({
                    "memberUserIDs": ids,
                    "adminUserIDs": Vec::<String>::new(),
                    "ownerUserID": "u1",
                    "groupInfo": { "groupName": "Team", "groupType": 2 },
                }),
            ),
            (
                object(vec![
                    ("userID", text("u1")),
                    ("conversationID", text("sg_g1")),
                    ("seq", Json::U64(u64::MAX)),
                ]),
                json!({ "userID": "u1", "conversationID": "sg_g1", "seq": u64::MAX }),
            ),
            (
                object(vec![
                    ("groupID", text("g1")),
                    ("reqMessage", text("let me in \u{1F600}")),
                    ("joinSource", int(3)),
                    ("inviterUserID", text("u1")),
                    ("ex", text("")),
                ]),
                json!({
                    "groupID": "g1",
                    "reqMessage": "let me in \u{1F600}",
                    "joinSource": 3,
                    "inviterUserID": "u1",
                    "ex": "",
                }),
            ),
            (
                object(vec![(
                    "members",
                    Json::List(vec![object(vec![
                        ("groupID", text("g1")),
                        ("userID", text("u2")),
                        ("roleLevel", int(-60)),
                    ])]),
                )]),
                json!({ "members": [{ "groupID": "g1", "userID": "u2", "roleLevel": -60 }] }),
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(body.to_text(), expected.to_string());
        }

        let changes = [
            (
                invite_change("g1", &ids, "hi"),
                "/group/invite_user_to_group",
                json!({ "groupID": "g1", "invitedUserIDs": ids, "reason": "hi" }),
            ),
            (
                kick_change("g1", &ids, ""),
                "/group/kick_group",
                json!({ "groupID": "g1", "kickedUserIDs": ids, "reason": "" }),
            ),
            (
                member_role_change("g1", "u2", 60),
                "/group/set_group_member_info",
                json!({ "members": [{ "groupID": "g1", "userID": "u2", "roleLevel": 60 }] }),
            ),
        ];
        for (change, path, expected) in changes {
            assert_eq!(change.path, path);
            assert_eq!(change.body.to_text(), expected.to_string());
        }

        let update = GroupUpdate {
            group_id: "g1".into(),
            name: Some("New \n name".into()),
            announcement: Some(String::new()),
            introduction: None,
            look_member_info: Some(1),
            apply_member_friend: Some(0),
            history_for_new_members: Some(false),
        };
        let expected = json!({
            "groupID": "g1",
            "groupName": "New \n name",
            "notification": "",
            "lookMemberInfo": 1,
            "applyMemberFriend": 0,
            "enableHistoryForNewMembers": false,
        });
        assert_eq!(
            group_info_change(update).unwrap().body.to_text(),
            expected.to_string()
        );
        let only_id = GroupUpdate {
            group_id: "g2".into(),
            ..GroupUpdate::default()
        };
        assert_eq!(
            group_info_change(only_id).unwrap().body.to_text(),
            json!({ "groupID": "g2" }).to_string()
        );
        let bad = GroupUpdate {
            look_member_info: Some(2),
            ..GroupUpdate::default()
        };
        assert!(matches!(
            group_info_change(bad).as_ref().map_err(SdkError::kind),
            Err(ErrorKind::InvalidArgument(_))
        ));
    }

    #[wasm_bindgen_test]
    fn answers_read_their_envelope_and_data() {
        let (code, message, data) = read_envelope(
            r#"{"errCode":0,"errMsg":"","errDlt":"","data":{"usersInfo":[{"userID":"u1","nickname":"A"}]}}"#,
        )
        .unwrap();
        assert_eq!((code, message.as_str()), (0, ""));
        let users: Vec<UserInfo> = answer_field("/p", data, "usersInfo").unwrap();
        let expected: Vec<UserInfo> =
            serde_json::from_str(r#"[{"userID":"u1","nickname":"A"}]"#).unwrap();
        assert_eq!(users, expected);
        assert_eq!(users[0].nickname, "A");

        let (code, message, data) =
            read_envelope(r#"{"errCode":1004,"errMsg":"RecordNotFound","errDlt":"no group"}"#)
                .unwrap();
        assert_eq!(
            (code, message.as_str(), data),
            (1004, "RecordNotFound: no group", Json::Null)
        );
        let (_, message, _) = read_envelope(r#"{"errCode":1001,"errMsg":"ArgsError"}"#).unwrap();
        assert_eq!(message, "ArgsError");

        // Absent or null lists are empty; a null `data` or another shape is an error.
        let (_, _, data) = read_envelope(r#"{"errCode":0,"data":{}}"#).unwrap();
        let groups: Vec<GroupInfo> = answer_field("/p", data, "groupInfos").unwrap();
        assert!(groups.is_empty());
        let (_, _, data) = read_envelope(r#"{"errCode":0,"data":{"members":null}}"#).unwrap();
        let members: Vec<GroupMemberFullInfo> = answer_field("/p", data, "members").unwrap();
        assert!(members.is_empty());
        assert!(matches!(
            answer_field::<Vec<UserInfo>>("/p", Json::Null, "usersInfo")
                .as_ref()
                .map_err(SdkError::kind),
            Err(ErrorKind::Convert(text)) if text.starts_with("/p: ")
        ));
        let (_, _, data) = read_envelope(r#"{"errCode":0,"data":{"usersInfo":{}}}"#).unwrap();
        assert!(answer_field::<Vec<UserInfo>>("/p", data, "usersInfo").is_err());
        for bad in [
            "",
            "null",
            "[]",
            r#"{"errCode":"0"}"#,
            r#"{"errCode":0,"errCode":1}"#,
        ] {
            assert!(read_envelope(bad).is_err(), "{bad}");
        }
    }

    #[wasm_bindgen_test]
    fn tab_messages_are_written_as_serde_writes_them() {
        for (message, text) in samples() {
            assert_eq!(encode(&message), text);
        }
    }

    /// Strings drawn from characters every escaping rule touches (controls, quotes, backslash,
    /// DEL, `<`, non-ASCII, characters outside the BMP), by a fixed-seed generator.
    fn tricky_strings(count: usize) -> Vec<String> {
        let pool: Vec<char> =
            "aZ0 \"\\/<\u{0}\u{8}\t\n\u{c}\r\u{1f}\u{7f}é\u{2028}\u{fffd}中\u{1F600}"
                .chars()
                .collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        (0..count)
            .map(|_| {
                let len = next() % 12;
                (0..len).map(|_| pool[next() % pool.len()]).collect()
            })
            .collect()
    }

    /// Tab messages and events with arbitrary text are the text serde_json wrote, and read back.
    #[wasm_bindgen_test]
    fn tab_messages_with_any_text_match_serde_json() {
        for (n, text) in tricky_strings(300).into_iter().enumerate() {
            let id = n as u64 * 0x0123_4567_89AB;
            let serde_quoted = serde_json::to_string(&text).unwrap();
            assert_eq!(quoted(&text), serde_quoted);
            let message = TabMessage::Reply {
                id,
                to: text.clone(),
                result: Err((-(n as i32), text.clone())),
            };
            let expected = format!(
                r#"{{"Reply":{{"id":{id},"to":{serde_quoted},"result":{{"Err":[{},{serde_quoted}]}}}}}}"#,
                -(n as i32)
            );
            assert_eq!(encode(&message), expected);
            assert_eq!(
                format!("{:?}", decode(&expected).unwrap()),
                format!("{message:?}")
            );
            let event = SdkEvent::ConnectFailed {
                code: n as i32,
                message: text.clone(),
            };
            let serde_text = serde_json::to_string(&event).unwrap();
            assert_eq!(chorus_proto::msgjson::to_text(&event), serde_text);
            let read = decode(&format!(r#"{{"Event":{serde_text}}}"#)).unwrap();
            assert!(matches!(read, TabMessage::Event(e) if e == event));
        }
    }

    #[wasm_bindgen_test]
    fn tab_messages_read_back_in_any_field_order() {
        for (message, text) in samples() {
            let read = decode(text).unwrap_or_else(|| panic!("{text} was not read"));
            assert_eq!(format!("{read:?}"), format!("{message:?}"));
        }
        // Another field order reads the same.
        let text = r#"{"Command":{"command":{"SendText":{"text":"x","to":"u2","group":false}},"from":"tab-a","id":7}}"#;
        let read = decode(text).unwrap();
        assert!(matches!(
            read,
            TabMessage::Command {
                id: 7,
                command: TabCommand::SendText { group: false, .. },
                ..
            }
        ));
        let spaced = r#"{ "Event" : { "SyncServerProgress" : { "done" : 1, "total" : 2 } } }"#;
        assert!(matches!(
            decode(spaced),
            Some(TabMessage::Event(SdkEvent::SyncServerProgress {
                done: 1,
                total: 2
            }))
        ));
        for bad in [
            "",
            "null",
            r#"{"Nope":{}}"#,
            r#"{"Hello":{}}"#,
            r#"{"Reply":{"id":1}}"#,
        ] {
            assert!(decode(bad).is_none(), "{bad}");
        }
    }
}
