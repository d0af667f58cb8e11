//! A runtime-agnostic async driver that runs a [`Client`] over a [`Store`], a [`Transport`], an
//! [`Http`] client and a [`Clock`].
//!
//! [`run`] is one loop: drain every output of the client (socket actions, REST calls, batches to
//! persist, events), then wait for the first of: a frame from the socket, the socket opening, a
//! REST answer, the next deadline, or an app [`Command`]; feed it in with the clock's `now`, and
//! repeat. Each batch is saved with one `Store::save_changes` before [`Client::commit`], so
//! nothing reaches memory or the app before it is durable.
//!
//! The loop is plain `std` futures: one poll function looks at every input, starting each turn
//! with the next one so that none is starved; REST calls in flight are polled together with it.
//! Commands and replies travel through [`crate::chan`]. It spawns nothing and names no runtime,
//! so the same code runs on tokio natively and on the browser's event loop. Futures of the
//! traits carry the [`MaybeSend`] bound: `Send` natively, nothing on wasm32.
//!
//! Never here: a particular runtime, socket library, HTTP client or clock source.

use crate::vec_map::VecMap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

use chorus_proto::constants::ReqIdentifier;
use chorus_proto::envelope::Resp;

use crate::chan::{OneshotSender, Receiver};
use crate::client::{Client, ClientConfig, ClientEvent, HttpRequest};
use crate::conn::{IdGenerator, Instant, JitterSource, RequestError, RequestId, Transmit};
use crate::entities::{Entities, RestTag};
use crate::model::{ConversationId, Seq};
use crate::outbox::{ClientMsgId, MsgIdSource, OutboxError, Recipient};
use crate::platform::{MaybeSend, MaybeSync};
use crate::store::{Store, StoreError};

/// One WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (handshake result, ping/pong).
    Text(String),
    /// A binary frame (an encoded envelope).
    Binary(Vec<u8>),
}

/// A transport or HTTP failure, as text (each implementation has its own error types).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IoError(pub String);

/// Opens WebSocket connections.
pub trait Transport: MaybeSend + MaybeSync {
    /// An open connection.
    type Connection: Connection;

    /// Opens a connection to `url` (the handshake query included).
    fn open(
        &self,
        url: String,
    ) -> impl Future<Output = Result<Self::Connection, IoError>> + MaybeSend;
}

/// An open WebSocket connection.
pub trait Connection: MaybeSend {
    /// Sends one frame.
    fn send(&mut self, frame: Frame) -> impl Future<Output = Result<(), IoError>> + MaybeSend;

    /// The next data frame; `None` once the connection is closed. Control frames are the
    /// implementation's business. Must be cancel-safe: dropping the future before it completes
    /// loses no frame (the driver races it against other inputs).
    fn recv(&mut self) -> impl Future<Output = Option<Frame>> + MaybeSend;

    /// Closes the connection (best effort).
    fn close(&mut self) -> impl Future<Output = ()> + MaybeSend;
}

/// Makes REST calls to the server's API.
pub trait Http: MaybeSend + MaybeSync {
    /// `POST path` with these headers and JSON body; the response body (the OpenIM envelope).
    fn post(
        &self,
        path: String,
        headers: Vec<(String, String)>,
        body: String,
    ) -> impl Future<Output = Result<String, IoError>> + MaybeSend;
}

/// The time source of the driver: milliseconds since the Unix epoch.
pub trait Clock: MaybeSend + MaybeSync {
    /// Now.
    fn now(&self) -> Instant;

    /// Resolves at or after `deadline`.
    fn sleep_until(&self, deadline: Instant) -> impl Future<Output = ()> + MaybeSend;
}

