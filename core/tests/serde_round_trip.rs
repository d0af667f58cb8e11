//! Stores persist domain values through serde: everything in a batch must come back equal, and
//! malformed stored data must fail with an error, not be accepted.

use chorus_core::changes::{
    Changes, GapChange, MemberKey, OutboxChange, OutboxEntry, SyncState, VersionKind,
    VersionMarker, VersionUpdate,
};
use chorus_core::model::{
    Announcement, Content, Conversation, Friend, Group, Member, Message, MessageStatus, User,
};
use chorus_core::proto::constants::AllowType;
use chorus_core::{assert_ranges, ConversationId, Seq, SeqRange, SeqRanges};

fn full_batch() -> Changes {
    let g1 = ConversationId::group("g1");
    let mut revoked = Message::text(g1.clone(), Seq(2), "c2", "gone");
    revoked.status = MessageStatus::Revoked {
        by: "owner".into(),
        role: 100,
        nickname: "Owner".into(),
        time: 7,
    };
    let mut raw = Message::text(g1.clone(), Seq(3), "c3", "");
    raw.content_type = 110;
    raw.content = Content::Raw(br#"{"data":"x"}"#.to_vec());
    let mut failed = Message::text(ConversationId::single("u2", "u1"), Seq(0), "c4", "hi");
    failed.status = MessageStatus::Failed { code: 1402 };
    let mut conversation = Conversation::new(g1.clone());
    conversation.latest_message = Some(revoked.clone());
    conversation.max_seq = Seq(3);
    let known: SeqRanges = [1, 2, 3, 9].into_iter().map(Seq).collect();
    let mut changes = Changes::new()
        .message(Message::text(g1.clone(), Seq(1), "c1", "hello"))
        .message(revoked)
        .message(raw)
        .message(failed)
        .conversation(conversation)
        .sync_state(g1.clone(), SyncState::from_known(Seq(1), known))
        .outbox_change(OutboxChange::Put(OutboxEntry {
            client_msg_id: "c4".into(),
            conversation_id: ConversationId::single("u1", "u2"),
            attempts: 2,
            created_at: 5,
            last_error: Some(1402),
        }))
        .outbox_change(OutboxChange::Remove {
            client_msg_id: "c0".into(),
        });
    changes.gaps_opened.push(GapChange {
        conversation_id: g1.clone(),
        range: SeqRange::new(Seq(4), Seq(8)).unwrap(),
    });
    changes.users.push(User {
        user_id: "u1".into(),
        nickname: "Alice".into(),
        ..User::default()
    });
    changes.friends.push(Friend {
        user: User {
            user_id: "u2".into(),
            ..User::default()
        },
        remark: "Bobby".into(),
        ..Friend::default()
    });
    changes.groups.push(Group {
        group_id: "g1".into(),
        name: "Work".into(),
        announcement: Announcement {
            text: "hello".into(),
            editor_user_id: "u1".into(),
            updated_at: 9,
        },
        introduction: String::new(),
        face_url: String::new(),
        owner_user_id: "u1".into(),
        creator_user_id: "u1".into(),
        create_time: 1,
        member_count: 1,
        ex: String::new(),
        status: 0,
        group_type: 2,
        need_verification: 0,
        look_member_info: AllowType::NotAllowed,
        apply_member_friend: AllowType::Allowed,
        history_for_new_members: Some(false),
    });
    changes.members.push(Member {
        group_id: "g1".into(),
        user_id: "u1".into(),
        role_level: 100,
        join_source: 4,
        ..Member::default()
    });
    changes.member_deletes.push(MemberKey {
        group_id: "g1".into(),
        user_id: "u9".into(),
    });
    changes.versions.push(VersionUpdate {
        kind: VersionKind::Conversations,
        key: "u1".into(),
        marker: Some(VersionMarker {
            version_id: "abc".into(),
            version: 4,
        }),
    });
    changes.clear_members_of.push("g2".into());
    changes
}

#[test]
fn a_full_batch_round_trips_through_json() {
    let changes = full_batch();
    let json = serde_json::to_string(&changes).unwrap();
    let back: Changes = serde_json::from_str(&json).unwrap();
    assert_eq!(back, changes);
    let state = back.sync_states.values().next().unwrap();
    assert_ranges!(state.known, [1..=3] gap [9..=9]);
}

#[test]
fn invalid_conversation_ids_are_refused() {
    let error = serde_json::from_str::<ConversationId>(r#""xx_1""#).unwrap_err();
    assert!(
        error.to_string().contains("invalid conversation id"),
        "{error}"
    );
    assert_eq!(
        serde_json::from_str::<ConversationId>(r#""sg_g1""#).unwrap(),
        ConversationId::group("g1")
    );
}

#[test]
fn stored_ranges_are_normalised_on_load() {
    let ranges: SeqRanges = serde_json::from_str(
        r#"[{"start":9,"end":12},{"start":1,"end":3},{"start":2,"end":5},{"start":7,"end":6},{"start":0,"end":0}]"#,
    )
    .unwrap();
    assert_ranges!(ranges, [1..=5] gap [9..=12]);
}

#[test]
fn unknown_wire_enums_in_stored_data_are_refused() {
    let json = serde_json::to_string(&full_batch().messages[0])
        .unwrap()
        .replace(r#""session_type":3"#, r#""session_type":9"#);
    assert!(json.contains(r#""session_type":9"#));
    assert!(serde_json::from_str::<Message>(&json).is_err());
}
