//! The gateway connection as a sans-IO state machine.
//!
//! [`Conn`] speaks the message-gateway protocol in JSON mode (`sdkType=js`, `isMsgResp=true`, platform
//! Web): it builds the handshake URL, reads the handshake result frame, correlates requests and
//! responses by `msgIncr` with a per-request deadline, keeps the connection alive with text pings,
//! reconnects with capped exponential back-off and jitter, and ends the session for good on a kick
//! (2002) or a token error (1501–1507), which no reconnect can cure.
//!
//! The grammar follows quinn-proto: inputs are commands ([`Conn::connect`], [`Conn::request`],
//! [`Conn::set_background`], [`Conn::logout`]) and socket reports ([`Conn::handle_open`],
//! [`Conn::handle_text`], [`Conn::handle_binary`], [`Conn::handle_closed`], [`Conn::handle_timeout`]),
//! each with an explicit `now`; outputs are drained with [`Conn::poll_transmit`], [`Conn::poll_event`]
//! and [`Conn::poll_timeout`].
//!
//! Driver contract: open a socket on [`Transmit::Connect`], send what `poll_transmit` yields in order,
//! and after a [`Transmit::Close`] drop the socket and report nothing more from it. Reports that arrive
//! for a socket the machine has already given up are ignored.
//!
//! This module never performs I/O, never reads a clock and never draws ambient randomness: time comes in
//! as [`Instant`], operation ids and jitter from the injected [`IdGenerator`] and [`JitterSource`].

mod backoff;
mod entropy;

use std::collections::VecDeque;

use crate::vec_map::VecMap;
use std::fmt;
use std::time::Duration;

use chorus_proto::constants::{ErrorCode, PlatformId, ReqIdentifier};
use chorus_proto::envelope::{
    Compression, ConnectParams, EnvelopeCodec, FrameCodec, HandshakeResult, Req, RequestPayload,
    Resp, SdkType, TextFrame,
};
use chorus_proto::pb::{push::DelUserPushTokenReq, sdkws::SetAppBackgroundStatusReq};

pub use backoff::Backoff;
pub use entropy::{FixedJitter, IdGenerator, JitterSource, SeededEntropy, SequentialIds};

/// A point in time in milliseconds on the driver's clock (any epoch; only differences matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Self = Self(0);

    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of time.
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(backoff::millis(d)))
    }

    /// `self − earlier`, zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

/// Settings of a connection. Build with [`ConnConfig::new`] and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnConfig {
    /// Gateway address without query, e.g. `ws://host:10001/`.
    pub url: String,
    pub user_id: String,
    pub token: String,
    pub platform: PlatformId,
    /// `gzip` compresses every binary frame in both directions.
    pub compression: Compression,
    /// How long a request waits for its response (the official SDK's 10 s).
    pub request_timeout: Duration,
    /// Interval of text pings; the gateway closes connections idle for 30 s.
    pub ping_interval: Duration,
    /// How long from [`Transmit::Connect`] until the handshake result frame must have arrived.
    pub handshake_timeout: Duration,
    pub backoff: Backoff,
}

impl ConnConfig {
    /// Web platform, no compression, 10 s request and handshake timeouts, 25 s pings, default back-off.
    pub fn new(
        url: impl Into<String>,
        user_id: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into(),
            user_id: user_id.into(),
            token: token.into(),
            platform: PlatformId::Web,
            compression: Compression::None,
            request_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(25),
            handshake_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
        }
    }
}

/// Identifies a request of [`Conn::request`]; its number is also the counter in `msgIncr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// What the driver must do with the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transmit {
    /// Open a WebSocket to this URL (the handshake query included).
    Connect { url: String },
    /// Send a binary frame (an encoded envelope).
    Binary(Vec<u8>),
    /// Send a text frame (ping/pong).
    Text(String),
    /// Close the socket and forget it.
    Close,
}

