//! The `/group/*` request handlers: request and response shapes (Go `encoding/json` keys, `null`
//! read as absent), checks and changes in one transaction, then the notifications.

use std::collections::BTreeMap;

use chorus_proto::constants::{ContentType, ErrorCode, JoinSource};
use chorus_proto::json::{null_as_default, seq_null_as_default};
use chorus_proto::pb::sdkws::{
    ConversationUpdateTips, GroupApplicationAcceptedTips, GroupApplicationRejectedTips,
    GroupCancelMutedTips, GroupCreatedTips, GroupDismissedTips, GroupInfo, GroupInfoForSet,
    GroupInfoSetAnnouncementTips, GroupInfoSetNameTips, GroupInfoSetTips,
    GroupMemberCancelMutedTips, GroupMemberFullInfo, GroupMemberInfoSetTips, GroupMemberMutedTips,
    GroupMutedTips, GroupOwnerTransferredTips, GroupRequest, JoinGroupApplicationTips,
    MemberEnterTips, MemberInvitedTips, MemberKickedTips, MemberQuitTips, RequestPagination,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::db::{self, GroupRow, RequestRow};
use super::{
    db as run, existing_group, live_group, notify, op_member, op_role, page, random_group_id,
    redact_members, require_manager, version as gv, ADMIN, APP_ADMIN, ORDINARY, OWNER,
};
use crate::api::Op;
use crate::error::{ApiError, ApiResult};
use crate::relation::version::{self, Change, Delta, Incremental, VersionLog};
use crate::{now_ms, AppState};

fn check_allow_type(name: &str, v: i32) -> ApiResult<()> {
    if v == 0 || v == 1 {
        Ok(())
    } else {
        Err(ApiError::args(format!("{name} must be 0 or 1, not {v}")))
    }
}

fn check_need_verification(v: i32) -> ApiResult<()> {
    if (0..=2).contains(&v) {
        Ok(())
    } else {
        Err(ApiError::args(format!(
            "needVerification must be 0, 1 or 2, not {v}"
        )))
    }
}

fn dedup(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn new_member(
    group_id: &str,
    user_id: &str,
    role_level: i32,
    join_source: i32,
    inviter: &str,
    operator: &str,
    now: i64,
) -> GroupMemberFullInfo {
    GroupMemberFullInfo {
        group_id: group_id.to_owned(),
        user_id: user_id.to_owned(),
        role_level,
        join_time: now,
        join_source,
        inviter_user_id: inviter.to_owned(),
        operator_user_id: operator.to_owned(),
        ..Default::default()
    }
}

/// Adds members, opens their windows and records the joins in the version logs; returns them as
/// now stored, with the member log after the change.
fn add_members(
    c: &rusqlite::Connection,
    g: &GroupRow,
    members: &[GroupMemberFullInfo],
) -> ApiResult<(Vec<GroupMemberFullInfo>, VersionLog)> {
    let min_seq = super::entrant_min_seq(c, g)?;
    let gid = &g.info.group_id;
    for m in members {
        db::insert_member(c, m)?;
        db::open_conversation(c, &m.user_id, gid, min_seq)?;
    }
    let ids: Vec<String> = members.iter().map(|m| m.user_id.clone()).collect();
    let log = gv::joined(c, gid, &ids)?;
    Ok((db::members_of(c, gid, &ids)?, log))
}

/// Re-reads the group (member count and settings after a change).
fn reload(c: &rusqlite::Connection, group_id: &str) -> ApiResult<GroupInfo> {
    Ok(existing_group(c, group_id)?.info)
}

// ---------------------------------------------------------------------------------------------
// create_group

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateGroupReq {
    #[serde(rename = "memberUserIDs", deserialize_with = "seq_null_as_default")]
    member_user_ids: Vec<String>,
    #[serde(rename = "groupInfo", deserialize_with = "null_as_default")]
    group_info: GroupInfo,
    #[serde(rename = "adminUserIDs", deserialize_with = "seq_null_as_default")]
    admin_user_ids: Vec<String>,
    #[serde(rename = "ownerUserID", deserialize_with = "null_as_default")]
    owner_user_id: String,
    #[serde(rename = "sendMessage")]
    send_message: Option<bool>,
    #[serde(rename = "enableHistoryForNewMembers")]
    enable_history_for_new_members: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct CreateGroupResp {
    #[serde(rename = "groupInfo")]
    group_info: GroupInfo,
}

pub async fn create_group(
    state: AppState,
    op: Op,
    req: CreateGroupReq,
) -> ApiResult<CreateGroupResp> {
    let gi = req.group_info;
    if gi.group_type != 2 {
        return Err(ApiError::new(
            ErrorCode::GroupTypeNotSupport,
            format!("groupType {} is not supported, only 2", gi.group_type),
        ));
    }
    let owner = op.named_or_self(&req.owner_user_id)?;
    check_need_verification(gi.need_verification)?;
    check_allow_type("lookMemberInfo", gi.look_member_info)?;
    check_allow_type("applyMemberFriend", gi.apply_member_friend)?;
    let admins = dedup(req.admin_user_ids.into_iter().filter(|a| *a != owner));
    let mut all = vec![owner.clone()];
    all.extend(admins.iter().cloned());
    all.extend(req.member_user_ids);
    if !op.is_admin {
        all.push(op.user_id.clone());
    }
    let all = dedup(all);
    let now = now_ms();
    let history = req.enable_history_for_new_members.unwrap_or(true);
    let opid = op.user_id.clone();
    let (group, members, op_info, log) = run(&state, move |c| {
        let tx = c.transaction()?;
        let unknown = db::unknown_users(&tx, &all)?;
        if !unknown.is_empty() {
            return Err(ApiError::new(
                ErrorCode::UserIdNotFound,
                format!("users not found: {}", unknown.join(",")),
            ));
        }
        let group_id = if gi.group_id.is_empty() {
            let mut id = random_group_id();
            while db::group_id_taken(&tx, &id)? {
                id = random_group_id();
            }
            id
        } else if db::group_id_taken(&tx, &gi.group_id)? {
            return Err(ApiError::new(
                ErrorCode::GroupIdExisted,
                format!("group {} exists", gi.group_id),
            ));
        } else {
            gi.group_id.clone()
        };
        let announced = !gi.notification.is_empty();
        let row = GroupRow {
            info: GroupInfo {
                group_id: group_id.clone(),
                owner_user_id: owner.clone(),
                create_time: now,
                status: 0,
                creator_user_id: opid.clone(),
                notification_update_time: if announced { now } else { 0 },
                notification_user_id: if announced {
                    opid.clone()
                } else {
                    String::new()
                },
                member_count: 0,
                ..gi
            },
            history_for_new_members: history,
        };
        db::insert_group(&tx, &row)?;
        let members: Vec<GroupMemberFullInfo> = all
            .iter()
            .map(|u| {
                let role = if *u == owner {
                    OWNER
                } else if admins.contains(u) {
                    ADMIN
                } else {
                    ORDINARY
                };
                new_member(&group_id, u, role, 2, &opid, &opid, now)
            })
            .collect();
        // Creation opens every window at the start: there is no history yet.
        for m in &members {
            db::insert_member(&tx, m)?;
            db::open_conversation(&tx, &m.user_id, &group_id, 0)?;
        }
        let log = gv::joined(&tx, &group_id, &all)?;
        let members = db::members(&tx, &group_id)?;
        let op_info = super::op_member(&tx, &group_id, &opid)?;
        let group = reload(&tx, &group_id)?;
        tx.commit()?;
        Ok((group, members, op_info, log))
    })
    .await?;

    let gid = group.group_id.clone();
    let owner_info = members.iter().find(|m| m.role_level == OWNER).cloned();
    let tips = GroupCreatedTips {
        group: Some(group.clone()),
        op_user: Some(op_info.clone()),
        member_list: members,
        operation_time: now,
        group_owner_user: owner_info,
        group_member_version: log.version,
        group_member_version_id: log.version_id.clone(),
    };
    let send = req.send_message.unwrap_or(true);
    notify::to_group(
        &state,
        &op_info,
        &gid,
        ContentType::GroupCreatedNotification,
        &tips,
        send,
        vec![],
    )
    .await;
    if !group.notification.is_empty() {
        let tips = GroupInfoSetAnnouncementTips {
            op_user: Some(op_info.clone()),
            group: Some(group.clone()),
            group_member_version: log.version,
            group_member_version_id: log.version_id,
        };
        notify::to_group(
            &state,
            &op_info,
            &gid,
            ContentType::GroupInfoSetAnnouncementNotification,
            &tips,
            true,
            vec![],
        )
        .await;
    }
    Ok(CreateGroupResp { group_info: group })
}

// ---------------------------------------------------------------------------------------------
// set_group_info_ex / set_group_info

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetGroupInfoExReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "groupName")]
    group_name: Option<String>,
    notification: Option<String>,
    introduction: Option<String>,
    #[serde(rename = "faceURL")]
    face_url: Option<String>,
    ex: Option<String>,
    #[serde(rename = "needVerification")]
    need_verification: Option<i32>,
    #[serde(rename = "lookMemberInfo")]
    look_member_info: Option<i32>,
    #[serde(rename = "applyMemberFriend")]
    apply_member_friend: Option<i32>,
    #[serde(rename = "enableHistoryForNewMembers")]
    enable_history_for_new_members: Option<bool>,
}

