//! Changes to stored messages and read state: revocation (with the permission rules of
//! spec §5.6, enforced), read marks, per-user and physical deletion, clearing.
//!
//! Callers (REST handlers) have already checked that the acting user may act for `user`;
//! `admin` says that the operator is an app administrator. Each operation commits first and
//! notifies after.

use chorus_proto::constants::{ContentType, ErrorCode, RoleLevel};
use chorus_proto::pb::sdkws::{
    ClearConversationTips, DeleteMsgsTips, MarkAsReadTips, MsgData, RevokeMsgTips,
};
use chorus_proto::pb::Message as _;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::db::{self, RevokeRecord};
use super::{ids, Notification};
use crate::error::{ApiError, ApiResult};
use crate::group::db as group_db;
use crate::relation;
use crate::{now_ms, AppState};

fn detail<T: Serialize>(tips: &T) -> ApiResult<String> {
    chorus_proto::json::to_go_string(tips).map_err(ApiError::internal)
}

/// Where a conversation-level notification goes: `(session type, recvID, groupID)`.
fn conversation_target(row: &db::ConvRow, user: &str) -> (i32, String, String) {
    if row.conversation_type == 3 {
        (3, row.group_id.clone(), row.group_id.clone())
    } else {
        let peer = if row.user_id.is_empty() {
            user.to_owned()
        } else {
            row.user_id.clone()
        };
        (1, peer, String::new())
    }
}

/// A notification to the user's own devices (`sendID = recvID = user`).
fn to_self(user: &str, content_type: ContentType, detail: String, reliable: bool) -> Notification {
    Notification {
        content_type: content_type.as_i32(),
        send_id: user.to_owned(),
        recv_id: user.to_owned(),
        session_type: 1,
        detail,
        reliable,
        ..Notification::default()
    }
}

/// `/msg/revoke_msg`: marks the stored copy revoked and sends 2101 (stored in `n_…`).
///
/// Rules: an app administrator may revoke anything; in single chats only the sender; in groups
/// the sender its own, the owner anyone's, an admin the messages of ordinary members and of
/// senders no longer in the group; anyone else 1002; a second revoke 1404; no time limit.
pub async fn revoke(
    state: &AppState,
    admin: bool,
    revoker: &str,
    conversation_id: &str,
    seq: i64,
) -> ApiResult<()> {
    if ids::is_notification(conversation_id) || seq <= 0 {
        return Err(ApiError::args("not a revocable message"));
    }
    let (r, c) = (revoker.to_owned(), conversation_id.to_owned());
    let now = now_ms();
    let (msg, record) = state
        .store
        .call(move |conn| {
            let tx = conn.transaction()?;
            if !admin {
                let visible = db::window(&tx, &r, &c)?.is_some_and(|w| w.contains(seq));
                if !visible {
                    return Ok(Err(ApiError::not_found("message not found")));
                }
            }
            let row: Option<(Vec<u8>, Option<String>)> = tx
                .query_row(
                    "SELECT msg, revoke FROM messages WHERE conversation_id = ?1 AND seq = ?2",
                    params![c, seq],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let Some((bytes, revoked)) = row else {
                return Ok(Err(ApiError::not_found("message not found")));
            };
            if revoked.is_some() {
                return Ok(Err(ApiError::new(
                    ErrorCode::MsgAlreadyRevoke,
                    "message already revoked",
                )));
            }
            let msg = MsgData::decode(bytes.as_slice()).map_err(|e| {
                crate::store::StoreError::Task(format!("stored message does not decode: {e}"))
            })?;
            if ContentType::is_notification_code(msg.content_type) {
                return Ok(Err(ApiError::args("notifications cannot be revoked")));
            }
            let me_user = relation::user(&tx, &r)?.unwrap_or_default();
            let (nickname, app_level) = (me_user.nickname, me_user.app_manger_level);
            let (role, nickname) = if msg.session_type == 3 {
                let me = group_db::member(&tx, &msg.group_id, &r)?;
                let role = me.as_ref().map_or(0, |m| m.role_level);
                if !admin && msg.send_id != r {
                    let allowed = role == RoleLevel::Owner.as_i32()
                        || (role == RoleLevel::Admin.as_i32()
                            && group_db::member(&tx, &msg.group_id, &msg.send_id)?
                                .is_none_or(|s| s.role_level == RoleLevel::Ordinary.as_i32()));
                    if !allowed {
                        return Ok(Err(ApiError::no_permission(
                            "no permission to revoke this message",
                        )));
                    }
                }
                // A member's nickname already falls back to the profile's when unset.
                let group_nick = me.map(|m| m.nickname).filter(|n| !n.is_empty());
                (role, group_nick.unwrap_or(nickname))
            } else {
                if !admin && msg.send_id != r {
                    return Ok(Err(ApiError::no_permission(
                        "only the sender may revoke a single-chat message",
                    )));
                }
                (app_level, nickname)
            };
            let record = RevokeRecord {
                role,
                user_id: r.clone(),
                nickname,
                time: now,
            };
            let json = serde_json::to_string(&record).map_err(|e| {
                crate::store::StoreError::Task(format!("cannot encode revoke record: {e}"))
            })?;
            tx.execute(
                "UPDATE messages SET revoke = ?3 WHERE conversation_id = ?1 AND seq = ?2",
                params![c, seq, json],
            )?;
            tx.commit()?;
            Ok(Ok((msg, record)))
        })
        .await??;
    let tips = RevokeMsgTips {
        revoker_user_id: revoker.to_owned(),
        client_msg_id: msg.client_msg_id.clone(),
        revoke_time: record.time,
        sesstion_type: msg.session_type,
        seq,
        conversation_id: conversation_id.to_owned(),
        is_admin_revoke: state.is_admin(revoker),
    };
    let (recv_id, group_id) = if msg.session_type == 3 {
        (msg.group_id.clone(), msg.group_id.clone())
    } else if msg.send_id == revoker {
        (msg.recv_id.clone(), String::new())
    } else {
        (msg.send_id.clone(), String::new())
    };
    super::notify(
        state,
        Notification {
            content_type: ContentType::MsgRevokeNotification.as_i32(),
            send_id: revoker.to_owned(),
            recv_id,
            group_id,
            session_type: if msg.session_type == 3 { 3 } else { 1 },
            detail: detail(&tips)?,
            sender_nickname: record.nickname,
            reliable: true,
            // Both parties of a single chat even when an administrator revokes.
            extra_recipients: if msg.session_type == 3 {
                Vec::new()
            } else {
                vec![msg.send_id, msg.recv_id]
            },
            ..Notification::default()
        },
    )
    .await
}

/// How a read mark moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMark {
    /// Only ever raises hasReadSeq (`mark_conversation_as_read`, `mark_msgs_as_read`).
    Raise,
    /// Sets it as given (`set_conversation_has_read_seq`).
    Set,
}

