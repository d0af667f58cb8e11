//! One accepted gateway connection: a reader, a request dispatcher and a writer.
//!
//! * The reader enforces the protocol (spec §2.3, §2.7, §2.8): the 30 s read deadline re-armed
//!   by every frame, envelope decoding with the connection's codec, `sendID` equal to the
//!   connection's user, known request identifiers, text ping/pong. Any violation closes the
//!   connection without a reply. Valid requests go to the dispatcher through a bounded queue, so
//!   a client that floods requests is slowed down, never buffered without limit.
//! * The dispatcher answers requests one at a time, in arrival order (so two sends from one
//!   device get seqs in the order they were sent), and hands responses to the writer.
//! * The writer owns the socket's sending half: responses and text frames from this connection,
//!   pushes and kicks from the hub, control pings to web clients every 27 s. A send that stalls
//!   for [`WRITE_TIMEOUT`] ends the connection; the client reconnects and pulls by seq.
//!   Every close the server initiates ends with a close frame; on shutdown its code is 1001
//!   ("going away").
//!
//! Control pings from the client are answered by the WebSocket layer itself while reading.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use chorus_proto::constants::{PlatformId, ReqIdentifier};
use chorus_proto::envelope::{ConnectParams, FrameCodec, Req, Resp, TextFrame};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::hub::{ConnHandle, ConnQueue, Outbound};
use crate::AppState;

/// The server closes a connection that sends nothing for this long (`pongWait`).
pub const READ_DEADLINE: Duration = Duration::from_secs(30);
/// Control ping period for web connections (`pingPeriod` = 9/10 of the read deadline).
pub const PING_PERIOD: Duration = Duration::from_secs(27);
/// A frame the client does not accept within this time ends the connection.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests read but not yet answered, per connection.
const REQUEST_QUEUE: usize = 64;
/// Responses and text frames waiting for the writer, per connection.
const DIRECT_QUEUE: usize = 64;

/// What a connection is, as the dispatcher sees it.
#[derive(Debug)]
pub(super) struct ConnInfo {
    pub user_id: String,
    pub platform_id: i32,
    /// The hub's handle: the background flag (2004) and the online-status subscriptions (2005).
    pub handle: ConnHandle,
}

/// Frames produced by this connection itself (as opposed to hub pushes).
#[derive(Debug)]
pub(super) enum Direct {
    Frame(Resp),
    Text(String),
    /// Close after everything queued before it.
    Close,
}

