//! Typed OpenIM constants: content types, session types, group enums, platforms, request
//! identifiers and error codes.
//!
//! Every enum converts to its wire integer with `i32::from` and back with `TryFrom<i32>`, which
//! fails with [`UnknownValue`] instead of panicking. [`ErrorCode`] is total instead: unknown codes
//! are kept as [`ErrorCode::Other`], because servers add codes over time and a client must still
//! report them. Values are OpenIM's; the variant names follow OpenIM's constant names where those
//! are readable.
//!
//! This module holds data only; it performs no I/O.

use thiserror::Error;

/// An integer that is not a known value of the named enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[error("unknown {kind} value {value}")]
pub struct UnknownValue {
    /// The enum that rejected the value, e.g. `"SessionType"`.
    pub kind: &'static str,
    /// The rejected value.
    pub value: i32,
}

/// Declares a fieldless `i32` enum with `From<Enum> for i32`, `TryFrom<i32>` and `ALL`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $value:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire value.
            pub const fn as_i32(self) -> i32 {
                self as i32
            }
        }

        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                value as i32
            }
        }

        impl TryFrom<i32> for $name {
            type Error = UnknownValue;

            fn try_from(value: i32) -> Result<Self, UnknownValue> {
                // A search of the variant table: far less code than a match over sparse values.
                for &variant in Self::ALL {
                    if variant as i32 == value {
                        return Ok(variant);
                    }
                }
                Err(UnknownValue { kind: stringify!($name), value })
            }
        }
    };
}

wire_enum! {
    /// `MsgData.contentType`: user content types (101–203) and notification types (1000–5000).
    pub enum ContentType {
        Text = 101,
        Picture = 102,
        /// "Sound" in the client SDK.
        Voice = 103,
        Video = 104,
        File = 105,
        AtText = 106,
        Merger = 107,
        Card = 108,
        Location = 109,
        Custom = 110,
        /// Legacy revoke; 3.x uses [`ContentType::MsgRevokeNotification`].
        Revoke = 111,
        Typing = 113,
        Quote = 114,
        /// Defined by the client SDK only.
        Face = 115,
        AdvancedText = 117,
        MarkdownText = 118,
        CustomNotTriggerConversation = 119,
        CustomOnlineOnly = 120,
        ReactionMessageModifier = 121,
        ReactionMessageDeleter = 122,
        Common = 200,
        GroupMsg = 201,
        SignalMsg = 202,
        CustomNotification = 203,

        FriendApplicationApprovedNotification = 1201,
        FriendApplicationRejectedNotification = 1202,
        FriendApplicationNotification = 1203,
        FriendAddedNotification = 1204,
        FriendDeletedNotification = 1205,
        FriendRemarkSetNotification = 1206,
        BlackAddedNotification = 1207,
        BlackDeletedNotification = 1208,
        /// A friend changed their profile.
        FriendInfoUpdatedNotification = 1209,
        /// The owner's friend rows changed (remark, pin, ex).
        FriendsInfoUpdateNotification = 1210,
        ConversationChangeNotification = 1300,
        UserInfoUpdatedNotification = 1303,
        UserStatusChangeNotification = 1304,
        UserCommandAddNotification = 1305,
        UserCommandDeleteNotification = 1306,
        UserCommandUpdateNotification = 1307,
        UserSubscribeOnlineStatusNotification = 1308,
        OaNotification = 1400,
        GroupCreatedNotification = 1501,
        GroupInfoSetNotification = 1502,
        JoinGroupApplicationNotification = 1503,
        MemberQuitNotification = 1504,
        GroupApplicationAcceptedNotification = 1505,
        GroupApplicationRejectedNotification = 1506,
        GroupOwnerTransferredNotification = 1507,
        MemberKickedNotification = 1508,
        MemberInvitedNotification = 1509,
        MemberEnterNotification = 1510,
        GroupDismissedNotification = 1511,
        GroupMemberMutedNotification = 1512,
        GroupMemberCancelMutedNotification = 1513,
        GroupMutedNotification = 1514,
        GroupCancelMutedNotification = 1515,
        GroupMemberInfoSetNotification = 1516,
        GroupMemberSetToAdminNotification = 1517,
        GroupMemberSetToOrdinaryUserNotification = 1518,
        GroupInfoSetAnnouncementNotification = 1519,
        GroupInfoSetNameNotification = 1520,
        SuperGroupUpdateNotification = 1651,
        MsgDeleteNotification = 1652,
        ConversationPrivateChatNotification = 1701,
        ConversationUnreadNotification = 1702,
        ClearConversationNotification = 1703,
        /// Newer servers only; 3.8.3 never sends it.
        ConversationDeleteNotification = 1704,
        BusinessNotification = 2001,
        MsgRevokeNotification = 2101,
        DeleteMsgsNotification = 2102,
        HasReadReceipt = 2200,
    }
}