/// Moves the user's hasReadSeq (clamped to the visible max) and, if `notify`, sends 2200
/// `MarkAsReadTips` to the user's devices (and to the peer in single chats). Returns the new
/// hasReadSeq.
pub async fn mark_read(
    state: &AppState,
    user: &str,
    conversation_id: &str,
    has_read_seq: i64,
    seqs: Vec<i64>,
    mode: ReadMark,
    notify: bool,
) -> ApiResult<i64> {
    let (u, c) = (user.to_owned(), conversation_id.to_owned());
    let (row, has_read) = state
        .store
        .call(move |conn| {
            let tx = conn.transaction()?;
            let Some(row) = db::conv_row_of(&tx, &u, &c)? else {
                return Ok(Err(ApiError::not_found("conversation not found")));
            };
            let w = db::row_window(&row, db::conv_bounds(&tx, &c)?);
            let wanted = has_read_seq.clamp(0, w.hi.max(0));
            let new = match mode {
                ReadMark::Raise => row.has_read_seq.max(wanted),
                ReadMark::Set => wanted,
            };
            tx.execute(
                "UPDATE conversations SET has_read_seq = ?3 WHERE owner_user_id = ?1 AND conversation_id = ?2",
                params![u, c, new],
            )?;
            tx.commit()?;
            Ok(Ok((row, new)))
        })
        .await??;
    if notify {
        let tips = MarkAsReadTips {
            mark_as_read_user_id: user.to_owned(),
            conversation_id: conversation_id.to_owned(),
            seqs,
            has_read_seq: has_read,
        };
        let mut n = to_self(user, ContentType::HasReadReceipt, detail(&tips)?, true);
        if row.conversation_type == 1 && !row.user_id.is_empty() {
            n.recv_id = row.user_id.clone();
        }
        super::notify(state, n).await?;
    }
    Ok(has_read)
}

