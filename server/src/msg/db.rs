//! Synchronous SQL of the message service: seq allocation, stored copies, per-user windows,
//! conversation rows, and the read-time rewriting of deleted and revoked messages.
//!
//! Every function takes a connection or an open transaction and never commits: callers group
//! them into one transaction, so a seq is never visible without its message.

use chorus_proto::constants::ContentType;
use chorus_proto::pb::conversation::Conversation;
use chorus_proto::pb::sdkws::{MessageRevokedContent, MsgData};
use chorus_proto::pb::Message as _;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::ids;

/// Status of a deleted message / placeholder (spec §3.9).
pub const STATUS_DELETED: i32 = 4;
/// Status of a stored message.
pub const STATUS_SENT: i32 = 2;

/// The revocation record stored in `messages.revoke`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RevokeRecord {
    /// Group role level of the revoker (or its app manager level in single chats).
    pub role: i32,
    #[serde(rename = "userID")]
    pub user_id: String,
    pub nickname: String,
    /// Milliseconds.
    pub time: i64,
}

/// One row of `conversations`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConvRow {
    pub owner_user_id: String,
    pub conversation_id: String,
    pub conversation_type: i32,
    pub user_id: String,
    pub group_id: String,
    pub recv_msg_opt: i32,
    pub is_pinned: bool,
    pub attached_info: String,
    pub is_private_chat: bool,
    pub group_at_type: i32,
    pub ex: String,
    pub burn_duration: i32,
    pub min_seq: i64,
    pub max_seq: i64,
    pub has_read_seq: i64,
    pub msg_destruct_time: i64,
    pub latest_msg_destruct_time: i64,
    pub is_msg_destruct: bool,
    /// On a `sg_<groupID>` row of a former member: the last seq of the group's notification
    /// conversation `n_<groupID>` they may read (frozen when they left); `None` while open.
    pub notification_max_seq: Option<i64>,
}

const CONV_COLS: &str = "owner_user_id, conversation_id, conversation_type, user_id, group_id, \
     recv_msg_opt, is_pinned, attached_info, is_private_chat, group_at_type, ex, burn_duration, \
     min_seq, max_seq, has_read_seq, msg_destruct_time, latest_msg_destruct_time, is_msg_destruct, \
     notification_max_seq";

fn conv_row(r: &Row<'_>) -> rusqlite::Result<ConvRow> {
    Ok(ConvRow {
        owner_user_id: r.get(0)?,
        conversation_id: r.get(1)?,
        conversation_type: r.get(2)?,
        user_id: r.get(3)?,
        group_id: r.get(4)?,
        recv_msg_opt: r.get(5)?,
        is_pinned: r.get::<_, i64>(6)? != 0,
        attached_info: r.get(7)?,
        is_private_chat: r.get::<_, i64>(8)? != 0,
        group_at_type: r.get(9)?,
        ex: r.get(10)?,
        burn_duration: r.get(11)?,
        min_seq: r.get(12)?,
        max_seq: r.get(13)?,
        has_read_seq: r.get(14)?,
        msg_destruct_time: r.get(15)?,
        latest_msg_destruct_time: r.get(16)?,
        is_msg_destruct: r.get::<_, i64>(17)? != 0,
        notification_max_seq: r.get(18)?,
    })
}

impl ConvRow {
    /// The REST shape; `minSeq`/`maxSeq` are the owner's bounds.
    pub fn to_pb(&self) -> Conversation {
        Conversation {
            owner_user_id: self.owner_user_id.clone(),
            conversation_id: self.conversation_id.clone(),
            recv_msg_opt: self.recv_msg_opt,
            conversation_type: self.conversation_type,
            user_id: self.user_id.clone(),
            group_id: self.group_id.clone(),
            is_pinned: self.is_pinned,
            attached_info: self.attached_info.clone(),
            is_private_chat: self.is_private_chat,
            group_at_type: self.group_at_type,
            ex: self.ex.clone(),
            burn_duration: self.burn_duration,
            min_seq: self.min_seq,
            max_seq: self.max_seq,
            msg_destruct_time: self.msg_destruct_time,
            latest_msg_destruct_time: self.latest_msg_destruct_time,
            is_msg_destruct: self.is_msg_destruct,
        }
    }
}

/// The owner's row of a conversation.
pub fn conv_row_of(
    conn: &Connection,
    owner: &str,
    conversation_id: &str,
) -> rusqlite::Result<Option<ConvRow>> {
    conn.query_row(
        &format!(
            "SELECT {CONV_COLS} FROM conversations WHERE owner_user_id = ?1 AND conversation_id = ?2"
        ),
        params![owner, conversation_id],
        conv_row,
    )
    .optional()
}

/// Every row of an owner, ordered by conversation ID.
pub fn conv_rows(conn: &Connection, owner: &str) -> rusqlite::Result<Vec<ConvRow>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {CONV_COLS} FROM conversations WHERE owner_user_id = ?1 ORDER BY conversation_id"
    ))?;
    let rows = st.query_map([owner], conv_row)?;
    rows.collect()
}

