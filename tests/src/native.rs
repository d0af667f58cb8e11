//! Native implementations of core's driver traits — tokio sockets, tokio-tungstenite, the system
//! clock — and [`NativeClient`], a core client running on a tokio task with a [`MemoryStore`].
//!
//! [`GatedTransport`] can make a connection deaf (every frame received is dropped), which lets a
//! test lose the answers of requests the server already handled, as when it dies before they
//! reach the client.
//!
//! The HTTP client is deliberately minimal: one `POST` per TCP connection (`Connection: close`),
//! JSON bodies, `Content-Length` or chunked responses. It speaks to the server under test only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chorus_core::chan::{oneshot, unbounded, Sender};
use chorus_core::client::{ClientConfig, ClientEvent};
use chorus_core::conn::{Instant, RequestError, SeededEntropy};
use chorus_core::driver::Transport;
use chorus_core::driver::{self, Clock, Command, Connection, DriverError, Frame, Http, IoError};
use chorus_core::model::ConversationId;
use chorus_core::outbox::{ClientMsgId, Recipient};
use chorus_core::MemoryStore;
use chorus_proto::constants::ReqIdentifier;
use chorus_proto::envelope::Resp;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// WebSockets with tokio-tungstenite.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTransport;

/// An open tokio-tungstenite connection.
#[derive(Debug)]
pub struct TokioConnection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Transport for TokioTransport {
    type Connection = TokioConnection;

    async fn open(&self, url: String) -> Result<TokioConnection, IoError> {
        let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .map_err(|e| IoError(format!("connect: {e}")))?;
        Ok(TokioConnection { ws })
    }
}

impl Connection for TokioConnection {
    async fn send(&mut self, frame: Frame) -> Result<(), IoError> {
        let message = match frame {
            Frame::Text(text) => WsMessage::Text(text.into()),
            Frame::Binary(bytes) => WsMessage::Binary(bytes.into()),
        };
        self.ws
            .send(message)
            .await
            .map_err(|e| IoError(format!("send: {e}")))
    }

    async fn recv(&mut self) -> Option<Frame> {
        // `StreamExt::next` is cancel-safe: a frame is only taken from the socket when returned.
        loop {
            match self.ws.next().await? {
                Ok(WsMessage::Text(text)) => return Some(Frame::Text(text.as_str().to_owned())),
                Ok(WsMessage::Binary(bytes)) => return Some(Frame::Binary(bytes.to_vec())),
                // tungstenite answers pings itself.
                Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_)) => {}
                Ok(WsMessage::Close(_)) | Err(_) => return None,
            }
        }
    }

    async fn close(&mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// [`TokioTransport`] whose connections drop every received frame while the shared switch is on.
#[derive(Debug, Clone, Default)]
pub struct GatedTransport {
    deaf: Arc<AtomicBool>,
}

impl GatedTransport {
    /// Turns dropping of received frames on or off (for every connection, open or future).
    pub fn set_deaf(&self, deaf: bool) {
        self.deaf.store(deaf, Ordering::SeqCst);
    }
}

/// A connection of a [`GatedTransport`].
#[derive(Debug)]
pub struct GatedConnection {
    inner: TokioConnection,
    deaf: Arc<AtomicBool>,
}

impl Transport for GatedTransport {
    type Connection = GatedConnection;

    async fn open(&self, url: String) -> Result<GatedConnection, IoError> {
        Ok(GatedConnection {
            inner: TokioTransport.open(url).await?,
            deaf: Arc::clone(&self.deaf),
        })
    }
}

impl Connection for GatedConnection {
    async fn send(&mut self, frame: Frame) -> Result<(), IoError> {
        self.inner.send(frame).await
    }

    async fn recv(&mut self) -> Option<Frame> {
        // The close still comes through: only data is lost.
        loop {
            let frame = self.inner.recv().await?;
            if !self.deaf.load(Ordering::SeqCst) {
                return Some(frame);
            }
        }
    }

    async fn close(&mut self) {
        self.inner.close().await;
    }
}

/// A minimal HTTP/1.1 JSON client for one server.
#[derive(Debug, Clone, Copy)]
pub struct TokioHttp {
    addr: SocketAddr,
}

impl TokioHttp {
    pub fn new(addr: SocketAddr) -> TokioHttp {
        TokioHttp { addr }
    }

    /// `POST path` with `headers` and a JSON `body`; returns the HTTP status and the body.
    pub async fn post_raw(
        &self,
        path: &str,
        headers: &[(String, String)],
        body: &str,
    ) -> Result<(u16, String), IoError> {
        let io = |e: std::io::Error| IoError(format!("{path}: {e}"));
        let mut stream = TcpStream::connect(self.addr).await.map_err(io)?;
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(io)?;
        let text = String::from_utf8(raw).map_err(|e| IoError(format!("{path}: {e}")))?;
        let (head, rest) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| IoError(format!("{path}: no HTTP header end")))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| IoError(format!("{path}: no HTTP status")))?;
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = if chunked {
            dechunk(rest).ok_or_else(|| IoError(format!("{path}: bad chunked body")))?
        } else {
            rest.to_owned()
        };
        Ok((status, body))
    }

    /// `POST path` with the headers `operationID` and (when given) `token`; the parsed envelope.
    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, IoError> {
        let mut headers = vec![("operationID".to_owned(), format!("e2e-{path}"))];
        if let Some(token) = token {
            headers.push(("token".to_owned(), token.to_owned()));
        }
        let (status, text) = self.post_raw(path, &headers, &body.to_string()).await?;
        if status != 200 {
            return Err(IoError(format!("{path}: HTTP {status}: {text}")));
        }
        serde_json::from_str(&text).map_err(|e| IoError(format!("{path}: {e}: {text}")))
    }
}

