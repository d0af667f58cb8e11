//! The official SDK's parameters, read from their JavaScript values ([`FromJs`]): a missing
//! required field or a value of the wrong type becomes [`ErrorKind::InvalidArgument`]
//! (`errCode` 10001) before anything is changed.
//!
//! Results go the other way as the model's JSON text (`chorus_proto::msgjson`); the package's
//! `official.js` shapes them into the official objects (`MessageItem`, `GroupItem`, …).
//!
//! [`ErrorKind::InvalidArgument`]: crate::error::ErrorKind::InvalidArgument

use wasm_bindgen::JsValue;

use crate::error::SdkError;
use crate::js_read::{int32, object, opt, or_default, req, string, strings, uint32, ReadError};

/// Reads a parameter; anything malformed is an invalid argument.
pub fn from_js<T: FromJs>(what: &str, value: JsValue) -> Result<T, SdkError> {
    T::from_js(&value).map_err(|e| invalid_argument(what, e))
}

fn invalid_argument(what: &str, err: ReadError) -> SdkError {
    SdkError::invalid_argument(format!("{what}: {err}"))
}

/// A parameter read from its JavaScript value (see [`crate::js_read`] for the rules).
pub trait FromJs: Sized {
    /// Reads `value`.
    fn from_js(value: &JsValue) -> Result<Self, ReadError>;
}

impl FromJs for String {
    fn from_js(value: &JsValue) -> Result<String, ReadError> {
        string(value, "the parameter")
    }
}

impl FromJs for Vec<String> {
    fn from_js(value: &JsValue) -> Result<Vec<String>, ReadError> {
        strings(value, "the parameter")
    }
}

/// Fails with an invalid argument when a required string is empty.
pub fn require(field: &str, value: &str) -> Result<(), SdkError> {
    if value.trim().is_empty() {
        return Err(SdkError::invalid_argument(format!("{field} is empty")));
    }
    Ok(())
}

/// Fails with an invalid argument when a required list is empty or holds an empty id.
pub fn require_ids(field: &str, ids: &[String]) -> Result<(), SdkError> {
    if ids.is_empty() {
        return Err(SdkError::invalid_argument(format!("{field} is empty")));
    }
    if ids.iter().any(|id| id.trim().is_empty()) {
        return Err(SdkError::invalid_argument(format!(
            "{field} holds an empty id"
        )));
    }
    Ok(())
}

/// Whether a member passes `getGroupMemberList`'s filter (0 all, 1 owner, 2 admins,
/// 3 ordinary members, 4 admins and ordinary members, 5 owner and admins).
pub fn member_filter(filter: u32) -> Result<fn(i32) -> bool, SdkError> {
    const OWNER: i32 = 100;
    const ADMIN: i32 = 60;
    const ORDINARY: i32 = 20;
    Ok(match filter {
        0 => |_| true,
        1 => |r| r == OWNER,
        2 => |r| r == ADMIN,
        3 => |r| r == ORDINARY,
        4 => |r| r == ADMIN || r == ORDINARY,
        5 => |r| r == OWNER || r == ADMIN,
        other => {
            return Err(SdkError::invalid_argument(format!(
                "filter must be 0–5, got {other}"
            )))
        }
    })
}

// ----- Parameters -----

/// `revokeMessage`'s parameter.
#[derive(Debug)]
pub struct RevokeIn {
    /// The conversation.
    pub conversation_id: String,
    /// The message.
    pub client_msg_id: String,
}

/// `getGroupMemberList`'s parameter.
#[derive(Debug)]
pub struct MemberListIn {
    /// The group.
    pub group_id: String,
    /// Role filter (see [`member_filter`]).
    pub filter: u32,
    /// Members to skip.
    pub offset: u32,
    /// Page size.
    pub count: u32,
}

/// `getSpecifiedGroupMembersInfo`'s parameter.
#[derive(Debug)]
pub struct MembersInfoIn {
    /// The group.
    pub group_id: String,
    /// The members.
    pub user_id_list: Vec<String>,
}