/// What the app asks of a running driver.
#[non_exhaustive]
pub enum Command {
    /// Start the session.
    Connect,
    /// End the session (logout); the driver keeps running.
    Logout,
    /// Use this token for the next connection attempt and REST calls.
    SetToken(String),
    /// Tell the gateway whether the app is in the background.
    SetBackground(bool),
    /// Load a history page (see [`Client::load_history`]).
    LoadHistory {
        /// The conversation.
        conversation_id: ConversationId,
        /// Load seqs below this one.
        before: Seq,
        /// How many.
        count: u64,
    },
    /// Run the entity version sync again.
    SyncEntities,
    /// Mark a conversation read up to its max seq (see [`Client::mark_conversation_read`]).
    MarkConversationRead {
        /// The conversation.
        conversation_id: ConversationId,
    },
    /// Send a raw gateway request; the outcome is sent to `reply`.
    Request {
        /// The envelope's `reqIdentifier`.
        req_identifier: ReqIdentifier,
        /// Protobuf bytes of the request message.
        data: Vec<u8>,
        /// Receives the response or the failure.
        reply: OneshotSender<Result<Resp, RequestError>>,
    },
    /// Send a text message through the outbox (see [`Client::send_text`]); its clientMsgID, or
    /// why it cannot be sent, goes to `reply`.
    SendText {
        /// Who it goes to.
        recipient: Recipient,
        /// The text.
        text: String,
        /// Receives the clientMsgID.
        reply: OneshotSender<Result<ClientMsgId, OutboxError>>,
    },
    /// Stop the driver (the socket is closed without a logout).
    Stop,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Connect => f.write_str("Connect"),
            Command::Logout => f.write_str("Logout"),
            Command::SetToken(_) => f.write_str("SetToken(..)"),
            Command::SetBackground(b) => write!(f, "SetBackground({b})"),
            Command::LoadHistory {
                conversation_id,
                before,
                count,
            } => write!(f, "LoadHistory({conversation_id:?}, {before:?}, {count})"),
            Command::SyncEntities => f.write_str("SyncEntities"),
            Command::MarkConversationRead { conversation_id } => {
                write!(f, "MarkConversationRead({conversation_id:?})")
            }
            Command::Request { req_identifier, .. } => write!(f, "Request({req_identifier:?})"),
            Command::SendText { recipient, .. } => write!(f, "SendText({recipient:?}, ..)"),
            Command::Stop => f.write_str("Stop"),
        }
    }
}

/// Why the driver stopped other than by [`Command::Stop`] or the command channel closing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The store failed and its state could not be read back.
    #[error("store failed: {0}")]
    Store(#[from] StoreError),
}

/// Builds a [`Client`] from what `store` holds for `config`'s user: entities, cursors and the
/// outbox (each entry with its stored message).
pub async fn load_client<S: Store>(
    store: &S,
    config: ClientConfig,
    ids: Box<dyn IdGenerator>,
    jitter: Box<dyn JitterSource>,
    msg_ids: Box<dyn MsgIdSource>,
) -> Result<Client, StoreError> {
    let entities = Entities::load(store, &config.conn.user_id).await?;
    let cursors = store.load_cursors().await?;
    let mut outbox = Vec::new();
    for entry in store.outbox().await? {
        let message = store.message_by_client_id(&entry.client_msg_id).await?;
        outbox.push((entry, message));
    }
    let mut client = Client::new(config, entities, cursors, ids, jitter, msg_ids);
    client.load_outbox(outbox);
    Ok(client)
}

/// What woke the loop.
enum Input<Conn> {
    Frame(Option<Frame>),
    Opened(Result<Conn, IoError>),
    Rest(RestTag, Result<String, IoError>),
    Timeout,
    Command(Option<Command>),
}

async fn call<H: Http>(http: &H, request: HttpRequest) -> (RestTag, Result<String, IoError>) {
    let result = http
        .post(request.path.to_owned(), request.headers, request.body)
        .await;
    (request.tag, result)
}

