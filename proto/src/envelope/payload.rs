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

use prost::Message;

use crate::constants::ReqIdentifier;
use crate::error::DecodeError;
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

fn decode<M: Message + Default>(name: &'static str, data: &[u8]) -> Result<M, DecodeError> {
    M::decode(data).map_err(|source| DecodeError::Protobuf {
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
    Ok(match known(req_identifier)? {
        ReqIdentifier::GetNewestSeq => P::GetNewestSeq(decode("GetMaxSeqReq", data)?),
        ReqIdentifier::PullMsgByRange => P::PullMsgByRange(decode("PullMessageBySeqsReq", data)?),
        ReqIdentifier::SendMsg => P::SendMsg(Box::new(decode("MsgData", data)?)),
        ReqIdentifier::PullMsgBySeqList => P::PullMsgBySeqList(decode("GetSeqMessageReq", data)?),
        ReqIdentifier::GetConvMaxReadSeq => {
            P::GetConvMaxReadSeq(decode("GetConversationsHasReadAndMaxSeqReq", data)?)
        }
        ReqIdentifier::PullConvLastMessage => {
            P::PullConvLastMessage(decode("GetLastMessageReq", data)?)
        }
        ReqIdentifier::LogoutMsg => P::Logout(decode("DelUserPushTokenReq", data)?),
        ReqIdentifier::SetBackgroundStatus => {
            P::SetBackgroundStatus(decode("SetAppBackgroundStatusReq", data)?)
        }
        ReqIdentifier::SubUserOnlineStatus => {
            P::SubUserOnlineStatus(decode("SubUserOnlineStatus", data)?)
        }
        ReqIdentifier::SendSignalMsg
        | ReqIdentifier::PushMsg
        | ReqIdentifier::KickOnlineMsg
        | ReqIdentifier::DataError => {
            return Err(DecodeError::UnknownReqIdentifier(req_identifier))
        }
    })
}

/// Decodes a response's or push's `data` as the message its `reqIdentifier` carries.
pub fn decode_response_payload(
    req_identifier: i32,
    data: &[u8],
) -> Result<ResponsePayload, DecodeError> {
    use ResponsePayload as P;
    Ok(match known(req_identifier)? {
        ReqIdentifier::GetNewestSeq => P::GetNewestSeq(decode("GetMaxSeqResp", data)?),
        ReqIdentifier::PullMsgByRange => P::PullMsgByRange(decode("PullMessageBySeqsResp", data)?),
        ReqIdentifier::SendMsg => P::SendMsg(Box::new(decode("SendMsgResp", data)?)),
        ReqIdentifier::PullMsgBySeqList => P::PullMsgBySeqList(decode("GetSeqMessageResp", data)?),
        ReqIdentifier::GetConvMaxReadSeq => {
            P::GetConvMaxReadSeq(decode("GetConversationsHasReadAndMaxSeqResp", data)?)
        }
        ReqIdentifier::PullConvLastMessage => {
            P::PullConvLastMessage(decode("GetLastMessageResp", data)?)
        }
        ReqIdentifier::PushMsg => P::PushMsg(decode("PushMessages", data)?),
        ReqIdentifier::KickOnlineMsg => P::KickOnline,
        ReqIdentifier::LogoutMsg => P::Logout(decode("DelUserPushTokenResp", data)?),
        ReqIdentifier::SetBackgroundStatus => {
            P::SetBackgroundStatus(decode("SetAppBackgroundStatusResp", data)?)
        }
        ReqIdentifier::SubUserOnlineStatus => {
            P::SubUserOnlineStatus(decode("SubUserOnlineStatusTips", data)?)
        }
        ReqIdentifier::SendSignalMsg | ReqIdentifier::DataError => {
            return Err(DecodeError::UnknownReqIdentifier(req_identifier))
        }
    })
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
        match self {
            Self::GetNewestSeq(m) => m.encode_to_vec(),
            Self::PullMsgByRange(m) => m.encode_to_vec(),
            Self::SendMsg(m) => m.encode_to_vec(),
            Self::PullMsgBySeqList(m) => m.encode_to_vec(),
            Self::GetConvMaxReadSeq(m) => m.encode_to_vec(),
            Self::PullConvLastMessage(m) => m.encode_to_vec(),
            Self::Logout(m) => m.encode_to_vec(),
            Self::SetBackgroundStatus(m) => m.encode_to_vec(),
            Self::SubUserOnlineStatus(m) => m.encode_to_vec(),
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
        match self {
            Self::GetNewestSeq(m) => m.encode_to_vec(),
            Self::PullMsgByRange(m) => m.encode_to_vec(),
            Self::SendMsg(m) => m.encode_to_vec(),
            Self::PullMsgBySeqList(m) => m.encode_to_vec(),
            Self::GetConvMaxReadSeq(m) => m.encode_to_vec(),
            Self::PullConvLastMessage(m) => m.encode_to_vec(),
            Self::PushMsg(m) => m.encode_to_vec(),
            Self::KickOnline => Vec::new(),
            Self::Logout(m) => m.encode_to_vec(),
            Self::SetBackgroundStatus(m) => m.encode_to_vec(),
            Self::SubUserOnlineStatus(m) => m.encode_to_vec(),
        }
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
