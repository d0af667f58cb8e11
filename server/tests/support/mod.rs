//! Test harness: the real server on an ephemeral port, and a minimal HTTP/1.1 JSON client.
#![allow(dead_code)]

use std::net::SocketAddr;

use chorus_server::config::Config;
use chorus_server::store::Store;
use chorus_server::AppState;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const SECRET: &str = "test-secret";
pub const ADMIN: &str = "imAdmin";

/// The configuration every test server runs with: [`SECRET`], [`ADMIN`] as app administrator.
pub fn test_config() -> Config {
    Config {
        secret: SECRET.into(),
        admin_user_ids: vec![ADMIN.into()],
        ..Config::default()
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    admin_token: String,
}

impl TestServer {
    /// Starts a server with an in-memory database in single-port mode on 127.0.0.1:0.
    pub async fn start() -> Self {
        Self::start_with_store(Store::open_in_memory().expect("in-memory store")).await
    }

    pub async fn start_with_store(store: Store) -> Self {
        Self::serve(AppState::new(test_config(), store)).await
    }

    /// Serves `state` in single-port mode on 127.0.0.1:0 and fetches the admin token.
    pub async fn serve(state: AppState) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = chorus_server::app(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let mut server = Self {
            addr,
            state,
            admin_token: String::new(),
        };
        let resp = server
            .post(
                "/auth/get_admin_token",
                None,
                json!({"secret": SECRET, "userID": ADMIN}),
            )
            .await;
        assert_eq!(resp["errCode"], 0, "admin token: {resp}");
        server.admin_token = resp["data"]["token"].as_str().unwrap().to_owned();
        server
    }

    /// A started server with `users` `(userID, nickname)` registered.
    pub async fn with_users(users: &[(&str, &str)]) -> Self {
        let s = Self::start().await;
        s.register(users).await;
        s
    }

    /// A started server with `users` registered and a Web (5) token for each, in order.
    pub async fn with_tokens<const N: usize>(users: [(&str, &str); N]) -> (Self, [String; N]) {
        let s = Self::with_users(&users).await;
        let mut tokens = Vec::with_capacity(N);
        for (u, _) in users {
            tokens.push(s.user_token(u, 5).await);
        }
        let tokens = tokens.try_into().expect("one token per user");
        (s, tokens)
    }

    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// `ws://…/msg_gateway` URL base (append the query).
    pub fn ws_url(&self) -> String {
        format!("ws://{}/msg_gateway", self.addr)
    }

    /// Registers users `(userID, nickname)` with the admin token.
    pub async fn register(&self, users: &[(&str, &str)]) {
        let users: Vec<Value> = users
            .iter()
            .map(|(id, nick)| json!({"userID": id, "nickname": nick, "faceURL": ""}))
            .collect();
        let resp = self
            .post(
                "/user/user_register",
                Some(&self.admin_token),
                json!({"users": users}),
            )
            .await;
        assert_eq!(resp["errCode"], 0, "register: {resp}");
    }

    /// A user token for `platform_id` (5 = Web).
    pub async fn user_token(&self, user_id: &str, platform_id: i32) -> String {
        let resp = self
            .post(
                "/auth/get_user_token",
                Some(&self.admin_token),
                json!({"platformID": platform_id, "userID": user_id}),
            )
            .await;
        assert_eq!(resp["errCode"], 0, "user token: {resp}");
        resp["data"]["token"].as_str().unwrap().to_owned()
    }

    /// POSTs JSON with headers `operationID` and (if given) `token`; returns the whole envelope.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let (status, text) = self.post_raw(path, token, &body.to_string()).await;
        assert_eq!(status, 200, "OpenIM answers HTTP 200 always: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON from {path}: {e}: {text}"))
    }

    /// POSTs a raw body; returns (HTTP status, body text).
    pub async fn post_raw(&self, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\noperationID: op-test\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.addr,
            body.len()
        );
        if let Some(t) = token {
            req.push_str(&format!("token: {t}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").expect("HTTP response");
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_owned()
        };
        (status, body)
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}
pub mod group_users;
pub mod msg;
pub mod relation;
pub mod seed;
pub mod ws;
