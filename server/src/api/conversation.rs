//! `/conversation/*` (spec §5.7): a user's conversation rows. Rows are created by the message
//! service (first message) and by group joins; here they are read and their user settings set.
//!
//! The seq bounds of a row (`minSeq`/`maxSeq`) are the server's to manage (they define what
//! the owner may read), so `set_conversations` changes them only for app administrators.
//! Incremental sync always answers `full: true` with a stable versionID per user.

use axum::Router;
use chorus_proto::constants::ContentType;
use chorus_proto::pb::conversation::Conversation;
use chorus_proto::pb::sdkws::{ConversationUpdateTips, RequestPagination};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{authed, Op};
use crate::error::{ApiError, ApiResult};
use crate::msg::{self, ids, Notification};
use crate::AppState;

use chorus_proto::json::{null_as_default, seq_null_as_default};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/conversation/get_owner_conversation",
            authed(get_owner_conversation),
        )
        .route(
            "/conversation/get_all_conversations",
            authed(get_all_conversations),
        )
        .route("/conversation/get_conversations", authed(get_conversations))
        .route("/conversation/get_conversation", authed(get_conversation))
        .route("/conversation/set_conversations", authed(set_conversations))
        .route(
            "/conversation/get_incremental_conversations",
            authed(get_incremental_conversations),
        )
        .route(
            "/conversation/get_full_conversation_ids",
            authed(get_full_conversation_ids),
        )
        .route(
            "/conversation/get_not_notify_conversation_ids",
            authed(get_not_notify_conversation_ids),
        )
        .route(
            "/conversation/get_pinned_conversation_ids",
            authed(get_pinned_conversation_ids),
        )
}