/// `(min_seq, max_seq)` of a conversation's counter; `(0, 0)` before its first message.
pub fn conv_bounds(conn: &Connection, conversation_id: &str) -> rusqlite::Result<(i64, i64)> {
    Ok(conn
        .query_row(
            "SELECT min_seq, max_seq FROM seqs WHERE conversation_id = ?1",
            [conversation_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, 0)))
}

/// The seqs a user may see in a conversation, inclusive; empty when `lo > hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub lo: i64,
    pub hi: i64,
}

impl Window {
    pub fn contains(&self, seq: i64) -> bool {
        seq >= self.lo && seq <= self.hi
    }
}

/// The window of a chat conversation row (spec §4.3):
/// `[max(convMin, userMin), userMax > 0 ? min(convMax, userMax) : convMax]`.
pub fn row_window(row: &ConvRow, (conv_min, conv_max): (i64, i64)) -> Window {
    let lo = conv_min.max(row.min_seq).max(1);
    let hi = if row.max_seq > 0 {
        conv_max.min(row.max_seq)
    } else {
        conv_max
    };
    Window { lo, hi }
}

/// The window of the `n_` twin of a chat conversation row (`n_<a>_<b>` of `si_<a>_<b>`,
/// `n_<groupID>` of `sg_<groupID>`): the whole notification conversation, except that a former
/// group member's ends where it was frozen when they left.
pub fn twin_window(row: &ConvRow, (conv_min, conv_max): (i64, i64)) -> Window {
    let hi = row
        .notification_max_seq
        .map_or(conv_max, |frozen| conv_max.min(frozen));
    Window {
        lo: conv_min.max(1),
        hi,
    }
}

/// Whether a group with this ID exists.
fn group_exists(conn: &Connection, group_id: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM groups WHERE group_id = ?1)",
        [group_id],
        |r| r.get(0),
    )
}

/// Whether `n_<rest>` is the notification conversation of a pair that includes `user` (rather
/// than that of a group: user IDs and group IDs may both contain `_`, and a group's ID wins).
pub fn is_pair_notification_of(
    conn: &Connection,
    user: &str,
    conversation_id: &str,
) -> rusqlite::Result<bool> {
    let Some(rest) = conversation_id.strip_prefix("n_") else {
        return Ok(false);
    };
    if ids::peer_in_pair(rest, user).is_none() {
        return Ok(false);
    }
    Ok(!group_exists(conn, rest)?)
}

/// The window of `user` on the notification conversation `n_…`, or `None` without access:
/// one of the pair of `n_<a>_<b>` sees all of it; for `n_<groupID>` the user needs a
/// `sg_<groupID>` row, and a former member's window ends where it was frozen.
fn notification_window(
    conn: &Connection,
    user: &str,
    conversation_id: &str,
    bounds: (i64, i64),
) -> rusqlite::Result<Option<Window>> {
    let Some(rest) = conversation_id.strip_prefix("n_") else {
        return Ok(None);
    };
    if let Some(row) = conv_row_of(conn, user, &ids::group(rest))? {
        return Ok(Some(twin_window(&row, bounds)));
    }
    if is_pair_notification_of(conn, user, conversation_id)? {
        return Ok(Some(Window {
            lo: bounds.0.max(1),
            hi: bounds.1,
        }));
    }
    Ok(None)
}

/// The user's visible window, or `None` when the user has no access: chat conversations need
/// the user's row; notification conversations need participation (see `notification_window`).
pub fn window(
    conn: &Connection,
    user: &str,
    conversation_id: &str,
) -> rusqlite::Result<Option<Window>> {
    let bounds = conv_bounds(conn, conversation_id)?;
    if ids::is_notification(conversation_id) {
        return notification_window(conn, user, conversation_id, bounds);
    }
    Ok(conv_row_of(conn, user, conversation_id)?.map(|row| row_window(&row, bounds)))
}

/// Allocates the next seq of a conversation (the first is 1).
pub fn alloc_seq(conn: &Connection, conversation_id: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "INSERT INTO seqs (conversation_id, max_seq) VALUES (?1, 1)
         ON CONFLICT (conversation_id) DO UPDATE SET max_seq = max_seq + 1
         RETURNING max_seq",
        [conversation_id],
        |r| r.get(0),
    )
}

/// Allocates a seq for `msg`, writes it into the message and stores the one copy.
pub fn store_message(
    conn: &Connection,
    conversation_id: &str,
    msg: &mut MsgData,
) -> rusqlite::Result<i64> {
    let seq = alloc_seq(conn, conversation_id)?;
    msg.seq = seq;
    conn.execute(
        "INSERT INTO messages (conversation_id, seq, client_msg_id, server_msg_id, send_id, send_time, content_type, msg)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            conversation_id,
            seq,
            msg.client_msg_id,
            msg.server_msg_id,
            msg.send_id,
            msg.send_time,
            msg.content_type,
            msg.encode_to_vec()
        ],
    )?;
    Ok(seq)
}

