//! A test server in demo mode (`--seed-demo`): seeded data and the `/demo/*` routes.

use chorus_server::config::Config;
use chorus_server::seed::{self, Seeded};
use chorus_server::store::Store;
use chorus_server::AppState;

use super::{test_config, TestServer};

/// The configuration `TestServer` uses, with `seed_demo` on.
pub fn demo_config() -> Config {
    Config {
        seed_demo: true,
        ..test_config()
    }
}

impl TestServer {
    /// Seeds `store` as `chorus_server::run` does with `--seed-demo`, then serves it in
    /// single-port mode on 127.0.0.1:0 with the demo routes.
    pub async fn start_demo(store: Store) -> (TestServer, Seeded) {
        let state = AppState::new(demo_config(), store);
        let seeded = seed::seed_demo(&state).await.expect("seeding");
        (TestServer::serve(state).await, seeded)
    }
}