impl Http for TokioHttp {
    async fn post(
        &self,
        path: String,
        headers: Vec<(String, String)>,
        body: String,
    ) -> Result<String, IoError> {
        let (status, text) = self.post_raw(&path, &headers, &body).await?;
        if status == 200 {
            Ok(text)
        } else {
            Err(IoError(format!("{path}: HTTP {status}")))
        }
    }
}

fn dechunk(mut s: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (len, rest) = s.split_once("\r\n")?;
        let n = usize::from_str_radix(len.trim(), 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..n)?);
        s = rest.get(n + 2..)?;
    }
}

/// The system clock (milliseconds since the Unix epoch) with tokio timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Instant::from_millis(ms)
    }

    async fn sleep_until(&self, deadline: Instant) {
        let wait = deadline.saturating_duration_since(self.now());
        // A timer may fire a little early by the wall clock; the driver just loops again then.
        tokio::time::sleep(wait + Duration::from_millis(1)).await;
    }
}

/// A core client running on a tokio task against a server, with an in-memory store.
#[derive(Debug)]
pub struct NativeClient {
    /// The user.
    pub user_id: String,
    /// The client's store (shared with the driver; read it to check what was persisted).
    pub store: Arc<MemoryStore>,
    /// Events, in the order the driver raised them.
    pub events: tokio::sync::mpsc::UnboundedReceiver<ClientEvent>,
    commands: Sender<Command>,
    transport: GatedTransport,
    task: tokio::task::JoinHandle<Result<(), DriverError>>,
}

impl NativeClient {
    /// Starts a client of `user_id` (Web platform, JSON envelopes) against the server at
    /// `server_addr` (single-port mode: REST and `/msg_gateway`) and connects.
    pub fn start(server_addr: SocketAddr, user_id: &str, token: &str) -> NativeClient {
        NativeClient::start_with(server_addr, user_id, token, |_| {})
    }

    /// [`NativeClient::start`] with the default configuration changed by `configure` (e.g. a
    /// shorter reconnect back-off).
    pub fn start_with(
        server_addr: SocketAddr,
        user_id: &str,
        token: &str,
        configure: impl FnOnce(&mut ClientConfig),
    ) -> NativeClient {
        let mut config =
            ClientConfig::new(format!("ws://{server_addr}/msg_gateway"), user_id, token);
        configure(&mut config);
        let transport = GatedTransport::default();
        let task_transport = transport.clone();
        let store = Arc::new(MemoryStore::new());
        let (commands, command_rx) = unbounded();
        let (event_tx, events) = tokio::sync::mpsc::unbounded_channel();
        let seed = TokioClock.now().as_millis() ^ (user_id.len() as u64);
        let task_store = Arc::clone(&store);
        let task = tokio::spawn(async move {
            let store = &*task_store;
            let mut client = driver::load_client(
                store,
                config,
                Box::new(SeededEntropy::new(seed)),
                Box::new(SeededEntropy::new(seed.rotate_left(17))),
                Box::new(SeededEntropy::new(seed.rotate_left(41))),
            )
            .await?;
            driver::run(
                &mut client,
                store,
                &task_transport,
                &TokioHttp::new(server_addr),
                &TokioClock,
                command_rx,
                move |event| {
                    let _ = event_tx.send(event);
                },
            )
            .await
        });
        let client = NativeClient {
            user_id: user_id.to_owned(),
            store,
            events,
            commands,
            transport,
            task,
        };
        client.command(Command::Connect);
        client
    }

    /// Sends a command to the driver (ignored once it stopped).
    pub fn command(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// Sends a raw gateway request through the client and waits for its outcome.
    pub async fn request(
        &self,
        req_identifier: ReqIdentifier,
        data: Vec<u8>,
    ) -> Result<Resp, RequestError> {
        let (reply, answer) = oneshot();
        self.command(Command::Request {
            req_identifier,
            data,
            reply,
        });
        answer.await.unwrap_or(Err(RequestError::Closed))
    }

    /// Sends a text message through the client's outbox; returns its clientMsgID (the outcome
    /// follows as `OnSendMessage*` events).
    pub async fn send_text(&self, recipient: Recipient, text: &str) -> Result<ClientMsgId, String> {
        let (reply, answer) = oneshot();
        self.command(Command::SendText {
            recipient,
            text: text.to_owned(),
            reply,
        });
        match answer.await {
            Some(result) => result.map_err(|e| e.to_string()),
            None => Err(format!("{}: the driver stopped", self.user_id)),
        }
    }

    /// Marks a conversation read up to its max seq (the outcome follows as events).
    pub fn mark_conversation_read(&self, conversation_id: ConversationId) {
        self.command(Command::MarkConversationRead { conversation_id });
    }

    /// While on, every frame the client receives is dropped (the connection stays open).
    pub fn set_deaf(&self, deaf: bool) {
        self.transport.set_deaf(deaf);
    }

    /// Waits up to `timeout` for an event matching `want`; returns it and every event before it.
    /// Fails on timeout or when the driver stopped.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&ClientEvent) -> bool,
    ) -> Result<(ClientEvent, Vec<ClientEvent>), String> {
        let mut before = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Err(_) => {
                    return Err(format!(
                        "{}: no matching event within {timeout:?}; saw {before:#?}",
                        self.user_id
                    ))
                }
                Ok(None) => return Err(format!("{}: the driver stopped", self.user_id)),
                Ok(Some(event)) if want(&event) => return Ok((event, before)),
                Ok(Some(event)) => before.push(event),
            }
        }
    }

    /// Stops the driver and waits for it.
    pub async fn stop(self) -> Result<(), DriverError> {
        self.command(Command::Stop);
        match self.task.await {
            Ok(result) => result,
            Err(e) => panic!("driver task failed: {e}"),
        }
    }
}