impl ContentType {
    /// First content type of the notification range.
    pub const NOTIFICATION_BEGIN: i32 = 1000;
    /// Last content type of the notification range.
    pub const NOTIFICATION_END: i32 = 5000;

    /// Whether a raw content type lies in the notification range (known or not).
    pub const fn is_notification_code(content_type: i32) -> bool {
        content_type >= Self::NOTIFICATION_BEGIN && content_type <= Self::NOTIFICATION_END
    }

    /// Whether this content type is a notification (its content is `{"detail": …}`).
    pub const fn is_notification(self) -> bool {
        Self::is_notification_code(self as i32)
    }
}

wire_enum! {
    /// `MsgData.sessionType` and `Conversation.conversationType`.
    pub enum SessionType {
        /// One-to-one chat, conversation `si_<a>_<b>`.
        Single = 1,
        /// Legacy write-diffusion group; servers reject it.
        WriteGroup = 2,
        /// Every v3 group, conversation `sg_<groupID>`.
        ReadGroup = 3,
        /// Chats with notification accounts, conversation `sn_<a>_<b>`.
        Notification = 4,
    }
}

wire_enum! {
    /// `GroupMemberFullInfo.joinSource`: how a member joined.
    pub enum JoinSource {
        ByAdmin = 1,
        ByInvitation = 2,
        BySearch = 3,
        ByQrCode = 4,
    }
}

wire_enum! {
    /// `GroupMemberFullInfo.roleLevel`.
    pub enum RoleLevel {
        Owner = 100,
        Admin = 60,
        Ordinary = 20,
    }
}

wire_enum! {
    /// `appMangerLevel` of users (application level, not group role).
    pub enum AppManagerLevel {
        ImOrdinaryUser = 0,
        AppOrdinaryUser = 1,
        AppAdmin = 2,
        /// Notification account; cannot obtain tokens.
        AppNotificationAdmin = 3,
        AppRobotAdmin = 4,
    }
}

wire_enum! {
    /// Client platforms (`platformID`).
    pub enum PlatformId {
        Ios = 1,
        Android = 2,
        Windows = 3,
        Osx = 4,
        Web = 5,
        MiniWeb = 6,
        Linux = 7,
        AndroidPad = 8,
        IPad = 9,
        Admin = 10,
        HarmonyOs = 11,
    }
}

/// Platform classes used by the "one session per class" login policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlatformClass {
    /// Windows, OSX, Linux.
    Pc,
    /// iOS, Android.
    Mobile,
    /// Android pad, iPad.
    Pad,
    Web,
    MiniWeb,
    Admin,
    HarmonyOs,
}

impl PlatformId {
    /// The platform's class.
    pub const fn class(self) -> PlatformClass {
        match self {
            PlatformId::Windows | PlatformId::Osx | PlatformId::Linux => PlatformClass::Pc,
            PlatformId::Ios | PlatformId::Android => PlatformClass::Mobile,
            PlatformId::AndroidPad | PlatformId::IPad => PlatformClass::Pad,
            PlatformId::Web => PlatformClass::Web,
            PlatformId::MiniWeb => PlatformClass::MiniWeb,
            PlatformId::Admin => PlatformClass::Admin,
            PlatformId::HarmonyOs => PlatformClass::HarmonyOs,
        }
    }

