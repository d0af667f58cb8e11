//! Answers gateway requests (spec §2.7): decodes the protobuf payload its `reqIdentifier`
//! names, checks that it acts for the connection's user, calls the message service and builds the
//! response envelope (echoing `reqIdentifier`, `msgIncr` and `operationID`).
//!
//! Business errors become a normal response with `errCode`/`errMsg` and no data; a payload that
//! is not the protobuf message its identifier requires is answered with 1001. This module never
//! writes to the socket: responses go to the connection's writer.

use std::sync::Arc;

use chorus_proto::envelope::{Req, RequestPayload, Resp, ResponsePayload};
use chorus_proto::pb::{push, sdkws};
use tokio::sync::mpsc;

use super::conn::{ConnInfo, Direct};
use crate::error::{ApiError, ApiResult};
use crate::{msg, AppState};

/// Answers the connection's requests in order until the reader stops or the writer is gone.
pub(super) async fn run(
    state: AppState,
    conn: Arc<ConnInfo>,
    mut requests: mpsc::Receiver<Req>,
    out: mpsc::Sender<Direct>,
) {
    while let Some(req) = requests.recv().await {
        let (resp, close) = answer(&state, &conn, &req).await;
        if out.send(Direct::Frame(resp)).await.is_err() {
            return;
        }
        if close {
            let _ = out.send(Direct::Close).await;
            return;
        }
    }
}

/// The response to one request, and whether the connection closes after it (logout).
pub(super) async fn answer(state: &AppState, conn: &ConnInfo, req: &Req) -> (Resp, bool) {
    let result = match req.payload() {
        Ok(payload) => handle(state, conn, payload).await,
        Err(e) => Err(ApiError::args(format!("invalid request data: {e}"))),
    };
    let mut resp = match &result {
        Ok((payload, _)) => payload.to_resp(&req.msg_incr, &req.operation_id),
        Err(e) => Resp {
            err_code: e.code,
            err_msg: e.msg.clone(),
            ..Resp::default()
        },
    };
    resp.req_identifier = req.req_identifier;
    resp.msg_incr.clone_from(&req.msg_incr);
    resp.operation_id.clone_from(&req.operation_id);
    if let Err(e) = &result {
        tracing::debug!(user = %conn.user_id, id = req.req_identifier, code = e.code, msg = %e.msg, "gateway request failed");
    }
    (resp, matches!(result, Ok((_, true))))
}

/// The user a request acts for: always the connection's own user. Unlike OpenIM, an app
/// administrator's connection does not act for others either (they have REST for that), so a
/// gateway frame can never read or change another user's state; anything else is 1002.
fn acting_for<'a>(conn: &ConnInfo, user_id: &'a str) -> ApiResult<&'a str> {
    if user_id == conn.user_id {
        Ok(user_id)
    } else {
        Err(ApiError::no_permission(format!(
            "userID {user_id:?} is not the connection's user"
        )))
    }
}

async fn handle(
    state: &AppState,
    conn: &ConnInfo,
    payload: RequestPayload,
) -> ApiResult<(ResponsePayload, bool)> {
    use RequestPayload as Q;
    use ResponsePayload as R;
    let reply = match payload {
        Q::GetNewestSeq(r) => {
            let user = acting_for(conn, &r.user_id)?;
            R::GetNewestSeq(msg::get_max_seq(state, user).await?)
        }
        Q::PullMsgByRange(r) => {
            let user = acting_for(conn, &r.user_id)?.to_owned();
            R::PullMsgByRange(msg::pull_by_seq_ranges(state, &user, r).await?)
        }
        Q::SendMsg(m) => {
            // The envelope's sendID was checked by the reader; a message claiming another sender
            // is refused rather than silently re-attributed.
            if !m.send_id.is_empty() && m.send_id != conn.user_id {
                return Err(ApiError::no_permission(
                    "sendID of the message is not the connection's user",
                ));
            }
            let resp = msg::send(state, &conn.user_id, conn.platform_id, *m).await?;
            R::SendMsg(Box::new(resp))
        }
        Q::PullMsgBySeqList(r) => {
            let user = acting_for(conn, &r.user_id)?.to_owned();
            R::PullMsgBySeqList(msg::get_seq_message(state, &user, r).await?)
        }
        Q::GetConvMaxReadSeq(r) => {
            let user = acting_for(conn, &r.user_id)?.to_owned();
            R::GetConvMaxReadSeq(msg::has_read_and_max_seq(state, &user, r).await?)
        }
        Q::PullConvLastMessage(r) => {
            let user = acting_for(conn, &r.user_id)?.to_owned();
            R::PullConvLastMessage(msg::last_messages(state, &user, r).await?)
        }
        Q::Logout(r) => {
            acting_for(conn, &r.user_id)?;
            // No push tokens are kept, so there is nothing to delete; the reply precedes the close.
            return Ok((R::Logout(push::DelUserPushTokenResp {}), true));
        }
        Q::SetBackgroundStatus(r) => {
            acting_for(conn, &r.user_id)?;
            conn.handle.set_background(r.is_background);
            R::SetBackgroundStatus(sdkws::SetAppBackgroundStatusResp {})
        }
        Q::SubUserOnlineStatus(r) => {
            // Later changes of the watched users' platforms are pushed as 2005 by the hub. Beyond
            // the per-connection limit the request is refused (1001) and changes nothing.
            state
                .hub
                .subscribe(&conn.handle, &r.subscribe_user_id, &r.unsubscribe_user_id)
                .map_err(|e| ApiError::args(e.to_string()))?;
            let subscribers = r
                .subscribe_user_id
                .iter()
                .map(|u| sdkws::SubUserOnlineStatusElem {
                    user_id: u.clone(),
                    online_platform_i_ds: state.hub.online_platforms(u),
                })
                .collect();
            R::SubUserOnlineStatus(sdkws::SubUserOnlineStatusTips { subscribers })
        }
    };
    Ok((reply, false))
}
