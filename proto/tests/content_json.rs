//! Go `encoding/json` shape of the generated types, notification content in two JSON layers,
//! revoked-message content, and the typed constants.

use chorus_proto::pb::Map;

use chorus_proto::constants::{
    AllowType, ContentType, ErrorCode, GroupStatus, GroupType, JoinSource, MsgFrom, MsgStatus,
    NeedVerification, PlatformClass, PlatformId, ReqIdentifier, RoleLevel, SessionType,
    UnknownValue,
};
use chorus_proto::content::{
    decode_notification, decode_revoked_content, encode_notification, encode_revoked_content,
    notification_detail, ContentError, CustomElem, Notification, TextElem,
};
use chorus_proto::json::{to_go_string, to_go_vec};
use chorus_proto::pb::conversation::Conversation;
use chorus_proto::pb::msg::SendMsgResp;
use chorus_proto::pb::protobuf::{Int32Value, Int64Value, StringValue};
use chorus_proto::pb::sdkws::{
    FriendsInfoUpdateTips, FromToUserId, GroupCreatedTips, GroupInfo, GroupInfoForSet,
    GroupInfoSetAnnouncementTips, GroupMemberFullInfo, MarkAsReadTips, MemberInvitedTips,
    MessageRevokedContent, MsgData, OfflinePushInfo, PullMsgs, RevokeMsgTips, UserInfoWithEx,
};
use serde_json::{json, Value};

fn member(user_id: &str, role_level: i32) -> GroupMemberFullInfo {
    GroupMemberFullInfo {
        group_id: "3452345123".into(),
        user_id: user_id.into(),
        role_level,
        join_time: 1_716_000_000_000,
        nickname: format!("nick {user_id}"),
        join_source: 2,
        inviter_user_id: "u1".into(),
        ..Default::default()
    }
}

fn group() -> GroupInfo {
    GroupInfo {
        group_id: "3452345123".into(),
        group_name: "team".into(),
        notification: "Meeting at 10".into(),
        owner_user_id: "u1".into(),
        member_count: 3,
        group_type: 2,
        notification_update_time: 1_716_000_000_000,
        notification_user_id: "u1".into(),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Go JSON shape
// ---------------------------------------------------------------------------------------------

#[test]
fn default_msg_data_writes_every_key_in_schema_order() {
    let text = serde_json::to_string(&MsgData::default()).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"sendID":"","recvID":"","groupID":"","clientMsgID":"","serverMsgID":"","#,
            r#""senderPlatformID":0,"senderNickname":"","senderFaceURL":"","sessionType":0,"#,
            r#""msgFrom":0,"contentType":0,"content":"","seq":0,"sendTime":0,"createTime":0,"#,
            r#""status":0,"isRead":false,"options":{},"offlinePushInfo":null,"atUserIDList":[],"#,
            r#""attachedInfo":"","ex":""}"#
        )
    );
}

#[test]
fn msg_data_values_use_go_forms() {
    let data = MsgData {
        send_id: "u1".into(),
        content: br#"{"content":"hi"}"#.to_vec(),
        seq: i64::MAX,
        options: Map::from([("history".to_string(), false), ("a".to_string(), true)]),
        offline_push_info: Some(OfflinePushInfo {
            i_os_push_sound: "+1".into(),
            i_os_badge_count: true,
            ..Default::default()
        }),
        at_user_id_list: vec!["u2".into()],
        ..Default::default()
    };
    let json = serde_json::to_value(&data).unwrap();
    // bytes: standard padded base64.
    assert_eq!(json["content"], "eyJjb250ZW50IjoiaGkifQ==");
    // int64: a JSON number, not a string.
    assert_eq!(json["seq"], json!(i64::MAX));
    assert_eq!(json["options"], json!({"a": true, "history": false}));
    assert_eq!(json["offlinePushInfo"]["iOSPushSound"], "+1");
    assert_eq!(json["offlinePushInfo"]["iOSBadgeCount"], true);
    assert_eq!(json["atUserIDList"], json!(["u2"]));

    let back: MsgData = serde_json::from_value(json).unwrap();
    assert_eq!(back, data);
}

