//! The read paths of the gateway: 1001 max seqs, 1002 range pulls, 1005 explicit seq pulls,
//! 1006 read state, 1007 last messages. Every answer is clipped to the caller's window
//! (spec §4.3); nothing here writes.

use chorus_proto::pb::Map;

use chorus_proto::pb::msg::{
    GetConversationsHasReadAndMaxSeqReq, GetConversationsHasReadAndMaxSeqResp, GetLastMessageReq,
    GetLastMessageResp, GetSeqMessageReq, GetSeqMessageResp, Seqs,
};
use chorus_proto::pb::sdkws::{
    GetMaxSeqResp, PullMessageBySeqsReq, PullMessageBySeqsResp, PullMsgs,
};
use rusqlite::{params, Connection};

use super::db::{self, Window};
use super::ids;

/// Most messages one conversation contributes to a single pull answer; `n_` ranges (which
/// ignore `num`) and explicit seq lists are cut to their newest this many.
pub const MAX_PULL: usize = 1000;

const ORDER_DESC: i32 = 1;

/// 1001: the max visible seq of every conversation row of the user, their `n_` twins (frozen
/// for former group members, as their `sg_` rows are) and the user's own `n_<uid>_<uid>`; zeros
/// are omitted.
pub fn max_seqs(conn: &Connection, user: &str) -> rusqlite::Result<GetMaxSeqResp> {
    let mut max_seqs = Map::new();
    for row in db::conv_rows(conn, user)? {
        let hi = db::row_window(&row, db::conv_bounds(conn, &row.conversation_id)?).hi;
        if hi > 0 {
            max_seqs.insert(row.conversation_id.clone(), hi);
        }
        if let Some(twin) = ids::twin(&row.conversation_id) {
            // A former group member's `n_<groupID>` stays at the seq it was frozen at.
            let hi = db::twin_window(&row, db::conv_bounds(conn, &twin)?).hi;
            if hi > 0 {
                max_seqs.insert(twin, hi);
            }
        }
    }
    // Stored single-chat notifications of pairs that have no chat row (and the user's own
    // n_<uid>_<uid>): found by prefix/suffix, then confirmed as a sorted pair with the user.
    let esc = ids::like_escape(user);
    let mut st = conn.prepare_cached(
        "SELECT conversation_id, max_seq FROM seqs
         WHERE max_seq > 0 AND (conversation_id LIKE ?1 ESCAPE '\\' OR conversation_id LIKE ?2 ESCAPE '\\')",
    )?;
    let rows = st.query_map(
        params![format!("n\\_{esc}\\_%"), format!("n\\_%\\_{esc}")],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
    )?;
    for row in rows {
        let (id, max) = row?;
        // Twins answered above keep their (possibly frozen) value; a group's `n_<groupID>`
        // whose ID merely looks like a pair with the user is not the user's.
        if !max_seqs.contains_key(&id) && db::is_pair_notification_of(conn, user, &id)? {
            max_seqs.insert(id, max);
        }
    }
    Ok(GetMaxSeqResp {
        max_seqs,
        min_seqs: Map::new(),
    })
}

fn is_end(order: i32, w: Window, begin: i64, end: i64) -> (bool, i64) {
    if order == ORDER_DESC {
        (begin <= w.lo, w.lo)
    } else {
        (w.hi <= end, w.hi)
    }
}

/// 1002 (spec §4.6 step 3): the last `num` seqs of each range clipped to the window; `n_`
/// conversations ignore `num`; conversations the user has no access to are skipped.
pub fn pull_ranges(
    conn: &Connection,
    user: &str,
    req: &PullMessageBySeqsReq,
) -> rusqlite::Result<PullMessageBySeqsResp> {
    let mut resp = PullMessageBySeqsResp::default();
    for range in &req.seq_ranges {
        let conv = &range.conversation_id;
        let Some(w) = db::window(conn, user, conv)? else {
            continue;
        };
        let notification = ids::is_notification(conv);
        let begin = range.begin.max(w.lo);
        let end = range.end.min(w.hi);
        if end < begin || (!notification && range.num <= 0) {
            continue;
        }
        let limit = if notification {
            MAX_PULL as i64
        } else {
            range.num.min(MAX_PULL as i64)
        };
        let first = begin.max(end - limit + 1);
        let seqs: Vec<i64> = (first..=end).collect();
        let msgs = db::load_messages(conn, user, conv, &seqs)?;
        let (is_end, end_seq) = is_end(req.order, w, range.begin, range.end);
        let entry = PullMsgs {
            msgs,
            is_end,
            end_seq,
        };
        if notification {
            resp.notification_msgs.insert(conv.clone(), entry);
        } else {
            resp.msgs.insert(conv.clone(), entry);
        }
    }
    Ok(resp)
}