/// Why a request produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// No response within the request timeout; a later response is ignored.
    Timeout,
    /// The connection was not up, or went down before the response arrived.
    Closed,
    /// The server answered with a non-zero `errCode`.
    Server { code: ErrorCode, msg: String },
    /// The request could not be framed (e.g. larger than the gateway accepts).
    Encode { detail: String },
}

/// Why a connection (or connection attempt) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The driver reported the socket closed.
    Closed { reason: String },
    /// No handshake result frame within the handshake timeout.
    HandshakeTimeout,
    /// The gateway refused the handshake with a code that a retry may cure (e.g. 1601, 500).
    HandshakeRefused { code: ErrorCode, msg: String },
    /// The gateway broke the protocol (e.g. a binary frame before the handshake result).
    Protocol { detail: String },
    /// Nothing arrived between one ping and the next.
    PingTimeout,
    /// Kicked by a newer login or an administrator (2002 or 1506).
    Kicked,
    /// A token error 1501–1507 other than 1506.
    Token { code: ErrorCode },
    /// [`Conn::logout`].
    Logout,
}

/// What happened, for the layer above.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnEvent {
    /// A connection attempt started ([`Transmit::Connect`] was queued).
    Connecting,
    /// The handshake succeeded; requests may be sent.
    Connected,
    /// A connection or attempt ended. `retry_at` is when the next attempt starts, `None` when the
    /// machine will not reconnect; then one session-ending event follows ([`ConnEvent::Kicked`],
    /// [`ConnEvent::TokenExpired`], [`ConnEvent::TokenInvalid`] or [`ConnEvent::SessionEnded`]).
    Disconnected {
        retry_at: Option<Instant>,
        reason: DisconnectReason,
    },
    /// The successful response to a request.
    Response { id: RequestId, resp: Resp },
    /// A request failed; no response event follows for it.
    RequestFailed { id: RequestId, error: RequestError },
    /// A server-initiated frame: 2001 (messages) or 2005 (online status).
    Push(Resp),
    /// Session over: another login replaced this one, or an administrator forced it out.
    Kicked,
    /// Session over: the token expired (1501); a new token is needed.
    TokenExpired,
    /// Session over: the token is not accepted (1502–1505, 1507).
    TokenInvalid { code: ErrorCode },
    /// Session over after [`Conn::logout`].
    SessionEnded,
    /// A frame from the gateway could not be decoded and was skipped.
    FrameDropped { detail: String },
}

/// Where the machine is, for display and assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnStatus {
    /// Not started, or the session ended.
    Idle,
    /// Waiting for the socket to open.
    Connecting,
    /// Socket open, waiting for the handshake result frame.
    Handshaking,
    Connected,
    /// Logout sent, waiting for its reply or the close.
    LoggingOut,
    /// Waiting to reconnect.
    Reconnecting {
        retry_at: Instant,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Connecting {
        deadline: Instant,
    },
    Handshaking {
        deadline: Instant,
    },
    Connected {
        next_ping: Instant,
        /// A ping went out and nothing has arrived since.
        ping_outstanding: bool,
    },
    LoggingOut,
    Backoff {
        retry_at: Instant,
    },
}

/// Requests the machine makes for itself; their outcome is not reported as request events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Internal {
    Background,
    Logout,
}

#[derive(Debug, Clone)]
struct Pending {
    id: RequestId,
    deadline: Instant,
    internal: Option<Internal>,
}

/// The connection state machine; see the module documentation.
pub struct Conn {
    config: ConnConfig,
    codec: FrameCodec,
    ids: Box<dyn IdGenerator>,
    jitter: Box<dyn JitterSource>,
    state: State,
    /// Consecutive failed attempts since the last successful handshake.
    failures: u32,
    next_request: u64,
    /// Keyed by `msgIncr`.
    pending: VecMap<String, Pending>,
    background: bool,
    /// What the gateway believes; `None` when a 2004 failed and the state is unknown.
    server_background: Option<bool>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ConnEvent>,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("user_id", &self.config.user_id)
            .field("state", &self.state)
            .field("failures", &self.failures)
            .field("in_flight", &self.pending.len())
            .field("background", &self.background)
            .finish_non_exhaustive()
    }
}

