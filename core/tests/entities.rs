//! The entity view: notifications built the way servers send them update users, friends, groups,
//! members and conversations, raise the official callbacks and rewrite stored messages; version
//! sync pages full lists, applies deltas and tips in order, and asks for the delta on a gap.
//! Every batch goes through `MemoryStore::save_changes` before `Entities::commit`.

use chorus_core::changes::{Changes, VersionKind, VersionMarker, VersionUpdate};
use chorus_core::entities::{
    Entities, EntitiesError, EntitiesErrorKind, EntityBatch, EntityEvent, RestRequest,
};
use chorus_core::model::{msg, Conversation, ConversationId, Friend, Group, Member, MessageStatus};
use chorus_core::{MemoryStore, Seq, Store};
use chorus_proto::content::encode_notification;
use chorus_proto::pb::conversation::Conversation as PbConversation;
use chorus_proto::pb::sdkws::{
    FriendAddedTips, FriendDeletedTips, FriendInfo, FriendsInfoUpdateTips, FromToUserId,
    GroupCreatedTips, GroupDismissedTips, GroupInfo, GroupInfoSetAnnouncementTips,
    GroupInfoSetTips, GroupMemberFullInfo, GroupMemberInfoSetTips, GroupMemberMutedTips,
    GroupOwnerTransferredTips, MarkAsReadTips, MemberEnterTips, MemberInvitedTips,
    MemberKickedTips, MemberQuitTips, MsgData, RevokeMsgTips, UserInfo, UserInfoUpdatedTips,
};
use futures::executor::block_on;
use serde::Serialize;
use serde_json::{json, Value};

const ME: &str = "u1";
const G: &str = "g1";
const VID: &str = "665f00000000000000000001";
const T0: i64 = 1_700_000_000_000;

struct Harness {
    store: MemoryStore,
    entities: Entities,
    next_client_id: u64,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            store: MemoryStore::new(),
            entities: Entities::new(ME),
            next_client_id: 0,
        }
    }

    /// A harness whose view and store hold group g1 (members u1 owner, u2, u3) at member
    /// version 5, friend u2 at friend version 3.
    fn with_group() -> Harness {
        let mut h = Harness::new();
        let mut changes = Changes::new();
        changes.groups.push(group_of(group_info()));
        changes.members.push(member(ME, 100, "Alice"));
        changes.members.push(member("u2", 20, "Bob"));
        changes.members.push(member("u3", 20, "Carol"));
        changes.friends.push(friend("u2", "Bobby", "Bob"));
        changes
            .versions
            .push(marker(VersionKind::GroupMembers, G, VID, 5));
        changes
            .versions
            .push(marker(VersionKind::Friends, ME, VID, 3));
        block_on(h.store.save_changes(&changes)).expect("seed");
        h.entities = block_on(Entities::load(&h.store, ME)).expect("load");
        h
    }

    fn notif<T: Serialize>(&mut self, content_type: i32, tips: &T) -> MsgData {
        self.next_client_id += 1;
        MsgData {
            send_id: ME.into(),
            recv_id: G.into(),
            group_id: G.into(),
            client_msg_id: format!("n-{}", self.next_client_id),
            session_type: 3,
            msg_from: 200,
            content_type,
            content: encode_notification(tips).expect("encode tips"),
            send_time: T0,
            create_time: T0,
            options: [("isNotNotification".to_owned(), false)].into(),
            ..MsgData::default()
        }
    }

    /// Saves then commits; returns the events raised.
    fn commit(&mut self, batch: EntityBatch) -> Vec<EntityEvent> {
        block_on(self.store.save_changes(&batch.changes)).expect("save");
        self.entities.commit(batch);
        std::iter::from_fn(|| self.entities.poll_event()).collect()
    }

    fn apply<T: Serialize>(&mut self, content_type: i32, tips: &T) -> Vec<EntityEvent> {
        let message = self.notif(content_type, tips);
        self.apply_msg(&message)
    }

    fn apply_msg(&mut self, message: &MsgData) -> Vec<EntityEvent> {
        let batch = self
            .entities
            .apply_notification(T0 + 5, message)
            .expect("apply");
        self.commit(batch)
    }

    fn poll(&mut self) -> RestRequest {
        self.entities.poll_rest().expect("a REST request")
    }

    fn respond(&mut self, request: &RestRequest, data: Value) -> Vec<EntityEvent> {
        let envelope = json!({"errCode": 0, "errMsg": "", "errDlt": "", "data": data});
        let batch = self
            .entities
            .handle_rest(request.tag, &envelope.to_string())
            .expect("handle");
        self.commit(batch)
    }

    fn stored_members(&self) -> Vec<Member> {
        block_on(self.store.members(G)).expect("members")
    }
}

fn marker(kind: VersionKind, key: &str, id: &str, version: u64) -> VersionUpdate {
    VersionUpdate {
        kind,
        key: key.into(),
        marker: Some(VersionMarker {
            version_id: id.into(),
            version,
        }),
    }
}

