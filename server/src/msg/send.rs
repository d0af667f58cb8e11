//! The send path (1003 and `/msg/send_msg`) and notification delivery.
//!
//! Order is always: validate, then one transaction (dedupe, seq, stored copy, conversation rows,
//! sender's read mark), commit, and only then push. Nothing is pushed for a rolled-back message,
//! and the hub never blocks (slow connections are closed and pull what they missed by seq).

use chorus_proto::pb::Map;

use chorus_proto::constants::{option_keys, ErrorCode, RoleLevel};
use chorus_proto::envelope::Resp;
use chorus_proto::pb::msg::SendMsgResp;
use chorus_proto::pb::sdkws::{MsgData, NotificationElem, PullMsgs, PushMessages};
use chorus_proto::pb::Message as _;
use rusqlite::{params, OptionalExtension};

use super::{db, ids, Notification};
use crate::error::{ApiError, ApiResult};
use crate::group::db as group_db;
use crate::relation;
use crate::{now_ms, AppState};

/// User content types a client may send (text … custom notification); notification content
/// types (1000–5000) are produced only by the server through [`super::notify`].
const USER_CONTENT: std::ops::RangeInclusive<i32> = 101..=203;

/// Queues one 2001 push carrying `msg` in `msgs` (chat) or `notificationMsgs` (`n_…`).
pub(crate) fn push(state: &AppState, recipients: &[String], conversation_id: &str, msg: MsgData) {
    let operation_id = format!("push-{}", msg.server_msg_id);
    let entry = PullMsgs {
        msgs: vec![msg],
        is_end: false,
        end_seq: 0,
    };
    let mut push = PushMessages::default();
    if ids::is_notification(conversation_id) {
        push.notification_msgs
            .insert(conversation_id.to_owned(), entry);
    } else {
        push.msgs.insert(conversation_id.to_owned(), entry);
    }
    let resp = Resp {
        req_identifier: chorus_proto::constants::ReqIdentifier::PushMsg.as_i32(),
        msg_incr: String::new(),
        operation_id,
        err_code: 0,
        err_msg: String::new(),
        data: push.encode_to_vec(),
    };
    state.hub.push(recipients, &resp);
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v.retain(|u| !u.is_empty());
    v
}