#[derive(Debug, Serialize)]
struct ConversationsResp {
    conversations: Vec<Conversation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GetOwnerConversationReq {
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pagination: RequestPagination,
}

#[derive(Debug, Serialize)]
struct GetOwnerConversationResp {
    total: i64,
    conversations: Vec<Conversation>,
}

async fn get_owner_conversation(
    state: AppState,
    op: Op,
    req: GetOwnerConversationReq,
) -> ApiResult<GetOwnerConversationResp> {
    op.check_access(&req.user_id)?;
    let all = msg::conversations(&state, &req.user_id, None).await?;
    let total = all.len() as i64;
    let conversations = super::page(all, &req.pagination);
    Ok(GetOwnerConversationResp {
        total,
        conversations,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OwnerReq {
    #[serde(rename = "ownerUserID", deserialize_with = "null_as_default")]
    owner_user_id: String,
    #[serde(rename = "conversationIDs", deserialize_with = "seq_null_as_default")]
    conversation_ids: Vec<String>,
    #[serde(rename = "conversationID", deserialize_with = "null_as_default")]
    conversation_id: String,
}

async fn get_all_conversations(
    state: AppState,
    op: Op,
    req: OwnerReq,
) -> ApiResult<ConversationsResp> {
    op.check_access(&req.owner_user_id)?;
    Ok(ConversationsResp {
        conversations: msg::conversations(&state, &req.owner_user_id, None).await?,
    })
}

async fn get_conversations(state: AppState, op: Op, req: OwnerReq) -> ApiResult<ConversationsResp> {
    op.check_access(&req.owner_user_id)?;
    Ok(ConversationsResp {
        conversations: msg::conversations(&state, &req.owner_user_id, Some(req.conversation_ids))
            .await?,
    })
}

#[derive(Debug, Serialize)]
struct GetConversationResp {
    conversation: Conversation,
}

async fn get_conversation(
    state: AppState,
    op: Op,
    req: OwnerReq,
) -> ApiResult<GetConversationResp> {
    op.check_access(&req.owner_user_id)?;
    let found =
        msg::conversations(&state, &req.owner_user_id, Some(vec![req.conversation_id])).await?;
    found
        .into_iter()
        .next()
        .map(|conversation| GetConversationResp { conversation })
        .ok_or_else(|| ApiError::not_found("conversation not found"))
}

/// `ConversationReq`: the settable fields as wrappers (`null`/absent = unchanged). Its
/// `conversationType`/`userID`/`groupID` are not read: a new row's shape follows from the ID.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConversationReq {
    #[serde(rename = "conversationID", deserialize_with = "null_as_default")]
    conversation_id: String,
    #[serde(rename = "recvMsgOpt")]
    recv_msg_opt: Option<i32>,
    #[serde(rename = "isPinned")]
    is_pinned: Option<bool>,
    #[serde(rename = "attachedInfo")]
    attached_info: Option<String>,
    #[serde(rename = "isPrivateChat")]
    is_private_chat: Option<bool>,
    ex: Option<String>,
    #[serde(rename = "burnDuration")]
    burn_duration: Option<i32>,
    #[serde(rename = "minSeq")]
    min_seq: Option<i64>,
    #[serde(rename = "maxSeq")]
    max_seq: Option<i64>,
    #[serde(rename = "groupAtType")]
    group_at_type: Option<i32>,
    #[serde(rename = "msgDestructTime")]
    msg_destruct_time: Option<i64>,
    #[serde(rename = "isMsgDestruct")]
    is_msg_destruct: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SetConversationsReq {
    #[serde(rename = "userIDs", deserialize_with = "seq_null_as_default")]
    user_ids: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    conversation: ConversationReq,
}

/// What a row is created with when `set_conversations` names a conversation the user takes
/// part in but has no row for yet: `(type, peer userID, groupID)`.
fn new_row_shape(
    conn: &rusqlite::Connection,
    user: &str,
    conversation_id: &str,
) -> rusqlite::Result<Option<(i32, String, String)>> {
    if let Some(rest) = conversation_id.strip_prefix("si_") {
        return Ok(ids::peer_in_pair(rest, user).map(|peer| (1, peer, String::new())));
    }
    if let Some(rest) = conversation_id.strip_prefix("sn_") {
        return Ok(ids::peer_in_pair(rest, user).map(|peer| (4, peer, String::new())));
    }
    if let Some(gid) = conversation_id.strip_prefix("sg_") {
        let member = crate::group::db::member(conn, gid, user)?;
        return Ok(member.map(|_| (3, String::new(), gid.to_owned())));
    }
    Ok(None)
}

async fn set_conversations(state: AppState, op: Op, req: SetConversationsReq) -> ApiResult<()> {
    let conv = req.conversation;
    if conv.conversation_id.is_empty() || req.user_ids.is_empty() {
        return Err(ApiError::args(
            "userIDs and conversation.conversationID are required",
        ));
    }
    for u in &req.user_ids {
        op.check_access(u)?;
    }
    let admin = op.is_admin;
    let users = req.user_ids.clone();
    let cid = conv.conversation_id.clone();
    state
        .store
        .call(move |c| {
            let tx = c.transaction()?;
            for user in &users {
                let exists: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM conversations WHERE owner_user_id = ?1 AND conversation_id = ?2)",
                    params![user, conv.conversation_id],
                    |r| r.get(0),
                )?;
                if !exists {
                    // Creating a row grants reading the conversation: only participants get one.
                    let Some((kind, peer, gid)) = new_row_shape(&tx, user, &conv.conversation_id)? else {
                        return Ok(Err(ApiError::no_permission(format!(
                            "{user} does not take part in {}",
                            conv.conversation_id
                        ))));
                    };
                    tx.execute(
                        "INSERT INTO conversations (owner_user_id, conversation_id, conversation_type, user_id, group_id)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![user, conv.conversation_id, kind, peer, gid],
                    )?;
                }
                let set = |col: &str, v: &dyn rusqlite::ToSql| {
                    tx.execute(
                        &format!("UPDATE conversations SET {col} = ?3 WHERE owner_user_id = ?1 AND conversation_id = ?2"),
                        params![user, conv.conversation_id, v],
                    )
                    .map(drop)
                };
                if let Some(v) = conv.recv_msg_opt {
                    set("recv_msg_opt", &v)?;
                }
                if let Some(v) = conv.is_pinned {
                    set("is_pinned", &v)?;
                }
                if let Some(v) = &conv.attached_info {
                    set("attached_info", v)?;
                }
                if let Some(v) = conv.is_private_chat {
                    set("is_private_chat", &v)?;
                }
                if let Some(v) = &conv.ex {
                    set("ex", v)?;
                }
                if let Some(v) = conv.burn_duration {
                    set("burn_duration", &v)?;
                }
                if let Some(v) = conv.group_at_type {
                    set("group_at_type", &v)?;
                }
                if let Some(v) = conv.msg_destruct_time {
                    set("msg_destruct_time", &v)?;
                }
                if let Some(v) = conv.is_msg_destruct {
                    set("is_msg_destruct", &v)?;
                }
                if admin {
                    if let Some(v) = conv.min_seq {
                        set("min_seq", &v)?;
                    }
                    if let Some(v) = conv.max_seq {
                        set("max_seq", &v)?;
                    }
                }
            }
            tx.commit()?;
            Ok(Ok(()))
        })
        .await??;
    for user in &req.user_ids {
        let tips = ConversationUpdateTips {
            user_id: user.clone(),
            conversation_id_list: vec![cid.clone()],
        };
        let detail = chorus_proto::json::to_go_string(&tips).map_err(ApiError::internal)?;
        msg::notify(
            &state,
            Notification {
                content_type: ContentType::ConversationChangeNotification.as_i32(),
                send_id: user.clone(),
                recv_id: user.clone(),
                session_type: 1,
                detail,
                ..Notification::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// The stable versionID of a user's conversation list (created on first use).
async fn version_of(state: &AppState, user: &str) -> ApiResult<(String, i64)> {
    let u = user.to_owned();
    Ok(state
        .store
        .call(move |c| {
            let tx = c.transaction()?;
            let row: Option<(String, i64)> = tx
                .query_row(
                    "SELECT version_id, version FROM version_logs WHERE kind = 'conversation' AND key = ?1",
                    [&u],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let row = match row {
                Some(row) => row,
                None => {
                    let id: String = ids::random_id().chars().take(24).collect();
                    tx.execute(
                        "INSERT INTO version_logs (kind, key, version_id, version) VALUES ('conversation', ?1, ?2, 1)",
                        params![u, id],
                    )?;
                    (id, 1)
                }
            };
            tx.commit()?;
            Ok(row)
        })
        .await?)
}

/// `{userID, versionID, version}`: the answer is always `full`, so the client's version is not
/// read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IncrementalReq {
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
}

#[derive(Debug, Serialize)]
struct IncrementalResp {
    version: i64,
    #[serde(rename = "versionID")]
    version_id: String,
    full: bool,
    delete: Vec<String>,
    insert: Vec<Conversation>,
    update: Vec<Conversation>,
    #[serde(rename = "sortVersion")]
    sort_version: i64,
}

async fn get_incremental_conversations(
    state: AppState,
    op: Op,
    req: IncrementalReq,
) -> ApiResult<IncrementalResp> {
    op.check_access(&req.user_id)?;
    let (version_id, version) = version_of(&state, &req.user_id).await?;
    Ok(IncrementalResp {
        version,
        version_id,
        full: true,
        delete: Vec::new(),
        insert: Vec::new(),
        update: Vec::new(),
        sort_version: 0,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserReq {
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
}

#[derive(Debug, Serialize)]
struct FullIdsResp {
    version: i64,
    #[serde(rename = "versionID")]
    version_id: String,
    equal: bool,
    #[serde(rename = "conversationIDs")]
    conversation_ids: Vec<String>,
}

async fn get_full_conversation_ids(
    state: AppState,
    op: Op,
    req: UserReq,
) -> ApiResult<FullIdsResp> {
    op.check_access(&req.user_id)?;
    let (version_id, version) = version_of(&state, &req.user_id).await?;
    let conversation_ids = msg::conversations(&state, &req.user_id, None)
        .await?
        .into_iter()
        .map(|c| c.conversation_id)
        .collect();
    Ok(FullIdsResp {
        version,
        version_id,
        equal: false,
        conversation_ids,
    })
}

#[derive(Debug, Serialize)]
struct IdsResp {
    #[serde(rename = "conversationIDs")]
    conversation_ids: Vec<String>,
}

async fn get_not_notify_conversation_ids(
    state: AppState,
    op: Op,
    req: UserReq,
) -> ApiResult<IdsResp> {
    conversation_ids_where(&state, &op, &req.user_id, |c| c.recv_msg_opt != 0).await
}

async fn get_pinned_conversation_ids(state: AppState, op: Op, req: UserReq) -> ApiResult<IdsResp> {
    conversation_ids_where(&state, &op, &req.user_id, |c| c.is_pinned).await
}

/// The IDs of `user`'s conversations that satisfy `keep`.
async fn conversation_ids_where(
    state: &AppState,
    op: &Op,
    user: &str,
    keep: fn(&Conversation) -> bool,
) -> ApiResult<IdsResp> {
    op.check_access(user)?;
    let all = msg::conversations(state, user, None).await?;
    Ok(IdsResp {
        conversation_ids: all
            .into_iter()
            .filter(keep)
            .map(|c| c.conversation_id)
            .collect(),
    })
}
