//! A gateway test client over a real WebSocket (tokio-tungstenite), speaking either envelope:
//! JSON (`sdkType=js`, as browser SDKs) or gob + gzip (no `sdkType`, as the official Go SDK,
//! whose frames are gzip(gob `GeneralWsReq` with type id 64)).
//!
//! ```ignore
//! let mut c = WsClient::connect(&server, "u1", &token, Mode::Gob).await;
//! let resp = c.request(1001, &GetMaxSeqReq { user_id: "u1".into() }).await;
//! let push = c.next_push().await;
//! ```
//!
//! Every wait is bounded by [`TIMEOUT`] and panics with a description when it expires.

use std::collections::VecDeque;
use std::time::Duration;

use chorus_proto::envelope::{
    Compression, ConnectParams, EnvelopeCodec, FrameCodec, HandshakeResult, Req, Resp, SdkType,
};
use chorus_proto::pb::msg::SendMsgResp;
use chorus_proto::pb::sdkws::{MsgData, PushMessages};
use chorus_proto::pb::Message as _;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::TestServer;

/// How long any single wait may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Envelope codec and compression of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `sdkType=js`, no compression (browser SDKs).
    Json,
    /// `sdkType=js&compression=gzip`.
    JsonGzip,
    /// gob + gzip, no `sdkType` (the official SDK).
    Gob,
    /// gob without compression.
    GobPlain,
}

impl Mode {
    pub fn codec(self) -> FrameCodec {
        let (envelope, compression) = match self {
            Mode::Json => (EnvelopeCodec::Json, Compression::None),
            Mode::JsonGzip => (EnvelopeCodec::Json, Compression::Gzip),
            Mode::Gob => (EnvelopeCodec::Gob, Compression::Gzip),
            Mode::GobPlain => (EnvelopeCodec::Gob, Compression::None),
        };
        FrameCodec::new(envelope, compression)
    }
}

/// Connection parameters for `user`/`platform_id` in `mode`, with `isMsgResp=true`.
pub fn params(user: &str, token: &str, platform_id: i32, mode: Mode) -> ConnectParams {
    let codec = mode.codec();
    ConnectParams {
        send_id: user.to_owned(),
        token: token.to_owned(),
        platform_id,
        operation_id: format!("op-connect-{user}"),
        is_background: false,
        compression: codec.compression,
        sdk_type: match codec.envelope {
            EnvelopeCodec::Json => SdkType::Js,
            EnvelopeCodec::Gob => SdkType::Go,
        },
        is_msg_resp: true,
    }
}

/// The platform a token was issued for (read from its claims, without checking them).
pub fn token_platform(token: &str) -> i32 {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("JWT base64");
    let claims: serde_json::Value = serde_json::from_slice(&bytes).expect("JWT claims");
    claims["PlatformID"].as_i64().expect("PlatformID claim") as i32
}

/// A live gateway connection.
pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub codec: FrameCodec,
    pub user: String,
    counter: u64,
    /// Binary frames received while waiting for something else (pushes, kicks).
    frames: VecDeque<Resp>,
    /// Text frames received while waiting for something else.
    texts: VecDeque<String>,
}

impl WsClient {
    /// Connects with `isMsgResp=true` and asserts the handshake succeeded; the platform is the
    /// token's.
    pub async fn connect(server: &TestServer, user: &str, token: &str, mode: Mode) -> Self {
        let params = params(user, token, token_platform(token), mode);
        let (client, result) = Self::open(server, &params).await;
        assert!(result.is_ok(), "handshake of {user} refused: {result:?}");
        client
    }

    /// Opens a connection with arbitrary parameters. With `isMsgResp=true` the first text frame
    /// (the handshake result) is read and returned; otherwise the result is `ok()`.
    pub async fn open(server: &TestServer, params: &ConnectParams) -> (Self, HandshakeResult) {
        let url = format!("{}?{}", server.ws_url(), params.to_query());
        Self::open_url(
            &url,
            FrameCodec::for_params(params),
            &params.send_id,
            params.is_msg_resp,
        )
        .await
    }

