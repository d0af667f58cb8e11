//! The outbox against the real chorus-server across a server restart: the server runs in-process
//! on its own tokio runtime over a file-backed database, so that shutting the runtime down kills
//! it mid-send (every socket drops, no answer leaves); it then starts again on the same data
//! directory and port, so the client's URL stays valid and its back-off finds it.
//!
//! Checked: a send whose answer is lost when the server dies and sends made while it is down are
//! resent after the reconnect with the same clientMsgIDs, and every text ends up exactly once on
//! the server, once with its seq in the sender's store, and once at the other member. Waits are
//! bounded.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chorus_core::client::ClientEvent;
use chorus_core::conn::Backoff;
use chorus_core::model::{ConversationId, Message, MessageStatus};
use chorus_core::outbox::{ClientMsgId, Recipient};
use chorus_core::{Direction, Seq, Store};
use chorus_e2e::native::{NativeClient, TokioHttp};
use chorus_server::config::Config;
use chorus_server::store::rusqlite;
use chorus_server::store::Store as ServerStore;
use chorus_server::AppState;
use serde_json::{json, Value};

const SECRET: &str = "e2e-secret";
const ADMIN: &str = "imAdmin";
const WAIT: Duration = Duration::from_secs(30);

/// The real server on its own runtime, over `dir`, listening on `addr`.
struct Server {
    addr: SocketAddr,
    dir: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// Starts on `addr` (`127.0.0.1:0` picks a free port). The port of a server just killed may
    /// take a moment to be free again, so binding is retried for a bounded time.
    async fn start(dir: &Path, addr: SocketAddr) -> Server {
        let mut tries = 0;
        let listener = loop {
            match std::net::TcpListener::bind(addr) {
                Ok(listener) => break listener,
                Err(_) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot bind {addr}: {e}"),
            }
        };
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("local addr");
        let config = Config {
            secret: SECRET.into(),
            admin_user_ids: vec![ADMIN.into()],
            ..Config::default()
        };
        let state = AppState::new(config, ServerStore::open_dir(dir).expect("database"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, chorus_server::app(state)).await
        });
        Server {
            addr,
            dir: dir.to_owned(),
            runtime: Some(runtime),
        }
    }

    /// Kills the server: every task of its runtime is dropped, with its sockets.
    fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    fn http(&self) -> TokioHttp {
        TokioHttp::new(self.addr)
    }

    async fn admin_token(&self) -> String {
        let resp = self
            .http()
            .post_json(
                "/auth/get_admin_token",
                None,
                &json!({"secret": SECRET, "userID": ADMIN}),
            )
            .await
            .expect("admin token");
        assert_eq!(resp["errCode"], 0, "admin token: {resp}");
        resp["data"]["token"].as_str().expect("token").to_owned()
    }

    /// POSTs as the administrator and asserts success; returns `data`.
    async fn admin(&self, path: &str, body: Value) -> Value {
        let token = self.admin_token().await;
        let resp = self
            .http()
            .post_json(path, Some(&token), &body)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(resp["errCode"], 0, "{path}: {resp}");
        resp.get("data").cloned().unwrap_or(Value::Null)
    }

    /// Every message row of a conversation in the database: (clientMsgID, seq).
    fn stored_rows(&self, conv: &ConversationId) -> Vec<(String, i64)> {
        let store = ServerStore::open_dir(&self.dir).expect("database");
        let conv = conv.as_str().to_owned();
        store
            .call_sync(move |c| {
                let mut stmt = c.prepare(
                    "SELECT client_msg_id, seq FROM messages WHERE conversation_id = ?1 ORDER BY seq",
                )?;
                let rows = stmt
                    .query_map([conv], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, rusqlite::Error>>()?;
                Ok(rows)
            })
            .expect("query")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("chorus-outbox-e2e-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts a client with a short back-off and waits until its first sync round finished.
async fn online(server: &Server, user_id: &str) -> NativeClient {
    let data = server
        .admin(
            "/auth/get_user_token",
            json!({"platformID": 5, "userID": user_id}),
        )
        .await;
    let token = data["token"].as_str().expect("token");
    let mut client = NativeClient::start_with(server.addr, user_id, token, |config| {
        config.conn.backoff = Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(1),
            jitter_percent: 20,
        };
    });
    client
        .wait_for(WAIT, |e| matches!(e, ClientEvent::OnSyncServerFinish))
        .await
        .expect("first sync round");
    client
}

/// Waits until `client` reported `texts` through OnRecvNewMessages in `conv`; adds every text it
/// saw meanwhile to `seen` (counted, to find duplicates).
async fn receive(
    client: &mut NativeClient,
    conv: &ConversationId,
    texts: &[&str],
    seen: &mut BTreeMap<String, usize>,
) {
    while let Some(missing) = texts.iter().find(|t| !seen.contains_key(**t)) {
        let (event, _) = client
            .wait_for(WAIT, |e| {
                matches!(e, ClientEvent::OnRecvNewMessages { conversation_id, .. } if conversation_id == conv)
            })
            .await
            .unwrap_or_else(|e| panic!("waiting for {missing:?}: {e}"));
        if let ClientEvent::OnRecvNewMessages { messages, .. } = event {
            for text in messages.iter().filter_map(|m| m.content.text()) {
                *seen.entry(text.to_owned()).or_default() += 1;
            }
        }
    }
}

/// Waits until the sender reported each message delivered with its seq.
async fn delivered(client: &mut NativeClient, ids: &[&ClientMsgId]) -> BTreeMap<ClientMsgId, Seq> {
    let mut seqs = BTreeMap::new();
    while seqs.len() < ids.len() {
        let (event, _) = client
            .wait_for(WAIT, |e| {
                matches!(
                    e,
                    ClientEvent::OnSendMessageSuccess { .. }
                        | ClientEvent::OnSendMessageFailed { .. }
                )
            })
            .await
            .unwrap_or_else(|e| panic!("waiting for {ids:?} (have {seqs:?}): {e}"));
        match event {
            ClientEvent::OnSendMessageSuccess { client_msg_id, seq } => {
                assert!(ids.contains(&&client_msg_id), "unexpected {client_msg_id}");
                assert!(seqs.insert(client_msg_id, seq).is_none(), "delivered twice");
            }
            other => panic!("a send failed: {other:?}"),
        }
    }
    seqs
}

async fn stored(client: &NativeClient, conv: &ConversationId) -> Vec<Message> {
    client
        .store
        .messages(
            conv,
            Seq(1)..=Seq(u64::MAX / 2),
            10_000,
            Direction::Ascending,
        )
        .await
        .expect("messages")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_a_server_restart_mid_send() {
    let dir = TempDir::new();
    let mut server = Server::start(&dir.0, "127.0.0.1:0".parse().unwrap()).await;
    let addr = server.addr;
    let users: Vec<Value> = [("ua", "Alice"), ("ub", "Bob")]
        .iter()
        .map(|(id, nick)| json!({"userID": id, "nickname": nick, "faceURL": ""}))
        .collect();
    server
        .admin("/user/user_register", json!({ "users": users }))
        .await;
    let group = server
        .admin(
            "/group/create_group",
            json!({"memberUserIDs": ["ub"], "adminUserIDs": [], "ownerUserID": "ua",
                "groupInfo": {"groupName": "team", "groupType": 2}}),
        )
        .await;
    let gid = group["groupInfo"]["groupID"]
        .as_str()
        .expect("groupID")
        .to_owned();
    let conv = ConversationId::group(&gid);
    let to_group = || Recipient::Group(gid.clone());

    let mut b = online(&server, "ub").await;
    let mut a = online(&server, "ua").await;
    let mut b_seen = BTreeMap::new();

    // (1) Sends on a healthy connection.
    let m1 = a.send_text(to_group(), "m1").await.expect("send m1");
    let m2 = a.send_text(to_group(), "m2").await.expect("send m2");
    delivered(&mut a, &[&m1, &m2]).await;
    receive(&mut b, &conv, &["m1", "m2"], &mut b_seen).await;

    // (2) A send the server handles but whose answer never reaches A: A is deaf, the server
    // stores and delivers m3 (B receives it), then dies before A hears anything.
    a.set_deaf(true);
    let m3 = a.send_text(to_group(), "m3").await.expect("send m3");
    receive(&mut b, &conv, &["m3"], &mut b_seen).await;
    server.kill();
    let (_, before) = a
        .wait_for(WAIT, |e| matches!(e, ClientEvent::OnConnectFailed { .. }))
        .await
        .expect("A sees the server die");
    a.set_deaf(false);
    assert!(
        !before.iter().any(|e| matches!(
            e,
            ClientEvent::OnSendMessageAcked { client_msg_id, .. }
                | ClientEvent::OnSendMessageSuccess { client_msg_id, .. }
                if *client_msg_id == m3
        )),
        "m3 was in flight when the server died: {before:#?}"
    );

    // (3) Sends while the server is down are stored as sending and wait.
    let m4 = a.send_text(to_group(), "m4").await.expect("send m4");
    let m5 = a.send_text(to_group(), "m5").await.expect("send m5");
    let want: Vec<String> = [&m3, &m4, &m5]
        .iter()
        .map(|id| id.as_str().to_owned())
        .collect();
    let mut tries = 0;
    loop {
        let outbox: Vec<String> = a
            .store
            .outbox()
            .await
            .expect("outbox")
            .into_iter()
            .map(|e| e.client_msg_id)
            .collect();
        if outbox == want {
            break;
        }
        tries += 1;
        assert!(
            tries < 100,
            "A's stored outbox {outbox:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for id in [&m3, &m4, &m5] {
        let message = a
            .store
            .message_by_client_id(id.as_str())
            .await
            .expect("read")
            .expect("stored while the server is down");
        assert_eq!(
            (message.seq, &message.status),
            (Seq::ZERO, &MessageStatus::Sending)
        );
    }

    // (4) The server comes back on the same data and port; A reconnects by itself and the
    // outbox resends m3, m4, m5 with their clientMsgIDs.
    let server = Server::start(&dir.0, addr).await;
    assert_eq!(server.addr, addr);
    let seqs = delivered(&mut a, &[&m3, &m4, &m5]).await;
    receive(&mut b, &conv, &["m4", "m5"], &mut b_seen).await;

    // Exactly once on the server, in sending order.
    let rows = server.stored_rows(&conv);
    let sent = [&m1, &m2, &m3, &m4, &m5];
    for id in sent {
        let n = rows.iter().filter(|(c, _)| c == id.as_str()).count();
        assert_eq!(n, 1, "{id} stored {n} times on the server: {rows:?}");
    }
    let server_seq = |id: &ClientMsgId| {
        rows.iter()
            .find(|(c, _)| c == id.as_str())
            .map(|(_, s)| Seq(u64::try_from(*s).expect("positive seq")))
            .expect("stored")
    };
    for id in [&m3, &m4, &m5] {
        assert_eq!(seqs[id], server_seq(id), "A's seq of {id} is the server's");
    }
    assert!(server_seq(&m3) < server_seq(&m4) && server_seq(&m4) < server_seq(&m5));

    // Exactly once with its seq in A's store; the outbox is empty.
    let a_messages = stored(&a, &conv).await;
    for (id, text) in sent.iter().zip(["m1", "m2", "m3", "m4", "m5"]) {
        let copies: Vec<&Message> = a_messages
            .iter()
            .filter(|m| m.client_msg_id == id.as_str())
            .collect();
        assert_eq!(copies.len(), 1, "A stored {id} {} times", copies.len());
        assert_eq!(copies[0].content.text(), Some(text));
        assert_eq!(copies[0].seq, server_seq(id));
        let by_id = a
            .store
            .message_by_client_id(id.as_str())
            .await
            .expect("read");
        assert_eq!(
            by_id.map(|m| m.seq),
            Some(server_seq(id)),
            "no unsent copy left"
        );
    }
    assert_eq!(
        a_messages.iter().filter(|m| m.content_type == 101).count(),
        5,
        "no other text in A's store"
    );
    let mut tries = 0;
    while !a.store.outbox().await.expect("outbox").is_empty() {
        tries += 1;
        assert!(tries < 100, "A's stored outbox is not emptied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // B received each text once (events), and stored each once.
    while let Ok(event) = b.events.try_recv() {
        if let ClientEvent::OnRecvNewMessages { messages, .. } = event {
            for text in messages.iter().filter_map(|m| m.content.text()) {
                *b_seen.entry(text.to_owned()).or_default() += 1;
            }
        }
    }
    let expected: BTreeMap<String, usize> = ["m1", "m2", "m3", "m4", "m5"]
        .iter()
        .map(|t| ((*t).to_owned(), 1))
        .collect();
    assert_eq!(b_seen, expected, "B received every text once");
    let b_texts: Vec<String> = stored(&b, &conv)
        .await
        .iter()
        .filter_map(|m| m.content.text().map(str::to_owned))
        .collect();
    assert_eq!(
        b_texts,
        ["m1", "m2", "m3", "m4", "m5"],
        "B stored every text once"
    );

    a.stop().await.expect("A stops cleanly");
    b.stop().await.expect("B stops cleanly");
    drop(server);
}
