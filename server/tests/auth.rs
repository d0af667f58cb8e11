//! REST auth against the real server: tokens, errors 1501–1507, multi-login policy 1.

mod support;

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
