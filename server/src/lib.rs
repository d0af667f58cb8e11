//! chorus-server: an OpenIM v3.8 compatible REST API and WebSocket gateway on SQLite.
//!
//! `main.rs` parses flags and calls [`run`]; everything else is here so that tests can build the
//! same [`app`] on port 0. Module map:
//! * [`api`] — REST routes and the envelope; [`auth`] — tokens; [`store`] — SQLite;
//! * [`hub`] — live connections and push fan-out; [`error`] — error codes.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod gateway;
pub mod group;
pub mod hub;
pub mod msg;
pub mod relation;
pub mod seed;
pub mod store;

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use chorus_proto::constants::ErrorCode;

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::hub::{Hub, Outbound};
use crate::store::{Store, StoreError};

/// Shared server state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub hub: Hub,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl AppState {
    pub fn new(config: Config, store: Store) -> Self {
        Self(Arc::new(Inner {
            config,
            store,
            hub: Hub::default(),
        }))
    }

    pub fn is_admin(&self, user_id: &str) -> bool {
        self.config.admin_user_ids.iter().any(|a| a == user_id)
    }

    /// Issues a token and records it; under multi-login policy 1 every older token of the same
    /// user and platform is marked kicked (its connections are kicked when the new one connects).
    /// The same transaction trims that user's and platform's kicked tokens and purges a small
    /// batch of expired ones (see [`auth`]).
    pub async fn issue_token(&self, user_id: &str, platform_id: i32) -> ApiResult<String> {
        let now = now_ms() / 1000;
        let (token, claims) = auth::issue(&self.config.secret, user_id, platform_id, now);
        let t = token.clone();
        self.store
            .call(move |c| {
                let tx = c.transaction()?;
                tx.execute(
                    "UPDATE tokens SET state = 2 WHERE user_id = ?1 AND platform_id = ?2 AND state = 0",
                    rusqlite::params![claims.user_id, claims.platform_id],
                )?;
                tx.execute(
                    "INSERT OR REPLACE INTO tokens (token, user_id, platform_id, state, expire_at) VALUES (?1, ?2, ?3, 0, ?4)",
                    rusqlite::params![t, claims.user_id, claims.platform_id, claims.exp],
                )?;
                auth::trim_kicked_tokens(&tx, &claims.user_id, claims.platform_id)?;
                auth::purge_expired_tokens(&tx, now, auth::PURGE_BATCH_ON_ISSUE)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok(token)
    }

    /// Verifies a token: signature and time window, then the token table (1507 unknown,
    /// 1506 kicked).
    pub async fn check_token(&self, token: &str) -> ApiResult<auth::Claims> {
        let claims = auth::verify(&self.config.secret, token, now_ms() / 1000)?;
        let t = token.to_owned();
        let state: Option<i64> = self
            .store
            .call(move |c| {
                use rusqlite::OptionalExtension;
                Ok(
                    c.query_row("SELECT state FROM tokens WHERE token = ?1", [t], |r| {
                        r.get(0)
                    })
                    .optional()?,
                )
            })
            .await?;
        match state {
            None => Err(ApiError::new(ErrorCode::TokenNotExist, "token not exist")),
            Some(0) => Ok(claims),
            Some(_) => Err(ApiError::new(ErrorCode::TokenKicked, "token kicked")),
        }
    }

    /// Deletes one bounded batch ([`auth::PURGE_BATCH`]) of expired token rows; returns how
    /// many were deleted. Live tokens are never touched.
    pub async fn purge_expired_tokens(&self) -> ApiResult<usize> {
        let now = now_ms() / 1000;
        Ok(self
            .store
            .call(move |c| Ok(auth::purge_expired_tokens(c, now, auth::PURGE_BATCH)?))
            .await?)
    }

    /// Purges expired token rows batch by batch until none is left (each batch its own short
    /// store call, so requests interleave).
    pub async fn purge_all_expired_tokens(&self) -> ApiResult<usize> {
        let mut total = 0;
        loop {
            let n = self.purge_expired_tokens().await?;
            total += n;
            if n < auth::PURGE_BATCH {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Marks the user's tokens on `platform_id` kicked and kicks their connections.
    pub async fn kick_platform(&self, user_id: &str, platform_id: i32) -> ApiResult<()> {
        let (u, p) = (user_id.to_owned(), platform_id);
        self.store
            .call(move |c| {
                c.execute(
                    "UPDATE tokens SET state = 2 WHERE user_id = ?1 AND platform_id = ?2",
                    rusqlite::params![u, p],
                )?;
                Ok(())
            })
            .await?;
        for conn in self.hub.take_platform(user_id, platform_id) {
            conn.send(Outbound::Kick);
        }
        Ok(())
    }

    pub async fn user_exists(&self, user_id: &str) -> Result<bool, StoreError> {
        let u = user_id.to_owned();
        self.store
            .call(move |c| Ok(relation::user(c, &u)?.is_some()))
            .await
    }
}

/// The REST router (two-port mode: served on `--api`).
pub fn api_app(state: AppState) -> Router {
    rest_routes(&state.config)
        .layer(tower_http::cors::CorsLayer::very_permissive())
        .with_state(state)
}

/// The REST routes, with the `/demo/*` routes only in demo mode (`--seed-demo`).
fn rest_routes(config: &Config) -> Router<AppState> {
    if config.seed_demo {
        api::router().merge(api::demo::routes())
    } else {
        api::router()
    }
}

/// The gateway router (two-port mode: served on `--ws`); every path is the gateway.
pub fn gateway_app(state: AppState) -> Router {
    gateway::router().with_state(state)
}

/// Single-port mode: REST, the gateway on `/msg_gateway` and, when `--static` names a
/// directory, its files for every other path (what tests and the demo use).
pub fn app(state: AppState) -> Router {
    let static_dir = state.config.static_dir.clone();
    let router = rest_routes(&state.config)
        .merge(gateway::single_port_routes())
        .layer(tower_http::cors::CorsLayer::very_permissive())
        .with_state(state);
    match static_dir {
        Some(dir) => router.fallback_service(
            tower_http::services::ServeDir::new(dir).append_index_html_on_directories(true),
        ),
        None => router,
    }
}

/// Serves until `shutdown` resolves. Once the listeners are bound, prints
/// `chorus-server listening on http://ADDR` and `chorus-server gateway on ws://ADDR…` on stdout
/// (with the actual ports, so `:0` can be used); the logs go through `tracing`.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = Store::open_dir(&config.data_dir)?;
    register_admin_users(&store, &config.admin_user_ids)?;
    let state = AppState::new(config.clone(), store);
    // Stops with `run`, however it returns.
    let _purger = AbortOnDrop(tokio::spawn(purge_tokens_periodically(state.clone())));
    if config.seed_demo {
        tracing::warn!("demo mode (--seed-demo): POST /demo/token hands out tokens for the seeded users without any credential; never expose this server");
        seed::seed_demo(&state).await?;
    }
    // Both servers of the two-port mode stop on the same signal.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let hub_state = state.clone();
    tokio::spawn(async move {
        shutdown.await;
        // Live WebSockets are not tracked by the HTTP servers: close them (with a close frame) first.
        hub_state
            .hub
            .close_all(std::time::Duration::from_secs(5))
            .await;
        let _ = stop_tx.send(true);
    });
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    if let Some(addr) = config.single_addr {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        announce(&[
            format!("chorus-server listening on http://{local}"),
            format!("chorus-server gateway on ws://{local}{}", gateway::PATH),
        ]);
        tracing::info!(addr = %local, static_dir = ?config.static_dir, "serving REST, gateway and static files");
        axum::serve(listener, app(state))
            .with_graceful_shutdown(stopped())
            .await?;
    } else {
        let api = tokio::net::TcpListener::bind(config.api_addr).await?;
        let ws = tokio::net::TcpListener::bind(config.ws_addr).await?;
        let (api_local, ws_local) = (api.local_addr()?, ws.local_addr()?);
        announce(&[
            format!("chorus-server listening on http://{api_local}"),
            format!("chorus-server gateway on ws://{ws_local}"),
        ]);
        tracing::info!(api = %api_local, gateway = %ws_local, "serving REST and gateway");
        let rest = axum::serve(api, api_app(state.clone())).with_graceful_shutdown(stopped());
        let gw = axum::serve(ws, gateway_app(state)).with_graceful_shutdown(stopped());
        tokio::try_join!(async { rest.await }, async { gw.await })?;
    }
    tracing::info!("server stopped");
    Ok(())
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Purges expired token rows at start and every [`auth::PURGE_PERIOD`].
async fn purge_tokens_periodically(state: AppState) {
    let mut every = tokio::time::interval(auth::PURGE_PERIOD);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match state.purge_all_expired_tokens().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "expired tokens purged"),
            Err(e) => tracing::warn!(error = %e, "purging expired tokens failed"),
        }
    }
}

/// App administrators exist as users too, as in OpenIM v3.8 (nickname = user ID, level
/// AppNotificationAdmin): clients look up the sender of the notifications an administrator causes
/// (e.g. "group created" by `imAdmin`) and log an error when that user is unknown.
fn register_admin_users(store: &Store, admin_user_ids: &[String]) -> Result<(), StoreError> {
    let level = chorus_proto::constants::AppManagerLevel::AppNotificationAdmin as i32;
    store.call_sync(|c| {
        for id in admin_user_ids {
            c.execute(
                "INSERT OR IGNORE INTO users (user_id, nickname, create_time, app_manger_level) VALUES (?1, ?1, ?2, ?3)",
                rusqlite::params![id, now_ms(), level],
            )?;
        }
        Ok(())
    })
}

/// Prints the lines tools wait for, flushed at once (stdout may be a pipe).
fn announce(lines: &[String]) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}
