//! REST auth against the real server: tokens, errors 1501–1507, multi-login policy 1.

mod support;

use chorus_server::auth;
use serde_json::json;
use support::TestServer;

#[tokio::test]
async fn admin_token_needs_the_secret_and_an_admin_id() {
    let s = TestServer::start().await;
    let r = s
        .post(
            "/auth/get_admin_token",
            None,
            json!({"secret": "wrong", "userID": "imAdmin"}),
        )
        .await;
    assert_eq!(r["errCode"], 1002);
    assert!(r.get("data").is_none(), "no data on error: {r}");
    let r = s
        .post(
            "/auth/get_admin_token",
            None,
            json!({"secret": support::SECRET, "userID": "u1"}),
        )
        .await;
    assert_eq!(r["errCode"], 1002);
}

#[tokio::test]
async fn missing_operation_id_bad_json_and_bad_tokens() {
    let s = TestServer::start().await;
    // Bad JSON is errCode 1001 with HTTP 200.
    let (status, body) = s.post_raw("/auth/parse_token", None, "{not json").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["errCode"], 1001);
    // Forged and garbage tokens.
    let r = s
        .post("/auth/parse_token", None, json!({"token": "a.b.c"}))
        .await;
    assert!(
        (1501..=1507).contains(&r["errCode"].as_i64().unwrap()),
        "{r}"
    );
    let (forged, _) = chorus_server::auth::issue("other-secret", "imAdmin", 10, 2_000_000_000);
    let r = s
        .post(
            "/auth/get_user_token",
            Some(&forged),
            json!({"platformID": 5, "userID": "x"}),
        )
        .await;
    assert_eq!(r["errCode"], 1505, "{r}");
    // A correctly signed token the server never issued.
    let (unissued, _) = chorus_server::auth::issue(
        support::SECRET,
        "imAdmin",
        10,
        chorus_server::now_ms() / 1000,
    );
    let r = s
        .post(
            "/auth/get_user_token",
            Some(&unissued),
            json!({"platformID": 5, "userID": "x"}),
        )
        .await;
    assert_eq!(r["errCode"], 1507, "{r}");
}

#[tokio::test]
async fn parse_token_and_second_login_kicks_the_first_token() {
    let (s, [t1]) = TestServer::with_tokens([("u1", "Alice")]).await;
    let r = s
        .post("/auth/parse_token", None, json!({"token": t1}))
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    assert_eq!(r["data"]["userID"], "u1");
    assert_eq!(r["data"]["platformID"], 5);

    // A user token cannot mint tokens.
    let r = s
        .post(
            "/auth/get_user_token",
            Some(&t1),
            json!({"platformID": 5, "userID": "u1"}),
        )
        .await;
    assert_eq!(r["errCode"], 1002);

    // Same platform again: the first token is kicked; another platform is unaffected.
    let t_ios = s.user_token("u1", 1).await;
    let t2 = s.user_token("u1", 5).await;
    let r = s
        .post("/auth/parse_token", None, json!({"token": t1}))
        .await;
    assert_eq!(r["errCode"], 1506, "{r}");
    for t in [&t2, &t_ios] {
        let r = s.post("/auth/parse_token", None, json!({"token": t})).await;
        assert_eq!(r["errCode"], 0, "{r}");
    }
    // Unknown users get no token.
    let r = s
        .post(
            "/auth/get_user_token",
            Some(s.admin_token()),
            json!({"platformID": 5, "userID": "ghost"}),
        )
        .await;
    assert_eq!(r["errCode"], 1101);
}

/// Rows in the token table, optionally only those of one token.
fn token_rows(s: &TestServer, token: Option<&str>) -> i64 {
    let t = token.map(str::to_owned);
    s.state
        .store
        .call_sync(move |c| {
            Ok(match t {
                Some(t) => {
                    c.query_row("SELECT count(*) FROM tokens WHERE token = ?1", [t], |r| {
                        r.get(0)
                    })?
                }
                None => c.query_row("SELECT count(*) FROM tokens", [], |r| r.get(0))?,
            })
        })
        .unwrap()
}

