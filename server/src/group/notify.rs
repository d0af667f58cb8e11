//! Delivery of group notifications through the message service (spec §3.6–3.8, §4.5).
//!
//! The membership change is committed before its notification is built, and a failed delivery
//! never undoes or fails the change: it is logged, and clients still converge through group sync
//! (as OpenIM, whose notification sender only logs its errors).

use chorus_proto::constants::{ContentType, SessionType};
use chorus_proto::pb::sdkws::GroupMemberFullInfo;
use serde::Serialize;

use crate::msg::Notification;
use crate::AppState;

/// A notification about a group, addressed to the group (session 3): every current member
/// receives it, plus `extra_recipients` (members who were just removed).
pub async fn to_group<T: Serialize>(
    state: &AppState,
    op: &GroupMemberFullInfo,
    group_id: &str,
    content_type: ContentType,
    tips: &T,
    is_send_msg: bool,
    extra_recipients: Vec<String>,
) {
    let Some(detail) = detail(tips, content_type) else {
        return;
    };
    let n = Notification {
        content_type: content_type.as_i32(),
        send_id: op.user_id.clone(),
        recv_id: group_id.to_owned(),
        group_id: group_id.to_owned(),
        session_type: SessionType::ReadGroup.as_i32(),
        detail,
        sender_nickname: op.nickname.clone(),
        sender_face_url: op.face_url.clone(),
        is_send_msg,
        reliable: false,
        extra_recipients,
    };
    deliver(state, n).await;
}

/// A notification to one user (session 1), e.g. an application to a group's managers.
pub async fn to_user<T: Serialize>(
    state: &AppState,
    send_id: &str,
    recv_id: &str,
    content_type: ContentType,
    tips: &T,
) {
    let Some(detail) = detail(tips, content_type) else {
        return;
    };
    let n = Notification {
        content_type: content_type.as_i32(),
        send_id: send_id.to_owned(),
        recv_id: recv_id.to_owned(),
        session_type: SessionType::Single.as_i32(),
        detail,
        ..Default::default()
    };
    deliver(state, n).await;
}

fn detail<T: Serialize>(tips: &T, content_type: ContentType) -> Option<String> {
    match chorus_proto::json::to_go_string(tips) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::error!(content_type = content_type.as_i32(), error = %e, "encoding tips");
            None
        }
    }
}

async fn deliver(state: &AppState, n: Notification) {
    crate::relation::deliver(state, vec![n]).await;
}
