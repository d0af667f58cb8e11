//! A test server in demo mode (`--seed-demo`): seeded data and the `/demo/*` routes.

use chorus_server::config::Config;
use chorus_server::seed::{self, Seeded};
use chorus_server::store::Store;
use chorus_server::AppState;
use serde_json::json;

use super::{TestServer, ADMIN, SECRET};

/// The configuration `TestServer` uses, with `seed_demo` on.
pub fn demo_config() -> Config {
    Config {
        secret: SECRET.into(),
        admin_user_ids: vec![ADMIN.into()],
        seed_demo: true,
        ..Config::default()
    }
}

impl TestServer {
    /// Seeds `store` as `chorus_server::run` does with `--seed-demo`, then serves it in
    /// single-port mode on 127.0.0.1:0 with the demo routes.
    pub async fn start_demo(store: Store) -> (TestServer, Seeded) {
        let state = AppState::new(demo_config(), store);
        let seeded = seed::seed_demo(&state).await.expect("seeding");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = chorus_server::app(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let mut server = TestServer {
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
        (server, seeded)
    }
}
