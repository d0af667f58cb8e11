//! The tips of the notifications the entity view applies, read into one struct.
//!
//! A notification's `detail` is the JSON object of a tips message (spec §3.8). A key means the
//! same in every tips type that has it: `group` is always the group's `GroupInfo`,
//! `groupMemberVersion` always the member list's version, `conversationID` always a
//! conversation id. So every tips type the view applies is read into [`Tips`], which has a field
//! for each key the view uses; the keys a tips type does not have keep their zero values, and
//! keys the view does not use are skipped. One reader serves every kind, where a reader per tips
//! type would repeat the same work for each.
//!
//! `opUser` is a `GroupMemberFullInfo` in group tips and a `PublicUserInfo` in others; the keys
//! of the latter are among those of the former, so both read as a `GroupMemberFullInfo`.

use chorus_proto::constants::ContentType;
use chorus_proto::content::{notification_detail, ContentError};
use chorus_proto::msgjson::{read_struct, FromJson, Json, JsonError, Slot};
use chorus_proto::pb::sdkws::{FriendInfo, FromToUserId, GroupInfo, GroupMemberFullInfo};

/// A key only the server-rewritten content of a revoked message (`MessageRevokedContent`) has;
/// the revoke notification names its revoker `revokerUserID`.
const REVOKED_CONTENT_KEY: &str = "revokerID";
/// The revoker key of the revoke notification (`RevokeMsgTips`).
const REVOKE_TIPS_KEY: &str = "revokerUserID";

/// The keys of [`Tips`], in the order of [`Tips::slots`].
const KEYS: [&str; 34] = [
    "group",
    "groupMemberVersion",
    "groupMemberVersionID",
    "opUser",
    "memberList",
    "groupOwnerUser",
    "quitUser",
    "kickedUserList",
    "invitedUserList",
    "inviterUser",
    "entrantUser",
    "receiverAs",
    "newGroupOwner",
    "oldGroupOwner",
    "oldGroupOwnerInfo",
    "mutedUser",
    "mutedSeconds",
    "changedUser",
    "friend",
    "friendVersion",
    "friendVersionID",
    "fromToUserID",
    "userID",
    "conversationID",
    "isPrivate",
    "hasReadSeq",
    "markAsReadUserID",
    "seqs",
    "revokerUserID",
    "clientMsgID",
    "revokeTime",
    "sesstionType",
    "seq",
    "isAdminRevoke",
];

/// The members of a tips message the entity view uses (named as the tips messages name them).
#[derive(Debug, Default)]
pub(super) struct Tips {
    pub group: Option<GroupInfo>,
    pub group_member_version: u64,
    pub group_member_version_id: String,
    pub op_user: Option<GroupMemberFullInfo>,
    pub member_list: Vec<GroupMemberFullInfo>,
    pub group_owner_user: Option<GroupMemberFullInfo>,
    pub quit_user: Option<GroupMemberFullInfo>,
    pub kicked_user_list: Vec<GroupMemberFullInfo>,
    pub invited_user_list: Vec<GroupMemberFullInfo>,
    pub inviter_user: Option<GroupMemberFullInfo>,
    pub entrant_user: Option<GroupMemberFullInfo>,
    pub receiver_as: i32,
    pub new_group_owner: Option<GroupMemberFullInfo>,
    pub old_group_owner: String,
    pub old_group_owner_info: Option<GroupMemberFullInfo>,
    pub muted_user: Option<GroupMemberFullInfo>,
    pub muted_seconds: u32,
    pub changed_user: Option<GroupMemberFullInfo>,
    pub friend: Option<FriendInfo>,
    pub friend_version: u64,
    pub friend_version_id: String,
    pub from_to_user_id: Option<FromToUserId>,
    pub user_id: String,
    pub conversation_id: String,
    pub is_private: bool,
    pub has_read_seq: i64,
    pub mark_as_read_user_id: String,
    pub seqs: Vec<i64>,
    pub revoker_user_id: String,
    pub client_msg_id: String,
    pub revoke_time: i64,
    pub sesstion_type: i32,
    pub seq: i64,
    pub is_admin_revoke: bool,
}