#[test]
fn protocol_typos_and_capitals_are_the_json_keys() {
    let member = serde_json::to_value(GroupMemberFullInfo::default()).unwrap();
    assert!(member.get("appMangerLevel").is_some());
    assert!(member.get("appManagerLevel").is_none());

    let revoke = serde_json::to_value(RevokeMsgTips::default()).unwrap();
    assert!(revoke.get("sesstionType").is_some());
    assert!(revoke.get("sessionType").is_none());

    let pull = serde_json::to_value(PullMsgs::default()).unwrap();
    assert_eq!(pull, json!({"Msgs": [], "isEnd": false, "endSeq": 0}));

    let conversation = serde_json::to_value(Conversation::default()).unwrap();
    let keys: Vec<&str> = conversation
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 17);
    assert!(keys.contains(&"latestMsgDestructTime"));
}

#[test]
fn unset_messages_are_null_and_empty_lists_are_arrays() {
    let tips = GroupCreatedTips::default();
    let json = serde_json::to_value(&tips).unwrap();
    assert_eq!(
        json,
        json!({
            "group": null,
            "opUser": null,
            "memberList": [],
            "operationTime": 0,
            "groupOwnerUser": null,
            "groupMemberVersion": 0,
            "groupMemberVersionID": ""
        })
    );
    let resp = serde_json::to_value(SendMsgResp::default()).unwrap();
    assert_eq!(resp["modify"], Value::Null);
}

#[test]
fn null_is_accepted_for_every_kind_of_field() {
    let input = json!({
        "sendID": null, "recvID": "r", "senderPlatformID": null, "content": null, "seq": null,
        "isRead": null, "options": null, "offlinePushInfo": null, "atUserIDList": null,
        "unknownKey": {"ignored": [1, 2]}
    });
    let data: MsgData = serde_json::from_value(input).unwrap();
    assert_eq!(
        data,
        MsgData {
            recv_id: "r".into(),
            ..Default::default()
        }
    );

    // null list elements and null map values read as defaults, as Go does.
    let tips: GroupCreatedTips =
        serde_json::from_value(json!({"memberList": [null, {"userID": "u2"}]})).unwrap();
    assert_eq!(tips.member_list.len(), 2);
    assert_eq!(tips.member_list[0], GroupMemberFullInfo::default());
    assert_eq!(tips.member_list[1].user_id, "u2");

    let options: MsgData = serde_json::from_value(json!({"options": {"history": null}})).unwrap();
    assert_eq!(options.options.get("history"), Some(&false));

    // An empty object is the default value.
    let empty: MsgData = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, MsgData::default());
}

#[test]
fn wrong_json_types_are_errors_not_panics() {
    assert!(serde_json::from_value::<MsgData>(json!({"seq": "5"})).is_err());
    assert!(serde_json::from_value::<MsgData>(json!({"seq": 1.5})).is_err());
    assert!(serde_json::from_value::<MsgData>(json!({"content": "not base64!"})).is_err());
    assert!(serde_json::from_value::<MsgData>(json!({"atUserIDList": "u1"})).is_err());
    assert!(serde_json::from_value::<GroupInfo>(json!({"memberCount": -1})).is_err());
    assert!(serde_json::from_slice::<MsgData>(b"\xff\xfe").is_err());
}

#[test]
fn base64_accepts_go_line_breaks() {
    let data: MsgData = serde_json::from_value(json!({"content": "aGVs\r\nbG8="})).unwrap();
    assert_eq!(data.content, b"hello");
}