pub async fn set_group_info_ex(state: AppState, op: Op, req: SetGroupInfoExReq) -> ApiResult<()> {
    apply_group_settings(state, op, req).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetGroupInfoReq {
    #[serde(rename = "groupInfoForSet", deserialize_with = "null_as_default")]
    group_info_for_set: GroupInfoForSet,
}

/// The legacy call: empty strings mean "unchanged", so an announcement cannot be cleared here.
pub async fn set_group_info(state: AppState, op: Op, req: SetGroupInfoReq) -> ApiResult<()> {
    let s = req.group_info_for_set;
    let some = |v: String| (!v.is_empty()).then_some(v);
    let ex_req = SetGroupInfoExReq {
        group_id: s.group_id,
        group_name: some(s.group_name),
        notification: some(s.notification),
        introduction: some(s.introduction),
        face_url: some(s.face_url),
        ex: s.ex.map(|v| v.value),
        need_verification: s.need_verification.map(|v| v.value),
        look_member_info: s.look_member_info.map(|v| v.value),
        apply_member_friend: s.apply_member_friend.map(|v| v.value),
        enable_history_for_new_members: None,
    };
    apply_group_settings(state, op, ex_req).await
}

async fn apply_group_settings(state: AppState, op: Op, req: SetGroupInfoExReq) -> ApiResult<()> {
    if req.group_name.as_deref() == Some("") {
        return Err(ApiError::args("groupName cannot be empty"));
    }
    if let Some(v) = req.need_verification {
        check_need_verification(v)?;
    }
    if let Some(v) = req.look_member_info {
        check_allow_type("lookMemberInfo", v)?;
    }
    if let Some(v) = req.apply_member_friend {
        check_allow_type("applyMemberFriend", v)?;
    }
    let now = now_ms();
    let renamed = req.group_name.is_some();
    let announcement = req.notification.clone();
    let other_changed = req.introduction.is_some()
        || req.face_url.is_some()
        || req.ex.is_some()
        || req.need_verification.is_some()
        || req.look_member_info.is_some()
        || req.apply_member_friend.is_some()
        || req.enable_history_for_new_members.is_some();
    let gid = req.group_id.clone();
    let (group, op_info, member_ids, log) = run(&state, move |c| {
        let tx = c.transaction()?;
        let mut g = live_group(&tx, &req.group_id)?;
        require_manager(&tx, &req.group_id, &op)?;
        let i = &mut g.info;
        if let Some(v) = req.group_name {
            i.group_name = v;
        }
        if let Some(v) = req.notification.clone() {
            i.notification = v;
            i.notification_user_id = op.user_id.clone();
            i.notification_update_time = now;
        }
        if let Some(v) = req.introduction {
            i.introduction = v;
        }
        if let Some(v) = req.face_url {
            i.face_url = v;
        }
        if let Some(v) = req.ex {
            i.ex = v;
        }
        if let Some(v) = req.need_verification {
            i.need_verification = v;
        }
        if let Some(v) = req.look_member_info {
            i.look_member_info = v;
        }
        if let Some(v) = req.apply_member_friend {
            i.apply_member_friend = v;
        }
        if let Some(v) = req.enable_history_for_new_members {
            g.history_for_new_members = v;
        }
        db::update_group(&tx, &g)?;
        let member_ids = db::member_ids(&tx, &req.group_id)?;
        if req.notification.as_deref().is_some_and(|n| !n.is_empty()) {
            // groupAtType 4: the members' chats flag the new announcement.
            db::set_group_at_type(&tx, &req.group_id, &member_ids, 4)?;
        }
        let log = gv::group_changed(&tx, &req.group_id)?;
        let op_info = op_member(&tx, &req.group_id, &op.user_id)?;
        let group = reload(&tx, &req.group_id)?;
        tx.commit()?;
        Ok((group, op_info, member_ids, log))
    })
    .await?;

    if let Some(text) = announcement {
        let tips = GroupInfoSetAnnouncementTips {
            op_user: Some(op_info.clone()),
            group: Some(group.clone()),
            group_member_version: log.version,
            group_member_version_id: log.version_id.clone(),
        };
        // Clearing the announcement updates clients without a visible chat tip.
        notify::to_group(
            &state,
            &op_info,
            &gid,
            ContentType::GroupInfoSetAnnouncementNotification,
            &tips,
            !text.is_empty(),
            vec![],
        )
        .await;
        if !text.is_empty() {
            let conversation_id = db::conversation_id(&gid);
            for m in &member_ids {
                let tips = ConversationUpdateTips {
                    user_id: m.clone(),
                    conversation_id_list: vec![conversation_id.clone()],
                };
                notify::to_user(
                    &state,
                    m,
                    m,
                    ContentType::ConversationChangeNotification,
                    &tips,
                )
                .await;
            }
        }
    }
    if renamed {
        let tips = GroupInfoSetNameTips {
            op_user: Some(op_info.clone()),
            group: Some(group.clone()),
            group_member_version: log.version,
            group_member_version_id: log.version_id.clone(),
        };
        notify::to_group(
            &state,
            &op_info,
            &gid,
            ContentType::GroupInfoSetNameNotification,
            &tips,
            true,
            vec![],
        )
        .await;
    }
    if other_changed {
        let tips = GroupInfoSetTips {
            op_user: Some(op_info.clone()),
            group: Some(group.clone()),
            group_member_version: log.version,
            group_member_version_id: log.version_id.clone(),
            ..Default::default()
        };
        notify::to_group(
            &state,
            &op_info,
            &gid,
            ContentType::GroupInfoSetNotification,
            &tips,
            false,
            vec![],
        )
        .await;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// get_groups_info

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GetGroupsInfoReq {
    #[serde(rename = "groupIDs", deserialize_with = "seq_null_as_default")]
    group_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct GetGroupsInfoResp {
    /// `GroupInfo` objects plus the `enableHistoryForNewMembers` extension key.
    #[serde(rename = "groupInfos")]
    group_infos: Vec<Value>,
}

fn group_with_extension(g: &GroupRow) -> ApiResult<Value> {
    let mut v = serde_json::to_value(&g.info).map_err(ApiError::internal)?;
    if let Value::Object(map) = &mut v {
        map.insert(
            "enableHistoryForNewMembers".into(),
            Value::Bool(g.history_for_new_members),
        );
    }
    Ok(v)
}

pub async fn get_groups_info(
    state: AppState,
    _op: Op,
    req: GetGroupsInfoReq,
) -> ApiResult<GetGroupsInfoResp> {
    let rows = run(&state, move |c| {
        let mut out = Vec::new();
        for gid in dedup(req.group_ids) {
            if let Some(g) = db::group(c, &gid)? {
                out.push(g);
            }
        }
        Ok(out)
    })
    .await?;
    let group_infos = rows
        .iter()
        .map(group_with_extension)
        .collect::<ApiResult<_>>()?;
    Ok(GetGroupsInfoResp { group_infos })
}

// ---------------------------------------------------------------------------------------------
// members

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GetGroupMemberListReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pagination: RequestPagination,
    #[serde(deserialize_with = "null_as_default")]
    filter: i32,
    #[serde(deserialize_with = "null_as_default")]
    keyword: String,
}

#[derive(Debug, Serialize)]
pub struct GetGroupMemberListResp {
    total: u32,
    members: Vec<GroupMemberFullInfo>,
}

pub async fn get_group_member_list(
    state: AppState,
    op: Op,
    req: GetGroupMemberListReq,
) -> ApiResult<GetGroupMemberListResp> {
    let _ = req.filter;
    run(&state, move |c| {
        let g = existing_group(c, &req.group_id)?;
        let role = op_role(c, &req.group_id, &op)?;
        let mut all = db::members(c, &req.group_id)?;
        if !req.keyword.is_empty() {
            all.retain(|m| m.nickname.contains(&req.keyword) || m.user_id.contains(&req.keyword));
        }
        let total = all.len() as u32;
        let mut members = page(all, &req.pagination);
        redact_members(g.info.look_member_info, role, &op.user_id, &mut members);
        Ok(GetGroupMemberListResp { total, members })
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GetGroupMembersInfoReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "userIDs", deserialize_with = "seq_null_as_default")]
    user_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct MembersResp {
    members: Vec<GroupMemberFullInfo>,
}

pub async fn get_group_members_info(
    state: AppState,
    op: Op,
    req: GetGroupMembersInfoReq,
) -> ApiResult<MembersResp> {
    run(&state, move |c| {
        let g = existing_group(c, &req.group_id)?;
        let role = op_role(c, &req.group_id, &op)?;
        let mut members = db::members_of(c, &req.group_id, &dedup(req.user_ids))?;
        redact_members(g.info.look_member_info, role, &op.user_id, &mut members);
        Ok(MembersResp { members })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// invitations, applications, joins

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteUserToGroupReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(deserialize_with = "null_as_default")]
    reason: String,
    #[serde(rename = "invitedUserIDs", deserialize_with = "seq_null_as_default")]
    invited_user_ids: Vec<String>,
    #[serde(rename = "sendMessage")]
    send_message: Option<bool>,
}

/// What a membership request turned into.
enum Joined {
    /// Members were added: (group after, operator, the new members, the member log after).
    Members(
        Box<(
            GroupInfo,
            GroupMemberFullInfo,
            Vec<GroupMemberFullInfo>,
            VersionLog,
        )>,
    ),
    /// Applications await approval: (the requests, the managers to tell).
    Applications(Vec<GroupRequest>, Vec<String>),
}

/// 1503 to every owner/admin for every application.
async fn announce_applications(state: &AppState, requests: &[GroupRequest], managers: &[String]) {
    for r in requests {
        let applicant = r.user_info.clone().unwrap_or_default();
        let tips = JoinGroupApplicationTips {
            group: r.group_info.clone(),
            applicant: Some(applicant.clone()),
            req_msg: r.req_msg.clone(),
            uuid: String::new(),
            request: Some(r.clone()),
        };
        for m in managers {
            notify::to_user(
                state,
                &applicant.user_id,
                m,
                ContentType::JoinGroupApplicationNotification,
                &tips,
            )
            .await;
        }
    }
}

pub async fn invite_user_to_group(
    state: AppState,
    op: Op,
    req: InviteUserToGroupReq,
) -> ApiResult<()> {
    let invited = dedup(req.invited_user_ids);
    if invited.is_empty() {
        return Err(ApiError::args("invitedUserIDs is empty"));
    }
    let now = now_ms();
    let gid = req.group_id.clone();
    let reason = req.reason;
    let outcome = run(&state, move |c| {
        let tx = c.transaction()?;
        let g = live_group(&tx, &gid)?;
        let role = op_role(&tx, &gid, &op)?;
        let unknown = db::unknown_users(&tx, &invited)?;
        if !unknown.is_empty() {
            return Err(ApiError::new(
                ErrorCode::UserIdNotFound,
                format!("users not found: {}", unknown.join(",")),
            ));
        }
        if let Some(m) = db::members_of(&tx, &gid, &invited)?.first() {
            return Err(ApiError::args(format!(
                "{} is already in the group",
                m.user_id
            )));
        }
        let outcome = if g.info.need_verification == 1 && role < ADMIN {
            let mut requests = Vec::new();
            for u in &invited {
                let q = RequestRow {
                    group_id: gid.clone(),
                    user_id: u.clone(),
                    req_msg: reason.clone(),
                    req_time: now,
                    join_source: 2,
                    inviter_user_id: op.user_id.clone(),
                    ..Default::default()
                };
                db::upsert_request(&tx, &q)?;
                requests.push(db::request_to_wire(&tx, &q)?);
            }
            Joined::Applications(requests, db::managers(&tx, &gid)?)
        } else {
            let members: Vec<_> = invited
                .iter()
                .map(|u| new_member(&gid, u, ORDINARY, 2, &op.user_id, &op.user_id, now))
                .collect();
            let (added, log) = add_members(&tx, &g, &members)?;
            Joined::Members(Box::new((
                reload(&tx, &gid)?,
                op_member(&tx, &gid, &op.user_id)?,
                added,
                log,
            )))
        };
        tx.commit()?;
        Ok(outcome)
    })
    .await?;
    match outcome {
        Joined::Members(joined) => {
            let (group, op_info, added, log) = *joined;
            let tips = MemberInvitedTips {
                group: Some(group.clone()),
                op_user: Some(op_info.clone()),
                invited_user_list: added,
                operation_time: now,
                inviter_user: Some(op_info.clone()),
                group_member_version: log.version,
                group_member_version_id: log.version_id,
            };
            let send = req.send_message.unwrap_or(true);
            notify::to_group(
                &state,
                &op_info,
                &group.group_id,
                ContentType::MemberInvitedNotification,
                &tips,
                send,
                vec![],
            )
            .await;
        }
        Joined::Applications(requests, managers) => {
            announce_applications(&state, &requests, &managers).await;
        }
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JoinGroupReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "reqMessage", deserialize_with = "null_as_default")]
    req_message: String,
    #[serde(rename = "joinSource", deserialize_with = "null_as_default")]
    join_source: i32,
    #[serde(rename = "inviterUserID", deserialize_with = "null_as_default")]
    inviter_user_id: String,
    #[serde(deserialize_with = "null_as_default")]
    ex: String,
}

/// The join sources `join_group` accepts (spec §5.4, §6.3): 1 by an administrator,
/// 2 invitation (which must name the inviter), 3 search, 4 QR code.
fn check_join_source(join_source: i32, inviter_user_id: &str) -> ApiResult<()> {
    let Ok(source) = JoinSource::try_from(join_source) else {
        return Err(ApiError::args(format!(
            "joinSource {join_source} is not one of 1 (admin), 2 (invitation), 3 (search), 4 (QR code)"
        )));
    };
    if source == JoinSource::ByInvitation && inviter_user_id.is_empty() {
        return Err(ApiError::args(
            "joinSource 2 (invitation) requires inviterUserID",
        ));
    }
    Ok(())
}

pub async fn join_group(state: AppState, op: Op, req: JoinGroupReq) -> ApiResult<()> {
    check_join_source(req.join_source, &req.inviter_user_id)?;
    // OpenIM takes the applicant from `inviterUserID` (the official SDK puts the caller there).
    let applicant = op.named_or_self(&req.inviter_user_id)?;
    let now = now_ms();
    let gid = req.group_id.clone();
    let outcome = run(&state, move |c| {
        let tx = c.transaction()?;
        let g = live_group(&tx, &gid)?;
        if crate::relation::user(&tx, &applicant)?.is_none() {
            return Err(ApiError::new(
                ErrorCode::UserIdNotFound,
                format!("user {applicant} not found"),
            ));
        }
        if db::member(&tx, &gid, &applicant)?.is_some() {
            return Err(ApiError::args(format!(
                "{applicant} is already in the group"
            )));
        }
        let outcome = if g.info.need_verification == 2 {
            let m = new_member(
                &gid,
                &applicant,
                ORDINARY,
                req.join_source,
                "",
                &applicant,
                now,
            );
            let (added, log) = add_members(&tx, &g, &[m])?;
            let entrant = added.first().cloned().unwrap_or_default();
            Joined::Members(Box::new((reload(&tx, &gid)?, entrant, added, log)))
        } else {
            let q = RequestRow {
                group_id: gid.clone(),
                user_id: applicant.clone(),
                req_msg: req.req_message,
                req_time: now,
                ex: req.ex,
                join_source: req.join_source,
                ..Default::default()
            };
            db::upsert_request(&tx, &q)?;
            Joined::Applications(
                vec![db::request_to_wire(&tx, &q)?],
                db::managers(&tx, &gid)?,
            )
        };
        tx.commit()?;
        Ok(outcome)
    })
    .await?;
    match outcome {
        Joined::Members(joined) => {
            let (group, entrant, _, log) = *joined;
            let tips = MemberEnterTips {
                group: Some(group.clone()),
                entrant_user: Some(entrant.clone()),
                operation_time: now,
                group_member_version: log.version,
                group_member_version_id: log.version_id,
            };
            notify::to_group(
                &state,
                &entrant,
                &group.group_id,
                ContentType::MemberEnterNotification,
                &tips,
                true,
                vec![],
            )
            .await;
        }
        Joined::Applications(requests, managers) => {
            announce_applications(&state, &requests, &managers).await;
        }
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GroupApplicationResponseReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "fromUserID", deserialize_with = "null_as_default")]
    from_user_id: String,
    #[serde(rename = "handledMsg", deserialize_with = "null_as_default")]
    handled_msg: String,
    #[serde(rename = "handleResult", deserialize_with = "null_as_default")]
    handle_result: i32,
}

pub async fn group_application_response(
    state: AppState,
    op: Op,
    req: GroupApplicationResponseReq,
) -> ApiResult<()> {
    if req.handle_result != 1 && req.handle_result != -1 {
        return Err(ApiError::args("handleResult must be 1 or -1"));
    }
    let now = now_ms();
    let accept = req.handle_result == 1;
    let handled_msg = req.handled_msg.clone();
    let (group, op_info, request, managers, entrant) = run(&state, move |c| {
        let tx = c.transaction()?;
        let g = live_group(&tx, &req.group_id)?;
        require_manager(&tx, &req.group_id, &op)?;
        let Some(mut q) = db::request(&tx, &req.group_id, &req.from_user_id)? else {
            return Err(ApiError::not_found(format!(
                "no application of {} to {}",
                req.from_user_id, req.group_id
            )));
        };
        if q.handle_result != 0 {
            return Err(ApiError::new(
                ErrorCode::GroupRequestHandled,
                "the application was handled already",
            ));
        }
        q.handle_result = req.handle_result;
        q.handle_msg = req.handled_msg;
        q.handle_user_id = op.user_id.clone();
        q.handle_time = now;
        db::handle_request(&tx, &q)?;
        let mut entrant = None;
        if accept && db::member(&tx, &req.group_id, &q.user_id)?.is_none() {
            let m = new_member(
                &req.group_id,
                &q.user_id,
                ORDINARY,
                q.join_source,
                &q.inviter_user_id,
                &op.user_id,
                now,
            );
            let (added, log) = add_members(&tx, &g, &[m])?;
            entrant = added.into_iter().next().map(|e| (e, log));
        }
        let request = db::request_to_wire(&tx, &q)?;
        let managers = db::managers(&tx, &req.group_id)?;
        let op_info = op_member(&tx, &req.group_id, &op.user_id)?;
        let group = reload(&tx, &req.group_id)?;
        tx.commit()?;
        Ok((group, op_info, request, managers, entrant))
    })
    .await?;
    let applicant = request
        .user_info
        .as_ref()
        .map(|u| u.user_id.clone())
        .unwrap_or_default();
    // The applicant is told as such (receiverAs 0), the other managers as admins (1).
    let mut receivers = vec![(applicant, 0)];
    receivers.extend(
        managers
            .into_iter()
            .filter(|m| *m != op_info.user_id)
            .map(|m| (m, 1)),
    );
    for (recv, receiver_as) in receivers {
        if accept {
            let tips = GroupApplicationAcceptedTips {
                group: Some(group.clone()),
                op_user: Some(op_info.clone()),
                handle_msg: handled_msg.clone(),
                receiver_as,
                uuid: String::new(),
                request: Some(request.clone()),
            };
            notify::to_user(
                &state,
                &op_info.user_id,
                &recv,
                ContentType::GroupApplicationAcceptedNotification,
                &tips,
            )
            .await;
        } else {
            let tips = GroupApplicationRejectedTips {
                group: Some(group.clone()),
                op_user: Some(op_info.clone()),
                handle_msg: handled_msg.clone(),
                receiver_as,
                uuid: String::new(),
                request: Some(request.clone()),
            };
            notify::to_user(
                &state,
                &op_info.user_id,
                &recv,
                ContentType::GroupApplicationRejectedNotification,
                &tips,
            )
            .await;
        }
    }
    if let Some((entrant, log)) = entrant {
        let tips = MemberEnterTips {
            group: Some(group.clone()),
            entrant_user: Some(entrant),
            operation_time: now,
            group_member_version: log.version,
            group_member_version_id: log.version_id,
        };
        notify::to_group(
            &state,
            &op_info,
            &group.group_id,
            ContentType::MemberEnterNotification,
            &tips,
            true,
            vec![],
        )
        .await;
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecvApplicationListReq {
    #[serde(rename = "fromUserID", deserialize_with = "null_as_default")]
    from_user_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pagination: RequestPagination,
    #[serde(rename = "groupIDs", deserialize_with = "seq_null_as_default")]
    group_ids: Vec<String>,
    #[serde(rename = "handleResults", deserialize_with = "seq_null_as_default")]
    handle_results: Vec<i32>,
}

#[derive(Debug, Serialize)]
pub struct ApplicationListResp {
    total: u32,
    #[serde(rename = "groupRequests")]
    group_requests: Vec<GroupRequest>,
}

/// The applications `rows` yields for `user` (the caller when empty; self or app administrator
/// only), filtered by group and handle result, one page.
async fn application_list(
    state: &AppState,
    op: &Op,
    user: String,
    (group_ids, handle_results, pagination): (Vec<String>, Vec<i32>, RequestPagination),
    rows: fn(&rusqlite::Connection, &str) -> rusqlite::Result<Vec<RequestRow>>,
) -> ApiResult<ApplicationListResp> {
    let user = op.named_or_self(&user)?;
    run(state, move |c| {
        let rows = rows(c, &user)?;
        application_page(c, rows, &group_ids, &handle_results, &pagination)
    })
    .await
}

fn application_page(
    c: &rusqlite::Connection,
    mut rows: Vec<RequestRow>,
    group_ids: &[String],
    handle_results: &[i32],
    pagination: &RequestPagination,
) -> ApiResult<ApplicationListResp> {
    rows.retain(|q| {
        (group_ids.is_empty() || group_ids.contains(&q.group_id))
            && (handle_results.is_empty() || handle_results.contains(&q.handle_result))
    });
    let total = rows.len() as u32;
    let group_requests = page(rows, pagination)
        .iter()
        .map(|q| db::request_to_wire(c, q))
        .collect::<rusqlite::Result<_>>()?;
    Ok(ApplicationListResp {
        total,
        group_requests,
    })
}

pub async fn get_recv_group_application_list(
    state: AppState,
    op: Op,
    req: RecvApplicationListReq,
) -> ApiResult<ApplicationListResp> {
    application_list(
        &state,
        &op,
        req.from_user_id,
        (req.group_ids, req.handle_results, req.pagination),
        db::requests_to_manager,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserReqApplicationListReq {
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pagination: RequestPagination,
    #[serde(rename = "groupIDs", deserialize_with = "seq_null_as_default")]
    group_ids: Vec<String>,
    #[serde(rename = "handleResults", deserialize_with = "seq_null_as_default")]
    handle_results: Vec<i32>,
}

pub async fn get_user_req_group_application_list(
    state: AppState,
    op: Op,
    req: UserReqApplicationListReq,
) -> ApiResult<ApplicationListResp> {
    application_list(
        &state,
        &op,
        req.user_id,
        (req.group_ids, req.handle_results, req.pagination),
        db::requests_by_user,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UnhandledCountReq {
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(deserialize_with = "null_as_default")]
    time: i64,
}

#[derive(Debug, Serialize)]
pub struct UnhandledCountResp {
    count: i64,
}

pub async fn get_group_application_unhandled_count(
    state: AppState,
    op: Op,
    req: UnhandledCountReq,
) -> ApiResult<UnhandledCountResp> {
    let user = op.named_or_self(&req.user_id)?;
    run(&state, move |c| {
        let count = db::requests_to_manager(c, &user)?
            .iter()
            .filter(|q| q.handle_result == 0 && q.req_time > req.time)
            .count() as i64;
        Ok(UnhandledCountResp { count })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// leaving: kick, quit, dismiss

/// Freezes the windows of members who left, after their removal tip was stored.
async fn freeze(state: &AppState, group_id: &str, user_ids: Vec<String>) -> ApiResult<()> {
    let gid = group_id.to_owned();
    run(state, move |c| {
        let tx = c.transaction()?;
        for u in &user_ids {
            // A user who came back in the meantime keeps their open window.
            if db::member(&tx, &gid, u)?.is_none() {
                db::freeze_conversation(&tx, u, &gid)?;
            }
        }
        tx.commit()?;
        Ok(())
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KickGroupReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "kickedUserIDs", deserialize_with = "seq_null_as_default")]
    kicked_user_ids: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    reason: String,
    #[serde(rename = "sendMessage")]
    send_message: Option<bool>,
}

pub async fn kick_group(state: AppState, op: Op, req: KickGroupReq) -> ApiResult<()> {
    let kicked = dedup(req.kicked_user_ids);
    if kicked.is_empty() {
        return Err(ApiError::args("kickedUserIDs is empty"));
    }
    if kicked.contains(&op.user_id) {
        return Err(ApiError::args("cannot kick yourself; quit instead"));
    }
    let _ = req.reason;
    let now = now_ms();
    let gid = req.group_id.clone();
    let ids = kicked.clone();
    let (group, op_info, removed, log) = run(&state, move |c| {
        let tx = c.transaction()?;
        live_group(&tx, &gid)?;
        let role = require_manager(&tx, &gid, &op)?;
        let mut removed = Vec::new();
        for u in &ids {
            let m = db::member(&tx, &gid, u)?.ok_or_else(|| super::not_in_group(u, &gid))?;
            // The owner kicks anyone but themself; an admin only ordinary members.
            if m.role_level == OWNER || (role != APP_ADMIN && m.role_level >= role) {
                return Err(ApiError::no_permission(format!(
                    "may not kick {u} (roleLevel {})",
                    m.role_level
                )));
            }
            removed.push(m);
        }
        let op_info = op_member(&tx, &gid, &op.user_id)?;
        for m in &removed {
            db::delete_member(&tx, &gid, &m.user_id)?;
        }
        let log = gv::left(&tx, &gid, &ids)?;
        let group = reload(&tx, &gid)?;
        tx.commit()?;
        Ok((group, op_info, removed, log))
    })
    .await?;
    let tips = MemberKickedTips {
        group: Some(group.clone()),
        op_user: Some(op_info.clone()),
        kicked_user_list: removed,
        operation_time: now,
        group_member_version: log.version,
        group_member_version_id: log.version_id,
    };
    let send = req.send_message.unwrap_or(true);
    notify::to_group(
        &state,
        &op_info,
        &req.group_id,
        ContentType::MemberKickedNotification,
        &tips,
        send,
        kicked.clone(),
    )
    .await;
    freeze(&state, &req.group_id, kicked).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QuitGroupReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
}

pub async fn quit_group(state: AppState, op: Op, req: QuitGroupReq) -> ApiResult<()> {
    let user = op.named_or_self(&req.user_id)?;
    let now = now_ms();
    let (gid, uid) = (req.group_id.clone(), user.clone());
    let (group, quitter, log) = run(&state, move |c| {
        let tx = c.transaction()?;
        existing_group(&tx, &gid)?;
        let m = db::member(&tx, &gid, &uid)?.ok_or_else(|| super::not_in_group(&uid, &gid))?;
        if m.role_level == OWNER {
            return Err(ApiError::no_permission(
                "the owner cannot quit; transfer the group or dismiss it",
            ));
        }
        db::delete_member(&tx, &gid, &uid)?;
        let log = gv::left(&tx, &gid, std::slice::from_ref(&uid))?;
        let group = reload(&tx, &gid)?;
        tx.commit()?;
        Ok((group, m, log))
    })
    .await?;
    let tips = MemberQuitTips {
        group: Some(group),
        quit_user: Some(quitter.clone()),
        operation_time: now,
        group_member_version: log.version,
        group_member_version_id: log.version_id,
    };
    notify::to_group(
        &state,
        &quitter,
        &req.group_id,
        ContentType::MemberQuitNotification,
        &tips,
        true,
        vec![user.clone()],
    )
    .await;
    freeze(&state, &req.group_id, vec![user]).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DismissGroupReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "deleteMember", deserialize_with = "null_as_default")]
    delete_member: bool,
    #[serde(rename = "sendMessage")]
    send_message: Option<bool>,
}

pub async fn dismiss_group(state: AppState, op: Op, req: DismissGroupReq) -> ApiResult<()> {
    let now = now_ms();
    let gid = req.group_id.clone();
    let (group, op_info) = run(&state, move |c| {
        let tx = c.transaction()?;
        let mut g = live_group(&tx, &gid)?;
        let role = op_role(&tx, &gid, &op)?;
        if role != OWNER && role != APP_ADMIN {
            return Err(ApiError::no_permission(
                "only the owner may dismiss the group",
            ));
        }
        g.info.status = 2;
        db::update_group(&tx, &g)?;
        gv::group_changed(&tx, &gid)?;
        let op_info = op_member(&tx, &gid, &op.user_id)?;
        let group = reload(&tx, &gid)?;
        tx.commit()?;
        Ok((group, op_info))
    })
    .await?;
    let tips = GroupDismissedTips {
        group: Some(group),
        op_user: Some(op_info.clone()),
        operation_time: now,
    };
    let send = req.send_message.unwrap_or(true);
    // Told while everyone is still a member; removal (if asked) follows.
    notify::to_group(
        &state,
        &op_info,
        &req.group_id,
        ContentType::GroupDismissedNotification,
        &tips,
        send,
        vec![],
    )
    .await;
    if req.delete_member {
        let gid = req.group_id.clone();
        run(&state, move |c| {
            let tx = c.transaction()?;
            let ids = db::member_ids(&tx, &gid)?;
            for u in &ids {
                db::delete_member(&tx, &gid, u)?;
                db::freeze_conversation(&tx, u, &gid)?;
            }
            gv::left(&tx, &gid, &ids)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// owner, roles and member settings

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TransferGroupReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "oldOwnerUserID", deserialize_with = "null_as_default")]
    old_owner_user_id: String,
    #[serde(rename = "newOwnerUserID", deserialize_with = "null_as_default")]
    new_owner_user_id: String,
}

pub async fn transfer_group(state: AppState, op: Op, req: TransferGroupReq) -> ApiResult<()> {
    let now = now_ms();
    let gid = req.group_id.clone();
    let (group, op_info, new_owner, old_owner, log) = run(&state, move |c| {
        let tx = c.transaction()?;
        let mut g = live_group(&tx, &gid)?;
        let role = op_role(&tx, &gid, &op)?;
        if role != OWNER && role != APP_ADMIN {
            return Err(ApiError::no_permission(
                "only the owner may transfer the group",
            ));
        }
        let old = g.info.owner_user_id.clone();
        if !req.old_owner_user_id.is_empty() && req.old_owner_user_id != old {
            return Err(ApiError::args(format!(
                "{} is not the owner",
                req.old_owner_user_id
            )));
        }
        if req.new_owner_user_id == old {
            return Err(ApiError::args("the new owner is the current owner"));
        }
        let new = db::member(&tx, &gid, &req.new_owner_user_id)?
            .ok_or_else(|| super::not_in_group(&req.new_owner_user_id, &gid))?;
        // The old owner takes the new owner's previous role.
        db::set_role(&tx, &gid, &old, new.role_level)?;
        db::set_role(&tx, &gid, &new.user_id, OWNER)?;
        g.info.owner_user_id = new.user_id.clone();
        db::update_group(&tx, &g)?;
        gv::group_changed(&tx, &gid)?;
        let log = gv::members_changed(
            &tx,
            &gid,
            &[(&old, Change::Update), (&new.user_id, Change::Update)],
        )?;
        let op_info = op_member(&tx, &gid, &op.user_id)?;
        let new_owner = op_member(&tx, &gid, &new.user_id)?;
        let old_owner = db::member(&tx, &gid, &old)?;
        let group = reload(&tx, &gid)?;
        tx.commit()?;
        Ok((group, op_info, new_owner, old_owner, log))
    })
    .await?;
    let tips = GroupOwnerTransferredTips {
        group: Some(group),
        op_user: Some(op_info.clone()),
        new_group_owner: Some(new_owner),
        old_group_owner: old_owner
            .as_ref()
            .map(|m| m.user_id.clone())
            .unwrap_or_default(),
        operation_time: now,
        old_group_owner_info: old_owner,
        group_member_version: log.version,
        group_member_version_id: log.version_id,
    };
    notify::to_group(
        &state,
        &op_info,
        &req.group_id,
        ContentType::GroupOwnerTransferredNotification,
        &tips,
        true,
        vec![],
    )
    .await;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MemberInfoSet {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    nickname: Option<String>,
    #[serde(rename = "faceURL")]
    face_url: Option<String>,
    #[serde(rename = "roleLevel")]
    role_level: Option<i32>,
    ex: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetGroupMemberInfoReq {
    #[serde(deserialize_with = "seq_null_as_default")]
    members: Vec<MemberInfoSet>,
}

/// Rules (spec §5.4): only the owner (or an app administrator) changes roles, to 60 or 20, and
/// never the owner's own; the owner edits anyone; an admin edits themself and ordinary members;
/// an ordinary member only themself.
fn check_member_set(
    role: i32,
    op: &Op,
    target: &GroupMemberFullInfo,
    s: &MemberInfoSet,
) -> ApiResult<()> {
    if let Some(r) = s.role_level {
        if r != ADMIN && r != ORDINARY {
            return Err(ApiError::args(format!(
                "roleLevel must be 60 or 20, not {r}"
            )));
        }
        if role != OWNER && role != APP_ADMIN {
            return Err(ApiError::no_permission("only the owner may change roles"));
        }
        if target.role_level == OWNER {
            return Err(ApiError::no_permission(
                "the owner's role cannot be changed",
            ));
        }
    }
    let is_self = target.user_id == op.user_id;
    let allowed = match role {
        APP_ADMIN | OWNER => true,
        ADMIN => is_self || target.role_level == ORDINARY,
        _ => is_self,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::no_permission(format!(
            "may not change the member info of {}",
            target.user_id
        )))
    }
}

pub async fn set_group_member_info(
    state: AppState,
    op: Op,
    req: SetGroupMemberInfoReq,
) -> ApiResult<()> {
    if req.members.is_empty() {
        return Err(ApiError::args("members is empty"));
    }
    let now = now_ms();
    let opid = op.user_id.clone();
    // (group, operator, changed member, content type) per tip, in request order.
    let tips = run(&state, move |c| {
        let tx = c.transaction()?;
        let mut events = Vec::new();
        for s in &req.members {
            live_group(&tx, &s.group_id)?;
            let role = op_role(&tx, &s.group_id, &op)?;
            let target = db::member(&tx, &s.group_id, &s.user_id)?
                .ok_or_else(|| super::not_in_group(&s.user_id, &s.group_id))?;
            check_member_set(role, &op, &target, s)?;
            let info_changed = s.nickname.is_some() || s.face_url.is_some() || s.ex.is_some();
            if info_changed {
                let (nick, face, ex) = db::member_overrides(&tx, &s.group_id, &s.user_id)?;
                let nick = s.nickname.clone().unwrap_or(nick);
                let face = s.face_url.clone().unwrap_or(face);
                let ex = s.ex.clone().unwrap_or(ex);
                db::set_member_overrides(&tx, &s.group_id, &s.user_id, (&nick, &face, &ex))?;
            }
            if let Some(r) = s.role_level {
                db::set_role(&tx, &s.group_id, &s.user_id, r)?;
            }
            let group = reload(&tx, &s.group_id)?;
            let op_info = op_member(&tx, &s.group_id, &op.user_id)?;
            let changed = db::member(&tx, &s.group_id, &s.user_id)?.unwrap_or_default();
            // One version per tip, so a client applying tips one by one stays in step.
            if let Some(r) = s.role_level {
                let ct = if r == ADMIN {
                    ContentType::GroupMemberSetToAdminNotification
                } else {
                    ContentType::GroupMemberSetToOrdinaryUserNotification
                };
                let log = gv::members_changed(&tx, &s.group_id, &[(&s.user_id, Change::Update)])?;
                events.push((group.clone(), op_info.clone(), changed.clone(), ct, log));
            }
            if info_changed {
                let log = gv::members_changed(&tx, &s.group_id, &[(&s.user_id, Change::Update)])?;
                events.push((
                    group,
                    op_info,
                    changed,
                    ContentType::GroupMemberInfoSetNotification,
                    log,
                ));
            }
        }
        tx.commit()?;
        Ok(events)
    })
    .await?;
    let _ = opid;
    for (group, op_info, changed, ct, log) in tips {
        let gid = group.group_id.clone();
        let tips = GroupMemberInfoSetTips {
            group: Some(group),
            op_user: Some(op_info.clone()),
            operation_time: now,
            changed_user: Some(changed),
            group_member_version: log.version,
            group_member_version_id: log.version_id,
            ..Default::default()
        };
        notify::to_group(&state, &op_info, &gid, ct, &tips, false, vec![]).await;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// mutes

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MuteMemberReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(rename = "mutedSeconds", deserialize_with = "null_as_default")]
    muted_seconds: u32,
}

/// Sets a member's mute end; the operator must outrank the member.
async fn set_member_mute(
    state: &AppState,
    op: Op,
    req: &MuteMemberReq,
    mute_end: i64,
) -> ApiResult<(
    GroupInfo,
    GroupMemberFullInfo,
    GroupMemberFullInfo,
    VersionLog,
)> {
    let (gid, uid) = (req.group_id.clone(), req.user_id.clone());
    run(state, move |c| {
        let tx = c.transaction()?;
        live_group(&tx, &gid)?;
        let role = require_manager(&tx, &gid, &op)?;
        let target = db::member(&tx, &gid, &uid)?.ok_or_else(|| super::not_in_group(&uid, &gid))?;
        if target.role_level >= role {
            return Err(ApiError::no_permission(format!(
                "may not mute or unmute {uid} (roleLevel {})",
                target.role_level
            )));
        }
        db::set_mute_end(&tx, &gid, &uid, mute_end)?;
        let log = gv::members_changed(&tx, &gid, &[(&uid, Change::Update)])?;
        let muted = db::member(&tx, &gid, &uid)?.unwrap_or_default();
        let op_info = op_member(&tx, &gid, &op.user_id)?;
        let group = reload(&tx, &gid)?;
        tx.commit()?;
        Ok((group, op_info, muted, log))
    })
    .await
}

pub async fn mute_group_member(state: AppState, op: Op, req: MuteMemberReq) -> ApiResult<()> {
    let now = now_ms();
    let end = now + i64::from(req.muted_seconds) * 1000;
    let (group, op_info, muted, log) = set_member_mute(&state, op, &req, end).await?;
    let tips = GroupMemberMutedTips {
        group: Some(group),
        op_user: Some(op_info.clone()),
        operation_time: now,
        muted_user: Some(muted),
        muted_seconds: req.muted_seconds,
        group_member_version: log.version,
        group_member_version_id: log.version_id,
    };
    notify::to_group(
        &state,
        &op_info,
        &req.group_id,
        ContentType::GroupMemberMutedNotification,
        &tips,
        true,
        vec![],
    )
    .await;
    Ok(())
}

pub async fn cancel_mute_group_member(
    state: AppState,
    op: Op,
    req: MuteMemberReq,
) -> ApiResult<()> {
    let now = now_ms();
    let (group, op_info, muted, log) = set_member_mute(&state, op, &req, 0).await?;
    let tips = GroupMemberCancelMutedTips {
        group: Some(group),
        op_user: Some(op_info.clone()),
        operation_time: now,
        muted_user: Some(muted),
        group_member_version: log.version,
        group_member_version_id: log.version_id,
    };
    notify::to_group(
        &state,
        &op_info,
        &req.group_id,
        ContentType::GroupMemberCancelMutedNotification,
        &tips,
        true,
        vec![],
    )
    .await;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct GroupIdReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
}

async fn set_group_status(
    state: &AppState,
    op: Op,
    group_id: &str,
    status: i32,
) -> ApiResult<(GroupInfo, GroupMemberFullInfo, VersionLog)> {
    let gid = group_id.to_owned();
    run(state, move |c| {
        let tx = c.transaction()?;
        let mut g = live_group(&tx, &gid)?;
        require_manager(&tx, &gid, &op)?;
        g.info.status = status;
        db::update_group(&tx, &g)?;
        let log = gv::group_changed(&tx, &gid)?;
        let op_info = op_member(&tx, &gid, &op.user_id)?;
        let group = reload(&tx, &gid)?;
        tx.commit()?;
        Ok((group, op_info, log))
    })
    .await
}

pub async fn mute_group(state: AppState, op: Op, req: GroupIdReq) -> ApiResult<()> {
    let (group, op_info, log) = set_group_status(&state, op, &req.group_id, 3).await?;
    let tips = GroupMutedTips {
        group: Some(group),
        op_user: Some(op_info.clone()),
        operation_time: now_ms(),
        group_member_version: log.version,
        group_member_version_id: log.version_id,
    };
    notify::to_group(
        &state,
        &op_info,
        &req.group_id,
        ContentType::GroupMutedNotification,
        &tips,
        true,
        vec![],
    )
    .await;
    Ok(())
}

pub async fn cancel_mute_group(state: AppState, op: Op, req: GroupIdReq) -> ApiResult<()> {
    let (group, op_info, log) = set_group_status(&state, op, &req.group_id, 0).await?;
    let tips = GroupCancelMutedTips {
        group: Some(group),
        op_user: Some(op_info.clone()),
        operation_time: now_ms(),
        group_member_version: log.version,
        group_member_version_id: log.version_id,
    };
    notify::to_group(
        &state,
        &op_info,
        &req.group_id,
        ContentType::GroupCancelMutedNotification,
        &tips,
        true,
        vec![],
    )
    .await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// joined groups and version sync

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct JoinedGroupListReq {
    #[serde(rename = "fromUserID", deserialize_with = "null_as_default")]
    from_user_id: String,
    #[serde(deserialize_with = "null_as_default")]
    pagination: RequestPagination,
}

#[derive(Debug, Serialize)]
pub struct JoinedGroupListResp {
    total: u32,
    groups: Vec<GroupInfo>,
}

pub async fn get_joined_group_list(
    state: AppState,
    op: Op,
    req: JoinedGroupListReq,
) -> ApiResult<JoinedGroupListResp> {
    let user = op.named_or_self(&req.from_user_id)?;
    run(&state, move |c| {
        let all: Vec<GroupInfo> = db::joined_groups(c, &user)?
            .into_iter()
            .map(|g| g.info)
            .collect();
        let total = all.len() as u32;
        Ok(JoinedGroupListResp {
            total,
            groups: page(all, &req.pagination),
        })
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IncrementalJoinGroupsReq {
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(rename = "versionID", deserialize_with = "null_as_default")]
    version_id: String,
    #[serde(deserialize_with = "null_as_default")]
    version: u64,
}

/// The joined-group delta since the client's `{versionID, version}` (spec §5.8); `full: true`
/// (with the current versionID and empty lists) when the client must refetch the whole list.
pub async fn get_incremental_join_groups(
    state: AppState,
    op: Op,
    req: IncrementalJoinGroupsReq,
) -> ApiResult<Incremental<GroupInfo>> {
    let user = op.named_or_self(&req.user_id)?;
    run(&state, move |c| {
        let tx = c.transaction()?;
        let (log, d) = version::log_and_delta(
            &tx,
            version::JOIN_GROUP,
            &user,
            &req.version_id,
            req.version,
        )?;
        let mut resp = Incremental::at(log);
        match d {
            Delta::Full => resp.full = true,
            Delta::Changes(changes) => {
                let (mut delete, insert, update) = version::split(changes);
                // A group recorded as joined but left by now (or gone) counts as deleted.
                let mut current = |ids: Vec<String>| -> ApiResult<Vec<GroupInfo>> {
                    let mut out = Vec::new();
                    for gid in ids {
                        match db::group(&tx, &gid)? {
                            Some(g) if db::member(&tx, &gid, &user)?.is_some() => out.push(g.info),
                            _ => delete.push(gid),
                        }
                    }
                    Ok(out)
                };
                resp.insert = current(insert)?;
                resp.update = current(update)?;
                resp.delete = delete;
            }
        }
        // The log may have been created just now.
        tx.commit()?;
        Ok(resp)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VersionReq {
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
    #[serde(rename = "versionID", deserialize_with = "null_as_default")]
    version_id: String,
    #[serde(deserialize_with = "null_as_default")]
    version: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IncrementalMembersBatchReq {
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
    #[serde(rename = "reqList", deserialize_with = "seq_null_as_default")]
    req_list: Vec<VersionReq>,
}

#[derive(Debug, Serialize)]
pub struct IncrementalMembersResp {
    #[serde(flatten)]
    members: Incremental<GroupMemberFullInfo>,
    group: Option<GroupInfo>,
}

#[derive(Debug, Serialize)]
pub struct IncrementalMembersBatchResp {
    #[serde(rename = "respList")]
    resp_list: BTreeMap<String, IncrementalMembersResp>,
}

/// Per group, the member delta since the client's `{versionID, version}` (spec §5.8), with the
/// group's current info; `full: true` when the client must refetch that member list. Member
/// records obey `lookMemberInfo` as the full list does.
pub async fn get_incremental_group_members_batch(
    state: AppState,
    op: Op,
    req: IncrementalMembersBatchReq,
) -> ApiResult<IncrementalMembersBatchResp> {
    let user = op.named_or_self(&req.user_id)?;
    run(&state, move |c| {
        let tx = c.transaction()?;
        let mut resp_list = BTreeMap::new();
        for r in req.req_list {
            // Groups the user no longer belongs to are left out rather than failing the batch.
            let Some(g) = db::group(&tx, &r.group_id)? else {
                continue;
            };
            let viewer_role = match db::member(&tx, &r.group_id, &user)? {
                Some(m) => m.role_level,
                None if op.is_admin => APP_ADMIN,
                None => continue,
            };
            let (log, d) = version::log_and_delta(
                &tx,
                version::GROUP_MEMBER,
                &r.group_id,
                &r.version_id,
                r.version,
            )?;
            let mut resp = Incremental::at(log);
            match d {
                Delta::Full => resp.full = true,
                Delta::Changes(changes) => {
                    let (mut delete, insert, update) = version::split(changes);
                    resp.insert = db::members_of(&tx, &r.group_id, &insert)?;
                    resp.update = db::members_of(&tx, &r.group_id, &update)?;
                    // A member recorded as added or changed but gone by now counts as deleted.
                    for id in insert.iter().chain(&update) {
                        if !resp
                            .insert
                            .iter()
                            .chain(&resp.update)
                            .any(|m| &m.user_id == id)
                        {
                            delete.push(id.clone());
                        }
                    }
                    resp.delete = delete;
                    let look = g.info.look_member_info;
                    redact_members(look, viewer_role, &user, &mut resp.insert);
                    redact_members(look, viewer_role, &user, &mut resp.update);
                }
            }
            let resp = IncrementalMembersResp {
                members: resp,
                group: Some(g.info),
            };
            resp_list.insert(r.group_id.clone(), resp);
        }
        tx.commit()?;
        Ok(IncrementalMembersBatchResp { resp_list })
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FullJoinGroupIdsReq {
    #[serde(rename = "idHash", deserialize_with = "null_as_default")]
    id_hash: u64,
    #[serde(rename = "userID", deserialize_with = "null_as_default")]
    user_id: String,
}

#[derive(Debug, Serialize)]
pub struct FullJoinGroupIdsResp {
    version: u64,
    #[serde(rename = "versionID")]
    version_id: String,
    equal: bool,
    #[serde(rename = "groupIDs")]
    group_ids: Vec<String>,
}

pub async fn get_full_join_group_ids(
    state: AppState,
    op: Op,
    req: FullJoinGroupIdsReq,
) -> ApiResult<FullJoinGroupIdsResp> {
    let user = op.named_or_self(&req.user_id)?;
    run(&state, move |c| {
        let tx = c.transaction()?;
        let log = version::current(&tx, version::JOIN_GROUP, &user)?;
        let ids: Vec<String> = db::joined_groups(&tx, &user)?
            .into_iter()
            .map(|g| g.info.group_id)
            .collect();
        tx.commit()?;
        let (equal, ids) = version::full_ids(req.id_hash, ids);
        Ok(FullJoinGroupIdsResp {
            version: log.version,
            version_id: log.version_id,
            equal,
            group_ids: ids,
        })
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FullMemberIdsReq {
    #[serde(rename = "idHash", deserialize_with = "null_as_default")]
    id_hash: u64,
    #[serde(rename = "groupID", deserialize_with = "null_as_default")]
    group_id: String,
}

#[derive(Debug, Serialize)]
pub struct FullMemberIdsResp {
    version: u64,
    #[serde(rename = "versionID")]
    version_id: String,
    equal: bool,
    #[serde(rename = "userIDs")]
    user_ids: Vec<String>,
}

pub async fn get_full_group_member_user_ids(
    state: AppState,
    op: Op,
    req: FullMemberIdsReq,
) -> ApiResult<FullMemberIdsResp> {
    run(&state, move |c| {
        let tx = c.transaction()?;
        existing_group(&tx, &req.group_id)?;
        op_role(&tx, &req.group_id, &op)?;
        let log = version::current(&tx, version::GROUP_MEMBER, &req.group_id)?;
        let ids = db::member_ids(&tx, &req.group_id)?;
        tx.commit()?;
        let (equal, ids) = version::full_ids(req.id_hash, ids);
        Ok(FullMemberIdsResp {
            version: log.version,
            version_id: log.version_id,
            equal,
            user_ids: ids,
        })
    })
    .await
}