impl Tips {
    /// Reads the tips of notification content bytes of `content_type` (both JSON layers).
    /// `None` for content type 2101 when the content is a revoked message's rewritten content
    /// rather than the revoke notification.
    pub fn read(content_type: i32, content: &[u8]) -> Result<Option<Tips>, ContentError> {
        let detail = notification_detail(content)?;
        let wrap = |source| ContentError::Detail {
            content_type: Some(content_type),
            source,
        };
        let tree = Json::parse(&detail).map_err(wrap)?;
        if content_type == ContentType::MsgRevokeNotification.as_i32()
            && tree.has_key(REVOKED_CONTENT_KEY)
            && !tree.has_key(REVOKE_TIPS_KEY)
        {
            return Ok(None);
        }
        Tips::from_json(tree).map(Some).map_err(wrap)
    }

    /// The fields in the order of [`KEYS`].
    fn slots(&mut self) -> [&mut dyn Slot; 34] {
        [
            &mut self.group,
            &mut self.group_member_version,
            &mut self.group_member_version_id,
            &mut self.op_user,
            &mut self.member_list,
            &mut self.group_owner_user,
            &mut self.quit_user,
            &mut self.kicked_user_list,
            &mut self.invited_user_list,
            &mut self.inviter_user,
            &mut self.entrant_user,
            &mut self.receiver_as,
            &mut self.new_group_owner,
            &mut self.old_group_owner,
            &mut self.old_group_owner_info,
            &mut self.muted_user,
            &mut self.muted_seconds,
            &mut self.changed_user,
            &mut self.friend,
            &mut self.friend_version,
            &mut self.friend_version_id,
            &mut self.from_to_user_id,
            &mut self.user_id,
            &mut self.conversation_id,
            &mut self.is_private,
            &mut self.has_read_seq,
            &mut self.mark_as_read_user_id,
            &mut self.seqs,
            &mut self.revoker_user_id,
            &mut self.client_msg_id,
            &mut self.revoke_time,
            &mut self.sesstion_type,
            &mut self.seq,
            &mut self.is_admin_revoke,
        ]
    }
}

