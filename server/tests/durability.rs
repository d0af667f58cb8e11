//! Durability: every message acknowledged before the server process is killed with SIGKILL is
//! present after a restart on the same data directory, with the seq it was pushed with.
//!
//! Runs the real binary (`--single 127.0.0.1:0`), reads the bound address from its stdout line
//! `chorus-server listening on http://ADDR`, and talks to it with the gateway test client.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chorus_proto::envelope::FrameCodec;
use chorus_proto::pb::msg::SendMsgResp;
use chorus_proto::pb::sdkws::{
    GetMaxSeqReq, GetMaxSeqResp, PullMessageBySeqsReq, PullMessageBySeqsResp, SeqRange,
};
use chorus_proto::pb::Message as _;
use serde_json::{json, Value};
use support::ws::{self, Mode, WsClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "durability-secret";

/// A running server process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(data: &Path) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.with_extension("log"))
            .expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_chorus-server"))
            .args(["--single", "127.0.0.1:0", "--secret", SECRET, "--data"])
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start chorus-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading to the end so the process never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("chorus-server listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server announces its address")
            .parse()
            .expect("a socket address");
        Self { child, addr }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let body = body.to_string();
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\noperationID: op-durability\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        );
        if let Some(t) = token {
            req.push_str(&format!("token: {t}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        let (head, rest) = raw.split_once("\r\n\r\n").expect("HTTP response");
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        let json_start = rest.find('{').expect("JSON body");
        let json_end = rest.rfind('}').expect("JSON body") + 1;
        serde_json::from_str(&rest[json_start..json_end]).expect("JSON")
    }

    async fn token(&self, admin: &str, user: &str) -> String {
        let r = self
            .post(
                "/auth/get_user_token",
                Some(admin),
                json!({"platformID": 5, "userID": user}),
            )
            .await;
        assert_eq!(r["errCode"], 0, "{r}");
        r["data"]["token"].as_str().unwrap().to_owned()
    }

    async fn admin_token(&self) -> String {
        let r = self
            .post(
                "/auth/get_admin_token",
                None,
                json!({"secret": SECRET, "userID": "imAdmin"}),
            )
            .await;
        assert_eq!(r["errCode"], 0, "{r}");
        r["data"]["token"].as_str().unwrap().to_owned()
    }

    async fn connect(&self, user: &str, token: &str) -> WsClient {
        let params = ws::params(user, token, 5, Mode::Gob);
        let url = format!("ws://{}/msg_gateway?{}", self.addr, params.to_query());
        let (client, result) =
            WsClient::open_url(&url, FrameCodec::for_params(&params), user, true).await;
        assert!(result.is_ok(), "{result:?}");
        client
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chorus-{name}-{}-{}",
        std::process::id(),
        chorus_server::now_ms()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// An acknowledged message: its ack and, when its push was seen, its seq.
struct Acked {
    ack: SendMsgResp,
    seq: Option<i64>,
}

#[tokio::test]
async fn acknowledged_messages_survive_sigkill_with_their_seqs() {
    let data = temp_dir("durability");
    let server = Server::start(&data);
    let admin = server.admin_token().await;
    let r = server
        .post(
            "/user/user_register",
            Some(&admin),
            json!({"users": [
                {"userID": "u1", "nickname": "Alice", "faceURL": ""},
                {"userID": "u2", "nickname": "Bob", "faceURL": ""},
            ]}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let r = server
        .post(
            "/group/create_group",
            Some(&admin),
            json!({"memberUserIDs": ["u2"], "adminUserIDs": [], "ownerUserID": "u1",
                   "groupInfo": {"groupName": "durable", "groupType": 2}}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let gid = r["data"]["groupInfo"]["groupID"]
        .as_str()
        .unwrap()
        .to_owned();
    let conv = format!("sg_{gid}");
    let token = server.token(&admin, "u1").await;
    let mut c = server.connect("u1", &token).await;

    let mut acked: HashMap<String, Acked> = HashMap::new();
    // Sent one by one: each acknowledged and pushed back with its seq.
    for i in 0..25 {
        let cmid = format!("durable-{i}");
        let ack = c
            .send_msg(&ws::group_text("u1", &gid, &cmid, &format!("m{i}")))
            .await;
        let (_, pushed) = c.wait_msg(&cmid).await;
        acked.insert(
            cmid,
            Acked {
                ack,
                seq: Some(pushed.seq),
            },
        );
    }
    // Then a burst, killed while acknowledgements are still arriving.
    let mut in_flight = HashMap::new();
    for i in 25..60 {
        let cmid = format!("durable-{i}");
        let req = c.req(1003, &ws::group_text("u1", &gid, &cmid, &format!("m{i}")));
        c.send_req(&req).await;
        in_flight.insert(req.msg_incr.clone(), cmid);
    }
    while let Some(resp) = c.try_next_frame(Duration::from_millis(30)).await {
        if let Some(cmid) = in_flight.get(&resp.msg_incr) {
            if resp.err_code == 0 {
                let ack = SendMsgResp::decode(resp.data.as_slice()).unwrap();
                acked.insert(cmid.clone(), Acked { ack, seq: None });
            }
        }
        if acked.len() >= 40 {
            break;
        }
    }
    server.kill();
    drop(c);

    let server = Server::start(&data);
    let mut c = server.connect("u1", &token).await;
    let max: GetMaxSeqResp = c
        .call(
            1001,
            &GetMaxSeqReq {
                user_id: "u1".into(),
            },
        )
        .await;
    let max_seq = *max.max_seqs.get(&conv).expect("conversation survives");
    assert!(
        max_seq >= acked.len() as i64,
        "max {max_seq} < {}",
        acked.len()
    );
    let pulled: PullMessageBySeqsResp = c
        .call(
            1002,
            &PullMessageBySeqsReq {
                user_id: "u1".into(),
                seq_ranges: vec![SeqRange {
                    conversation_id: conv.clone(),
                    begin: 1,
                    end: max_seq,
                    num: max_seq + 10,
                }],
                order: 0,
            },
        )
        .await;
    let msgs = &pulled.msgs.get(&conv).expect("pulled").msgs;
    let by_cmid: HashMap<&str, _> = msgs.iter().map(|m| (m.client_msg_id.as_str(), m)).collect();
    for (cmid, a) in &acked {
        let m = by_cmid
            .get(cmid.as_str())
            .unwrap_or_else(|| panic!("acknowledged {cmid} lost after SIGKILL"));
        assert_eq!(m.server_msg_id, a.ack.server_msg_id, "{cmid}");
        assert_eq!(m.send_time, a.ack.send_time, "{cmid}");
        if let Some(seq) = a.seq {
            assert_eq!(m.seq, seq, "{cmid} changed seq");
        }
    }
    // Seqs stay unique and dense: every seq up to the max is a stored message, no placeholder.
    let mut seqs: Vec<i64> = msgs.iter().map(|m| m.seq).collect();
    seqs.dedup();
    assert_eq!(seqs, (1..=max_seq).collect::<Vec<_>>());
    for m in msgs {
        assert!(
            !m.client_msg_id.is_empty() && m.status != 4,
            "hole at seq {}: {m:?}",
            m.seq
        );
    }
    drop(c);
    server.kill();
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_file(data.with_extension("log"));
}

#[tokio::test]
async fn sigterm_stops_the_server_promptly_with_clients_connected() {
    let data = temp_dir("sigterm");
    let mut server = Server::start(&data);
    let admin = server.admin_token().await;
    let r = server
        .post(
            "/user/user_register",
            Some(&admin),
            json!({"users": [{"userID": "u1", "nickname": "Alice", "faceURL": ""}]}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let token = server.token(&admin, "u1").await;
    let mut c = server.connect("u1", &token).await;
    let pid = server.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill(1)");
    assert!(status.success());
    // The open connection ends and the process exits by itself, successfully.
    let ended = c.message_within(Duration::from_secs(10)).await;
    assert!(matches!(ended, Ok(None)), "{ended:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(status) = server.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_file(data.with_extension("log"));
}
