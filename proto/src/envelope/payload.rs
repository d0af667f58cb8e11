//! Typed payloads: the protobuf message an envelope's `data` holds, chosen by its `reqIdentifier`.
//!
//! | id | request `data` | response `data` |
//! |---|---|---|
//! | 1001 | `sdkws.GetMaxSeqReq` | `sdkws.GetMaxSeqResp` |
//! | 1002 | `sdkws.PullMessageBySeqsReq` | `sdkws.PullMessageBySeqsResp` |
//! | 1003 | `sdkws.MsgData` | `msg.SendMsgResp` |
//! | 1005 | `msg.GetSeqMessageReq` | `msg.GetSeqMessageResp` |
//! | 1006 | `msg.GetConversationsHasReadAndMaxSeqReq` | `msg.GetConversationsHasReadAndMaxSeqResp` |
//! | 1007 | `msg.GetLastMessageReq` | `msg.GetLastMessageResp` |
//! | 2001 | — | `sdkws.PushMessages` (push) |
//! | 2002 | — | nothing (kick; any `data` is ignored) |
//! | 2003 | `push.DelUserPushTokenReq` | `push.DelUserPushTokenResp` |
//! | 2004 | `sdkws.SetAppBackgroundStatusReq` | `sdkws.SetAppBackgroundStatusResp` (empty) |
//! | 2005 | `sdkws.SubUserOnlineStatus` | `sdkws.SubUserOnlineStatusTips` (reply and push) |
//!
//! Any other id in a direction is [`DecodeError::UnknownReqIdentifier`] (1004 is broken on 3.8 servers and
//! 3001 is never sent). Empty `data` decodes to the message's default, as protobuf defines. No I/O, no
//! panics on input.

use crate::constants::ReqIdentifier;
use crate::error::DecodeError;
use crate::pb::wire::{self, EncodeFields, Fields};
use crate::pb::{msg, push, sdkws};

use super::{Req, Resp};

/// The protobuf message of a client → server envelope.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestPayload {
    GetNewestSeq(sdkws::GetMaxSeqReq),
    PullMsgByRange(sdkws::PullMessageBySeqsReq),
    /// Boxed: a `MsgData` is far larger than the other payloads.
    SendMsg(Box<sdkws::MsgData>),
    PullMsgBySeqList(msg::GetSeqMessageReq),
    GetConvMaxReadSeq(msg::GetConversationsHasReadAndMaxSeqReq),
    PullConvLastMessage(msg::GetLastMessageReq),
    Logout(push::DelUserPushTokenReq),
    SetBackgroundStatus(sdkws::SetAppBackgroundStatusReq),
    SubUserOnlineStatus(sdkws::SubUserOnlineStatus),
}

/// The protobuf message of a server → client envelope (responses and pushes).
#[derive(Debug, Clone, PartialEq)]
pub enum ResponsePayload {
    GetNewestSeq(sdkws::GetMaxSeqResp),
    PullMsgByRange(sdkws::PullMessageBySeqsResp),
    /// Boxed: it may carry a whole `MsgData`.
    SendMsg(Box<msg::SendMsgResp>),
    PullMsgBySeqList(msg::GetSeqMessageResp),
    GetConvMaxReadSeq(msg::GetConversationsHasReadAndMaxSeqResp),
    PullConvLastMessage(msg::GetLastMessageResp),
    PushMsg(sdkws::PushMessages),
    KickOnline,
    Logout(push::DelUserPushTokenResp),
    SetBackgroundStatus(sdkws::SetAppBackgroundStatusResp),
    SubUserOnlineStatus(sdkws::SubUserOnlineStatusTips),
}

/// Decodes `data` into `body` (a default message, so the outcome is that of
/// [`crate::pb::Message::decode`]).
fn decode_into(body: &mut dyn Fields, name: &'static str, data: &[u8]) -> Result<(), DecodeError> {
    wire::merge(body, data).map_err(|source| DecodeError::Protobuf {
        message: name,
        source,
    })
}

fn known(req_identifier: i32) -> Result<ReqIdentifier, DecodeError> {
    ReqIdentifier::try_from(req_identifier)
        .map_err(|_| DecodeError::UnknownReqIdentifier(req_identifier))
}