/// `createGroup`'s `groupInfo`.
#[derive(Debug)]
pub struct NewGroupInfoIn {
    /// The name.
    pub group_name: String,
    /// Must be 2 (work group) when given.
    pub group_type: Option<i32>,
}

/// `createGroup`'s parameter.
#[derive(Debug)]
pub struct CreateGroupIn {
    /// Members besides the owner.
    pub member_user_ids: Vec<String>,
    /// Admins (also members).
    pub admin_user_ids: Vec<String>,
    /// Must be the logged-in user when given.
    pub owner_user_id: Option<String>,
    /// Name and type.
    pub group_info: NewGroupInfoIn,
}

/// Implements [`FromJs`] for a parameter object: `$name` must be an object, and each field is
/// read with `$how(value, key, reader)`.
macro_rules! from_js_object {
    ($ty:ident, $name:literal, { $($field:ident: $how:ident($key:literal, $read:expr)),* $(,)? }) => {
        impl FromJs for $ty {
            fn from_js(value: &JsValue) -> Result<$ty, ReadError> {
                object(value, $name)?;
                Ok($ty {
                    $($field: $how(value, $key, $read)?,)*
                })
            }
        }
    };
}

fn new_group_info_in(value: &JsValue, _name: &'static str) -> Result<NewGroupInfoIn, ReadError> {
    NewGroupInfoIn::from_js(value)
}

from_js_object!(RevokeIn, "the revoke parameter", {
    conversation_id: req("conversationID", string),
    client_msg_id: req("clientMsgID", string),
});

from_js_object!(MemberListIn, "the member list parameter", {
    group_id: req("groupID", string),
    filter: or_default("filter", uint32),
    offset: req("offset", uint32),
    count: req("count", uint32),
});

from_js_object!(MembersInfoIn, "the members info parameter", {
    group_id: req("groupID", string),
    user_id_list: req("userIDList", strings),
});

from_js_object!(NewGroupInfoIn, "groupInfo", {
    group_name: req("groupName", string),
    group_type: opt("groupType", int32),
});

from_js_object!(CreateGroupIn, "the create group parameter", {
    member_user_ids: or_default("memberUserIDs", strings),
    admin_user_ids: or_default("adminUserIDs", strings),
    owner_user_id: opt("ownerUserID", string),
    group_info: req("groupInfo", new_group_info_in),
});

#[cfg(test)]
mod tests {
    use super::*;
    use js_sys::Reflect;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn member_filters_follow_the_official_values() {
        let roles = [100, 60, 20];
        let kept = |filter| {
            let keep = member_filter(filter).unwrap();
            roles
                .iter()
                .copied()
                .filter(|r| keep(*r))
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(0), vec![100, 60, 20]);
        assert_eq!(kept(1), vec![100]);
        assert_eq!(kept(2), vec![60]);
        assert_eq!(kept(3), vec![20]);
        assert_eq!(kept(4), vec![60, 20]);
        assert_eq!(kept(5), vec![100, 60]);
        assert_eq!(member_filter(6).err().map(|e| e.code()), Some(10001));
    }

    fn params(json: &str) -> JsValue {
        js_sys::JSON::parse(json).unwrap()
    }

    fn fails<T: FromJs + std::fmt::Debug>(value: JsValue, names: &str) {
        let err = from_js::<T>("method", value).unwrap_err();
        assert_eq!(err.code(), 10001, "{err}");
        assert!(err.to_string().contains(names), "{err}");
    }

