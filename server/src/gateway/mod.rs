//! The message gateway: the WebSocket handshake (spec §2.1–2.2) and the routes that accept it.
//!
//! The handshake checks, in this order, the connection limit (1601, also while shutting down),
//! the query parameters (1602), the token (1501–1507) and
//! that the token belongs to the `sendID` and `platformID` of the query (1502), before
//! upgrading. A refusal is an HTTP 200 JSON body, or — when the client asked for `isMsgResp` —
//! an upgrade followed by one text frame and a close, because browsers cannot read the body of a
//! failed upgrade. [`conn`] runs an accepted connection; [`dispatch`] answers its requests.
//!
//! This module never touches storage directly except to mark replaced tokens kicked; messages go
//! through [`crate::msg`].

mod conn;
mod dispatch;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chorus_proto::constants::ErrorCode;
use chorus_proto::envelope::{Compression, ConnectParams, FrameLimits, HandshakeResult, SdkType};
use futures::SinkExt;
use serde::Deserialize;

use crate::error::ApiError;
use crate::AppState;

/// The path of the gateway in single-port mode (the gateway's own port accepts any path).
pub const PATH: &str = "/msg_gateway";

/// Routes of the gateway's own port: every path is the gateway, as OpenIM registers it on `/`.
pub fn router() -> Router<AppState> {
    Router::new().fallback(get(handshake))
}

/// The gateway route of single-port mode, merged with the REST routes.
pub fn single_port_routes() -> Router<AppState> {
    Router::new().route(PATH, get(handshake))
}

/// `GET` on the gateway: validate, then upgrade or refuse.
async fn handshake(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let query = query.unwrap_or_default();
    // The connection limit comes first, as in OpenIM (spec §2.2).
    let checked = if state.hub.admits_connection() {
        authenticate(&state, &query, &headers).await
    } else {
        Err(ApiError::new(
            ErrorCode::ConnOverMaxNumLimit,
            "too many connections, or the server is shutting down",
        ))
    };
    match checked {
        Ok(params) => match upgrade {
            Ok(upgrade) => {
                let limit = FrameLimits::CLIENT_TO_SERVER.wire;
                upgrade
                    .max_message_size(limit)
                    .max_frame_size(limit)
                    .on_upgrade(move |ws| conn::serve(state, ws, params))
            }
            Err(rejection) => rejection.into_response(),
        },
        Err(err) => {
            tracing::info!(code = err.code, msg = %err.msg, "gateway handshake refused");
            let result = HandshakeResult::error(err.code, err.msg, err.dlt);
            match upgrade {
                Ok(upgrade) if wants_msg_resp(&query) => {
                    upgrade.on_upgrade(move |ws| refuse_in_band(ws, result))
                }
                _ => refuse_over_http(&result),
            }
        }
    }
}

/// Parses the query and checks the token; the connection's parameters on success.
async fn authenticate(
    state: &AppState,
    query: &str,
    headers: &HeaderMap,
) -> Result<ConnectParams, ApiError> {
    let parsed = match query_value(query, "v") {
        Some(packed) => unpack(&packed),
        None => ConnectParams::from_query(query).map_err(|e| e.to_string()),
    };
    let mut params = parsed.map_err(|e| ApiError::new(ErrorCode::ConnArgsErr, e))?;
    // The compression may also be negotiated by header.
    if headers
        .get("compression")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "gzip")
    {
        params.compression = Compression::Gzip;
    }
    let claims = state.check_token(&params.token).await?;
    if claims.user_id != params.send_id || claims.platform_id != params.platform_id {
        return Err(ApiError::new(
            ErrorCode::TokenInvalid,
            "token does not belong to this sendID and platformID",
        ));
    }
    Ok(params)
}

/// Whether the query asks for the in-band handshake result, read on its own so that it also
/// applies when the rest of the query is invalid (Go `strconv.ParseBool` true literals).
fn wants_msg_resp(query: &str) -> bool {
    if let Some(packed) = query_value(query, "v") {
        return decode_packed(&packed).is_some_and(|p| p.send_response);
    }
    query_value(query, "isMsgResp")
        .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "TRUE" | "true" | "True"))
}

/// The first raw value of `key` in a query string.
fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
}

/// The packed form of the parameters: `v` = base64url (no padding) of one JSON object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Packed {
    token: String,
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "platformID")]
    platform_id: i32,
    #[serde(rename = "operationID")]
    operation_id: String,
    compression: String,
    #[serde(rename = "sdkType")]
    sdk_type: String,
    #[serde(rename = "sendResponse")]
    send_response: bool,
    background: bool,
}

fn decode_packed(v: &str) -> Option<Packed> {
    use base64::Engine as _;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// Validates the packed parameters with the same rules as the plain query.
fn unpack(v: &str) -> Result<ConnectParams, String> {
    let p = decode_packed(v).ok_or("parameter v is not base64url JSON")?;
    let sdk_type = match p.sdk_type.as_str() {
        "" | "go" => SdkType::Go,
        "js" => SdkType::Js,
        other => return Err(format!("invalid sdkType {other:?}")),
    };
    let params = ConnectParams {
        send_id: p.user_id,
        token: p.token,
        platform_id: p.platform_id,
        operation_id: p.operation_id,
        is_background: p.background,
        compression: if p.compression == "gzip" {
            Compression::Gzip
        } else {
            Compression::None
        },
        sdk_type,
        is_msg_resp: p.send_response,
    };
    // The plain-query parser holds the rules (required fields, platform range).
    ConnectParams::from_query(&params.to_query()).map_err(|e| e.to_string())?;
    Ok(params)
}

fn refuse_over_http(result: &HandshakeResult) -> Response {
    let mut resp = result.encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

async fn refuse_in_band(mut ws: WebSocket, result: HandshakeResult) {
    let _ = ws.send(Message::text(result.encode())).await;
    let _ = ws.send(Message::Close(None)).await;
    let _ = ws.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_resp_flag_is_read_from_any_query() {
        assert!(wants_msg_resp("sendID=&isMsgResp=true"));
        assert!(wants_msg_resp("isMsgResp=1&platformID=x"));
        assert!(!wants_msg_resp("isMsgResp=false"));
        assert!(!wants_msg_resp("isMsgResp"));
        assert!(!wants_msg_resp(""));
    }

    fn pack(json: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn packed_parameters_follow_the_query_rules() {
        let v = pack(
            r#"{"token":"t","userID":"u1","platformID":5,"operationID":"op","compression":"gzip","sdkType":"js","sendResponse":true,"background":false}"#,
        );
        let p = unpack(&v).unwrap();
        assert_eq!((p.send_id.as_str(), p.platform_id), ("u1", 5));
        assert_eq!(
            (p.compression, p.sdk_type),
            (Compression::Gzip, SdkType::Js)
        );
        assert!(p.is_msg_resp && wants_msg_resp(&format!("v={v}")));
        let missing = pack(r#"{"token":"t","platformID":5,"operationID":"op"}"#);
        assert!(unpack(&missing).is_err());
        let bad_platform =
            pack(r#"{"token":"t","userID":"u1","platformID":99,"operationID":"op"}"#);
        assert!(unpack(&bad_platform).is_err());
        assert!(unpack("%%%").is_err());
        assert!(!wants_msg_resp("v=%%%"));
    }
}