impl Conn {
    pub fn new(
        config: ConnConfig,
        ids: Box<dyn IdGenerator>,
        jitter: Box<dyn JitterSource>,
    ) -> Self {
        let codec = FrameCodec::new(EnvelopeCodec::Json, config.compression);
        Self {
            config,
            codec,
            ids,
            jitter,
            state: State::Idle,
            failures: 0,
            next_request: 1,
            pending: VecMap::new(),
            background: false,
            server_background: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &ConnConfig {
        &self.config
    }

    /// Replaces the token used by the next connection attempt (e.g. after [`ConnEvent::TokenExpired`]).
    pub fn set_token(&mut self, token: impl Into<String>) {
        self.config.token = token.into();
    }

    pub fn status(&self) -> ConnStatus {
        match self.state {
            State::Idle => ConnStatus::Idle,
            State::Connecting { .. } => ConnStatus::Connecting,
            State::Handshaking { .. } => ConnStatus::Handshaking,
            State::Connected { .. } => ConnStatus::Connected,
            State::LoggingOut => ConnStatus::LoggingOut,
            State::Backoff { retry_at } => ConnStatus::Reconnecting { retry_at },
        }
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected { .. })
    }

    pub fn is_background(&self) -> bool {
        self.background
    }

    /// Requests awaiting a response (including the machine's own).
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    // ---- commands -------------------------------------------------------------------------------

    /// Starts the session: queues [`Transmit::Connect`]. Does nothing while a session is running.
    pub fn connect(&mut self, now: Instant) {
        if self.state == State::Idle {
            self.failures = 0;
            self.start_attempt(now);
        }
    }

    /// Sends a request; its outcome arrives as [`ConnEvent::Response`] or [`ConnEvent::RequestFailed`]
    /// (immediately [`RequestError::Closed`] when not connected).
    pub fn request(
        &mut self,
        now: Instant,
        req_identifier: ReqIdentifier,
        data: Vec<u8>,
    ) -> RequestId {
        self.send_request(now, req_identifier, data, None)
    }

    /// Sets the app's background flag: sent as 2004 when connected and the gateway believes otherwise,
    /// and used as `isBackground` by later handshakes.
    pub fn set_background(&mut self, now: Instant, background: bool) {
        self.background = background;
        self.sync_background(now);
    }

    /// Ends the session: sends 2003 and closes once it is answered (or times out, or the gateway
    /// closes), then reports [`ConnEvent::SessionEnded`]. Never reconnects afterwards.
    pub fn logout(&mut self, now: Instant) {
        match self.state {
            State::Idle | State::LoggingOut => {}
            State::Connected { .. } => {
                let data = RequestPayload::Logout(DelUserPushTokenReq {
                    user_id: self.config.user_id.clone(),
                    platform_id: self.config.platform.as_i32(),
                })
                .encode_to_vec();
                self.state = State::LoggingOut;
                self.send_request(now, ReqIdentifier::LogoutMsg, data, Some(Internal::Logout));
            }
            State::Connecting { .. } | State::Handshaking { .. } => {
                self.end_session(true, DisconnectReason::Logout, ConnEvent::SessionEnded);
            }
            State::Backoff { .. } => {
                self.end_session(false, DisconnectReason::Logout, ConnEvent::SessionEnded);
            }
        }
    }

    // ---- socket reports -------------------------------------------------------------------------

    /// The socket of the current attempt opened.
    pub fn handle_open(&mut self, _now: Instant) {
        if let State::Connecting { deadline } = self.state {
            self.state = State::Handshaking { deadline };
        }
    }

    /// A text frame arrived: the handshake result first, then pongs.
    pub fn handle_text(&mut self, now: Instant, text: &str) {
        match self.state {
            State::Handshaking { .. } => self.on_handshake(now, text),
            State::Connected { .. } | State::LoggingOut => {
                self.mark_alive();
                match TextFrame::decode(text) {
                    Ok(frame) => {
                        if let Some(reply) = frame.reply() {
                            self.transmits.push_back(Transmit::Text(reply.encode()));
                        }
                    }
                    Err(e) => self.events.push_back(ConnEvent::FrameDropped {
                        detail: format!("text frame: {e}"),
                    }),
                }
            }
            State::Idle | State::Connecting { .. } | State::Backoff { .. } => {}
        }
    }

    /// A binary frame arrived: a response, push or kick envelope.
    pub fn handle_binary(&mut self, now: Instant, frame: &[u8]) {
        match self.state {
            State::Handshaking { .. } => self.lose_connection(
                now,
                true,
                DisconnectReason::Protocol {
                    detail: "binary frame before the handshake result".into(),
                },
            ),
            State::Connected { .. } | State::LoggingOut => {
                self.mark_alive();
                match self.codec.decode_resp(frame) {
                    Ok(resp) => self.on_resp(resp),
                    Err(e) => self.events.push_back(ConnEvent::FrameDropped {
                        detail: format!("binary frame: {e}"),
                    }),
                }
            }
            State::Idle | State::Connecting { .. } | State::Backoff { .. } => {}
        }
    }

    /// The socket closed (by the gateway or the network).
    pub fn handle_closed(&mut self, now: Instant, reason: &str) {
        match self.state {
            State::Connecting { .. } | State::Handshaking { .. } | State::Connected { .. } => self
                .lose_connection(
                    now,
                    false,
                    DisconnectReason::Closed {
                        reason: reason.to_owned(),
                    },
                ),
            State::LoggingOut => {
                self.end_session(false, DisconnectReason::Logout, ConnEvent::SessionEnded)
            }
            State::Idle | State::Backoff { .. } => {}
        }
    }

    /// Acts on every deadline at or before `now`: request timeouts, pings, handshake timeout, reconnect.
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(p) = self.pending.remove::<str>(&key) {
                match p.internal {
                    None => self.events.push_back(ConnEvent::RequestFailed {
                        id: p.id,
                        error: RequestError::Timeout,
                    }),
                    Some(Internal::Background) => self.server_background = None,
                    Some(Internal::Logout) => {
                        self.end_session(true, DisconnectReason::Logout, ConnEvent::SessionEnded)
                    }
                }
            }
        }
        match self.state {
            State::Connecting { deadline } | State::Handshaking { deadline } if deadline <= now => {
                self.lose_connection(now, true, DisconnectReason::HandshakeTimeout);
            }
            State::Connected {
                next_ping,
                ping_outstanding,
            } if next_ping <= now => {
                if ping_outstanding {
                    self.lose_connection(now, true, DisconnectReason::PingTimeout);
                } else {
                    self.transmits
                        .push_back(Transmit::Text(TextFrame::Ping { body: None }.encode()));
                    self.state = State::Connected {
                        next_ping: now + self.config.ping_interval,
                        ping_outstanding: true,
                    };
                }
            }
            State::Backoff { retry_at } if retry_at <= now => self.start_attempt(now),
            _ => {}
        }
    }

    // ---- outputs --------------------------------------------------------------------------------

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        self.events.pop_front()
    }

    /// The earliest deadline: a request timeout, the next ping, the handshake deadline or the reconnect.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let state = match self.state {
            State::Connecting { deadline } | State::Handshaking { deadline } => Some(deadline),
            State::Connected { next_ping, .. } => Some(next_ping),
            State::Backoff { retry_at } => Some(retry_at),
            State::Idle | State::LoggingOut => None,
        };
        self.pending.values().map(|p| p.deadline).chain(state).min()
    }

    // ---- internals ------------------------------------------------------------------------------

    fn start_attempt(&mut self, now: Instant) {
        let params = ConnectParams {
            send_id: self.config.user_id.clone(),
            token: self.config.token.clone(),
            platform_id: self.config.platform.as_i32(),
            operation_id: self.ids.operation_id(),
            is_background: self.background,
            compression: self.config.compression,
            sdk_type: SdkType::Js,
            is_msg_resp: true,
        };
        let separator = if self.config.url.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{}{separator}{}", self.config.url, params.to_query());
        self.server_background = Some(self.background);
        self.state = State::Connecting {
            deadline: now + self.config.handshake_timeout,
        };
        self.transmits.push_back(Transmit::Connect { url });
        self.events.push_back(ConnEvent::Connecting);
    }

    fn on_handshake(&mut self, now: Instant, text: &str) {
        let result = match HandshakeResult::decode(text.as_bytes()) {
            Ok(result) => result,
            Err(e) => {
                return self.lose_connection(
                    now,
                    true,
                    DisconnectReason::Protocol {
                        detail: format!("handshake frame: {e}"),
                    },
                )
            }
        };
        let code = ErrorCode::from_code(result.err_code);
        if result.is_ok() {
            self.failures = 0;
            self.state = State::Connected {
                next_ping: now + self.config.ping_interval,
                ping_outstanding: false,
            };
            self.events.push_back(ConnEvent::Connected);
            // The flag may have changed after the handshake query was built.
            self.sync_background(now);
        } else if code.is_token_error() {
            self.end_for_token(code);
        } else {
            self.lose_connection(
                now,
                true,
                DisconnectReason::HandshakeRefused {
                    code,
                    msg: result.err_msg,
                },
            );
        }
    }

    fn on_resp(&mut self, resp: Resp) {
        if resp.req_identifier == ReqIdentifier::KickOnlineMsg.as_i32() {
            return self.end_session(true, DisconnectReason::Kicked, ConnEvent::Kicked);
        }
        let code = ErrorCode::from_code(resp.err_code);
        let matched = if resp.msg_incr.is_empty() {
            None
        } else {
            self.pending.remove::<str>(&resp.msg_incr)
        };
        match matched {
            Some(p) => match p.internal {
                None if resp.err_code == 0 => self
                    .events
                    .push_back(ConnEvent::Response { id: p.id, resp }),
                None => self.events.push_back(ConnEvent::RequestFailed {
                    id: p.id,
                    error: RequestError::Server {
                        code,
                        msg: resp.err_msg,
                    },
                }),
                // Success was assumed when it was sent; a failure leaves the gateway's flag unknown, so
                // the next change is sent whatever it is.
                Some(Internal::Background) if resp.err_code != 0 => self.server_background = None,
                Some(Internal::Background) => {}
                // Whatever the answer (even a token error), the user asked to leave.
                Some(Internal::Logout) => {
                    return self.end_session(
                        true,
                        DisconnectReason::Logout,
                        ConnEvent::SessionEnded,
                    )
                }
            },
            None => {
                let push = resp.req_identifier == ReqIdentifier::PushMsg.as_i32()
                    || resp.req_identifier == ReqIdentifier::SubUserOnlineStatus.as_i32();
                if push && resp.err_code == 0 {
                    self.events.push_back(ConnEvent::Push(resp));
                }
                // Anything else is a late answer to a request that already timed out.
            }
        }
        if code.is_token_error() {
            self.end_for_token(code);
        }
    }

    fn send_request(
        &mut self,
        now: Instant,
        req_identifier: ReqIdentifier,
        data: Vec<u8>,
        internal: Option<Internal>,
    ) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        let sendable = matches!(
            (self.state, internal),
            (State::Connected { .. }, _) | (State::LoggingOut, Some(Internal::Logout))
        );
        if !sendable {
            if internal.is_none() {
                self.events.push_back(ConnEvent::RequestFailed {
                    id,
                    error: RequestError::Closed,
                });
            }
            return id;
        }
        let msg_incr = format!("{}_{}", self.config.user_id, id.0);
        let req = Req {
            req_identifier: req_identifier.as_i32(),
            token: String::new(),
            send_id: self.config.user_id.clone(),
            operation_id: self.ids.operation_id(),
            msg_incr: msg_incr.clone(),
            data,
        };
        match self.codec.encode_req(&req) {
            Ok(frame) => {
                self.transmits.push_back(Transmit::Binary(frame));
                self.pending.insert(
                    msg_incr,
                    Pending {
                        id,
                        deadline: now + self.config.request_timeout,
                        internal,
                    },
                );
            }
            Err(e) if internal.is_none() => self.events.push_back(ConnEvent::RequestFailed {
                id,
                error: RequestError::Encode {
                    detail: format!("{e}"),
                },
            }),
            // The machine's own requests are tiny; should one fail to frame, logout still ends.
            Err(_) if internal == Some(Internal::Logout) => {
                self.end_session(true, DisconnectReason::Logout, ConnEvent::SessionEnded)
            }
            Err(_) => {}
        }
        id
    }

    fn sync_background(&mut self, now: Instant) {
        if self.is_connected() && self.server_background != Some(self.background) {
            let data = RequestPayload::SetBackgroundStatus(SetAppBackgroundStatusReq {
                user_id: self.config.user_id.clone(),
                is_background: self.background,
            })
            .encode_to_vec();
            // Assumed applied once sent, so toggling back and forth sends one frame per change.
            self.server_background = Some(self.background);
            self.send_request(
                now,
                ReqIdentifier::SetBackgroundStatus,
                data,
                Some(Internal::Background),
            );
        }
    }

    fn mark_alive(&mut self) {
        if let State::Connected {
            ping_outstanding, ..
        } = &mut self.state
        {
            *ping_outstanding = false;
        }
    }

    fn fail_pending(&mut self) {
        for (_, p) in std::mem::take(&mut self.pending) {
            if p.internal.is_none() {
                self.events.push_back(ConnEvent::RequestFailed {
                    id: p.id,
                    error: RequestError::Closed,
                });
            }
        }
    }

    /// The connection or attempt failed in a way a retry may cure: schedule the next attempt.
    fn lose_connection(&mut self, now: Instant, close_socket: bool, reason: DisconnectReason) {
        if close_socket {
            self.transmits.push_back(Transmit::Close);
        }
        self.fail_pending();
        let delay = self
            .config
            .backoff
            .delay(self.failures, self.jitter.next_permille());
        self.failures = self.failures.saturating_add(1);
        let retry_at = now + delay;
        self.state = State::Backoff { retry_at };
        self.events.push_back(ConnEvent::Disconnected {
            retry_at: Some(retry_at),
            reason,
        });
    }

    fn end_for_token(&mut self, code: ErrorCode) {
        let (reason, event) = match code {
            ErrorCode::TokenKicked => (DisconnectReason::Kicked, ConnEvent::Kicked),
            ErrorCode::TokenExpired => (DisconnectReason::Token { code }, ConnEvent::TokenExpired),
            _ => (
                DisconnectReason::Token { code },
                ConnEvent::TokenInvalid { code },
            ),
        };
        let close = !matches!(self.state, State::Idle | State::Backoff { .. });
        self.end_session(close, reason, event);
    }

    /// The session is over: no reconnect until [`Conn::connect`] is called again.
    fn end_session(&mut self, close_socket: bool, reason: DisconnectReason, event: ConnEvent) {
        if self.state == State::Idle {
            return;
        }
        if close_socket {
            self.transmits.push_back(Transmit::Close);
        }
        self.fail_pending();
        self.state = State::Idle;
        self.server_background = None;
        self.events.push_back(ConnEvent::Disconnected {
            retry_at: None,
            reason,
        });
        self.events.push_back(event);
    }
}