/// Runs `client` until [`Command::Stop`] or until every command sender is dropped. Events are
/// passed to `on_event` in order; replies to [`Command::Request`] go to their channel.
pub async fn run<S, T, H, C, F>(
    client: &mut Client,
    store: &S,
    transport: &T,
    http: &H,
    clock: &C,
    mut commands: Receiver<Command>,
    mut on_event: F,
) -> Result<(), DriverError>
where
    S: Store,
    T: Transport,
    H: Http,
    C: Clock,
    F: FnMut(ClientEvent),
{
    let mut socket: Option<T::Connection> = None;
    // The connection being opened, if any.
    let mut opening = pin!(None);
    // REST calls in flight.
    let mut rest = Vec::new();
    // Which input is looked at first.
    let mut turn = 0;
    let mut replies: VecMap<RequestId, OneshotSender<Result<Resp, RequestError>>> = VecMap::new();
    loop {
        // Drain every output; a commit or a socket failure can produce more.
        loop {
            let mut progressed = false;
            // Changes first: applying a batch's inputs can queue transmits and REST calls
            // without yielding a batch of its own, and the pollers below must see them in
            // this same pass (otherwise they wait for the next socket or timer wake-up).
            while let Some(changes) = client.poll_changes() {
                progressed = true;
                match store.save_changes(&changes).await {
                    // The batch is the one handed out, so commit cannot refuse it.
                    Ok(()) => {
                        let _ = client.commit(changes);
                    }
                    Err(error) => {
                        if client.save_failed(error) {
                            let cursors = store.load_cursors().await?;
                            client.reload_cursors(clock.now(), cursors);
                        }
                    }
                }
            }
            while let Some(transmit) = client.poll_transmit() {
                progressed = true;
                // One await point per kind of I/O keeps the state machine small.
                let (frame, url) = match transmit {
                    Transmit::Binary(bytes) => (Some(Frame::Binary(bytes)), None),
                    Transmit::Text(text) => (Some(Frame::Text(text)), None),
                    Transmit::Connect { url } => (None, Some(url)),
                    Transmit::Close => {
                        opening.set(None);
                        (None, None)
                    }
                };
                if let Some(frame) = frame {
                    send(client, clock, &mut socket, frame).await;
                    continue;
                }
                // Connect and Close: the old socket goes first.
                if let Some(mut old) = socket.take() {
                    old.close().await;
                }
                if let Some(url) = url {
                    opening.set(Some(transport.open(url)));
                }
            }
            while let Some(request) = client.poll_rest() {
                progressed = true;
                rest.push(Box::pin(call(http, request)));
            }
            while let Some(event) = client.poll_event() {
                progressed = true;
                match event {
                    ClientEvent::RequestDone { id, resp } if replies.contains_key(&id) => {
                        if let Some(reply) = replies.remove(&id) {
                            reply.send(Ok(resp));
                        }
                    }
                    ClientEvent::RequestFailed { id, error } if replies.contains_key(&id) => {
                        if let Some(reply) = replies.remove(&id) {
                            reply.send(Err(error));
                        }
                    }
                    event => on_event(event),
                }
            }
            if !progressed {
                break;
            }
        }

        let input = {
            // `recv` is cancel-safe, so a frame is not lost when another input comes first.
            let mut recv = pin!(socket.as_mut().map(|s| s.recv()));
            // Read before the block: holding `&Client` across an await would require `Client: Sync`.
            let deadline = client.poll_timeout();
            let mut sleep = pin!(deadline.map(|deadline| clock.sleep_until(deadline)));
            turn = (turn + 1) % INPUTS;
            poll_fn(|cx| {
                for k in 0..INPUTS {
                    let input = match (turn + k) % INPUTS {
                        0 => poll_some(recv.as_mut(), cx).map(Input::Frame),
                        1 => poll_some(opening.as_mut(), cx).map(|opened| {
                            opening.set(None);
                            Input::Opened(opened)
                        }),
                        2 => poll_any(&mut rest, cx).map(|(tag, result)| Input::Rest(tag, result)),
                        3 => poll_some(sleep.as_mut(), cx).map(|()| Input::Timeout),
                        _ => commands.poll_recv(cx).map(Input::Command),
                    };
                    if input.is_ready() {
                        return input;
                    }
                }
                Poll::Pending
            })
            .await
        };

        let now = clock.now();
        match input {
            Input::Frame(Some(Frame::Text(text))) => client.handle_text(now, &text),
            Input::Frame(Some(Frame::Binary(bytes))) => client.handle_binary(now, &bytes),
            Input::Frame(None) => {
                socket = None;
                client.handle_closed(now, "connection closed");
            }
            Input::Opened(Ok(conn)) => {
                socket = Some(conn);
                client.handle_open(now);
            }
            Input::Opened(Err(e)) => client.handle_closed(now, &e.0),
            Input::Rest(tag, result) => client.handle_rest(now, tag, result.map_err(|e| e.0)),
            Input::Timeout => client.handle_timeout(now),
            Input::Command(None) | Input::Command(Some(Command::Stop)) => {
                if let Some(mut old) = socket.take() {
                    old.close().await;
                }
                return Ok(());
            }
            Input::Command(Some(command)) => match command {
                Command::Connect => client.connect(now),
                Command::Logout => client.logout(now),
                Command::SetToken(token) => client.set_token(token),
                Command::SetBackground(b) => client.set_background(now, b),
                Command::LoadHistory {
                    conversation_id,
                    before,
                    count,
                } => {
                    client.load_history(now, conversation_id, before, count);
                }
                Command::SyncEntities => client.sync_entities(),
                Command::MarkConversationRead { conversation_id } => {
                    client.mark_conversation_read(now, conversation_id)
                }
                Command::Request {
                    req_identifier,
                    data,
                    reply,
                } => {
                    let id = client.request(now, req_identifier, data);
                    replies.insert(id, reply);
                }
                Command::SendText {
                    recipient,
                    text,
                    reply,
                } => {
                    reply.send(client.send_text(now, recipient, text));
                }
                Command::Stop => {}
            },
        }
    }
}