    /// OpenIM's platform name (`PlatformID2Name`).
    pub const fn name(self) -> &'static str {
        match self {
            PlatformId::Ios => "IOS",
            PlatformId::Android => "Android",
            PlatformId::Windows => "Windows",
            PlatformId::Osx => "OSX",
            PlatformId::Web => "Web",
            PlatformId::MiniWeb => "MiniWeb",
            PlatformId::Linux => "Linux",
            PlatformId::AndroidPad => "AndroidPad",
            PlatformId::IPad => "IPad",
            PlatformId::Admin => "Admin",
            PlatformId::HarmonyOs => "HarmonyOS",
        }
    }
}

wire_enum! {
    /// `GroupInfo.groupType`; groups are created as [`GroupType::Working`].
    pub enum GroupType {
        Normal = 0,
        Super = 1,
        Working = 2,
    }
}

wire_enum! {
    /// `GroupInfo.lookMemberInfo` and `GroupInfo.applyMemberFriend`.
    pub enum AllowType {
        Allowed = 0,
        NotAllowed = 1,
    }
}

wire_enum! {
    /// `GroupInfo.needVerification`.
    pub enum NeedVerification {
        /// Applications need approval; invitations join directly.
        ApplyNeedVerificationInviteDirectly = 0,
        /// Everything needs approval except invitations by the owner or an admin.
        AllNeedVerification = 1,
        /// Anyone joins directly.
        Directly = 2,
    }
}

wire_enum! {
    /// `GroupInfo.status`.
    pub enum GroupStatus {
        Ok = 0,
        /// Defined but unused by servers.
        BanChat = 1,
        Dismissed = 2,
        Muted = 3,
    }
}

wire_enum! {
    /// `MsgData.status`.
    pub enum MsgStatus {
        Sending = 1,
        SendSuccess = 2,
        SendFailed = 3,
        /// Deleted; pulls return `{seq, status: 4}` placeholders.
        Deleted = 4,
        Filtered = 5,
    }
}

wire_enum! {
    /// `MsgData.msgFrom`.
    pub enum MsgFrom {
        User = 100,
        System = 200,
    }
}

wire_enum! {
    /// `Conversation.groupAtType`.
    pub enum GroupAtType {
        Normal = 0,
        AtMe = 1,
        AtAll = 2,
        AtAllAtMe = 3,
        /// A new group announcement.
        GroupNotification = 4,
    }
}

wire_enum! {
    /// `Conversation.recvMsgOpt` and `UserInfo.globalRecvMsgOpt`.
    pub enum RecvMsgOpt {
        Receive = 0,
        NotReceive = 1,
        ReceiveNotNotify = 2,
    }
}

wire_enum! {
    /// The gateway envelope's `reqIdentifier`.
    ///
    /// Names follow the client SDK; the server calls 1002 `WSPullMsgBySeqList` and 1005 `WSPullMsg`.
    pub enum ReqIdentifier {
        /// `GetMaxSeqReq` → `GetMaxSeqResp`.
        GetNewestSeq = 1001,
        /// `PullMessageBySeqsReq` → `PullMessageBySeqsResp`.
        PullMsgByRange = 1002,
        /// `MsgData` → `SendMsgResp`.
        SendMsg = 1003,
        /// Broken in 3.8.3 servers; do not use.
        SendSignalMsg = 1004,
        /// `GetSeqMessageReq` → `GetSeqMessageResp`.
        PullMsgBySeqList = 1005,
        /// `GetConversationsHasReadAndMaxSeqReq` → `…Resp`.
        GetConvMaxReadSeq = 1006,
        /// `GetLastMessageReq` → `GetLastMessageResp`.
        PullConvLastMessage = 1007,
        /// Server push of `PushMessages`.
        PushMsg = 2001,
        /// Server kick; no data, the socket closes right after.
        KickOnlineMsg = 2002,
        /// `DelUserPushTokenReq` → `DelUserPushTokenResp`, then the server closes.
        LogoutMsg = 2003,
        /// `SetAppBackgroundStatusReq` → empty data.
        SetBackgroundStatus = 2004,
        /// `SubUserOnlineStatus` → `SubUserOnlineStatusTips`; also pushed.
        SubUserOnlineStatus = 2005,
        /// Defined by servers, never used.
        DataError = 3001,
    }
}