    /// Opens `url` (any query); see [`WsClient::open`].
    pub async fn open_url(
        url: &str,
        codec: FrameCodec,
        user: &str,
        read_handshake: bool,
    ) -> (Self, HandshakeResult) {
        let (ws, _) = tokio::time::timeout(TIMEOUT, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect timed out")
            .unwrap_or_else(|e| panic!("WebSocket upgrade of {url} failed: {e}"));
        let mut client = Self {
            ws,
            codec,
            user: user.to_owned(),
            counter: 0,
            frames: VecDeque::new(),
            texts: VecDeque::new(),
        };
        let result = if read_handshake {
            let text = client.next_text().await;
            HandshakeResult::decode(text.as_bytes())
                .unwrap_or_else(|e| panic!("bad handshake frame {text}: {e}"))
        } else {
            HandshakeResult::ok()
        };
        (client, result)
    }

    fn next_ids(&mut self) -> (String, String) {
        self.counter += 1;
        (
            format!("{}_{}", self.user, self.counter),
            format!("op-{}-{}", self.user, self.counter),
        )
    }

    /// Sends an envelope encoded with this connection's codec.
    pub async fn send_req(&mut self, req: &Req) {
        let bytes = self.codec.encode_req(req).expect("encodable request");
        self.send_binary(bytes).await;
    }

    /// Sends raw bytes as a binary frame.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.send_message(Message::Binary(bytes.into())).await;
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.send_message(Message::text(text)).await;
    }

    pub async fn send_message(&mut self, msg: Message) {
        tokio::time::timeout(TIMEOUT, self.ws.send(msg))
            .await
            .expect("send timed out")
            .expect("send failed");
    }

    /// A request envelope from this user with fresh `msgIncr` and `operationID`.
    pub fn req<M: chorus_proto::pb::Message>(&mut self, req_identifier: i32, payload: &M) -> Req {
        let (msg_incr, operation_id) = self.next_ids();
        Req {
            req_identifier,
            token: String::new(),
            send_id: self.user.clone(),
            operation_id,
            msg_incr,
            data: payload.encode_to_vec(),
        }
    }

    /// Sends a request and waits for the response with its `msgIncr`; frames received
    /// meanwhile are kept for [`WsClient::next_push`].
    pub async fn request<M: chorus_proto::pb::Message>(
        &mut self,
        req_identifier: i32,
        payload: &M,
    ) -> Resp {
        let req = self.req(req_identifier, payload);
        self.send_req(&req).await;
        self.response_to(&req).await
    }

    /// Waits for the response to `req` (already sent).
    pub async fn response_to(&mut self, req: &Req) -> Resp {
        loop {
            let resp = self.read_frame().await.unwrap_or_else(|| {
                panic!(
                    "connection closed while waiting for the response to {}",
                    req.req_identifier
                )
            });
            if !resp.msg_incr.is_empty() && resp.msg_incr == req.msg_incr {
                assert_eq!(resp.req_identifier, req.req_identifier, "{resp:?}");
                assert_eq!(resp.operation_id, req.operation_id, "{resp:?}");
                return resp;
            }
            self.frames.push_back(resp);
        }
    }

    /// Sends a request, asserts errCode 0 and decodes the response data as `R`.
    pub async fn call<M: chorus_proto::pb::Message, R: chorus_proto::pb::Message + Default>(
        &mut self,
        req_identifier: i32,
        payload: &M,
    ) -> R {
        let resp = self.request(req_identifier, payload).await;
        assert_eq!(
            resp.err_code, 0,
            "request {req_identifier} failed: {resp:?}"
        );
        R::decode(resp.data.as_slice()).expect("response data decodes")
    }

    /// Sends a message (1003) and returns the acknowledgement.
    pub async fn send_msg(&mut self, msg: &MsgData) -> SendMsgResp {
        self.call(1003, msg).await
    }

    /// The next server frame that is not a response to a pending request (push, kick, …).
    pub async fn next_push(&mut self) -> Resp {
        if let Some(resp) = self.frames.pop_front() {
            return resp;
        }
        self.read_frame()
            .await
            .unwrap_or_else(|| panic!("{}: connection closed while waiting for a push", self.user))
    }