/// How many kinds of input the loop waits for (the variants of [`Input`]).
const INPUTS: usize = 5;

/// Polls the future in `slot`, if there is one (an empty slot never finishes).
fn poll_some<F: Future>(slot: Pin<&mut Option<F>>, cx: &mut Context<'_>) -> Poll<F::Output> {
    match slot.as_pin_mut() {
        Some(future) => future.poll(cx),
        None => Poll::Pending,
    }
}

/// Polls every future of `running` (each is woken through the loop's own waker) and takes out
/// the first that finished.
fn poll_any<F: Future>(running: &mut Vec<Pin<Box<F>>>, cx: &mut Context<'_>) -> Poll<F::Output> {
    for i in 0..running.len() {
        if let Poll::Ready(output) = running[i].as_mut().poll(cx) {
            running.swap_remove(i);
            return Poll::Ready(output);
        }
    }
    Poll::Pending
}

/// Sends a frame; a failed send counts as the socket closing.
async fn send<C: Clock, N: Connection>(
    client: &mut Client,
    clock: &C,
    socket: &mut Option<N>,
    frame: Frame,
) {
    let Some(conn) = socket.as_mut() else {
        return;
    };
    if let Err(e) = conn.send(frame).await {
        *socket = None;
        client.handle_closed(clock.now(), &e.0);
    }
}

#[cfg(test)]
mod tests {
    use chorus_proto::envelope::{
        Compression, EnvelopeCodec, FrameCodec, HandshakeResult, ResponsePayload,
    };
    use chorus_proto::pb::sdkws::{GetMaxSeqResp, MsgData, PullMessageBySeqsResp, PullMsgs};
    use futures::executor::block_on;
    use futures::future::join;

    use super::*;
    use crate::chan::{unbounded, Sender};
    use crate::conn::{FixedJitter, SequentialIds};
    use crate::memory_store::MemoryStore;
    use crate::store::Direction;

    /// The server's ends of one connection.
    struct ServerSide {
        to_client: Sender<Frame>,
        from_client: Receiver<Frame>,
    }

    struct ChannelTransport {
        accepted: Sender<ServerSide>,
    }

    struct ChannelConnection {
        rx: Receiver<Frame>,
        /// `None` once closed.
        tx: Option<Sender<Frame>>,
    }

    impl Transport for ChannelTransport {
        type Connection = ChannelConnection;

        async fn open(&self, _url: String) -> Result<ChannelConnection, IoError> {
            let (to_client, rx) = unbounded();
            let (tx, from_client) = unbounded();
            self.accepted
                .send(ServerSide {
                    to_client,
                    from_client,
                })
                .map_err(|_| IoError("no server".to_owned()))?;
            Ok(ChannelConnection { rx, tx: Some(tx) })
        }
    }

    impl Connection for ChannelConnection {
        async fn send(&mut self, frame: Frame) -> Result<(), IoError> {
            match &self.tx {
                Some(tx) => tx
                    .send(frame)
                    .map_err(|_| IoError("server gone".to_owned())),
                None => Err(IoError("closed".to_owned())),
            }
        }

        async fn recv(&mut self) -> Option<Frame> {
            self.rx.recv().await
        }

        async fn close(&mut self) {
            self.tx = None;
        }
    }

    /// Every REST call fails: the entity sync reports it and message sync goes on.
    struct NoHttp;

    impl Http for NoHttp {
        async fn post(
            &self,
            path: String,
            _headers: Vec<(String, String)>,
            _body: String,
        ) -> Result<String, IoError> {
            Err(IoError(format!("{path}: offline")))
        }
    }

    /// A clock that stands still; no deadline is ever reached.
    struct StillClock;

    impl Clock for StillClock {
        fn now(&self) -> Instant {
            Instant::from_millis(1_700_000_000_000)
        }

        async fn sleep_until(&self, _deadline: Instant) {
            std::future::pending::<()>().await;
        }
    }