    #[wasm_bindgen_test]
    fn parameters_read_fields_by_their_official_names() {
        let p: MembersInfoIn = from_js(
            "getSpecifiedGroupMembersInfo",
            params(r#"{"groupID":"g1","userIDList":["u2","u3"],"extra":[1]}"#),
        )
        .unwrap();
        assert_eq!(p.group_id, "g1");
        assert_eq!(p.user_id_list, vec!["u2".to_owned(), "u3".to_owned()]);
        fails::<MembersInfoIn>(params(r#"{"userIDList":[]}"#), "groupID");
        fails::<MembersInfoIn>(params(r#"{"groupID":"g1"}"#), "userIDList");
        fails::<MembersInfoIn>(JsValue::from_str("g1"), "the members info parameter");
        fails::<MembersInfoIn>(JsValue::NULL, "the members info parameter");
        fails::<MemberListIn>(
            params(r#"{"groupID":"g1","offset":0.5,"count":5}"#),
            "offset",
        );
        fails::<MemberListIn>(
            params(r#"{"groupID":"g1","offset":0,"count":4294967296}"#),
            "count",
        );
        fails::<CreateGroupIn>(
            params(r#"{"groupInfo":{"groupName":"n","groupType":2147483648}}"#),
            "groupType",
        );
    }

    #[wasm_bindgen_test]
    fn defaults_apply_only_to_absent_fields() {
        // An explicit `undefined` is a value, not an absent field.
        let obj = params(r#"{"groupID":"g1","offset":0,"count":5}"#);
        let p: MemberListIn = from_js("getGroupMemberList", obj.clone()).unwrap();
        assert_eq!((p.filter, p.offset, p.count), (0, 0, 5));
        Reflect::set(&obj, &"filter".into(), &JsValue::UNDEFINED).unwrap();
        fails::<MemberListIn>(obj, "filter");
        fails::<MemberListIn>(
            params(r#"{"groupID":"g1","offset":-1,"count":5}"#),
            "offset",
        );

        // Optional fields are unset when absent, `undefined` or `null`.
        let obj = params(r#"{"memberUserIDs":["u2"],"ownerUserID":null}"#);
        Reflect::set(&obj, &"groupInfo".into(), &params(r#"{"groupName":"n"}"#)).unwrap();
        let group_info = Reflect::get(&obj, &"groupInfo".into()).unwrap();
        Reflect::set(&group_info, &"groupType".into(), &JsValue::UNDEFINED).unwrap();
        let p: CreateGroupIn = from_js("createGroup", obj).unwrap();
        assert_eq!((p.owner_user_id, p.group_info.group_type), (None, None));
        fails::<CreateGroupIn>(
            params(r#"{"ownerUserID":1,"groupInfo":{"groupName":"n"}}"#),
            "ownerUserID",
        );
    }

    #[wasm_bindgen_test]
    fn lists_and_large_integers_read_like_javascript_gives_them() {
        let set = js_sys::Set::new(&JsValue::UNDEFINED);
        set.add(&"u1".into());
        set.add(&"u2".into());
        let ids: Vec<String> = from_js("getUsersInfo", set.into()).unwrap();
        assert_eq!(ids, vec!["u1".to_owned(), "u2".to_owned()]);
        fails::<Vec<String>>(params(r#"["u1",2]"#), "not a string");
        fails::<Vec<String>>(params(r#"{"0":"u1"}"#), "not a list");

        let p: CreateGroupIn = from_js(
            "createGroup",
            params(r#"{"memberUserIDs":["u2"],"groupInfo":{"groupName":"n","groupType":2}}"#),
        )
        .unwrap();
        assert_eq!(p.member_user_ids, vec!["u2".to_owned()]);
        assert!(p.admin_user_ids.is_empty());
        assert_eq!(p.group_info.group_type, Some(2));
        fails::<CreateGroupIn>(params(r#"{"groupInfo":{}}"#), "groupName");
    }

    #[wasm_bindgen_test]
    fn malformed_parameters_are_invalid_arguments() {
        let err = from_js::<Vec<String>>("getUsersInfo", JsValue::from_str("u1")).unwrap_err();
        assert_eq!(err.code(), 10001);
        assert!(require_ids("userIDList", &[]).is_err());
        assert!(require_ids("userIDList", &["".into()]).is_err());
        assert!(require("groupID", " ").is_err());
    }
}