/// Creates the missing rows of a chat conversation: both users of a single/notification chat,
/// every current member of a group.
pub fn ensure_conv_rows(
    conn: &Connection,
    conversation_id: &str,
    session_type: i32,
    send_id: &str,
    recv_id: &str,
    group_id: &str,
) -> rusqlite::Result<()> {
    if session_type == 3 {
        conn.execute(
            "INSERT OR IGNORE INTO conversations (owner_user_id, conversation_id, conversation_type, group_id)
             SELECT user_id, ?1, 3, ?2 FROM group_members WHERE group_id = ?2",
            params![conversation_id, group_id],
        )?;
    } else {
        for (owner, peer) in [(send_id, recv_id), (recv_id, send_id)] {
            if owner.is_empty() {
                continue;
            }
            conn.execute(
                "INSERT OR IGNORE INTO conversations (owner_user_id, conversation_id, conversation_type, user_id)
                 VALUES (?1, ?2, ?3, ?4)",
                params![owner, conversation_id, session_type, peer],
            )?;
        }
    }
    Ok(())
}

/// A `{seq, status: 4}` placeholder for a missing or deleted message.
pub fn placeholder(seq: i64) -> MsgData {
    MsgData {
        seq,
        status: STATUS_DELETED,
        ..MsgData::default()
    }
}

/// Decodes a stored copy and applies its revocation record. Undecodable rows read as
/// placeholders (they were written by this server, so this only guards against corruption).
pub fn decode_stored(seq: i64, bytes: &[u8], revoke: Option<&str>) -> MsgData {
    let Ok(mut msg) = MsgData::decode(bytes) else {
        tracing::warn!(seq, "stored message does not decode");
        return placeholder(seq);
    };
    if let Some(record) = revoke.and_then(|r| serde_json::from_str::<RevokeRecord>(r).ok()) {
        rewrite_revoked(&mut msg, &record);
    }
    msg
}

/// The form of a revoked message on later pulls (spec §4.7): content type 2101 with
/// `{"detail": JSON(MessageRevokedContent)}`.
pub fn rewrite_revoked(msg: &mut MsgData, record: &RevokeRecord) {
    let revoked = MessageRevokedContent {
        revoker_id: record.user_id.clone(),
        revoker_role: record.role,
        client_msg_id: msg.client_msg_id.clone(),
        revoker_nickname: record.nickname.clone(),
        revoke_time: record.time,
        source_message_send_time: msg.send_time,
        source_message_send_id: msg.send_id.clone(),
        source_message_sender_nickname: msg.sender_nickname.clone(),
        session_type: msg.session_type,
        seq: msg.seq,
        ex: msg.ex.clone(),
    };
    match chorus_proto::content::encode_revoked_content(&revoked) {
        Ok(content) => {
            msg.content_type = ContentType::MsgRevokeNotification.as_i32();
            msg.content = content;
        }
        Err(e) => tracing::error!(%e, "cannot encode revoked content"),
    }
}

/// The messages of `seqs` as `user` sees them: stored copies (revocations applied) or
/// placeholders for missing seqs and for the user's own deletions. Callers clip `seqs` to the
/// user's window first.
pub fn load_messages(
    conn: &Connection,
    user: &str,
    conversation_id: &str,
    seqs: &[i64],
) -> rusqlite::Result<Vec<MsgData>> {
    let mut get = conn.prepare_cached(
        "SELECT m.msg, m.revoke,
                EXISTS (SELECT 1 FROM message_deletes d
                        WHERE d.conversation_id = m.conversation_id AND d.seq = m.seq AND d.user_id = ?3)
         FROM messages m WHERE m.conversation_id = ?1 AND m.seq = ?2",
    )?;
    let mut out = Vec::with_capacity(seqs.len());
    for &seq in seqs {
        let row: Option<(Vec<u8>, Option<String>, bool)> = get
            .query_row(params![conversation_id, seq, user], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        out.push(match row {
            Some((bytes, revoke, false)) => decode_stored(seq, &bytes, revoke.as_deref()),
            _ => placeholder(seq),
        });
    }
    Ok(out)
}

/// The newest message of `[lo, hi]` the user has not deleted.
pub fn last_message(
    conn: &Connection,
    user: &str,
    conversation_id: &str,
    w: Window,
) -> rusqlite::Result<Option<MsgData>> {
    let row: Option<(i64, Vec<u8>, Option<String>)> = conn
        .query_row(
            "SELECT m.seq, m.msg, m.revoke FROM messages m
             WHERE m.conversation_id = ?1 AND m.seq BETWEEN ?2 AND ?3
               AND NOT EXISTS (SELECT 1 FROM message_deletes d
                               WHERE d.conversation_id = m.conversation_id AND d.seq = m.seq AND d.user_id = ?4)
             ORDER BY m.seq DESC LIMIT 1",
            params![conversation_id, w.lo, w.hi, user],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row.map(|(seq, bytes, revoke)| decode_stored(seq, &bytes, revoke.as_deref())))
}

/// Send time of the message at `seq` (0 when missing).
pub fn send_time_at(conn: &Connection, conversation_id: &str, seq: i64) -> rusqlite::Result<i64> {
    Ok(conn
        .query_row(
            "SELECT send_time FROM messages WHERE conversation_id = ?1 AND seq = ?2",
            params![conversation_id, seq],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}