    /// The next binary request from the client, decoded (text frames such as pings skipped).
    async fn next_req(server: &mut ServerSide, codec: &FrameCodec) -> chorus_proto::envelope::Req {
        loop {
            match server.from_client.recv().await.expect("client frame") {
                Frame::Binary(bytes) => return codec.decode_req(&bytes).expect("request"),
                Frame::Text(_) => {}
            }
        }
    }

    fn answer(server: &ServerSide, codec: &FrameCodec, req_msg_incr: &str, p: ResponsePayload) {
        let frame = codec.encode_resp(&p.to_resp(req_msg_incr, "op")).unwrap();
        server.to_client.send(Frame::Binary(frame)).unwrap();
    }

    /// The scenario below waits on a clock that never advances, so a driver that stopped
    /// producing events would hang: run it on a thread and fail after a bound instead.
    #[test]
    fn run_connects_syncs_persists_then_reports_and_stops() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            connects_syncs_persists_then_reports_and_stops();
            let _ = done.send(());
        });
        match finished.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(()) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("the driver scenario did not finish within 60 s")
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the driver scenario panicked (see its message above)")
            }
        }
    }

    fn connects_syncs_persists_then_reports_and_stops() {
        let store = MemoryStore::new();
        let (accepted, mut connections) = unbounded();
        let transport = ChannelTransport { accepted };
        let (commands, command_rx) = unbounded();
        let (events_tx, mut events) = unbounded();
        let config = ClientConfig::new("ws://gw/", "u1", "tok");
        let mut client = block_on(load_client(
            &store,
            config,
            Box::new(SequentialIds::new("op-")),
            Box::new(FixedJitter(0)),
            Box::new(crate::outbox::SequentialMsgIds::default()),
        ))
        .expect("load");
        commands.send(Command::Connect).unwrap();

        let driver = run(
            &mut client,
            &store,
            &transport,
            &NoHttp,
            &StillClock,
            command_rx,
            move |e| {
                let _ = events_tx.send(e);
            },
        );
        let script = async {
            let codec = FrameCodec::new(EnvelopeCodec::Json, Compression::None);
            let mut server = connections.recv().await.expect("a connection");
            server
                .to_client
                .send(Frame::Text(HandshakeResult::ok().encode()))
                .unwrap();
            let req = next_req(&mut server, &codec).await;
            assert_eq!(req.req_identifier, 1001);
            let mut max = GetMaxSeqResp::default();
            max.max_seqs.insert("sg_g1".into(), 1);
            answer(
                &server,
                &codec,
                &req.msg_incr,
                ResponsePayload::GetNewestSeq(max),
            );
            let req = next_req(&mut server, &codec).await;
            assert_eq!(req.req_identifier, 1002);
            let msg = MsgData {
                send_id: "u2".into(),
                group_id: "g1".into(),
                client_msg_id: "c1".into(),
                session_type: 3,
                content_type: 101,
                content: br#"{"content":"hello"}"#.to_vec(),
                seq: 1,
                ..MsgData::default()
            };
            let mut resp = PullMessageBySeqsResp::default();
            resp.msgs.insert(
                "sg_g1".into(),
                PullMsgs {
                    msgs: vec![msg],
                    is_end: true,
                    end_seq: 0,
                },
            );
            answer(
                &server,
                &codec,
                &req.msg_incr,
                ResponsePayload::PullMsgByRange(resp),
            );
            let mut seen = Vec::new();
            loop {
                let event = events.recv().await.expect("driver running");
                let done = matches!(event, ClientEvent::OnRecvNewMessages { .. });
                if done {
                    // Events follow persistence: the message is in the store already.
                    let conv = ConversationId::parse("sg_g1").unwrap();
                    let stored = store.messages(&conv, Seq(1)..=Seq(1), 10, Direction::Ascending);
                    let stored = stored.await.expect("read");
                    assert_eq!(stored.len(), 1);
                    assert_eq!(stored[0].content.text(), Some("hello"));
                }
                seen.push(event);
                if done {
                    break;
                }
            }
            assert_eq!(
                seen[..2],
                [ClientEvent::OnConnecting, ClientEvent::OnConnectSuccess]
            );
            assert!(
                seen.iter()
                    .any(|e| matches!(e, ClientEvent::EntitySyncFailed { .. })),
                "REST failures are reported: {seen:#?}"
            );
            commands.send(Command::Stop).unwrap();
        };
        let (result, ()) = block_on(join(driver, script));
        assert_eq!(result, Ok(()));
    }
}
