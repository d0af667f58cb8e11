//! `/msg/*` (spec §5.6): the REST face of the message service. Handlers check who may act for
//! whom and translate bodies; the rules themselves live in [`crate::msg`].

use axum::Router;
use chorus_proto::pb::msg::{GetConversationsHasReadAndMaxSeqReq, SendMsgResp};
use chorus_proto::pb::sdkws::{GetMaxSeqReq, MsgData, OfflinePushInfo, PullMessageBySeqsReq};
use serde::{Deserialize, Serialize};

use super::{authed, Op};
use crate::error::{ApiError, ApiResult};
use crate::msg::{self, ops};
use crate::{now_ms, AppState};

use chorus_proto::json::{null_as_default, seq_null_as_default};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/msg/send_msg", authed(send_msg))
        .route("/msg/revoke_msg", authed(revoke_msg))
        .route(
            "/msg/mark_conversation_as_read",
            authed(mark_conversation_as_read),
        )
        .route("/msg/mark_msgs_as_read", authed(mark_msgs_as_read))
        .route(
            "/msg/set_conversation_has_read_seq",
            authed(set_conversation_has_read_seq),
        )
        .route(
            "/msg/get_conversations_has_read_and_max_seq",
            authed(get_conversations_has_read_and_max_seq),
        )
        .route("/msg/newest_seq", authed(newest_seq))
        .route("/msg/pull_msg_by_seq", authed(pull_msg_by_seq))
        .route("/msg/delete_msgs", authed(delete_msgs))
        .route(
            "/msg/clear_conversation_msg",
            authed(clear_conversation_msg),
        )
        .route("/msg/user_clear_all_msg", authed(user_clear_all_msg))
        .route("/msg/get_server_time", authed(get_server_time))
}

/// `deleteSyncOpt`: OpenIM spells the keys with capitals; Go's decoder matches keys without
/// regard to case, so the lower-case forms are accepted too.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeleteSyncOpt {
    #[serde(
        rename = "IsSyncSelf",
        alias = "isSyncSelf",
        deserialize_with = "null_as_default"
    )]
    is_sync_self: bool,
    #[serde(
        rename = "IsSyncOther",
        alias = "isSyncOther",
        deserialize_with = "null_as_default"
    )]
    is_sync_other: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RevokeMsgReq {
    #[serde(rename = "conversationID", deserialize_with = "null_as_default")]
    conversation_id: String,
    #[serde(deserialize_with = "null_as_default")]
    seq: i64,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
}