/// Keys of `MsgData.options`. A missing key means `true`.
pub mod option_keys {
    pub const HISTORY: &str = "history";
    pub const PERSISTENT: &str = "persistent";
    pub const OFFLINE_PUSH: &str = "offlinePush";
    pub const UNREAD_COUNT: &str = "unreadCount";
    pub const CONVERSATION_UPDATE: &str = "conversationUpdate";
    pub const SENDER_SYNC: &str = "senderSync";
    pub const NOT_PRIVATE: &str = "notPrivate";
    pub const SENDER_CONVERSATION_UPDATE: &str = "senderConversationUpdate";
    pub const SENDER_NOTIFICATION_PUSH: &str = "senderNotificationPush";
    pub const REACTION_FROM_CACHE: &str = "reactionFromCache";
    pub const IS_NOT_NOTIFICATION: &str = "isNotNotification";
    pub const IS_SEND_MSG: &str = "isSendMsg";
}

/// Declares [`ErrorCode`]: known codes as variants, anything else kept in `Other`.
macro_rules! error_codes {
    ($($(#[$vmeta:meta])* $variant:ident = $value:literal,)+) => {
        /// OpenIM error codes (`errCode` of gateway responses, REST envelopes and the handshake).
        ///
        /// Conversion from `i32` is total: unknown codes are kept in [`ErrorCode::Other`] and
        /// convert back to the same number.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$vmeta])* $variant,)+
            /// A code this crate does not name.
            Other(i32),
        }

        impl ErrorCode {
            /// Every named code.
            pub const KNOWN: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The wire value.
            pub const fn code(self) -> i32 {
                match self {
                    $(ErrorCode::$variant => $value,)+
                    ErrorCode::Other(code) => code,
                }
            }

            /// The code for a wire value; unknown values become [`ErrorCode::Other`].
            pub const fn from_code(code: i32) -> ErrorCode {
                // A search of the value table: far less code than a match over sparse values.
                const VALUES: &[i32] = &[$($value,)+];
                let mut i = 0;
                while i < VALUES.len() {
                    if VALUES[i] == code {
                        return ErrorCode::KNOWN[i];
                    }
                    i += 1;
                }
                ErrorCode::Other(code)
            }
        }
    };
}

error_codes! {
    /// Also any error the server did not classify.
    ServerInternalError = 500,
    ArgsError = 1001,
    NoPermissionError = 1002,
    DuplicateKey = 1003,
    RecordNotFound = 1004,
    UserIdNotFound = 1101,
    RegisteredAlready = 1102,
    GroupIdNotFound = 1201,
    GroupIdExisted = 1202,
    NotInGroupYet = 1203,
    DismissedAlready = 1204,
    GroupTypeNotSupport = 1205,
    GroupRequestHandled = 1206,
    CanNotAddYourself = 1301,
    BlockedByPeer = 1302,
    NotPeersFriend = 1303,
    RelationshipAlready = 1304,
    FriendRequestHandled = 1305,
    MessageHasReadDisable = 1401,
    MutedInGroup = 1402,
    MutedGroup = 1403,
    MsgAlreadyRevoke = 1404,
    TokenExpired = 1501,
    TokenInvalid = 1502,
    TokenMalformed = 1503,
    TokenNotValidYet = 1504,
    TokenUnknown = 1505,
    /// Replaced by a newer login or forced out.
    TokenKicked = 1506,
    TokenNotExist = 1507,
    ConnOverMaxNumLimit = 1601,
    ConnArgsErr = 1602,
    PushMsgErr = 1603,
    IosBackgroundPushErr = 1604,
    FileUploadedExpired = 1701,
    CallbackError = 80000,
    DatabaseError = 90002,
    NetworkError = 90004,
    DataError = 90007,
}

impl ErrorCode {
    /// Whether the code is one of the token errors 1501–1507, after which clients stop
    /// reconnecting and report an authentication failure.
    pub const fn is_token_error(self) -> bool {
        matches!(self.code(), 1501..=1507)
    }
}

impl From<i32> for ErrorCode {
    fn from(code: i32) -> ErrorCode {
        ErrorCode::from_code(code)
    }
}

impl From<ErrorCode> for i32 {
    fn from(code: ErrorCode) -> i32 {
        code.code()
    }
}