impl FromJson for Tips {
    fn from_json(value: Json) -> Result<Tips, JsonError> {
        let mut tips = Tips::default();
        read_struct(value, &KEYS, &mut tips.slots())?;
        Ok(tips)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_proto::content::tips_content;
    use chorus_proto::pb::sdkws::{
        FriendAddedTips, GroupOwnerTransferredTips, MarkAsReadTips, MemberInvitedTips,
        MessageRevokedContent, PublicUserInfo, RevokeMsgTips,
    };

    fn member(user_id: &str, role_level: i32) -> GroupMemberFullInfo {
        GroupMemberFullInfo {
            group_id: "g1".into(),
            user_id: user_id.into(),
            role_level,
            nickname: format!("{user_id} nick"),
            join_source: 2,
            ..Default::default()
        }
    }

    fn group() -> GroupInfo {
        GroupInfo {
            group_id: "g1".into(),
            group_name: "Group".into(),
            notification: "hello".into(),
            ..Default::default()
        }
    }

    /// Every key of [`KEYS`] is a key of some tips message and reads into its field: the tips
    /// written by the protocol's own types read back field for field.
    #[test]
    fn tips_of_each_kind_read_back() {
        let invited = MemberInvitedTips {
            group: Some(group()),
            op_user: Some(member("op", 100)),
            invited_user_list: vec![member("a", 20), member("b", 20)],
            inviter_user: Some(member("inv", 60)),
            group_member_version: 7,
            group_member_version_id: "v-id".into(),
            ..Default::default()
        };
        let tips = Tips::read(1509, &tips_content(&invited)).unwrap().unwrap();
        assert_eq!(tips.group, invited.group);
        assert_eq!(tips.op_user, invited.op_user);
        assert_eq!(tips.invited_user_list, invited.invited_user_list);
        assert_eq!(tips.inviter_user, invited.inviter_user);
        assert_eq!(tips.group_member_version, 7);
        assert_eq!(tips.group_member_version_id, "v-id");
        assert!(tips.member_list.is_empty() && tips.kicked_user_list.is_empty());

        let transferred = GroupOwnerTransferredTips {
            group: Some(group()),
            new_group_owner: Some(member("new", 100)),
            old_group_owner: "old".into(),
            old_group_owner_info: Some(member("old", 20)),
            ..Default::default()
        };
        let tips = Tips::read(1507, &tips_content(&transferred))
            .unwrap()
            .unwrap();
        assert_eq!(tips.new_group_owner, transferred.new_group_owner);
        assert_eq!(tips.old_group_owner, "old");
        assert_eq!(tips.old_group_owner_info, transferred.old_group_owner_info);

        let read = MarkAsReadTips {
            mark_as_read_user_id: "u1".into(),
            conversation_id: "si_u1_u2".into(),
            seqs: vec![3, 4],
            has_read_seq: 4,
        };
        let tips = Tips::read(2200, &tips_content(&read)).unwrap().unwrap();
        assert_eq!(tips.mark_as_read_user_id, "u1");
        assert_eq!(tips.conversation_id, "si_u1_u2");
        assert_eq!(tips.seqs, vec![3, 4]);
        assert_eq!(tips.has_read_seq, 4);

        let revoke = RevokeMsgTips {
            revoker_user_id: "owner".into(),
            client_msg_id: "c1".into(),
            revoke_time: 1_700_000_000_000,
            sesstion_type: 3,
            seq: 12,
            conversation_id: "sg_g1".into(),
            is_admin_revoke: true,
        };
        let tips = Tips::read(2101, &tips_content(&revoke)).unwrap().unwrap();
        assert_eq!(
            (
                tips.revoker_user_id.as_str(),
                tips.client_msg_id.as_str(),
                tips.revoke_time,
                tips.sesstion_type,
                tips.seq,
                tips.conversation_id.as_str(),
                tips.is_admin_revoke,
            ),
            ("owner", "c1", 1_700_000_000_000, 3, 12, "sg_g1", true)
        );
    }

    /// `opUser` of friend tips is a `PublicUserInfo`: it reads as a member with its keys.
    #[test]
    fn a_public_user_reads_as_op_user() {
        let added = FriendAddedTips {
            friend: Some(FriendInfo {
                owner_user_id: "me".into(),
                remark: "pal".into(),
                ..Default::default()
            }),
            op_user: Some(PublicUserInfo {
                user_id: "op".into(),
                nickname: "Op".into(),
                face_url: "f".into(),
                ex: "x".into(),
            }),
            friend_version: 3,
            friend_version_id: "fv".into(),
            ..Default::default()
        };
        let tips = Tips::read(1204, &tips_content(&added)).unwrap().unwrap();
        assert_eq!(tips.friend, added.friend);
        assert_eq!(tips.friend_version, 3);
        assert_eq!(tips.friend_version_id, "fv");
        let op = tips.op_user.unwrap();
        assert_eq!(
            (
                op.user_id.as_str(),
                op.nickname.as_str(),
                op.face_url.as_str()
            ),
            ("op", "Op", "f")
        );
    }

    /// 2101 with a revoked message's rewritten content is not a revoke notification.
    #[test]
    fn revoked_content_is_told_apart() {
        let revoked = MessageRevokedContent {
            revoker_id: "owner".into(),
            client_msg_id: "c1".into(),
            seq: 12,
            ..Default::default()
        };
        assert!(Tips::read(2101, &tips_content(&revoked)).unwrap().is_none());
    }

    /// Bad content and bad detail are errors naming the layer, as for the typed tips.
    #[test]
    fn bad_tips_are_errors() {
        assert!(matches!(
            Tips::read(1509, b"not json"),
            Err(ContentError::Content(_))
        ));
        assert!(matches!(
            Tips::read(1509, br#"{"detail":"{\"group\":5}"}"#),
            Err(ContentError::Detail {
                content_type: Some(1509),
                ..
            })
        ));
        assert!(matches!(
            Tips::read(1509, br#"{"detail":"not json"}"#),
            Err(ContentError::Detail { .. })
        ));
    }
}