#[test]
fn wrappers_are_bare_scalars_and_null_means_unset() {
    let update = UserInfoWithEx {
        user_id: "u1".into(),
        nickname: Some(StringValue {
            value: "Alice2".into(),
        }),
        face_url: Some(StringValue::default()),
        ex: None,
        global_recv_msg_opt: None,
    };
    assert_eq!(
        serde_json::to_string(&update).unwrap(),
        r#"{"userID":"u1","nickname":"Alice2","faceURL":"","ex":null,"globalRecvMsgOpt":null}"#
    );

    // The body the official SDK sends for /user/update_user_info_ex (spec §10.2).
    let body =
        r#"{"userID":"u1","nickname":"Alice2","faceURL":null,"ex":null,"globalRecvMsgOpt":null}"#;
    let parsed: UserInfoWithEx = serde_json::from_str(body).unwrap();
    assert_eq!(
        parsed.nickname.as_ref().map(|v| v.value.as_str()),
        Some("Alice2")
    );
    assert_eq!(parsed.face_url, None);

    let set: GroupInfoForSet = serde_json::from_value(json!({
        "groupID": "g", "groupName": null, "notification": "hi", "ex": "",
        "needVerification": null, "lookMemberInfo": 1
    }))
    .unwrap();
    assert_eq!(
        set.ex,
        Some(StringValue::default()),
        "\"\" is set-to-empty, not unset"
    );
    assert_eq!(set.need_verification, None);
    assert_eq!(set.look_member_info, Some(Int32Value { value: 1 }));
    assert_eq!(set.apply_member_friend, None, "absent key");

    // 64-bit wrappers are written as numbers and read from numbers or decimal strings.
    let wide = Int64Value { value: -42 };
    assert_eq!(serde_json::to_string(&wide).unwrap(), "-42");
    assert_eq!(serde_json::from_str::<Int64Value>("\"-42\"").unwrap(), wide);
    assert_eq!(serde_json::from_str::<Int64Value>("-42").unwrap(), wide);
    assert!(serde_json::from_str::<Int64Value>("\"x\"").is_err());
    assert!(serde_json::from_str::<Int32Value>("\"1\"").is_err());
}