/// Writes a token row as issued `age_secs` ago with the standard lifetime.
fn insert_token_row(s: &TestServer, token: &str, user: &str, state: i32, age_secs: i64) {
    let expire_at = chorus_server::now_ms() / 1000 - age_secs + auth::TOKEN_TTL_SECS;
    let (t, u) = (token.to_owned(), user.to_owned());
    s.state
        .store
        .call_sync(move |c| {
            c.execute(
                "INSERT INTO tokens (token, user_id, platform_id, state, expire_at) VALUES (?1, ?2, 5, ?3, ?4)",
                chorus_server::store::rusqlite::params![t, u, state, expire_at],
            )?;
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn expired_token_rows_are_purged_and_live_tokens_keep_working() {
    let (s, [live]) = TestServer::with_tokens([("u1", "Alice")]).await;
    let live_ios = s.user_token("u1", 1).await;
    // Expired long ago (one normal, one kicked), and expired a moment ago.
    let day = 86_400;
    insert_token_row(&s, "old", "u2", 0, auth::TOKEN_TTL_SECS + day);
    insert_token_row(&s, "old-kicked", "u2", 2, auth::TOKEN_TTL_SECS + 2 * day);
    insert_token_row(&s, "just-expired", "u3", 0, auth::TOKEN_TTL_SECS + 1);
    let before = token_rows(&s, None);

    let purged = s.state.purge_all_expired_tokens().await.unwrap();
    assert_eq!(purged, 2, "the two rows expired beyond the grace period");
    assert_eq!(token_rows(&s, Some("old")), 0);
    assert_eq!(token_rows(&s, Some("old-kicked")), 0);
    assert_eq!(
        token_rows(&s, Some("just-expired")),
        1,
        "kept within the grace period"
    );
    assert_eq!(token_rows(&s, None), before - 2);
    // Live tokens still work.
    for t in [&live, &live_ios, s.admin_token()] {
        let r = s.post("/auth/parse_token", None, json!({"token": t})).await;
        assert_eq!(r["errCode"], 0, "{r}");
    }
    let r = s
        .post(
            "/user/get_users_info",
            Some(&live),
            json!({"userIDs": ["u1"]}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    assert_eq!(s.state.purge_all_expired_tokens().await.unwrap(), 0);
}

#[tokio::test]
async fn issuing_a_token_purges_expired_rows_and_trims_kicked_ones() {
    let (s, [first]) = TestServer::with_tokens([("u1", "Alice")]).await;
    insert_token_row(&s, "old", "u2", 0, auth::TOKEN_TTL_SECS + 86_400);
    let other_platform = s.user_token("u1", 1).await;
    assert_eq!(token_rows(&s, Some("old")), 0, "purged at issue");

    // Many logins on one platform: only the newest kicked tokens stay on record.
    let mut tokens = vec![first];
    for _ in 0..auth::KEPT_KICKED_TOKENS + 3 {
        tokens.push(s.user_token("u1", 5).await);
    }
    let web_rows = s
        .state
        .store
        .call_sync(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM tokens WHERE user_id = 'u1' AND platform_id = 5",
                [],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .unwrap();
    assert_eq!(web_rows, auth::KEPT_KICKED_TOKENS as i64 + 1);
    let current = tokens.last().unwrap();
    let r = s
        .post("/auth/parse_token", None, json!({"token": current}))
        .await;
    assert_eq!(r["errCode"], 0, "the newest token is live: {r}");
    let previous = &tokens[tokens.len() - 2];
    let r = s
        .post("/auth/parse_token", None, json!({"token": previous}))
        .await;
    assert_eq!(
        r["errCode"], 1506,
        "a recently replaced token still reads as kicked: {r}"
    );
    assert_eq!(
        token_rows(&s, Some(&tokens[0])),
        0,
        "the oldest kicked row is gone"
    );
    let r = s
        .post("/auth/parse_token", None, json!({"token": other_platform}))
        .await;
    assert_eq!(r["errCode"], 0, "other platforms are untouched: {r}");
}