/// 1005: explicit seq lists, clipped to the window, with placeholders for missing seqs.
pub fn seq_messages(
    conn: &Connection,
    user: &str,
    req: &GetSeqMessageReq,
) -> rusqlite::Result<GetSeqMessageResp> {
    let mut resp = GetSeqMessageResp::default();
    for cs in &req.conversations {
        let conv = &cs.conversation_id;
        let Some(w) = db::window(conn, user, conv)? else {
            continue;
        };
        let mut seqs: Vec<i64> = cs.seqs.iter().copied().filter(|s| w.contains(*s)).collect();
        seqs.sort_unstable();
        seqs.dedup();
        if seqs.len() > MAX_PULL {
            seqs.drain(..seqs.len() - MAX_PULL);
        }
        let (is_end, end_seq) = if req.order == ORDER_DESC {
            let min = cs.seqs.iter().copied().min().unwrap_or(0);
            (cs.seqs.is_empty() || min <= w.lo, w.lo)
        } else {
            let max = cs.seqs.iter().copied().max().unwrap_or(0);
            (cs.seqs.is_empty() || max >= w.hi, w.hi)
        };
        let entry = PullMsgs {
            msgs: db::load_messages(conn, user, conv, &seqs)?,
            is_end,
            end_seq,
        };
        if ids::is_notification(conv) {
            resp.notification_msgs.insert(conv.clone(), entry);
        } else {
            resp.msgs.insert(conv.clone(), entry);
        }
    }
    Ok(resp)
}

/// 1006: `{maxSeq, hasReadSeq, maxSeqTime}` per conversation row (all rows when the request
/// names none); `maxSeq` is the visible max, frozen for members who left.
pub fn read_state(
    conn: &Connection,
    user: &str,
    req: &GetConversationsHasReadAndMaxSeqReq,
) -> rusqlite::Result<GetConversationsHasReadAndMaxSeqResp> {
    let rows = if req.conversation_i_ds.is_empty() {
        db::conv_rows(conn, user)?
    } else {
        let mut rows = Vec::new();
        for id in &req.conversation_i_ds {
            if let Some(row) = db::conv_row_of(conn, user, id)? {
                rows.push(row);
            }
        }
        rows
    };
    let mut resp = GetConversationsHasReadAndMaxSeqResp::default();
    for row in rows {
        let w = db::row_window(&row, db::conv_bounds(conn, &row.conversation_id)?);
        let seqs = Seqs {
            max_seq: w.hi,
            has_read_seq: row.has_read_seq.min(w.hi.max(0)),
            max_seq_time: db::send_time_at(conn, &row.conversation_id, w.hi)?,
        };
        if req.return_pinned && row.is_pinned {
            resp.pinned_conversation_i_ds
                .push(row.conversation_id.clone());
        }
        resp.seqs.insert(row.conversation_id, seqs);
    }
    Ok(resp)
}

/// 1007: the newest visible message of each named conversation.
pub fn last_messages(
    conn: &Connection,
    user: &str,
    req: &GetLastMessageReq,
) -> rusqlite::Result<GetLastMessageResp> {
    let mut resp = GetLastMessageResp::default();
    for conv in &req.conversation_i_ds {
        let Some(w) = db::window(conn, user, conv)? else {
            continue;
        };
        if w.lo > w.hi {
            continue;
        }
        if let Some(msg) = db::last_message(conn, user, conv, w)? {
            resp.msgs.insert(conv.clone(), msg);
        }
    }
    Ok(resp)
}