fn group_info() -> GroupInfo {
    GroupInfo {
        group_id: G.into(),
        group_name: "team".into(),
        owner_user_id: ME.into(),
        creator_user_id: ME.into(),
        create_time: T0,
        member_count: 3,
        group_type: 2,
        ..GroupInfo::default()
    }
}

fn group_of(info: GroupInfo) -> Group {
    Group::try_from(info).expect("group")
}

fn member_info(user_id: &str, role_level: i32, nickname: &str) -> GroupMemberFullInfo {
    GroupMemberFullInfo {
        group_id: G.into(),
        user_id: user_id.into(),
        role_level,
        join_time: T0,
        nickname: nickname.into(),
        join_source: 2,
        inviter_user_id: ME.into(),
        operator_user_id: ME.into(),
        ..GroupMemberFullInfo::default()
    }
}

fn member(user_id: &str, role_level: i32, nickname: &str) -> Member {
    Member::try_from(member_info(user_id, role_level, nickname)).expect("member")
}

fn friend_info(user_id: &str, remark: &str, nickname: &str) -> FriendInfo {
    FriendInfo {
        owner_user_id: ME.into(),
        remark: remark.into(),
        create_time: T0,
        friend_user: Some(UserInfo {
            user_id: user_id.into(),
            nickname: nickname.into(),
            ..UserInfo::default()
        }),
        ..FriendInfo::default()
    }
}

fn friend(user_id: &str, remark: &str, nickname: &str) -> Friend {
    Friend::try_from(friend_info(user_id, remark, nickname)).expect("friend")
}

fn body(request: &RestRequest) -> Value {
    serde_json::from_str(&request.body_json).expect("body is JSON")
}

fn member_version(h: &Harness) -> Option<u64> {
    h.entities
        .version(VersionKind::GroupMembers, G)
        .map(|m| m.version)
}

