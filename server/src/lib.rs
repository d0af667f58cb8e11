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
pub mod hub;
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
    pub async fn issue_token(&self, user_id: &str, platform_id: i32) -> ApiResult<String> {
        let (token, claims) =
            auth::issue(&self.config.secret, user_id, platform_id, now_ms() / 1000);
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
            .call(move |c| {
                Ok(
                    c.query_row("SELECT count(*) FROM users WHERE user_id = ?1", [u], |r| {
                        r.get::<_, i64>(0)
                    })? > 0,
                )
            })
            .await
    }
}

/// The REST router (two-port mode: served on `--api`).
pub fn api_app(state: AppState) -> Router {
    api::router()
        .layer(tower_http::cors::CorsLayer::very_permissive())
        .with_state(state)
}

/// Single-port mode: REST and the gateway on `/msg_gateway` on one address (what tests use).
pub fn app(state: AppState) -> Router {
    api_app(state)
}

/// Serves until `shutdown` resolves.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = Store::open_dir(&config.data_dir)?;
    let state = AppState::new(config.clone(), store);
    let api = tokio::net::TcpListener::bind(config.api_addr).await?;
    tracing::info!(addr = %api.local_addr()?, "REST API listening");
    axum::serve(api, api_app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