/// Sends a user message. `trusted` (an app administrator acting) skips membership, mute and
/// black-list checks, as OpenIM does for its app managers.
pub(crate) async fn send(
    state: &AppState,
    sender: &str,
    sender_platform: i32,
    mut msg: MsgData,
    trusted: bool,
) -> ApiResult<SendMsgResp> {
    // Stricter than OpenIM, which trusts MsgData.sendID once the envelope's sendID matched the
    // connection: here the message itself must also name the authenticated sender. An empty
    // sendID names nobody else, so it is filled in.
    if msg.send_id.is_empty() {
        msg.send_id = sender.to_owned();
    }
    if msg.send_id != sender {
        return Err(ApiError::no_permission(format!(
            "sendID {:?} is not the sender {sender:?}",
            msg.send_id
        )));
    }
    if msg.client_msg_id.is_empty() || msg.client_msg_id.len() > 128 {
        return Err(ApiError::args(
            "clientMsgID is required (at most 128 bytes)",
        ));
    }
    if !USER_CONTENT.contains(&msg.content_type) {
        return Err(ApiError::args(format!(
            "contentType {} cannot be sent by clients",
            msg.content_type
        )));
    }
    match msg.session_type {
        1 if msg.recv_id.is_empty() => return Err(ApiError::args("recvID is required")),
        3 if msg.group_id.is_empty() => return Err(ApiError::args("groupID is required")),
        4 if msg.recv_id.is_empty() => return Err(ApiError::args("recvID is required")),
        4 if !trusted => {
            return Err(ApiError::no_permission(
                "only administrators send in notification chats",
            ))
        }
        1 | 3 | 4 => {}
        _ => return Err(ApiError::args("unknown sessionType")),
    }
    let Some(conversation_id) =
        ids::chat(msg.session_type, &msg.send_id, &msg.recv_id, &msg.group_id)
    else {
        return Err(ApiError::args("unknown sessionType"));
    };
    let now = now_ms();
    msg.sender_platform_id = sender_platform;
    if msg.msg_from == 0 {
        msg.msg_from = 100;
    }
    if msg.send_time == 0 {
        msg.send_time = now;
    }
    if msg.create_time == 0 {
        msg.create_time = now;
    }
    msg.server_msg_id = ids::random_id();
    msg.status = db::STATUS_SENT;
    msg.seq = 0;
    msg.is_read = false;

    let conv = conversation_id.clone();
    let (resp, fresh) = state
        .store
        .call(move |c| {
            let tx = c.transaction()?;
            // A resend of a message already stored (lost ack, client outbox retry) gets the
            // same answer and no new seq.
            let existing: Option<(String, String, i64)> = tx
                .query_row(
                    "SELECT send_id, server_msg_id, send_time FROM messages
                     WHERE conversation_id = ?1 AND client_msg_id = ?2",
                    params![conv, msg.client_msg_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            if let Some((send_id, server_msg_id, send_time)) = existing {
                if send_id != msg.send_id {
                    return Ok(Err(ApiError::new(
                        ErrorCode::DuplicateKey,
                        "clientMsgID already used",
                    )));
                }
                let resp = SendMsgResp {
                    server_msg_id,
                    client_msg_id: msg.client_msg_id.clone(),
                    send_time,
                    modify: None,
                };
                return Ok(Ok((resp, None)));
            }
            // The sender's name and face come from the profile, not from the client, so that a
            // member cannot pose as someone else in other members' chat views.
            if let Some(profile) = relation::user(&tx, &msg.send_id)? {
                msg.sender_nickname = profile.nickname;
                msg.sender_face_url = profile.face_url;
            }
            let recipients = match msg.session_type {
                3 => {
                    if let Err(e) =
                        check_group_send(&tx, &msg.group_id, &msg.send_id, now, trusted)?
                    {
                        return Ok(Err(e));
                    }
                    group_db::member_ids(&tx, &msg.group_id)?
                }
                _ => {
                    if relation::user(&tx, &msg.recv_id)?.is_none() {
                        return Ok(Err(ApiError::new(
                            ErrorCode::UserIdNotFound,
                            format!("user {} not found", msg.recv_id),
                        )));
                    }
                    let blocked = relation::is_black(&tx, &msg.recv_id, &msg.send_id)?;
                    if blocked && !trusted {
                        return Ok(Err(ApiError::new(
                            ErrorCode::BlockedByPeer,
                            "blocked by peer",
                        )));
                    }
                    let sender_sync = msg
                        .options
                        .get(option_keys::SENDER_SYNC)
                        .copied()
                        .unwrap_or(true);
                    let mut r = vec![msg.recv_id.clone()];
                    if sender_sync {
                        r.push(msg.send_id.clone());
                    }
                    r
                }
            };
            db::ensure_conv_rows(
                &tx,
                &conv,
                msg.session_type,
                &msg.send_id,
                &msg.recv_id,
                &msg.group_id,
            )?;
            let seq = db::store_message(&tx, &conv, &mut msg)?;
            tx.execute(
                "UPDATE conversations SET has_read_seq = ?3
                 WHERE owner_user_id = ?1 AND conversation_id = ?2 AND has_read_seq < ?3",
                params![msg.send_id, conv, seq],
            )?;
            tx.commit()?;
            let resp = SendMsgResp {
                server_msg_id: msg.server_msg_id.clone(),
                client_msg_id: msg.client_msg_id.clone(),
                send_time: msg.send_time,
                modify: None,
            };
            Ok(Ok((resp, Some((msg, dedup(recipients))))))
        })
        .await??;
    if let Some((stored, recipients)) = fresh {
        push(state, &recipients, &conversation_id, stored);
    }
    Ok(resp)
}

/// The group rules of sending: the group exists and is not dismissed, the sender is a current
/// member, not muted, and the group is not muted unless the sender is its owner or an admin.
fn check_group_send(
    conn: &rusqlite::Connection,
    group_id: &str,
    sender: &str,
    now: i64,
    trusted: bool,
) -> rusqlite::Result<ApiResult<()>> {
    let Some(status) = group_db::group(conn, group_id)?.map(|g| g.info.status) else {
        return Ok(Err(ApiError::new(
            ErrorCode::GroupIdNotFound,
            format!("group {group_id} not found"),
        )));
    };
    if status == 2 {
        return Ok(Err(ApiError::new(
            ErrorCode::DismissedAlready,
            "group dismissed",
        )));
    }
    if trusted {
        return Ok(Ok(()));
    }
    let Some(member) = group_db::member(conn, group_id, sender)? else {
        return Ok(Err(ApiError::new(
            ErrorCode::NotInGroupYet,
            "not a member of the group",
        )));
    };
    if member.mute_end_time > now {
        return Ok(Err(ApiError::new(ErrorCode::MutedInGroup, "you are muted")));
    }
    if status == 3 && member.role_level < RoleLevel::Admin.as_i32() {
        return Ok(Err(ApiError::new(
            ErrorCode::MutedGroup,
            "the group is muted",
        )));
    }
    Ok(Ok(()))
}

/// Delivers a notification (spec §4.5): the visible chat clone when `is_send_msg`, the
/// original stored in `n_…` when `reliable` (else pushed with seq 0), then the pushes.
pub(crate) async fn notify(state: &AppState, n: Notification) -> ApiResult<()> {
    if !(1000..=5000).contains(&n.content_type) {
        return Err(ApiError::args(format!(
            "{} is not a notification content type",
            n.content_type
        )));
    }
    let group_id = if n.session_type == 3 && n.group_id.is_empty() {
        n.recv_id.clone()
    } else {
        n.group_id.clone()
    };
    if n.session_type == 3 && group_id.is_empty() {
        return Err(ApiError::args("group notification without groupID"));
    }
    let Some(chat_conv) = ids::chat(n.session_type, &n.send_id, &n.recv_id, &group_id) else {
        return Err(ApiError::args("unknown sessionType"));
    };
    let n_conv = ids::notification(n.session_type, &n.send_id, &n.recv_id, &group_id);
    let content = chorus_proto::json::to_go_vec(&NotificationElem {
        detail: n.detail.clone(),
    })
    .map_err(ApiError::internal)?;
    let now = now_ms();
    let mut options = Map::new();
    options.insert(option_keys::IS_NOT_NOTIFICATION.to_owned(), false);
    options.insert(option_keys::IS_SEND_MSG.to_owned(), n.is_send_msg);
    options.insert(option_keys::HISTORY.to_owned(), n.reliable);
    options.insert(option_keys::PERSISTENT.to_owned(), n.reliable);
    options.insert(option_keys::OFFLINE_PUSH.to_owned(), false);
    options.insert(option_keys::UNREAD_COUNT.to_owned(), false);
    let original = MsgData {
        send_id: n.send_id.clone(),
        recv_id: n.recv_id.clone(),
        group_id: if n.session_type == 3 {
            group_id.clone()
        } else {
            String::new()
        },
        client_msg_id: ids::random_id(),
        server_msg_id: ids::random_id(),
        sender_nickname: n.sender_nickname.clone(),
        sender_face_url: n.sender_face_url.clone(),
        session_type: n.session_type,
        msg_from: 200,
        content_type: n.content_type,
        content,
        send_time: now,
        create_time: now,
        status: db::STATUS_SENT,
        options,
        ..MsgData::default()
    };
    let clone = n.is_send_msg.then(|| {
        let mut clone = original.clone();
        clone.server_msg_id = ids::random_id();
        // A fresh options map: the clone is an ordinary (visible, counted) chat message.
        clone.options = Map::from([
            (option_keys::OFFLINE_PUSH.to_owned(), false),
            (option_keys::UNREAD_COUNT.to_owned(), true),
        ]);
        clone
    });
    let session_type = n.session_type;
    let (send_id, recv_id) = (n.send_id.clone(), n.recv_id.clone());
    let (chat_c, n_c, gid) = (chat_conv.clone(), n_conv.clone(), group_id.clone());
    let reliable = n.reliable;
    let extra = n.extra_recipients.clone();
    let (clone, original, recipients) = state
        .store
        .call(move |c| {
            let tx = c.transaction()?;
            let mut recipients = if session_type == 3 {
                group_db::member_ids(&tx, &gid)?
            } else {
                vec![send_id.clone(), recv_id.clone()]
            };
            recipients.extend(extra);
            let mut clone = clone;
            if let Some(clone) = clone.as_mut() {
                db::ensure_conv_rows(&tx, &chat_c, session_type, &send_id, &recv_id, &gid)?;
                db::store_message(&tx, &chat_c, clone)?;
            }
            let mut original = original;
            if reliable {
                db::store_message(&tx, &n_c, &mut original)?;
            }
            tx.commit()?;
            Ok((clone, original, dedup(recipients)))
        })
        .await?;
    if let Some(clone) = clone {
        push(state, &recipients, &chat_conv, clone);
    }
    push(state, &recipients, &n_conv, original);
    Ok(())
}