#[test]
fn announcement_tip_sets_text_editor_and_time_and_advances_the_member_version() {
    let mut h = Harness::with_group();
    let mut info = group_info();
    info.notification = "Meeting at 10".into();
    info.notification_user_id = "u2".into();
    info.notification_update_time = T0 + 1000;
    let tips = GroupInfoSetAnnouncementTips {
        op_user: Some(member_info("u2", 60, "Bob")),
        group: Some(info),
        group_member_version: 6,
        group_member_version_id: VID.into(),
    };
    let events = h.apply(1519, &tips);
    let group = h.entities.group(G).expect("group").clone();
    assert_eq!(group.announcement.text, "Meeting at 10");
    assert_eq!(group.announcement.editor_user_id, "u2");
    assert_eq!(group.announcement.updated_at, T0 + 1000);
    assert_eq!(events, vec![EntityEvent::OnGroupInfoChanged(group.clone())]);
    assert_eq!(block_on(h.store.group(G)).expect("group"), Some(group));
    assert_eq!(member_version(&h), Some(6), "version local+1 is applied");
    assert_eq!(
        block_on(h.store.version(VersionKind::GroupMembers, G))
            .expect("version")
            .map(|m| m.version),
        Some(6)
    );
    assert!(h.entities.poll_rest().is_none(), "no sync needed");

    // The same tip again (e.g. its chat-tip copy with another id) is stale: nothing happens.
    let again = h.apply(1519, &tips);
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn announcement_without_editor_falls_back_to_operator_and_message_time() {
    let mut h = Harness::with_group();
    let mut info = group_info();
    info.notification = "hello".into();
    let tips = GroupInfoSetAnnouncementTips {
        op_user: Some(member_info(ME, 100, "Alice")),
        group: Some(info),
        ..GroupInfoSetAnnouncementTips::default()
    };
    h.apply(1519, &tips);
    let group = h.entities.group(G).expect("group");
    assert_eq!(group.announcement.editor_user_id, ME);
    assert_eq!(group.announcement.updated_at, T0);
    assert_eq!(
        member_version(&h),
        Some(5),
        "unversioned tips keep the marker"
    );
}

#[test]
fn group_info_set_updates_permission_flags() {
    let mut h = Harness::with_group();
    let mut info = group_info();
    info.look_member_info = 1;
    info.apply_member_friend = 1;
    let events = h.apply(
        1502,
        &GroupInfoSetTips {
            group: Some(info),
            group_member_version: 6,
            group_member_version_id: VID.into(),
            ..GroupInfoSetTips::default()
        },
    );
    let group = h.entities.group(G).expect("group");
    assert_eq!(group.look_member_info.as_i32(), 1);
    assert_eq!(group.apply_member_friend.as_i32(), 1);
    assert!(matches!(
        events.as_slice(),
        [EntityEvent::OnGroupInfoChanged(_)]
    ));
}

#[test]
fn invited_members_keep_join_source_and_inviter() {
    let mut h = Harness::with_group();
    let mut invited = member_info("u4", 20, "Dave");
    invited.join_source = 0;
    invited.inviter_user_id = String::new();
    let tips = MemberInvitedTips {
        group: Some(group_info()),
        op_user: Some(member_info("u2", 60, "Bob")),
        invited_user_list: vec![invited],
        operation_time: T0,
        group_member_version: 6,
        group_member_version_id: VID.into(),
        inviter_user: Some(member_info("u2", 60, "Bob")),
    };
    let events = h.apply(1509, &tips);
    let dave = h.entities.member(G, "u4").expect("u4 is a member").clone();
    assert_eq!(dave.join_source, 2, "invited members joined by invitation");
    assert_eq!(dave.inviter_user_id, "u2");
    assert_eq!(events, vec![EntityEvent::OnGroupMemberAdded(dave)]);
    assert!(h.stored_members().iter().any(|m| m.user_id == "u4"));
    assert_eq!(member_version(&h), Some(6));
}

#[test]
fn kicked_and_quit_members_are_removed_and_self_removal_leaves_the_group() {
    let mut h = Harness::with_group();
    let events = h.apply(
        1508,
        &MemberKickedTips {
            group: Some(group_info()),
            op_user: Some(member_info(ME, 100, "Alice")),
            kicked_user_list: vec![member_info("u3", 20, "Carol")],
            group_member_version: 6,
            group_member_version_id: VID.into(),
            ..MemberKickedTips::default()
        },
    );
    assert!(h.entities.member(G, "u3").is_none());
    assert!(
        matches!(events.as_slice(), [EntityEvent::OnGroupMemberDeleted(m)] if m.user_id == "u3")
    );
    assert_eq!(h.stored_members().len(), 2);

    let events = h.apply(
        1504,
        &MemberQuitTips {
            group: Some(group_info()),
            quit_user: Some(member_info(ME, 100, "Alice")),
            group_member_version: 7,
            group_member_version_id: VID.into(),
            ..MemberQuitTips::default()
        },
    );
    assert!(h.entities.group(G).is_none());
    assert!(matches!(events.as_slice(), [EntityEvent::OnJoinedGroupDeleted(g)] if g.group_id == G));
    assert_eq!(block_on(h.store.group(G)).expect("group"), None);
    assert!(h.stored_members().is_empty());
    assert_eq!(
        member_version(&h),
        None,
        "the member marker goes with the group"
    );
}

#[test]
fn owner_transfer_dismissal_and_mutes() {
    let mut h = Harness::with_group();
    let events = h.apply(
        1507,
        &GroupOwnerTransferredTips {
            group: Some(group_info()),
            op_user: Some(member_info(ME, 100, "Alice")),
            new_group_owner: Some(member_info("u2", 100, "Bob")),
            old_group_owner: ME.into(),
            group_member_version: 6,
            group_member_version_id: VID.into(),
            ..GroupOwnerTransferredTips::default()
        },
    );
    assert_eq!(h.entities.group(G).expect("group").owner_user_id, "u2");
    assert_eq!(h.entities.member(G, "u2").expect("u2").role_level, 100);
    assert_eq!(h.entities.member(G, ME).expect("me").role_level, 20);
    assert_eq!(events.len(), 3, "{events:?}");

    let mut muted = member_info("u3", 20, "Carol");
    muted.mute_end_time = 0;
    let events = h.apply(
        1512,
        &GroupMemberMutedTips {
            group: Some(group_info()),
            muted_user: Some(muted),
            muted_seconds: 60,
            group_member_version: 7,
            group_member_version_id: VID.into(),
            ..GroupMemberMutedTips::default()
        },
    );
    assert_eq!(
        h.entities.member(G, "u3").expect("u3").mute_end_time,
        T0 + 60_000
    );
    assert!(matches!(
        events.as_slice(),
        [EntityEvent::OnGroupMemberInfoChanged(_)]
    ));

    let events = h.apply(
        1511,
        &GroupDismissedTips {
            group: Some(group_info()),
            op_user: Some(member_info("u2", 100, "Bob")),
            operation_time: T0,
        },
    );
    assert!(h.entities.group(G).is_none());
    assert!(matches!(
        events.as_slice(),
        [EntityEvent::OnGroupDismissed(g), EntityEvent::OnJoinedGroupDeleted(_)] if g.is_dismissed()
    ));
}

/// Feature 4: a renamed member's row and the sender name shown on their messages change.
#[test]
fn member_rename_rewrites_member_row_and_message_sender_names() {
    let mut h = Harness::with_group();
    let conv = ConversationId::group(G);
    let mut seed = Changes::new();
    seed.messages.push(
        msg()
            .conv("sg_g1")
            .seq(1)
            .text("hi")
            .from("u2", "Bob")
            .build(),
    );
    seed.messages.push(
        msg()
            .conv("sg_g1")
            .seq(2)
            .text("yo")
            .from("u3", "Carol")
            .build(),
    );
    let last = msg()
        .conv("sg_g1")
        .seq(3)
        .text("bye")
        .from("u2", "Bob")
        .build();
    seed.messages.push(last.clone());
    seed.sync_states.insert(
        conv.clone(),
        chorus_core::SyncState::from_known(Seq(1), [Seq(1), Seq(2), Seq(3)].into_iter().collect()),
    );
    let mut conversation = Conversation::new(conv.clone());
    conversation.max_seq = Seq(3);
    conversation.latest_message = Some(last);
    seed.conversations.push(conversation);
    block_on(h.store.save_changes(&seed)).expect("seed");
    h.entities.observe(&seed);
    let _ = std::iter::from_fn(|| h.entities.poll_event()).count();

    let mut renamed = member_info("u2", 20, "Robert");
    renamed.face_url = "https://face/robert".into();
    let events = h.apply(
        1516,
        &GroupMemberInfoSetTips {
            group: Some(group_info()),
            op_user: Some(member_info("u2", 20, "Robert")),
            operation_time: T0,
            changed_user: Some(renamed),
            group_member_version: 6,
            group_member_version_id: VID.into(),
            group_sort_version: 0,
        },
    );
    let row = h.entities.member(G, "u2").expect("u2").clone();
    assert_eq!(row.nickname, "Robert");
    assert_eq!(events, vec![EntityEvent::OnGroupMemberInfoChanged(row)]);
    let stored = block_on(h.store.messages(
        &conv,
        Seq(1)..=Seq(3),
        10,
        chorus_core::Direction::Ascending,
    ))
    .expect("messages");
    let names: Vec<(&str, &str)> = stored
        .iter()
        .map(|m| (m.sender_nickname.as_str(), m.sender_face_url.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Robert", "https://face/robert"),
            ("Carol", ""),
            ("Robert", "https://face/robert")
        ]
    );
    let latest = h
        .entities
        .conversation(&conv)
        .and_then(|c| c.latest_message.clone())
        .expect("latest");
    assert_eq!(latest.sender_nickname, "Robert");
    let stored_latest = block_on(h.store.conversation(&conv))
        .expect("conversation")
        .and_then(|c| c.latest_message)
        .expect("stored latest");
    assert_eq!(stored_latest.sender_nickname, "Robert");
}

#[test]
fn role_change_does_not_rewrite_messages() {
    let mut h = Harness::with_group();
    let tips = GroupMemberInfoSetTips {
        group: Some(group_info()),
        changed_user: Some(member_info("u2", 60, "Bob")),
        group_member_version: 6,
        group_member_version_id: VID.into(),
        ..GroupMemberInfoSetTips::default()
    };
    let message = h.notif(1517, &tips);
    let batch = h.entities.apply_notification(T0, &message).expect("apply");
    assert!(batch.changes.message_rewrites.is_empty());
    assert_eq!(batch.changes.members.len(), 1);
    h.commit(batch);
    assert_eq!(h.entities.member(G, "u2").expect("u2").role_level, 60);
}

/// A tip past local+1 is shown, but the marker stays and the member delta is requested.
#[test]
fn member_version_gap_requests_the_incremental_call_and_applies_the_delta() {
    let mut h = Harness::with_group();
    let tips = GroupMemberInfoSetTips {
        group: Some(group_info()),
        changed_user: Some(member_info("u3", 20, "Caroline")),
        group_member_version: 9,
        group_member_version_id: VID.into(),
        ..GroupMemberInfoSetTips::default()
    };
    h.apply(1516, &tips);
    assert_eq!(h.entities.member(G, "u3").expect("u3").nickname, "Caroline");
    assert_eq!(
        member_version(&h),
        Some(5),
        "a gap does not advance the marker"
    );

    let request = h.poll();
    assert_eq!(request.path, "/group/get_incremental_group_members_batch");
    assert_eq!(
        body(&request),
        json!({"userID": ME, "reqList": [{"groupID": G, "versionID": VID, "version": 5}]})
    );
    assert!(
        h.entities.poll_rest().is_none(),
        "one request per list at a time"
    );

    let events = h.respond(
        &request,
        json!({"respList": {G: {
            "version": 9, "versionID": VID, "full": false,
            "delete": ["u2"],
            "insert": [member_info("u5", 20, "Eve")],
            "update": [member_info("u3", 20, "Caroline")],
            "group": null, "sortVersion": 0
        }}}),
    );
    let users: Vec<String> = h.stored_members().into_iter().map(|m| m.user_id).collect();
    assert_eq!(users, [ME, "u3", "u5"]);
    assert_eq!(member_version(&h), Some(9));
    assert!(events
        .iter()
        .any(|e| matches!(e, EntityEvent::OnGroupMemberDeleted(m) if m.user_id == "u2")));
    assert!(events
        .iter()
        .any(|e| matches!(e, EntityEvent::OnGroupMemberAdded(m) if m.user_id == "u5")));

    // Version 10 now follows the stored 9 and is applied locally.
    let tips = GroupMemberInfoSetTips {
        group: Some(group_info()),
        changed_user: Some(member_info("u5", 60, "Eve")),
        group_member_version: 10,
        group_member_version_id: VID.into(),
        ..GroupMemberInfoSetTips::default()
    };
    h.apply(1517, &tips);
    assert_eq!(member_version(&h), Some(10));
    assert!(h.entities.poll_rest().is_none());
}

/// Feature 5: an emptied remark arrives as a friend delta; the display falls back to the
/// nickname.
#[test]
fn friend_remark_deletion_syncs_through_the_delta() {
    let mut h = Harness::with_group();
    assert_eq!(h.entities.friend("u2").expect("u2").display_name(), "Bobby");
    let events = h.apply(
        1210,
        &FriendsInfoUpdateTips {
            from_to_user_id: Some(FromToUserId {
                from_user_id: ME.into(),
                to_user_id: ME.into(),
            }),
            friend_i_ds: vec!["u2".into()],
            friend_version: 4,
            friend_version_id: VID.into(),
        },
    );
    assert!(
        events.is_empty(),
        "the tip has no remark; the delta brings it"
    );
    let request = h.poll();
    assert_eq!(request.path, "/friend/get_incremental_friends");
    assert_eq!(
        body(&request),
        json!({"userID": ME, "versionID": VID, "version": 3})
    );
    let events = h.respond(
        &request,
        json!({"version": 4, "versionID": VID, "full": false, "delete": [],
               "insert": [], "update": [friend_info("u2", "", "Bob")], "sortVersion": 0}),
    );
    let friend = h.entities.friend("u2").expect("u2").clone();
    assert_eq!(friend.remark, "");
    assert_eq!(friend.display_name(), "Bob");
    assert_eq!(events, vec![EntityEvent::OnFriendInfoChanged(friend)]);
    let stored = block_on(h.store.friends()).expect("friends");
    assert_eq!(stored.first().map(Friend::display_name), Some("Bob"));
    assert_eq!(
        h.entities
            .version(VersionKind::Friends, ME)
            .map(|m| m.version),
        Some(4)
    );
}

#[test]
fn friend_added_and_deleted_tips_apply_in_version_order() {
    let mut h = Harness::with_group();
    let events = h.apply(
        1204,
        &FriendAddedTips {
            friend: Some(friend_info("u9", "", "Ivy")),
            operation_time: T0,
            op_user: None,
            friend_version: 4,
            friend_version_id: VID.into(),
        },
    );
    assert!(matches!(events.as_slice(), [EntityEvent::OnFriendAdded(f)] if f.user_id() == "u9"));
    let events = h.apply(
        1205,
        &FriendDeletedTips {
            from_to_user_id: Some(FromToUserId {
                from_user_id: ME.into(),
                to_user_id: "u2".into(),
            }),
            friend_version: 5,
            friend_version_id: VID.into(),
        },
    );
    assert!(matches!(events.as_slice(), [EntityEvent::OnFriendDeleted(f)] if f.user_id() == "u2"));
    let ids: Vec<String> = block_on(h.store.friends())
        .expect("friends")
        .into_iter()
        .map(|f| f.user.user_id)
        .collect();
    assert_eq!(ids, ["u9"]);
    assert_eq!(
        h.entities
            .version(VersionKind::Friends, ME)
            .map(|m| m.version),
        Some(5)
    );
    assert!(h.entities.poll_rest().is_none());
}

/// Feature 7: a revoke notification rewrites the stored message with revoker, role and time.
#[test]
fn revoke_rewrites_the_stored_message() {
    let mut h = Harness::with_group();
    let conv = ConversationId::group(G);
    let target = msg()
        .conv("sg_g1")
        .seq(42)
        .client_id("c42")
        .text("secret")
        .from("u2", "Bob")
        .build();
    let mut seed = Changes::new();
    seed.messages.push(target);
    seed.sync_states.insert(
        conv.clone(),
        chorus_core::SyncState::from_known(Seq(42), [Seq(42)].into_iter().collect()),
    );
    block_on(h.store.save_changes(&seed)).expect("seed");

    let tips = RevokeMsgTips {
        revoker_user_id: ME.into(),
        client_msg_id: "c42".into(),
        revoke_time: T0 + 99,
        sesstion_type: 3,
        seq: 42,
        conversation_id: "sg_g1".into(),
        is_admin_revoke: false,
    };
    let events = h.apply(2101, &tips);
    let stored = block_on(h.store.message_by_client_id("c42"))
        .expect("query")
        .expect("message");
    assert_eq!(
        stored.status,
        MessageStatus::Revoked {
            by: ME.into(),
            role: 100,
            nickname: "Alice".into(),
            time: T0 + 99
        }
    );
    assert_eq!(stored.content_type, 2101);
    assert_ne!(stored.content.text(), Some("secret"));
    match events.as_slice() {
        [EntityEvent::OnNewRecvMessageRevoked(info)] => {
            assert_eq!(info.seq, Seq(42));
            assert_eq!(info.revoker_role, 100);
            assert_eq!(info.conversation_id, conv);
        }
        other => panic!("unexpected events {other:?}"),
    }
    // The stored form survives the wire round trip as a revoked message.
    let wire = stored.to_wire().expect("wire");
    let back = chorus_core::Message::from_wire(conv, wire).expect("back");
    assert_eq!(back.status, stored.status);
}

#[test]
fn has_read_receipt_sets_unread_and_total() {
    let mut h = Harness::new();
    let conv = ConversationId::group(G);
    let mut conversation = Conversation::new(conv.clone());
    conversation.max_seq = Seq(10);
    let mut seed = Changes::new();
    seed.conversations.push(conversation);
    block_on(h.store.save_changes(&seed)).expect("seed");
    h.entities.observe(&seed);
    assert!(
        matches!(h.entities.poll_event(), Some(EntityEvent::OnNewConversation(rows)) if rows[0].id == conv),
        "a conversation written by message sync is announced"
    );
    assert_eq!(
        h.entities.poll_event(),
        Some(EntityEvent::OnTotalUnreadMessageCountChanged(10))
    );
    // The same row again changes nothing and says nothing.
    h.entities.observe(&seed);
    assert_eq!(h.entities.poll_event(), None);

    let mut tips = MarkAsReadTips {
        mark_as_read_user_id: ME.into(),
        conversation_id: "sg_g1".into(),
        seqs: vec![],
        has_read_seq: 7,
    };
    let events = h.apply(2200, &tips);
    let view = h
        .entities
        .conversation(&conv)
        .expect("conversation")
        .clone();
    assert_eq!(view.unread_count(), 3);
    assert_eq!(
        events,
        vec![
            EntityEvent::OnConversationChanged(vec![view.clone()]),
            EntityEvent::OnTotalUnreadMessageCountChanged(3)
        ]
    );
    assert_eq!(
        block_on(h.store.conversation(&conv))
            .expect("stored")
            .map(|c| c.has_read_seq),
        Some(Seq(7))
    );
    // An older receipt arriving late changes nothing.
    tips.has_read_seq = 5;
    assert!(h.apply(2200, &tips).is_empty());
    // A peer's receipt is not ours.
    tips.mark_as_read_user_id = "u2".into();
    tips.has_read_seq = 10;
    assert!(h.apply(2200, &tips).is_empty());
    assert_eq!(h.entities.total_unread(), 3);
}

#[test]
fn duplicate_notification_is_applied_once() {
    let mut h = Harness::with_group();
    let tips = MemberKickedTips {
        group: Some(group_info()),
        kicked_user_list: vec![member_info("u3", 20, "Carol")],
        ..MemberKickedTips::default()
    };
    let message = h.notif(1508, &tips);
    assert_eq!(h.apply_msg(&message).len(), 1);
    assert!(h.apply_msg(&message).is_empty());
}

/// Full answers page the list (100 per page), replace it in one batch and store the marker.
#[test]
fn full_sync_pages_every_list_and_stores_the_markers() {
    let mut h = Harness::new();
    h.entities.sync_all();
    let mut paths = Vec::new();
    let mut pending = Vec::new();
    while let Some(request) = h.entities.poll_rest() {
        paths.push(request.path);
        pending.push(request);
    }
    assert_eq!(
        paths,
        [
            "/user/get_users_info",
            "/group/get_incremental_join_groups",
            "/friend/get_incremental_friends",
            "/conversation/get_incremental_conversations"
        ]
    );
    let [users, groups, friends, conversations] = pending.as_slice() else {
        panic!("four requests");
    };
    assert_eq!(body(users), json!({"userIDs": [ME]}));
    assert_eq!(
        body(friends),
        json!({"userID": ME, "versionID": "", "version": 0})
    );

    let events = h.respond(
        users,
        json!({"usersInfo": [UserInfo { user_id: ME.into(), nickname: "Alice".into(), ..UserInfo::default() }]}),
    );
    assert!(
        matches!(events.as_slice(), [EntityEvent::OnSelfInfoUpdated(u)] if u.nickname == "Alice")
    );

    // Friends: full ⇒ page 1 (100 rows) ⇒ page 2 (1 row) ⇒ one batch.
    let full = |id: &str| json!({"version": 7, "versionID": id, "full": true, "delete": [], "insert": [], "update": [], "sortVersion": 0});
    assert!(h
        .respond(friends, full("f0000000000000000000000f"))
        .is_empty());
    let page1 = h.poll();
    assert_eq!(page1.path, "/friend/get_friend_list");
    assert_eq!(
        body(&page1),
        json!({"pagination": {"pageNumber": 1, "showNumber": 100}, "userID": ME})
    );
    let rows: Vec<FriendInfo> = (0..100)
        .map(|i| friend_info(&format!("f{i:03}"), "", "x"))
        .collect();
    assert!(h
        .respond(&page1, json!({"friendsInfo": rows, "total": 101}))
        .is_empty());
    assert!(
        block_on(h.store.friends()).expect("friends").is_empty(),
        "nothing saved mid-fetch"
    );
    let page2 = h.poll();
    assert_eq!(body(&page2)["pagination"]["pageNumber"], 2);
    let events = h.respond(
        &page2,
        json!({"friendsInfo": [friend_info("f100", "", "x")], "total": 101}),
    );
    assert_eq!(events.len(), 101);
    assert_eq!(block_on(h.store.friends()).expect("friends").len(), 101);
    assert_eq!(
        block_on(h.store.version(VersionKind::Friends, ME)).expect("marker"),
        Some(VersionMarker {
            version_id: "f0000000000000000000000f".into(),
            version: 7
        })
    );

    // Joined groups: full ⇒ one short page ⇒ then the member batch for the group ⇒ full ⇒ page.
    assert!(h
        .respond(groups, full("a0000000000000000000000a"))
        .is_empty());
    let page = h.poll();
    assert_eq!(page.path, "/group/get_joined_group_list");
    assert_eq!(body(&page)["fromUserID"], ME);
    let events = h.respond(&page, json!({"total": 1, "groups": [group_info()]}));
    assert!(matches!(events.as_slice(), [EntityEvent::OnJoinedGroupAdded(g)] if g.group_id == G));

    // Conversations: full ⇒ the page request goes out before the member batch.
    assert!(h
        .respond(conversations, full("c0000000000000000000000c"))
        .is_empty());
    let request = h.poll();
    assert_eq!(request.path, "/conversation/get_owner_conversation");
    assert_eq!(
        body(&request),
        json!({"userID": ME, "pagination": {"pageNumber": 1, "showNumber": 300}})
    );
    let mut record = PbConversation {
        owner_user_id: ME.into(),
        conversation_id: "sg_g1".into(),
        conversation_type: 3,
        group_id: G.into(),
        is_pinned: true,
        ..PbConversation::default()
    };
    record.max_seq = 0;
    let events = h.respond(&request, json!({"total": 1, "conversations": [record]}));
    assert!(
        matches!(events.as_slice(), [EntityEvent::OnNewConversation(c)] if c.len() == 1 && c[0].is_pinned)
    );

    let batch = h.poll();
    assert_eq!(batch.path, "/group/get_incremental_group_members_batch");
    assert_eq!(
        body(&batch),
        json!({"userID": ME, "reqList": [{"groupID": G, "versionID": "", "version": 0}]})
    );
    assert!(h
        .respond(&batch, json!({"respList": {G: {"version": 3, "versionID": "b0000000000000000000000b", "full": true,
            "delete": [], "insert": [], "update": [], "group": group_info(), "sortVersion": 0}}}))
        .is_empty());
    let page = h.poll();
    assert_eq!(page.path, "/group/get_group_member_list");
    assert_eq!(
        body(&page),
        json!({"pagination": {"pageNumber": 1, "showNumber": 100}, "groupID": G, "filter": 0, "keyword": ""})
    );
    let events = h.respond(
        &page,
        json!({"total": 2, "members": [member_info(ME, 100, "Alice"), member_info("u2", 20, "Bob")]}),
    );
    assert_eq!(events.len(), 2);
    assert_eq!(h.stored_members().len(), 2);
    assert_eq!(member_version(&h), Some(3));
    assert!(h.entities.poll_rest().is_none());
}

#[test]
fn conversation_delta_keeps_local_seqs() {
    let mut h = Harness::new();
    let conv = ConversationId::group(G);
    let mut local = Conversation::new(conv.clone());
    local.max_seq = Seq(20);
    local.has_read_seq = Seq(15);
    let mut seed = Changes::new();
    seed.conversations.push(local);
    seed.versions
        .push(marker(VersionKind::Conversations, ME, VID, 2));
    block_on(h.store.save_changes(&seed)).expect("seed");
    h.entities = block_on(Entities::load(&h.store, ME)).expect("load");

    h.apply(
        1300,
        &chorus_proto::pb::sdkws::ConversationUpdateTips {
            user_id: ME.into(),
            conversation_id_list: vec!["sg_g1".into()],
        },
    );
    let request = h.poll();
    assert_eq!(request.path, "/conversation/get_incremental_conversations");
    assert_eq!(body(&request)["version"], 2);
    let record = PbConversation {
        owner_user_id: ME.into(),
        conversation_id: "sg_g1".into(),
        conversation_type: 3,
        group_id: G.into(),
        group_at_type: 4,
        recv_msg_opt: 2,
        ..PbConversation::default()
    };
    let events = h.respond(
        &request,
        json!({"version": 3, "versionID": VID, "full": false, "delete": [], "insert": [], "update": [record]}),
    );
    let view = h
        .entities
        .conversation(&conv)
        .expect("conversation")
        .clone();
    assert_eq!(view.group_at_type, 4);
    assert_eq!(view.recv_msg_opt, 2);
    assert_eq!(
        view.max_seq,
        Seq(20),
        "the record's maxSeq is not the conversation's"
    );
    assert_eq!(view.unread_count(), 5);
    assert_eq!(events, vec![EntityEvent::OnConversationChanged(vec![view])]);
}

#[test]
fn self_info_tip_refetches_the_profile() {
    let mut h = Harness::new();
    assert!(h
        .apply(1303, &UserInfoUpdatedTips { user_id: ME.into() })
        .is_empty());
    let request = h.poll();
    assert_eq!(request.path, "/user/get_users_info");
    let events = h.respond(
        &request,
        json!({"usersInfo": [UserInfo { user_id: ME.into(), nickname: "Alice2".into(), ..UserInfo::default() }]}),
    );
    assert_eq!(
        h.entities.self_user().map(|u| u.nickname.as_str()),
        Some("Alice2")
    );
    assert!(matches!(
        events.as_slice(),
        [EntityEvent::OnSelfInfoUpdated(_)]
    ));
    assert_eq!(
        block_on(h.store.user(ME))
            .expect("user")
            .map(|u| u.nickname),
        Some("Alice2".to_owned())
    );
}

#[test]
fn server_errors_and_unknown_tags_are_typed_and_release_the_list() {
    let mut h = Harness::new();
    h.entities.sync_members(G);
    let request = h.poll();
    let err = h
        .entities
        .handle_rest(
            request.tag,
            r#"{"errCode":1002,"errMsg":"NoPermissionError","errDlt":""}"#,
        )
        .expect_err("server error");
    assert!(matches!(
        err.kind(),
        EntitiesErrorKind::Server { code: 1002, .. }
    ));
    assert!(matches!(
        h.entities
            .handle_rest(request.tag, "{}")
            .as_ref()
            .map_err(EntitiesError::kind),
        Err(EntitiesErrorKind::UnknownTag(_))
    ));
    // The list is idle again: asking again issues a new request.
    h.entities.sync_members(G);
    let again = h.poll();
    assert_ne!(again.tag, request.tag);
    assert!(matches!(
        h.entities
            .handle_rest(again.tag, "not json")
            .as_ref()
            .map_err(EntitiesError::kind),
        Err(EntitiesErrorKind::Json(_))
    ));
}

#[test]
fn malformed_notification_content_is_a_typed_error() {
    let mut h = Harness::new();
    let mut message = h.notif(1519, &GroupInfoSetAnnouncementTips::default());
    message.content = b"{\"detail\":\"{not json\"}".to_vec();
    assert!(matches!(
        h.entities
            .apply_notification(T0, &message)
            .as_ref()
            .map_err(EntitiesError::kind),
        Err(EntitiesErrorKind::Content(_))
    ));
    let text = MsgData {
        content_type: 101,
        content: br#"{"content":"hi"}"#.to_vec(),
        ..MsgData::default()
    };
    assert!(h
        .entities
        .apply_notification(T0, &text)
        .expect("ignored")
        .is_empty());
}

#[test]
fn group_created_and_self_entry_add_the_group_and_ask_for_its_members() {
    let mut h = Harness::new();
    let events = h.apply(
        1501,
        &GroupCreatedTips {
            group: Some(group_info()),
            op_user: Some(member_info(ME, 100, "Alice")),
            member_list: vec![member_info("u2", 20, "Bob"), member_info(ME, 100, "Alice")],
            operation_time: T0,
            group_owner_user: Some(member_info(ME, 100, "Alice")),
            group_member_version: 1,
            group_member_version_id: VID.into(),
        },
    );
    assert!(matches!(events.first(), Some(EntityEvent::OnJoinedGroupAdded(g)) if g.group_id == G));
    let added = events
        .iter()
        .filter(|e| matches!(e, EntityEvent::OnGroupMemberAdded(_)))
        .count();
    assert_eq!(added, 2, "each member once: {events:?}");
    assert_eq!(h.stored_members().len(), 2);
    assert_eq!(block_on(h.store.groups()).expect("groups").len(), 1);
    // No local member version yet: the member list is synced.
    let request = h.poll();
    assert_eq!(request.path, "/group/get_incremental_group_members_batch");

    let mut h = Harness::new();
    let mut entrant = member_info(ME, 20, "Alice");
    entrant.join_source = 3;
    entrant.inviter_user_id = String::new();
    let events = h.apply(
        1510,
        &MemberEnterTips {
            group: None,
            entrant_user: Some(entrant),
            operation_time: T0,
            group_member_version: 4,
            group_member_version_id: VID.into(),
        },
    );
    assert_eq!(
        h.entities.member(G, ME).map(|m| m.join_source),
        Some(3),
        "{events:?}"
    );
    let mut paths: Vec<&str> = std::iter::from_fn(|| h.entities.poll_rest())
        .map(|r| r.path)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/group/get_incremental_group_members_batch",
            "/group/get_incremental_join_groups"
        ]
    );
}

#[test]
fn full_member_refetch_keeps_unchanged_rows_and_reports_only_differences() {
    let mut h = Harness::with_group();
    h.entities.sync_members(G);
    let request = h.poll();
    assert!(h
        .respond(
            &request,
            json!({"respList": {G: {"version": 1, "versionID": "b0000000000000000000000b", "full": true,
                "delete": null, "insert": null, "update": null, "group": null, "sortVersion": 0}}}),
        )
        .is_empty());
    let page = h.poll();
    let events = h.respond(
        &page,
        json!({"total": 3, "members": [
            member_info(ME, 100, "Alice"),
            member_info("u2", 20, "Bob"),
            member_info("u4", 20, "Dave"),
        ]}),
    );
    let users: Vec<String> = h.stored_members().into_iter().map(|m| m.user_id).collect();
    assert_eq!(users, [ME, "u2", "u4"]);
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events
        .iter()
        .any(|e| matches!(e, EntityEvent::OnGroupMemberDeleted(m) if m.user_id == "u3")));
    assert!(events
        .iter()
        .any(|e| matches!(e, EntityEvent::OnGroupMemberAdded(m) if m.user_id == "u4")));
    assert_eq!(member_version(&h), Some(1));
}