/// `/msg/delete_msgs`. Without `sync_other`: the seqs become placeholders for this user only
/// (2102 to the user's devices when `sync_self`). With `sync_other`: the stored copies are
/// removed for everyone and 2102 goes to the conversation — allowed to app administrators and
/// for the user's own messages only (OpenIM lets anyone do this).
pub async fn delete(
    state: &AppState,
    admin: bool,
    user: &str,
    conversation_id: &str,
    seqs: Vec<i64>,
    sync_self: bool,
    sync_other: bool,
) -> ApiResult<()> {
    let (u, c) = (user.to_owned(), conversation_id.to_owned());
    let (row, seqs) = state
        .store
        .call(move |conn| {
            let tx = conn.transaction()?;
            let Some(row) = db::conv_row_of(&tx, &u, &c)? else {
                return Ok(Err(ApiError::not_found("conversation not found")));
            };
            let w = db::row_window(&row, db::conv_bounds(&tx, &c)?);
            let mut seqs: Vec<i64> = seqs.into_iter().filter(|s| w.contains(*s)).collect();
            seqs.sort_unstable();
            seqs.dedup();
            if sync_other {
                if !admin {
                    for &seq in &seqs {
                        let sender: Option<String> = tx
                            .query_row(
                                "SELECT send_id FROM messages WHERE conversation_id = ?1 AND seq = ?2",
                                params![c, seq],
                                |r| r.get(0),
                            )
                            .optional()?;
                        if sender.is_some_and(|s| s != u) {
                            return Ok(Err(ApiError::no_permission(
                                "only your own messages can be deleted for everyone",
                            )));
                        }
                    }
                }
                for &seq in &seqs {
                    tx.execute(
                        "DELETE FROM messages WHERE conversation_id = ?1 AND seq = ?2",
                        params![c, seq],
                    )?;
                }
            } else {
                for &seq in &seqs {
                    tx.execute(
                        "INSERT OR IGNORE INTO message_deletes (conversation_id, seq, user_id) VALUES (?1, ?2, ?3)",
                        params![c, seq, u],
                    )?;
                }
            }
            tx.commit()?;
            Ok(Ok((row, seqs)))
        })
        .await??;
    let tips = DeleteMsgsTips {
        user_id: user.to_owned(),
        conversation_id: conversation_id.to_owned(),
        seqs,
    };
    if sync_other {
        let (session_type, recv_id, group_id) = conversation_target(&row, user);
        let n = Notification {
            content_type: ContentType::DeleteMsgsNotification.as_i32(),
            send_id: user.to_owned(),
            recv_id,
            group_id,
            session_type,
            detail: detail(&tips)?,
            reliable: true,
            ..Notification::default()
        };
        super::notify(state, n).await?;
    } else if sync_self {
        let n = to_self(
            user,
            ContentType::DeleteMsgsNotification,
            detail(&tips)?,
            true,
        );
        super::notify(state, n).await?;
    }
    Ok(())
}

/// `/msg/clear_conversation_msg` and `/msg/user_clear_all_msg`: the user's min seq becomes the
/// current max + 1 and hasReadSeq the visible max. `sync_other` raises the conversation's own
/// min seq for everyone — allowed to app administrators, the group owner, and either user of a
/// single chat. 1703 goes to the user (`sync_self`) or the conversation (`sync_other`).
/// An empty `conversation_ids` means every conversation of the user.
pub async fn clear(
    state: &AppState,
    admin: bool,
    user: &str,
    conversation_ids: Vec<String>,
    sync_self: bool,
    sync_other: bool,
) -> ApiResult<()> {
    let u = user.to_owned();
    let rows = state
        .store
        .call(move |conn| {
            let tx = conn.transaction()?;
            let rows = if conversation_ids.is_empty() {
                db::conv_rows(&tx, &u)?
            } else {
                let mut rows = Vec::new();
                for id in &conversation_ids {
                    match db::conv_row_of(&tx, &u, id)? {
                        Some(row) => rows.push(row),
                        None => {
                            return Ok(Err(ApiError::not_found(format!(
                                "conversation {id} not found"
                            ))))
                        }
                    }
                }
                rows
            };
            for row in &rows {
                let bounds = db::conv_bounds(&tx, &row.conversation_id)?;
                let w = db::row_window(row, bounds);
                if sync_other {
                    let allowed = admin
                        || row.conversation_type != 3
                        || group_db::member(&tx, &row.group_id, &u)?
                            .is_some_and(|m| m.role_level == RoleLevel::Owner.as_i32());
                    if !allowed {
                        return Ok(Err(ApiError::no_permission(
                            "only the group owner may clear a group for everyone",
                        )));
                    }
                    tx.execute(
                        "UPDATE seqs SET min_seq = max_seq + 1 WHERE conversation_id = ?1",
                        [&row.conversation_id],
                    )?;
                }
                tx.execute(
                    "UPDATE conversations SET min_seq = ?3, has_read_seq = ?4
                     WHERE owner_user_id = ?1 AND conversation_id = ?2",
                    params![u, row.conversation_id, bounds.1 + 1, w.hi.max(0)],
                )?;
            }
            tx.commit()?;
            Ok(Ok(rows))
        })
        .await??;
    if sync_other {
        for row in &rows {
            let tips = ClearConversationTips {
                user_id: user.to_owned(),
                conversation_i_ds: vec![row.conversation_id.clone()],
            };
            let (session_type, recv_id, group_id) = conversation_target(row, user);
            let n = Notification {
                content_type: ContentType::ClearConversationNotification.as_i32(),
                send_id: user.to_owned(),
                recv_id,
                group_id,
                session_type,
                detail: detail(&tips)?,
                ..Notification::default()
            };
            super::notify(state, n).await?;
        }
    } else if sync_self && !rows.is_empty() {
        let tips = ClearConversationTips {
            user_id: user.to_owned(),
            conversation_i_ds: rows.iter().map(|r| r.conversation_id.clone()).collect(),
        };
        let n = to_self(
            user,
            ContentType::ClearConversationNotification,
            detail(&tips)?,
            false,
        );
        super::notify(state, n).await?;
    }
    Ok(())
}
