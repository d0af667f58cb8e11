//! The in-process chorus-server the core end-to-end tests run against: an in-memory database,
//! an ephemeral port, an admin token, and REST helpers.
#![allow(dead_code)]

use std::net::SocketAddr;

use chorus_core::model::ConversationId;
use chorus_e2e::native::TokioHttp;
use chorus_server::config::Config;
use chorus_server::store::Store as ServerStore;
use chorus_server::AppState;
use serde_json::{json, Value};

pub const SECRET: &str = "e2e-secret";
pub const ADMIN: &str = "imAdmin";

pub struct Server {
    pub addr: SocketAddr,
    pub http: TokioHttp,
    pub admin: String,
    pub state: AppState,
}

impl Server {
    /// Starts the server and registers `users` `(userID, nickname)`.
    pub async fn start(users: &[(&str, &str)]) -> Server {
        let config = Config {
            secret: SECRET.into(),
            admin_user_ids: vec![ADMIN.into()],
            ..Config::default()
        };
        let state = AppState::new(
            config,
            ServerStore::open_in_memory().expect("in-memory database"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let app = chorus_server::app(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = TokioHttp::new(addr);
        let resp = http
            .post_json(
                "/auth/get_admin_token",
                None,
                &json!({"secret": SECRET, "userID": ADMIN}),
            )
            .await
            .expect("admin token");
        assert_eq!(resp["errCode"], 0, "admin token: {resp}");
        let admin = resp["data"]["token"].as_str().expect("token").to_owned();
        let server = Server {
            addr,
            http,
            admin,
            state,
        };
        if !users.is_empty() {
            let users: Vec<Value> = users
                .iter()
                .map(|(id, nick)| json!({"userID": id, "nickname": nick, "faceURL": ""}))
                .collect();
            server
                .admin("/user/user_register", json!({ "users": users }))
                .await;
        }
        server
    }

    /// POSTs with `token`; returns the whole envelope.
    pub async fn call(&self, token: &str, path: &str, body: Value) -> Value {
        self.http
            .post_json(path, Some(token), &body)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// POSTs with `token` and asserts success; returns `data`.
    pub async fn ok(&self, token: &str, path: &str, body: Value) -> Value {
        let resp = self.call(token, path, body).await;
        assert_eq!(resp["errCode"], 0, "{path}: {resp}");
        resp.get("data").cloned().unwrap_or(Value::Null)
    }

    /// POSTs as the administrator and asserts success; returns `data`.
    pub async fn admin(&self, path: &str, body: Value) -> Value {
        self.ok(&self.admin, path, body).await
    }

    /// A user token for `platform_id`.
    pub async fn token_on(&self, user_id: &str, platform_id: i32) -> String {
        let data = self
            .admin(
                "/auth/get_user_token",
                json!({"platformID": platform_id, "userID": user_id}),
            )
            .await;
        data["token"].as_str().expect("token").to_owned()
    }

    /// The server's max seq of a user's conversation (`/msg/newest_seq`), if it has one.
    pub async fn newest_seq(&self, user_id: &str, conv: &ConversationId) -> Option<u64> {
        let data = self
            .admin("/msg/newest_seq", json!({ "userID": user_id }))
            .await;
        let value = &data["maxSeqs"][conv.as_str()];
        value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
    }

    /// A work group owned by `owner` with `members`, `admins` and extra `groupInfo` fields;
    /// returns its id.
    pub async fn group(
        &self,
        owner: &str,
        members: &[&str],
        admins: &[&str],
        info: Value,
    ) -> String {
        let mut group_info = json!({"groupName": "team", "groupType": 2});
        if let Value::Object(extra) = info {
            for (k, v) in extra {
                group_info[k] = v;
            }
        }
        let data = self
            .admin(
                "/group/create_group",
                json!({"memberUserIDs": members, "adminUserIDs": admins, "ownerUserID": owner,
                    "groupInfo": group_info}),
            )
            .await;
        data["groupInfo"]["groupID"]
            .as_str()
            .expect("groupID")
            .to_owned()
    }

    /// A text from `sender` to the group, through the administrator's `/msg/send_msg`.
    pub async fn send_group_text(&self, sender: &str, group_id: &str, text: &str) {
        self.admin(
            "/msg/send_msg",
            json!({"sendID": sender, "recvID": "", "groupID": group_id,
                "senderNickname": "", "senderFaceURL": "", "senderPlatformID": 5,
                "content": {"content": text}, "contentType": 101, "sessionType": 3,
                "isOnlineOnly": false, "notOfflinePush": false, "sendTime": 0,
                "offlinePushInfo": null, "ex": ""}),
        )
        .await;
    }
}