async fn revoke_msg(state: AppState, op: Op, req: RevokeMsgReq) -> ApiResult<()> {
    if req.user_id.is_empty() || req.conversation_id.is_empty() || req.seq <= 0 {
        return Err(ApiError::args(
            "userID, conversationID and seq are required",
        ));
    }
    op.check_access(&req.user_id)?;
    ops::revoke(
        &state,
        op.is_admin,
        &req.user_id,
        &req.conversation_id,
        req.seq,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MarkConversationAsReadReq {
    #[serde(rename = "conversationID", deserialize_with = "null_as_default")]
    conversation_id: String,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(rename = "hasReadSeq", deserialize_with = "null_as_default")]
    has_read_seq: i64,
    #[serde(deserialize_with = "seq_null_as_default")]
    seqs: Vec<i64>,
}

async fn mark_conversation_as_read(
    state: AppState,
    op: Op,
    req: MarkConversationAsReadReq,
) -> ApiResult<()> {
    op.check_access(&req.user_id)?;
    let target = req
        .has_read_seq
        .max(req.seqs.iter().copied().max().unwrap_or(0));
    raise_read(&state, &req.user_id, &req.conversation_id, target, req.seqs).await
}

/// Raises the user's read mark to `target` (never lowers it), marking `seqs` read, with the
/// read-receipt notification.
async fn raise_read(
    state: &AppState,
    user: &str,
    conversation_id: &str,
    target: i64,
    seqs: Vec<i64>,
) -> ApiResult<()> {
    ops::mark_read(
        state,
        user,
        conversation_id,
        target,
        seqs,
        ops::ReadMark::Raise,
        true,
    )
    .await
    .map(drop)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MarkMsgsAsReadReq {
    #[serde(rename = "conversationID", deserialize_with = "null_as_default")]
    conversation_id: String,
    #[serde(deserialize_with = "seq_null_as_default")]
    seqs: Vec<i64>,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
}

async fn mark_msgs_as_read(state: AppState, op: Op, req: MarkMsgsAsReadReq) -> ApiResult<()> {
    op.check_access(&req.user_id)?;
    if req.seqs.is_empty() {
        return Err(ApiError::args("seqs is empty"));
    }
    let target = req.seqs.iter().copied().max().unwrap_or(0);
    raise_read(&state, &req.user_id, &req.conversation_id, target, req.seqs).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SetHasReadSeqReq {
    #[serde(rename = "conversationID", deserialize_with = "null_as_default")]
    conversation_id: String,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(rename = "hasReadSeq", deserialize_with = "null_as_default")]
    has_read_seq: i64,
    #[serde(rename = "noNotification", deserialize_with = "null_as_default")]
    no_notification: bool,
}

async fn set_conversation_has_read_seq(
    state: AppState,
    op: Op,
    req: SetHasReadSeqReq,
) -> ApiResult<()> {
    op.check_access(&req.user_id)?;
    ops::mark_read(
        &state,
        &req.user_id,
        &req.conversation_id,
        req.has_read_seq,
        Vec::new(),
        ops::ReadMark::Set,
        !req.no_notification,
    )
    .await
    .map(drop)
}

async fn get_conversations_has_read_and_max_seq(
    state: AppState,
    op: Op,
    req: GetConversationsHasReadAndMaxSeqReq,
) -> ApiResult<chorus_proto::pb::msg::GetConversationsHasReadAndMaxSeqResp> {
    op.check_access(&req.user_id)?;
    let user = req.user_id.clone();
    msg::has_read_and_max_seq(&state, &user, req).await
}

async fn newest_seq(
    state: AppState,
    op: Op,
    req: GetMaxSeqReq,
) -> ApiResult<chorus_proto::pb::sdkws::GetMaxSeqResp> {
    op.check_access(&req.user_id)?;
    msg::get_max_seq(&state, &req.user_id).await
}

async fn pull_msg_by_seq(
    state: AppState,
    op: Op,
    req: PullMessageBySeqsReq,
) -> ApiResult<chorus_proto::pb::sdkws::PullMessageBySeqsResp> {
    op.check_access(&req.user_id)?;
    let user = req.user_id.clone();
    msg::pull_by_seq_ranges(&state, &user, req).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeleteMsgsReq {
    #[serde(rename = "conversationID", deserialize_with = "null_as_default")]
    conversation_id: String,
    #[serde(deserialize_with = "seq_null_as_default")]
    seqs: Vec<i64>,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(rename = "deleteSyncOpt", deserialize_with = "null_as_default")]
    delete_sync_opt: DeleteSyncOpt,
}

async fn delete_msgs(state: AppState, op: Op, req: DeleteMsgsReq) -> ApiResult<()> {
    op.check_access(&req.user_id)?;
    if req.seqs.is_empty() {
        return Err(ApiError::args("seqs is empty"));
    }
    ops::delete(
        &state,
        op.is_admin,
        &req.user_id,
        &req.conversation_id,
        req.seqs,
        req.delete_sync_opt.is_sync_self,
        req.delete_sync_opt.is_sync_other,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ClearConversationMsgReq {
    #[serde(rename = "conversationIDs", deserialize_with = "seq_null_as_default")]
    conversation_ids: Vec<String>,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(rename = "deleteSyncOpt", deserialize_with = "null_as_default")]
    delete_sync_opt: DeleteSyncOpt,
}

async fn clear_conversation_msg(
    state: AppState,
    op: Op,
    req: ClearConversationMsgReq,
) -> ApiResult<()> {
    op.check_access(&req.user_id)?;
    if req.conversation_ids.is_empty() {
        return Err(ApiError::args("conversationIDs is empty"));
    }
    ops::clear(
        &state,
        op.is_admin,
        &req.user_id,
        req.conversation_ids,
        req.delete_sync_opt.is_sync_self,
        req.delete_sync_opt.is_sync_other,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserClearAllMsgReq {
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(rename = "deleteSyncOpt", deserialize_with = "null_as_default")]
    delete_sync_opt: DeleteSyncOpt,
}

async fn user_clear_all_msg(state: AppState, op: Op, req: UserClearAllMsgReq) -> ApiResult<()> {
    op.check_access(&req.user_id)?;
    ops::clear(
        &state,
        op.is_admin,
        &req.user_id,
        Vec::new(),
        req.delete_sync_opt.is_sync_self,
        req.delete_sync_opt.is_sync_other,
    )
    .await
}

#[derive(Debug, Serialize)]
struct ServerTime {
    #[serde(rename = "serverTime")]
    server_time: i64,
}

async fn get_server_time(
    _state: AppState,
    _op: Op,
    _req: serde_json::Value,
) -> ApiResult<ServerTime> {
    Ok(ServerTime {
        server_time: now_ms(),
    })
}

/// The body of `/msg/send_msg` (OpenIM's API struct, not `MsgData`): `content` is the element
/// as a JSON object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SendMsgReq {
    #[serde(rename = "sendID", deserialize_with = "null_as_default")]
    send_id: String,
    #[serde(rename = "recvID", deserialize_with = "null_as_default")]
    recv_id: String,
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "senderNickname", deserialize_with = "null_as_default")]
    sender_nickname: String,
    #[serde(rename = "senderFaceURL", deserialize_with = "null_as_default")]
    sender_face_url: String,
    #[serde(rename = "senderPlatformID", deserialize_with = "null_as_default")]
    sender_platform_id: i32,
    content: serde_json::Value,
    #[serde(rename = "contentType", deserialize_with = "null_as_default")]
    content_type: i32,
    #[serde(rename = "sessionType", deserialize_with = "null_as_default")]
    session_type: i32,
    #[serde(rename = "sendTime", deserialize_with = "null_as_default")]
    send_time: i64,
    #[serde(rename = "offlinePushInfo")]
    offline_push_info: Option<OfflinePushInfo>,
    #[serde(deserialize_with = "null_as_default")]
    ex: String,
}

async fn send_msg(state: AppState, op: Op, req: SendMsgReq) -> ApiResult<SendMsgResp> {
    op.check_admin()?;
    if req.send_id.is_empty() {
        return Err(ApiError::args("sendID is required"));
    }
    let content = match &req.content {
        serde_json::Value::Object(_) => {
            chorus_proto::json::to_go_vec(&req.content).map_err(ApiError::internal)?
        }
        _ => return Err(ApiError::args("content must be a JSON object")),
    };
    let msg = MsgData {
        send_id: req.send_id.clone(),
        recv_id: req.recv_id,
        group_id: req.group_id,
        client_msg_id: msg::ids::random_id(),
        sender_platform_id: req.sender_platform_id,
        sender_nickname: req.sender_nickname,
        sender_face_url: req.sender_face_url,
        session_type: req.session_type,
        msg_from: 100,
        content_type: req.content_type,
        content,
        send_time: req.send_time,
        create_time: now_ms(),
        offline_push_info: req.offline_push_info,
        ex: req.ex,
        ..MsgData::default()
    };
    msg::send_as_admin(&state, &req.send_id, req.sender_platform_id, msg).await
}