#[test]
fn a_known_key_given_twice_is_an_error_unknown_keys_are_ignored() {
    let err = serde_json::from_str::<MsgData>(r#"{"seq":1,"seq":2}"#).unwrap_err();
    assert!(err.to_string().contains("duplicate field `seq`"), "{err}");
    let nested = r#"{"offlinePushInfo":{"title":"a","title":"b"}}"#;
    assert!(serde_json::from_str::<MsgData>(nested).is_err());

    let data: MsgData = serde_json::from_str(r#"{"x":1,"x":[2],"seq":3}"#).unwrap();
    assert_eq!(data.seq, 3);
}

#[test]
fn integers_keep_their_full_range_and_are_range_checked() {
    for seq in [i64::MIN, -1, 0, i64::MAX] {
        let data = MsgData {
            seq,
            ..Default::default()
        };
        let text = serde_json::to_string(&data).unwrap();
        assert!(text.contains(&format!(r#""seq":{seq}"#)), "{text}");
        assert_eq!(serde_json::from_str::<MsgData>(&text).unwrap(), data);
    }
    let group: GroupInfo = serde_json::from_value(json!({"memberCount": u32::MAX})).unwrap();
    assert_eq!(group.member_count, u32::MAX);
    assert!(serde_json::from_value::<GroupInfo>(json!({"memberCount": 1u64 << 32})).is_err());
    assert!(serde_json::from_value::<GroupInfo>(json!({"status": 1i64 << 31})).is_err());
    assert!(serde_json::from_str::<MsgData>(r#"{"seq":9223372036854775808}"#).is_err());
    assert!(serde_json::from_str::<MsgData>(r#"{"isRead":1}"#).is_err());
    assert!(serde_json::from_str::<MsgData>(r#"{"sendID":5}"#).is_err());
    assert!(serde_json::from_str::<MsgData>(r#"{"options":[]}"#).is_err());
}

#[test]
fn a_message_is_read_from_an_object_only() {
    assert!(serde_json::from_str::<MsgData>("null").is_err());
    assert!(serde_json::from_str::<MsgData>("[]").is_err());
    assert!(serde_json::from_str::<MsgData>(r#""x""#).is_err());
    assert!(serde_json::from_str::<GroupCreatedTips>(r#"{"group":5}"#).is_err());
    assert!(serde_json::from_str::<GroupCreatedTips>(r#"{"memberList":[5]}"#).is_err());
    assert!(serde_json::from_str::<StringValue>("null").is_err());
    assert!(serde_json::from_str::<Int64Value>("null").is_err());
}

#[test]
fn maps_of_messages_and_numbers_round_trip() {
    let mut msgs = Map::new();
    msgs.insert(
        "si_u1_u2".to_string(),
        PullMsgs {
            msgs: vec![MsgData {
                seq: 7,
                content: vec![0, 255],
                ..Default::default()
            }],
            is_end: true,
            end_seq: 7,
        },
    );
    let resp = chorus_proto::pb::sdkws::PullMessageBySeqsResp {
        msgs,
        notification_msgs: Map::new(),
    };
    let value = serde_json::to_value(&resp).unwrap();
    assert_eq!(value["msgs"]["si_u1_u2"]["Msgs"][0]["content"], "AP8=");
    assert_eq!(value["notificationMsgs"], json!({}));
    let text = serde_json::to_string(&resp).unwrap();
    assert!(
        text.starts_with(r#"{"msgs":{"si_u1_u2":{"Msgs":[{"sendID":"#),
        "{text}"
    );
    assert_eq!(
        serde_json::from_str::<chorus_proto::pb::sdkws::PullMessageBySeqsResp>(&text).unwrap(),
        resp
    );
    // A null map value reads as the default message.
    let back: chorus_proto::pb::sdkws::PullMessageBySeqsResp =
        serde_json::from_str(r#"{"msgs":{"a":null}}"#).unwrap();
    assert_eq!(back.msgs.get("a"), Some(&PullMsgs::default()));
}

#[test]
fn go_writer_escapes_html_characters_like_go() {
    let text = TextElem::new("<b>Tom & Jerry</b>\u{2028}");
    let bytes = to_go_vec(&text).unwrap();
    assert_eq!(
        std::str::from_utf8(&bytes).unwrap(),
        r#"{"content":"\u003cb\u003eTom \u0026 Jerry\u003c/b\u003e\u2028"}"#
    );
    assert_eq!(TextElem::from_content(&bytes).unwrap(), text);
    // Ordinary escapes are unchanged.
    assert_eq!(to_go_string("a\"\n\\é").unwrap(), r#""a\"\n\\é""#);
}

// ---------------------------------------------------------------------------------------------
// Content elements
// ---------------------------------------------------------------------------------------------

#[test]
fn text_elem_content() {
    let content = TextElem::new("hi").to_content().unwrap();
    assert_eq!(content, br#"{"content":"hi"}"#);
    assert_eq!(TextElem::from_content(&content).unwrap().content, "hi");
    assert_eq!(
        TextElem::from_content(br#"{"content":null,"x":1}"#).unwrap(),
        TextElem::default()
    );
    assert!(matches!(
        TextElem::from_content(b"hi"),
        Err(ContentError::Content(_))
    ));
}

#[test]
fn custom_elem_content() {
    let custom = CustomElem {
        data: r#"{"k":1}"#.into(),
        description: "d".into(),
        extension: String::new(),
    };
    let content = custom.to_content().unwrap();
    assert_eq!(
        content,
        br#"{"data":"{\"k\":1}","description":"d","extension":""}"#
    );
    assert_eq!(CustomElem::from_content(&content).unwrap(), custom);
}

// ---------------------------------------------------------------------------------------------
// Notifications: two JSON layers
// ---------------------------------------------------------------------------------------------

/// Checks the outer layer is exactly `{"detail": <string>}` holding a full Go JSON object.
fn assert_two_layers(content: &[u8], inner_keys: &[&str]) {
    let outer: Value = serde_json::from_slice(content).unwrap();
    let outer = outer.as_object().unwrap();
    assert_eq!(outer.len(), 1);
    let detail = outer["detail"].as_str().expect("detail is a string");
    let inner: Value = serde_json::from_str(detail).unwrap();
    for key in inner_keys {
        assert!(
            inner.get(key).is_some(),
            "inner key {key} missing in {detail}"
        );
    }
}

#[test]
fn announcement_tips_roundtrip_through_both_layers() {
    let tips = GroupInfoSetAnnouncementTips {
        op_user: Some(member("u1", 100)),
        group: Some(group()),
        group_member_version: 17,
        group_member_version_id: "665f1c2e9b1e8a0012345678".into(),
    };
    let content = encode_notification(&tips).unwrap();
    assert_two_layers(
        &content,
        &[
            "opUser",
            "group",
            "groupMemberVersion",
            "groupMemberVersionID",
        ],
    );

    let decoded = Notification::decode(1519, &content).unwrap();
    assert_eq!(
        decoded,
        Notification::GroupInfoSetAnnouncement(tips.clone())
    );
    assert_eq!(decoded.content_type(), 1519);
    assert_eq!(decoded.to_content().unwrap(), content);
    assert_eq!(
        decode_notification::<GroupInfoSetAnnouncementTips>(&content).unwrap(),
        tips
    );
}

#[test]
fn several_tips_roundtrip_through_notification() {
    let cases = vec![
        Notification::MemberInvited(MemberInvitedTips {
            group: Some(group()),
            op_user: Some(member("u1", 100)),
            invited_user_list: vec![member("u2", 20), member("u3", 20)],
            operation_time: 1_716_000_000_123,
            group_member_version: 3,
            group_member_version_id: "v".into(),
            inviter_user: Some(member("u1", 100)),
        }),
        Notification::FriendsInfoUpdate(FriendsInfoUpdateTips {
            from_to_user_id: Some(FromToUserId {
                from_user_id: "u1".into(),
                to_user_id: "u1".into(),
            }),
            friend_i_ds: vec!["u2".into()],
            friend_version: u64::MAX,
            friend_version_id: "fv".into(),
        }),
        Notification::HasReadReceipt(MarkAsReadTips {
            mark_as_read_user_id: "u1".into(),
            conversation_id: "si_u1_u2".into(),
            seqs: vec![],
            has_read_seq: 9,
        }),
        Notification::MsgRevoke(RevokeMsgTips {
            revoker_user_id: "u1".into(),
            client_msg_id: "c1".into(),
            revoke_time: 1_716_000_000_000,
            sesstion_type: 3,
            seq: 42,
            conversation_id: "sg_3452345123".into(),
            is_admin_revoke: false,
        }),
        Notification::GroupMemberSetToAdmin(Default::default()),
        Notification::UserInfoUpdated(Default::default()),
    ];
    for notification in cases {
        let content = notification.to_content().unwrap();
        let content_type = notification.content_type();
        let decoded = Notification::decode(content_type, &content)
            .unwrap_or_else(|e| panic!("{content_type}: {e}"));
        assert_eq!(decoded, notification, "content type {content_type}");
    }
}

#[test]
fn empty_seqs_are_written_as_an_array() {
    let content = encode_notification(&MarkAsReadTips::default()).unwrap();
    let detail = notification_detail(&content).unwrap();
    assert_eq!(
        detail,
        r#"{"markAsReadUserID":"","conversationID":"","seqs":[],"hasReadSeq":0}"#
    );
}

#[test]
fn spec_announcement_example_decodes() {
    // Spec §10.3 as a server sends it: keys the example elides are simply absent here, which Go
    // readers (and ours) treat as zero values.
    let detail = json!({
        "opUser": {"groupID": "3452345123", "userID": "u1", "roleLevel": 100},
        "group": {
            "groupID": "3452345123",
            "notification": "Meeting at 10",
            "notificationUpdateTime": 1_716_000_000_000_i64,
            "notificationUserID": "u1"
        },
        "groupMemberVersion": 17,
        "groupMemberVersionID": "665f0a1b2c3d4e5f60718293"
    })
    .to_string();
    let content = serde_json::to_vec(&json!({ "detail": detail })).unwrap();

    let Notification::GroupInfoSetAnnouncement(tips) =
        Notification::decode(1519, &content).unwrap()
    else {
        panic!("1519 must decode to the announcement tips");
    };
    let op_user = tips.op_user.unwrap();
    assert_eq!(op_user.user_id, "u1");
    assert_eq!(
        RoleLevel::try_from(op_user.role_level),
        Ok(RoleLevel::Owner)
    );
    let group = tips.group.unwrap();
    assert_eq!(group.notification, "Meeting at 10");
    assert_eq!(group.notification_update_time, 1_716_000_000_000);
    assert_eq!(group.notification_user_id, "u1");
    assert_eq!(tips.group_member_version, 17);
    assert_eq!(tips.group_member_version_id.len(), 24);
}

#[test]
fn revoked_message_content_roundtrip() {
    let revoked = MessageRevokedContent {
        revoker_id: "u1".into(),
        revoker_role: 100,
        client_msg_id: "c1".into(),
        revoker_nickname: "Alice".into(),
        revoke_time: 1_716_000_000_000,
        source_message_send_time: 1_715_999_999_000,
        source_message_send_id: "u2".into(),
        source_message_sender_nickname: "Bob".into(),
        session_type: 3,
        seq: 42,
        ex: String::new(),
    };
    let content = encode_revoked_content(&revoked).unwrap();
    assert_two_layers(
        &content,
        &["revokerID", "revokerRole", "sourceMessageSendID", "seq"],
    );
    assert_eq!(decode_revoked_content(&content).unwrap(), revoked);

    // Same content type as the revoke notification; the keys tell them apart.
    assert_eq!(
        Notification::decode(2101, &content).unwrap(),
        Notification::RevokedMessage(revoked)
    );
    let tips = encode_notification(&RevokeMsgTips::default()).unwrap();
    assert!(matches!(
        Notification::decode(2101, &tips).unwrap(),
        Notification::MsgRevoke(_)
    ));
}

#[test]
fn unknown_and_untyped_notifications_keep_the_raw_detail() {
    let content = br#"{"detail":"{\"anything\":1}"}"#;
    for content_type in [1400, 2001, 4999, 1305] {
        assert_eq!(
            Notification::decode(content_type, content).unwrap(),
            Notification::Other {
                content_type,
                detail: r#"{"anything":1}"#.into()
            }
        );
    }
    let other = Notification::Other {
        content_type: 4999,
        detail: "raw".into(),
    };
    assert_eq!(other.to_content().unwrap(), br#"{"detail":"raw"}"#);
}

#[test]
fn broken_notification_content_is_a_typed_error() {
    assert!(matches!(
        Notification::decode(1519, b"not json"),
        Err(ContentError::Content(_))
    ));
    assert!(matches!(
        Notification::decode(1519, br#"{"detail":"{\"group\":5}"}"#),
        Err(ContentError::Detail {
            content_type: Some(1519),
            ..
        })
    ));
    assert!(matches!(
        Notification::decode(1501, br#"{"detail":""}"#),
        Err(ContentError::Detail { .. })
    ));
    assert!(matches!(
        Notification::decode(2101, br#"{"detail":"5"}"#),
        Err(ContentError::Detail { .. })
    ));
    assert!(decode_notification::<MarkAsReadTips>(br#"{"detail":7}"#).is_err());
}

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

#[test]
fn content_types_convert_both_ways() {
    assert_eq!(ContentType::try_from(101), Ok(ContentType::Text));
    assert_eq!(
        ContentType::try_from(2101),
        Ok(ContentType::MsgRevokeNotification)
    );
    assert_eq!(ContentType::try_from(1519).map(i32::from), Ok(1519));
    assert_eq!(
        ContentType::try_from(112),
        Err(UnknownValue {
            kind: "ContentType",
            value: 112
        })
    );
    assert!(ContentType::try_from(i32::MIN).is_err());
    for content_type in ContentType::ALL {
        assert_eq!(
            ContentType::try_from(content_type.as_i32()),
            Ok(*content_type)
        );
    }
    assert!(ContentType::HasReadReceipt.is_notification());
    assert!(!ContentType::Text.is_notification());
    assert!(ContentType::is_notification_code(4000));
    // Every notification type the spec gives a tips message for, plus 1201..=1210 and 1501..=1520.
    for code in (1201..=1210)
        .chain(1501..=1520)
        .chain([1300, 1303, 1304, 1701, 1702, 1703, 2101, 2102, 2200])
    {
        assert!(
            ContentType::try_from(code).unwrap().is_notification(),
            "{code}"
        );
    }
}

#[test]
fn small_enums_convert_both_ways() {
    assert_eq!(SessionType::try_from(3), Ok(SessionType::ReadGroup));
    assert!(SessionType::try_from(0).is_err());
    assert_eq!(
        JoinSource::ALL
            .iter()
            .map(|j| j.as_i32())
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(i32::from(RoleLevel::Owner), 100);
    assert_eq!(RoleLevel::try_from(60), Ok(RoleLevel::Admin));
    assert!(RoleLevel::try_from(50).is_err());
    assert_eq!(AllowType::try_from(1), Ok(AllowType::NotAllowed));
    assert_eq!(GroupType::try_from(2), Ok(GroupType::Working));
    assert_eq!(
        NeedVerification::try_from(2),
        Ok(NeedVerification::Directly)
    );
    assert_eq!(MsgStatus::try_from(4), Ok(MsgStatus::Deleted));
    assert_eq!(MsgFrom::try_from(200), Ok(MsgFrom::System));
    assert_eq!(GroupStatus::try_from(3), Ok(GroupStatus::Muted));
    assert_eq!(
        ReqIdentifier::try_from(1005),
        Ok(ReqIdentifier::PullMsgBySeqList)
    );
    assert_eq!(i32::from(ReqIdentifier::SubUserOnlineStatus), 2005);
    assert!(ReqIdentifier::try_from(1008).is_err());
    assert_eq!(
        UnknownValue {
            kind: "SessionType",
            value: 9
        }
        .to_string(),
        "unknown SessionType value 9"
    );
}

#[test]
fn platforms_have_classes() {
    assert_eq!(PlatformId::ALL.len(), 11);
    assert_eq!(PlatformId::try_from(5), Ok(PlatformId::Web));
    assert!(PlatformId::try_from(12).is_err());
    assert_eq!(PlatformId::Linux.class(), PlatformClass::Pc);
    assert_eq!(PlatformId::Ios.class(), PlatformClass::Mobile);
    assert_eq!(PlatformId::IPad.class(), PlatformClass::Pad);
    assert_eq!(PlatformId::Web.class(), PlatformClass::Web);
    assert_eq!(PlatformId::HarmonyOs.name(), "HarmonyOS");
}

#[test]
fn error_codes_keep_unknown_values() {
    assert_eq!(ErrorCode::from(1506), ErrorCode::TokenKicked);
    assert_eq!(ErrorCode::from(500), ErrorCode::ServerInternalError);
    assert_eq!(ErrorCode::from(12345), ErrorCode::Other(12345));
    assert_eq!(i32::from(ErrorCode::from(12345)), 12345);
    assert_eq!(ErrorCode::from(-1).code(), -1);
    for code in ErrorCode::KNOWN {
        assert_eq!(ErrorCode::from(code.code()), *code);
    }
    let token: Vec<i32> = (1490..1520)
        .filter(|c| ErrorCode::from(*c).is_token_error())
        .collect();
    assert_eq!(token, [1501, 1502, 1503, 1504, 1505, 1506, 1507]);
    assert!(!ErrorCode::MsgAlreadyRevoke.is_token_error());
}