/// Decodes a request's `data` as the message its `reqIdentifier` requires.
pub fn decode_request_payload(
    req_identifier: i32,
    data: &[u8],
) -> Result<RequestPayload, DecodeError> {
    use RequestPayload as P;
    let (mut payload, name) = match known(req_identifier)? {
        ReqIdentifier::GetNewestSeq => (P::GetNewestSeq(Default::default()), "GetMaxSeqReq"),
        ReqIdentifier::PullMsgByRange => (
            P::PullMsgByRange(Default::default()),
            "PullMessageBySeqsReq",
        ),
        ReqIdentifier::SendMsg => (P::SendMsg(Default::default()), "MsgData"),
        ReqIdentifier::PullMsgBySeqList => {
            (P::PullMsgBySeqList(Default::default()), "GetSeqMessageReq")
        }
        ReqIdentifier::GetConvMaxReadSeq => (
            P::GetConvMaxReadSeq(Default::default()),
            "GetConversationsHasReadAndMaxSeqReq",
        ),
        ReqIdentifier::PullConvLastMessage => (
            P::PullConvLastMessage(Default::default()),
            "GetLastMessageReq",
        ),
        ReqIdentifier::LogoutMsg => (P::Logout(Default::default()), "DelUserPushTokenReq"),
        ReqIdentifier::SetBackgroundStatus => (
            P::SetBackgroundStatus(Default::default()),
            "SetAppBackgroundStatusReq",
        ),
        ReqIdentifier::SubUserOnlineStatus => (
            P::SubUserOnlineStatus(Default::default()),
            "SubUserOnlineStatus",
        ),
        ReqIdentifier::SendSignalMsg
        | ReqIdentifier::PushMsg
        | ReqIdentifier::KickOnlineMsg
        | ReqIdentifier::DataError => {
            return Err(DecodeError::UnknownReqIdentifier(req_identifier))
        }
    };
    decode_into(payload.body_mut(), name, data)?;
    Ok(payload)
}

/// Decodes a response's or push's `data` as the message its `reqIdentifier` carries.
pub fn decode_response_payload(
    req_identifier: i32,
    data: &[u8],
) -> Result<ResponsePayload, DecodeError> {
    use ResponsePayload as P;
    let (mut payload, name) = match known(req_identifier)? {
        ReqIdentifier::GetNewestSeq => (P::GetNewestSeq(Default::default()), "GetMaxSeqResp"),
        ReqIdentifier::PullMsgByRange => (
            P::PullMsgByRange(Default::default()),
            "PullMessageBySeqsResp",
        ),
        ReqIdentifier::SendMsg => (P::SendMsg(Default::default()), "SendMsgResp"),
        ReqIdentifier::PullMsgBySeqList => {
            (P::PullMsgBySeqList(Default::default()), "GetSeqMessageResp")
        }
        ReqIdentifier::GetConvMaxReadSeq => (
            P::GetConvMaxReadSeq(Default::default()),
            "GetConversationsHasReadAndMaxSeqResp",
        ),
        ReqIdentifier::PullConvLastMessage => (
            P::PullConvLastMessage(Default::default()),
            "GetLastMessageResp",
        ),
        ReqIdentifier::PushMsg => (P::PushMsg(Default::default()), "PushMessages"),
        ReqIdentifier::KickOnlineMsg => return Ok(P::KickOnline),
        ReqIdentifier::LogoutMsg => (P::Logout(Default::default()), "DelUserPushTokenResp"),
        ReqIdentifier::SetBackgroundStatus => (
            P::SetBackgroundStatus(Default::default()),
            "SetAppBackgroundStatusResp",
        ),
        ReqIdentifier::SubUserOnlineStatus => (
            P::SubUserOnlineStatus(Default::default()),
            "SubUserOnlineStatusTips",
        ),
        ReqIdentifier::SendSignalMsg | ReqIdentifier::DataError => {
            return Err(DecodeError::UnknownReqIdentifier(req_identifier))
        }
    };
    if let Some(body) = payload.body_mut() {
        decode_into(body, name, data)?;
    }
    Ok(payload)
}

impl RequestPayload {
    /// The `reqIdentifier` of an envelope carrying this payload.
    pub fn req_identifier(&self) -> i32 {
        let id = match self {
            Self::GetNewestSeq(_) => ReqIdentifier::GetNewestSeq,
            Self::PullMsgByRange(_) => ReqIdentifier::PullMsgByRange,
            Self::SendMsg(_) => ReqIdentifier::SendMsg,
            Self::PullMsgBySeqList(_) => ReqIdentifier::PullMsgBySeqList,
            Self::GetConvMaxReadSeq(_) => ReqIdentifier::GetConvMaxReadSeq,
            Self::PullConvLastMessage(_) => ReqIdentifier::PullConvLastMessage,
            Self::Logout(_) => ReqIdentifier::LogoutMsg,
            Self::SetBackgroundStatus(_) => ReqIdentifier::SetBackgroundStatus,
            Self::SubUserOnlineStatus(_) => ReqIdentifier::SubUserOnlineStatus,
        };
        i32::from(id)
    }

