//! A server with registered users u1..uN (nicknames N1..NN), a Web token each, and `/group/*`
//! calls made as one of them.

use chorus_server::hub::ConnQueue;
use serde_json::Value;

use super::{TestServer, ADMIN};

pub struct GroupUsers {
    pub s: TestServer,
    pub tokens: Vec<(String, String)>,
}

impl GroupUsers {
    /// Starts a server and registers u1..u`n` with a Web (5) token each.
    pub async fn start(n: usize) -> Self {
        let users: Vec<(String, String)> = (1..=n)
            .map(|i| (format!("u{i}"), format!("N{i}")))
            .collect();
        let pairs: Vec<(&str, &str)> = users
            .iter()
            .map(|(u, n)| (u.as_str(), n.as_str()))
            .collect();
        let s = TestServer::with_users(&pairs).await;
        let mut tokens = Vec::new();
        for (u, _) in &users {
            tokens.push((u.clone(), s.user_token(u, 5).await));
        }
        GroupUsers { s, tokens }
    }

    /// The token of a registered user, or the admin token for [`ADMIN`].
    pub fn token(&self, user: &str) -> &str {
        if user == ADMIN {
            return self.s.admin_token();
        }
        &self
            .tokens
            .iter()
            .find(|(u, _)| u == user)
            .expect("known user")
            .1
    }

    /// POST `/group/{path}` as `user`; returns the whole envelope.
    pub async fn call(&self, user: &str, path: &str, body: Value) -> Value {
        self.s
            .post(&format!("/group/{path}"), Some(self.token(user)), body)
            .await
    }

    /// POST `/group/{path}` as `user`, asserting success; returns `data` (or null).
    pub async fn ok(&self, user: &str, path: &str, body: Value) -> Value {
        let r = self.call(user, path, body).await;
        assert_eq!(r["errCode"], 0, "{path} as {user}: {r}");
        r.get("data").cloned().unwrap_or(Value::Null)
    }

    /// POST `/group/{path}` as `user`, asserting the error code and that no data came back.
    pub async fn fails(&self, user: &str, path: &str, body: Value, code: i64) {
        let r = self.call(user, path, body).await;
        assert_eq!(
            r["errCode"], code,
            "{path} as {user} should fail with {code}: {r}"
        );
        assert!(r.get("data").is_none(), "no data on error: {r}");
    }

    /// A fake live connection of `user`, to observe pushes.
    pub fn listen(&self, user: &str) -> ConnQueue {
        let (_, queue, _) = self.s.state.hub.register(user, 3, "fake-token");
        queue
    }
}