/// Runs a connection whose handshake succeeded, until it closes.
pub(super) async fn serve(state: AppState, mut ws: WebSocket, params: ConnectParams) {
    let codec = FrameCodec::for_params(&params);
    if params.is_msg_resp {
        let ok = chorus_proto::envelope::HandshakeResult::ok().encode();
        if ws.send(Message::text(ok)).await.is_err() {
            return;
        }
    }
    let (handle, queue, kicked) =
        state
            .hub
            .register(&params.send_id, params.platform_id, &params.token);
    // Before any await: pushes may reach the connection as soon as it is registered, and an
    // iOS connection that said `isBackground=true` must not get them.
    handle.set_background(params.is_background);
    if !kicked.is_empty() {
        // Multi-login policy 1: the replaced connections get 2002 and their tokens stop working.
        for old in &kicked {
            old.send(Outbound::Kick);
        }
        let tokens: Vec<String> = kicked.iter().map(|k| k.token.clone()).collect();
        let marked = state
            .store
            .call(move |c| {
                for t in &tokens {
                    c.execute("UPDATE tokens SET state = 2 WHERE token = ?1", [t])?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = marked {
            tracing::error!(error = %e, "cannot mark replaced tokens kicked");
        }
    }
    tracing::info!(
        user = %params.send_id,
        platform = params.platform_id,
        conn = handle.id,
        codec = ?codec.envelope,
        gzip = ?codec.compression,
        kicked = kicked.len(),
        "gateway connection open"
    );

    let info = Arc::new(ConnInfo {
        user_id: params.send_id.clone(),
        platform_id: params.platform_id,
        handle: handle.clone(),
    });
    let (sink, stream) = ws.split();
    let (direct_tx, direct_rx) = mpsc::channel(DIRECT_QUEUE);
    let (req_tx, req_rx) = mpsc::channel(REQUEST_QUEUE);
    let ping = (params.platform_id == i32::from(PlatformId::Web)).then_some(PING_PERIOD);
    let mut writer = tokio::spawn(write_loop(sink, codec, queue, direct_rx, ping));
    tokio::spawn(super::dispatch::run(
        state.clone(),
        Arc::clone(&info),
        req_rx,
        direct_tx.clone(),
    ));

    let reason = read_loop(stream, codec, &info, req_tx, direct_tx, &mut writer).await;
    tracing::info!(user = %info.user_id, conn = handle.id, reason, "gateway connection closed");
    state.hub.unregister(&handle);
    if !writer.is_finished() {
        handle.close();
        if tokio::time::timeout(WRITE_TIMEOUT, &mut writer)
            .await
            .is_err()
        {
            writer.abort();
        }
    }
}

/// Reads until the connection must close; returns why.
async fn read_loop(
    mut stream: SplitStream<WebSocket>,
    codec: FrameCodec,
    info: &ConnInfo,
    requests: mpsc::Sender<Req>,
    direct: mpsc::Sender<Direct>,
    writer: &mut tokio::task::JoinHandle<()>,
) -> &'static str {
    loop {
        let next = tokio::select! {
            _ = &mut *writer => return "writer finished",
            next = tokio::time::timeout(READ_DEADLINE, stream.next()) => next,
        };
        let msg = match next {
            Err(_) => return "read deadline",
            Ok(None) => return "end of stream",
            Ok(Some(Err(e))) => {
                tracing::debug!(user = %info.user_id, error = %e, "gateway read error");
                return "read error";
            }
            Ok(Some(Ok(msg))) => msg,
        };
        match msg {
            Message::Binary(bytes) => {
                let req = match codec.decode_req(&bytes) {
                    Ok(req) => req,
                    Err(e) => {
                        tracing::warn!(user = %info.user_id, error = %e, "undecodable frame");
                        return "undecodable frame";
                    }
                };
                if req.send_id != info.user_id {
                    tracing::warn!(user = %info.user_id, send_id = %req.send_id, "sendID is not the connection's user");
                    return "sendID mismatch";
                }
                if !is_client_request(req.req_identifier) {
                    tracing::warn!(user = %info.user_id, id = req.req_identifier, "unknown reqIdentifier");
                    return "unknown reqIdentifier";
                }
                if requests.send(req).await.is_err() {
                    return "dispatcher finished";
                }
            }
            Message::Text(text) => match TextFrame::decode(text.as_str()) {
                Ok(frame) => {
                    if let Some(reply) = frame.reply() {
                        if direct.send(Direct::Text(reply.encode())).await.is_err() {
                            return "writer finished";
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(user = %info.user_id, error = %e, "bad text frame");
                    return "bad text frame";
                }
            },
            // Pings are answered by the WebSocket layer; both only re-arm the deadline.
            Message::Ping(_) | Message::Pong(_) => {}
            Message::Close(_) => return "closed by client",
        }
    }
}

/// The request identifiers a client may send (1004 is broken upstream and refused).
fn is_client_request(id: i32) -> bool {
    matches!(
        ReqIdentifier::try_from(id),
        Ok(ReqIdentifier::GetNewestSeq
            | ReqIdentifier::PullMsgByRange
            | ReqIdentifier::SendMsg
            | ReqIdentifier::PullMsgBySeqList
            | ReqIdentifier::GetConvMaxReadSeq
            | ReqIdentifier::PullConvLastMessage
            | ReqIdentifier::LogoutMsg
            | ReqIdentifier::SetBackgroundStatus
            | ReqIdentifier::SubUserOnlineStatus)
    )
}

enum Step {
    Frame(Resp),
    Text(String),
    Kick,
    Ping,
    Close,
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    codec: FrameCodec,
    mut queue: ConnQueue,
    mut direct: mpsc::Receiver<Direct>,
    ping_every: Option<Duration>,
) {
    let mut ping = ping_every.map(|p| tokio::time::interval_at(tokio::time::Instant::now() + p, p));
    loop {
        let step = tokio::select! {
            biased;
            _ = queue.closer.notified() => Step::Close,
            d = direct.recv() => match d {
                Some(Direct::Frame(resp)) => Step::Frame(resp),
                Some(Direct::Text(text)) => Step::Text(text),
                Some(Direct::Close) | None => Step::Close,
            },
            o = queue.rx.recv() => match o {
                Some(Outbound::Frame(resp)) => Step::Frame(resp),
                Some(Outbound::Kick) => Step::Kick,
                None => Step::Close,
            },
            _ = async {
                match ping.as_mut() {
                    Some(p) => { p.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => Step::Ping,
        };
        let msg = match step {
            Step::Frame(resp) => match codec.encode_resp(&resp) {
                Ok(bytes) => Message::Binary(bytes.into()),
                Err(e) => {
                    // Only a frame above the client's 1 MiB limit fails; the client would drop
                    // the connection for it, so skip it (it can still pull the content by seq).
                    tracing::warn!(id = resp.req_identifier, error = %e, "frame not sent");
                    continue;
                }
            },
            Step::Text(text) => Message::text(text),
            Step::Ping => Message::Ping(Default::default()),
            Step::Kick => {
                let kick = Resp {
                    req_identifier: i32::from(ReqIdentifier::KickOnlineMsg),
                    ..Resp::default()
                };
                if let Ok(bytes) = codec.encode_resp(&kick) {
                    let _ = send(&mut sink, Message::Binary(bytes.into())).await;
                }
                break;
            }
            Step::Close => break,
        };
        if !send(&mut sink, msg).await {
            return;
        }
    }
    // On shutdown the close frame says why (1001 "going away"), so clients reconnect later.
    let frame = queue
        .flags
        .going_away
        .load(Ordering::Relaxed)
        .then(|| CloseFrame {
            code: close_code::AWAY,
            reason: "server shutting down".into(),
        });
    let _ = send(&mut sink, Message::Close(frame)).await;
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.close()).await;
}

async fn send(sink: &mut SplitSink<WebSocket, Message>, msg: Message) -> bool {
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, sink.send(msg)).await,
        Ok(Ok(()))
    )
}