    /// The next server frame if one arrives within `wait` (queued ones first); `None` on
    /// silence or when the connection ends.
    pub async fn try_next_frame(&mut self, wait: Duration) -> Option<Resp> {
        if let Some(resp) = self.frames.pop_front() {
            return Some(resp);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Binary(b) => return self.codec.decode_resp(&b).ok(),
                Message::Text(t) => self.texts.push_back(t.as_str().to_owned()),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next WebSocket message of any kind within `wait`: `Err` on silence, `Ok(None)` when
    /// the connection ended (a close frame counts as the end).
    pub async fn message_within(
        &mut self,
        wait: Duration,
    ) -> Result<Option<Message>, tokio::time::error::Elapsed> {
        let msg = match tokio::time::timeout(wait, self.ws.next()).await? {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => None,
            Some(Ok(m)) => Some(m),
        };
        self.flush_pong(&msg).await;
        Ok(msg)
    }

    /// Waits for a 2001 push carrying the message with `client_msg_id` (skipping other pushes)
    /// and returns that message with the conversation it was pushed in.
    pub async fn wait_msg(&mut self, client_msg_id: &str) -> (String, MsgData) {
        loop {
            let resp = self.next_push().await;
            if resp.req_identifier != 2001 {
                continue;
            }
            assert_eq!(resp.err_code, 0, "{resp:?}");
            assert!(resp.msg_incr.is_empty(), "pushes have no msgIncr: {resp:?}");
            let push = PushMessages::decode(resp.data.as_slice()).expect("PushMessages");
            for (conv, pulled) in push.msgs.iter().chain(push.notification_msgs.iter()) {
                if let Some(m) = pulled
                    .msgs
                    .iter()
                    .find(|m| m.client_msg_id == client_msg_id)
                {
                    return (conv.clone(), m.clone());
                }
            }
        }
    }

    /// The next text frame.
    pub async fn next_text(&mut self) -> String {
        if let Some(t) = self.texts.pop_front() {
            return t;
        }
        loop {
            match self.read_message().await {
                Some(Message::Text(t)) => return t.as_str().to_owned(),
                Some(Message::Binary(b)) => {
                    let resp = self.codec.decode_resp(&b).expect("server frame decodes");
                    self.frames.push_back(resp);
                }
                Some(_) => {}
                None => panic!(
                    "{}: connection closed while waiting for a text frame",
                    self.user
                ),
            }
        }
    }

    /// Sends `{"type":"ping"[,"body":…]}` and returns the text of the answer.
    pub async fn text_ping(&mut self, body: Option<&str>) -> String {
        let frame = match body {
            Some(b) => format!(r#"{{"type":"ping","body":{b}}}"#),
            None => r#"{"type":"ping"}"#.to_owned(),
        };
        self.send_text(&frame).await;
        self.next_text().await
    }

    /// Sends a control ping and waits for the control pong; returns its payload.
    pub async fn control_ping(&mut self, payload: &[u8]) -> Vec<u8> {
        self.send_message(Message::Ping(payload.to_vec().into()))
            .await;
        loop {
            match self.read_message().await {
                Some(Message::Pong(p)) => return p.to_vec(),
                Some(Message::Binary(b)) => {
                    let resp = self.codec.decode_resp(&b).expect("server frame decodes");
                    self.frames.push_back(resp);
                }
                Some(Message::Text(t)) => self.texts.push_back(t.as_str().to_owned()),
                Some(_) => {}
                None => panic!("{}: closed while waiting for a pong", self.user),
            }
        }
    }

    /// The payload of the next binary frame exactly as received (still gzip'd if negotiated).
    pub async fn next_raw_binary(&mut self) -> Vec<u8> {
        assert!(
            self.frames.is_empty(),
            "frames already decoded: {:?}",
            self.frames
        );
        loop {
            match self.read_message().await {
                Some(Message::Binary(b)) => return b.to_vec(),
                Some(Message::Text(t)) => self.texts.push_back(t.as_str().to_owned()),
                Some(Message::Close(_)) | None => {
                    panic!("{}: closed while waiting for a binary frame", self.user)
                }
                Some(_) => {}
            }
        }
    }

    /// Waits until the server closes the connection; returns the frames received before.
    pub async fn expect_close(&mut self) -> Vec<Resp> {
        let mut before: Vec<Resp> = self.frames.drain(..).collect();
        loop {
            match self.read_message().await {
                None | Some(Message::Close(_)) => return before,
                Some(Message::Binary(b)) => {
                    if let Ok(resp) = self.codec.decode_resp(&b) {
                        before.push(resp);
                    }
                }
                Some(_) => {}
            }
        }
    }

    /// Asserts that no frame arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        assert!(
            self.frames.is_empty(),
            "unexpected frames: {:?}",
            self.frames
        );
        if let Ok(msg) = tokio::time::timeout(wait, self.ws.next()).await {
            panic!("{}: unexpected {msg:?}", self.user);
        }
    }

    /// Closes the connection from the client side.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// The next binary frame decoded, `None` when the connection ends.
    async fn read_frame(&mut self) -> Option<Resp> {
        loop {
            match self.read_message().await? {
                Message::Binary(b) => {
                    return Some(
                        self.codec.decode_resp(&b).unwrap_or_else(|e| {
                            panic!("server frame does not decode ({e}): {b:?}")
                        }),
                    )
                }
                Message::Text(t) => self.texts.push_back(t.as_str().to_owned()),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next WebSocket message; `None` when the connection ends (close, EOF or reset).
    async fn read_message(&mut self) -> Option<Message> {
        match tokio::time::timeout(TIMEOUT, self.ws.next()).await {
            Err(_) => panic!("{}: nothing received within {TIMEOUT:?}", self.user),
            Ok(None) | Ok(Some(Err(_))) => None,
            Ok(Some(Ok(m))) => {
                let m = Some(m);
                self.flush_pong(&m).await;
                m
            }
        }
    }

    /// The library queues the pong of a control ping until the next write or flush; send it
    /// now, as a live client would.
    async fn flush_pong(&mut self, msg: &Option<Message>) {
        if matches!(msg, Some(Message::Ping(_))) {
            let _ = self.ws.flush().await;
        }
    }
}

/// A group text message from `sender` as the official SDK builds it (spec §10.1).
pub fn group_text(sender: &str, group_id: &str, client_msg_id: &str, text: &str) -> MsgData {
    MsgData {
        send_id: sender.to_owned(),
        group_id: group_id.to_owned(),
        client_msg_id: client_msg_id.to_owned(),
        sender_platform_id: 5,
        session_type: 3,
        msg_from: 100,
        content_type: 101,
        content: json!({ "content": text }).to_string().into_bytes(),
        create_time: chorus_server::now_ms(),
        ..MsgData::default()
    }
}

/// A WebSocket upgrade request sent by hand, for refusals answered over HTTP: returns the HTTP
/// status and body (the server does not upgrade, so a WebSocket library would only report an
/// error).
pub async fn raw_upgrade(server: &TestServer, query: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let req = format!(
        "GET /msg_gateway?{query} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        server.addr
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("HTTP answer timed out")
            .unwrap();
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= len || n == 0 {
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("status");
                return (status, body.to_owned());
            }
        }
        assert!(n > 0, "connection closed before the HTTP answer: {text}");
    }
}

/// Creates a work group owned by `owner` with `members` and returns its groupID: through
/// `/group/create_group` when the server has it, else directly in the database (group, members
/// and their `sg_` conversations).
pub async fn create_group(server: &TestServer, owner: &str, members: &[&str]) -> String {
    let body = json!({
        "memberUserIDs": members,
        "adminUserIDs": [],
        "ownerUserID": owner,
        "groupInfo": {"groupID": "", "groupName": "team", "groupType": 2, "creatorUserID": owner},
    });
    let (status, text) = server
        .post_raw(
            "/group/create_group",
            Some(server.admin_token()),
            &body.to_string(),
        )
        .await;
    if status == 200 {
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v["errCode"], 0, "create_group: {v}");
        return v["data"]["groupInfo"]["groupID"]
            .as_str()
            .expect("groupID")
            .to_owned();
    }
    assert_eq!(status, 404, "create_group: {status} {text}");
    let group_id = format!(
        "g{}",
        chorus_server::auth::random_id().get(..10).unwrap_or("0")
    );
    let mut all: Vec<String> = vec![owner.to_owned()];
    all.extend(members.iter().map(|m| (*m).to_owned()));
    insert_group(&server.state.store, &group_id, &all);
    group_id
}

/// Writes a group, its members (the first is the owner) and their `sg_` conversations.
pub fn insert_group(store: &chorus_server::store::Store, group_id: &str, members: &[String]) {
    let now = chorus_server::now_ms();
    store
        .call_sync(|c| {
            let tx = c.transaction()?;
            let owner = members.first().cloned().unwrap_or_default();
            tx.execute(
                "INSERT INTO groups (group_id, group_name, owner_user_id, create_time, creator_user_id, group_type) VALUES (?1, 'team', ?2, ?3, ?2, 2)",
                rusqlite::params![group_id, owner, now],
            )?;
            for (i, m) in members.iter().enumerate() {
                let role = if i == 0 { 100 } else { 20 };
                tx.execute(
                    "INSERT INTO group_members (group_id, user_id, role_level, join_time, join_source, operator_user_id, inviter_user_id) VALUES (?1, ?2, ?3, ?4, 2, ?5, ?5)",
                    rusqlite::params![group_id, m, role, now, owner],
                )?;
                tx.execute(
                    "INSERT INTO conversations (owner_user_id, conversation_id, conversation_type, group_id) VALUES (?1, ?2, 3, ?3)",
                    rusqlite::params![m, format!("sg_{group_id}"), group_id],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .expect("insert group");
}

/// Hex digits to bytes (test fixtures).
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}
