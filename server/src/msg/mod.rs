//! Messages: the send path (seq allocation in the storing transaction, then push), the pull paths
//! of the gateway (1001, 1002, 1005, 1006, 1007), notifications (spec §3.6–3.8, §4.5), revocation,
//! read marks, deletion.
//!
//! Read diffusion: one stored copy per conversation; `sg_<groupID>` has one seq counter shared by
//! all members; each member's visible window is bounded by their conversation row (§4.3).
//!
//! Submodules: [`ids`] conversation IDs; `db` the SQL (seqs, stored copies, windows, read-time
//! rewriting); `send` the send path and notifications; `pull` the gateway reads; [`ops`]
//! revocation, read marks, deletion and clearing. This module never touches connections except
//! through `Hub::push`, and never pushes anything before its transaction committed.

use chorus_proto::pb::msg::{
    GetConversationsHasReadAndMaxSeqReq, GetConversationsHasReadAndMaxSeqResp, GetLastMessageReq,
    GetLastMessageResp, GetSeqMessageReq, GetSeqMessageResp, SendMsgResp,
};
use chorus_proto::pb::sdkws::{
    GetMaxSeqResp, MsgData, PullMessageBySeqsReq, PullMessageBySeqsResp,
};

use crate::error::ApiResult;
use crate::AppState;

mod db;
pub mod ids;
pub mod ops;
mod pull;
mod send;

pub use db::RevokeRecord;
pub use pull::MAX_PULL;

/// A notification to deliver (spec §4.5). `detail` is the Go-JSON of the tips message
/// (see `chorus_proto::content::encode_notification`).
#[derive(Debug, Clone, Default)]
pub struct Notification {
    /// Notification content type (1201–2200).
    pub content_type: i32,
    /// Operator.
    pub send_id: String,
    /// Target user, or the groupID for group notifications.
    pub recv_id: String,
    /// The group, for session type 3.
    pub group_id: String,
    /// 1 single, 3 group.
    pub session_type: i32,
    /// Tips JSON (the `detail` string).
    pub detail: String,
    pub sender_nickname: String,
    pub sender_face_url: String,
    /// Also store a visible tip in the chat conversation (`sg_`/`si_`) with a normal seq.
    pub is_send_msg: bool,
    /// Store the original in the `n_` conversation with a seq (reliability level 2: 2101, 2102,
    /// 2200); otherwise it is pushed online with seq 0 and not stored.
    pub reliable: bool,
    /// Extra recipients beyond the group's current members / the single-chat pair, e.g. a
    /// member who was just kicked or quit.
    pub extra_recipients: Vec<String>,
}

/// 1003: stores a user's message and pushes it (with its seq) to every recipient connection,
/// the sender's devices included. `sender` is the connection's (or token's) user.
///
/// A resend with a `clientMsgID` already stored in the conversation answers the stored
/// `serverMsgID`/`sendTime` and allocates nothing. App administrators skip membership, mute and
/// black-list checks.
pub async fn send(
    state: &AppState,
    sender: &str,
    sender_platform: i32,
    msg: MsgData,
) -> ApiResult<SendMsgResp> {
    send::send(state, sender, sender_platform, msg, state.is_admin(sender)).await
}

/// 1001.
pub async fn get_max_seq(state: &AppState, user_id: &str) -> ApiResult<GetMaxSeqResp> {
    let u = user_id.to_owned();
    Ok(state
        .store
        .call(move |c| Ok(pull::max_seqs(c, &u)?))
        .await?)
}

/// 1002.
pub async fn pull_by_seq_ranges(
    state: &AppState,
    user_id: &str,
    req: PullMessageBySeqsReq,
) -> ApiResult<PullMessageBySeqsResp> {
    let u = user_id.to_owned();
    Ok(state
        .store
        .call(move |c| Ok(pull::pull_ranges(c, &u, &req)?))
        .await?)
}

/// 1005.
pub async fn get_seq_message(
    state: &AppState,
    user_id: &str,
    req: GetSeqMessageReq,
) -> ApiResult<GetSeqMessageResp> {
    let u = user_id.to_owned();
    Ok(state
        .store
        .call(move |c| Ok(pull::seq_messages(c, &u, &req)?))
        .await?)
}

/// 1006.
pub async fn has_read_and_max_seq(
    state: &AppState,
    user_id: &str,
    req: GetConversationsHasReadAndMaxSeqReq,
) -> ApiResult<GetConversationsHasReadAndMaxSeqResp> {
    let u = user_id.to_owned();
    Ok(state
        .store
        .call(move |c| Ok(pull::read_state(c, &u, &req)?))
        .await?)
}

/// 1007.
pub async fn last_messages(
    state: &AppState,
    user_id: &str,
    req: GetLastMessageReq,
) -> ApiResult<GetLastMessageResp> {
    let u = user_id.to_owned();
    Ok(state
        .store
        .call(move |c| Ok(pull::last_messages(c, &u, &req)?))
        .await?)
}

/// Delivers a notification (see [`Notification`]).
pub async fn notify(state: &AppState, n: Notification) -> ApiResult<()> {
    send::notify(state, n).await
}

/// Sends as an app administrator (REST `/msg/send_msg`): no membership, mute or black-list
/// checks, but the same storage and push path.
pub async fn send_as_admin(
    state: &AppState,
    sender: &str,
    sender_platform: i32,
    msg: MsgData,
) -> ApiResult<SendMsgResp> {
    send::send(state, sender, sender_platform, msg, true).await
}

/// A user's conversation rows in their REST shape (`minSeq`/`maxSeq` = the owner's bounds).
pub async fn conversations(
    state: &AppState,
    owner: &str,
    ids: Option<Vec<String>>,
) -> ApiResult<Vec<chorus_proto::pb::conversation::Conversation>> {
    let o = owner.to_owned();
    Ok(state
        .store
        .call(move |c| {
            let rows = match ids {
                None => db::conv_rows(c, &o)?,
                Some(ids) => {
                    let mut rows = Vec::new();
                    for id in ids {
                        rows.extend(db::conv_row_of(c, &o, &id)?);
                    }
                    rows
                }
            };
            Ok(rows.iter().map(db::ConvRow::to_pb).collect())
        })
        .await?)
}