    /// The protobuf bytes for the envelope's `data`.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        wire::to_vec(self.body())
    }

    /// The message this payload carries.
    fn body(&self) -> &dyn EncodeFields {
        match self {
            Self::GetNewestSeq(m) => m,
            Self::PullMsgByRange(m) => m,
            Self::SendMsg(m) => &**m,
            Self::PullMsgBySeqList(m) => m,
            Self::GetConvMaxReadSeq(m) => m,
            Self::PullConvLastMessage(m) => m,
            Self::Logout(m) => m,
            Self::SetBackgroundStatus(m) => m,
            Self::SubUserOnlineStatus(m) => m,
        }
    }

    /// The message this payload carries, to decode into.
    fn body_mut(&mut self) -> &mut dyn Fields {
        match self {
            Self::GetNewestSeq(m) => m,
            Self::PullMsgByRange(m) => m,
            Self::SendMsg(m) => &mut **m,
            Self::PullMsgBySeqList(m) => m,
            Self::GetConvMaxReadSeq(m) => m,
            Self::PullConvLastMessage(m) => m,
            Self::Logout(m) => m,
            Self::SetBackgroundStatus(m) => m,
            Self::SubUserOnlineStatus(m) => m,
        }
    }

    /// A request envelope carrying this payload.
    pub fn to_req(&self, send_id: &str, operation_id: &str, msg_incr: &str) -> Req {
        Req {
            req_identifier: self.req_identifier(),
            token: String::new(),
            send_id: send_id.to_owned(),
            operation_id: operation_id.to_owned(),
            msg_incr: msg_incr.to_owned(),
            data: self.encode_to_vec(),
        }
    }
}

impl ResponsePayload {
    /// The `reqIdentifier` of an envelope carrying this payload.
    pub fn req_identifier(&self) -> i32 {
        let id = match self {
            Self::GetNewestSeq(_) => ReqIdentifier::GetNewestSeq,
            Self::PullMsgByRange(_) => ReqIdentifier::PullMsgByRange,
            Self::SendMsg(_) => ReqIdentifier::SendMsg,
            Self::PullMsgBySeqList(_) => ReqIdentifier::PullMsgBySeqList,
            Self::GetConvMaxReadSeq(_) => ReqIdentifier::GetConvMaxReadSeq,
            Self::PullConvLastMessage(_) => ReqIdentifier::PullConvLastMessage,
            Self::PushMsg(_) => ReqIdentifier::PushMsg,
            Self::KickOnline => ReqIdentifier::KickOnlineMsg,
            Self::Logout(_) => ReqIdentifier::LogoutMsg,
            Self::SetBackgroundStatus(_) => ReqIdentifier::SetBackgroundStatus,
            Self::SubUserOnlineStatus(_) => ReqIdentifier::SubUserOnlineStatus,
        };
        i32::from(id)
    }

    /// The protobuf bytes for the envelope's `data` (empty for a kick and for empty messages).
    pub fn encode_to_vec(&self) -> Vec<u8> {
        match self.body() {
            Some(body) => wire::to_vec(body),
            None => Vec::new(),
        }
    }

    /// The message this payload carries (`None` for a kick).
    fn body(&self) -> Option<&dyn EncodeFields> {
        Some(match self {
            Self::KickOnline => return None,
            Self::GetNewestSeq(m) => m,
            Self::PullMsgByRange(m) => m,
            Self::SendMsg(m) => &**m,
            Self::PullMsgBySeqList(m) => m,
            Self::GetConvMaxReadSeq(m) => m,
            Self::PullConvLastMessage(m) => m,
            Self::PushMsg(m) => m,
            Self::Logout(m) => m,
            Self::SetBackgroundStatus(m) => m,
            Self::SubUserOnlineStatus(m) => m,
        })
    }

    /// The message this payload carries, to decode into (`None` for a kick).
    fn body_mut(&mut self) -> Option<&mut dyn Fields> {
        Some(match self {
            Self::KickOnline => return None,
            Self::GetNewestSeq(m) => m,
            Self::PullMsgByRange(m) => m,
            Self::SendMsg(m) => &mut **m,
            Self::PullMsgBySeqList(m) => m,
            Self::GetConvMaxReadSeq(m) => m,
            Self::PullConvLastMessage(m) => m,
            Self::PushMsg(m) => m,
            Self::Logout(m) => m,
            Self::SetBackgroundStatus(m) => m,
            Self::SubUserOnlineStatus(m) => m,
        })
    }

    /// A successful response (or push, with an empty `msg_incr`) carrying this payload.
    pub fn to_resp(&self, msg_incr: &str, operation_id: &str) -> Resp {
        Resp {
            req_identifier: self.req_identifier(),
            msg_incr: msg_incr.to_owned(),
            operation_id: operation_id.to_owned(),
            err_code: 0,
            err_msg: String::new(),
            data: self.encode_to_vec(),
        }
    }
}

impl Req {
    /// This request's `data` as the message its `reqIdentifier` requires.
    pub fn payload(&self) -> Result<RequestPayload, DecodeError> {
        decode_request_payload(self.req_identifier, &self.data)
    }
}

impl Resp {
    /// This response's `data` as the message its `reqIdentifier` carries.
    pub fn payload(&self) -> Result<ResponsePayload, DecodeError> {
        decode_response_payload(self.req_identifier, &self.data)
    }
}
