//! Formatting of times, names, tips and recalls; the demo's error type.

use chorus_core::model::{Member, Message, MessageStatus};
use chorus_sdk_wasm::SdkError;
use wasm_bindgen::JsValue;

/// Why a demo action failed.
#[derive(Debug)]
pub enum DemoError {
    /// The SDK (or the server behind it) refused.
    Sdk(SdkError),
    /// A `/demo/*` call failed.
    Demo(String),
    /// Bad input in a form.
    Input(String),
}

impl std::fmt::Display for DemoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoError::Sdk(e) => write!(f, "{e}"),
            DemoError::Demo(e) => write!(
                f,
                "{e} (the /demo endpoints exist only on a server started with --seed-demo)"
            ),
            DemoError::Input(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for DemoError {}

impl From<SdkError> for DemoError {
    fn from(e: SdkError) -> DemoError {
        DemoError::Sdk(e)
    }
}

/// Up to two initials for an avatar: the first letter or digit of the first two words, upper
/// case. Letters, digits and case mapping are the browser's Unicode ones (`\p{Alphabetic}`,
/// `\p{N}`, `toUpperCase`), the same sets Rust's `char` methods use.
pub fn initials(name: &str) -> String {
    let first = js_sys::RegExp::new("[\\p{Alphabetic}\\p{N}]", "u");
    let mut out = String::new();
    let mut found = 0;
    for word in name.split_whitespace() {
        if found == 2 {
            break;
        }
        if let Some(c) = first.exec(word).and_then(|m| m.get(0).as_string()) {
            out.push_str(&c);
            found += 1;
        }
    }
    if found == 0 {
        out.extend(name.chars().take(1));
    }
    js_sys::JsString::from(out).to_upper_case().into()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `14:05` today, `Nov 21 14:05` otherwise (local time).
pub fn time(ms: i64) -> String {
    if ms <= 0 {
        return String::new();
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let now = js_sys::Date::new_0();
    let hm = format!("{:02}:{:02}", d.get_hours(), d.get_minutes());
    if d.get_date() == now.get_date()
        && d.get_month() == now.get_month()
        && d.get_full_year() == now.get_full_year()
    {
        hm
    } else {
        format!(
            "{} {} {hm}",
            MONTHS[d.get_month() as usize % 12],
            d.get_date()
        )
    }
}

/// `Nov 21` (local time).
pub fn date(ms: i64) -> String {
    if ms <= 0 {
        return String::new();
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{} {}", MONTHS[d.get_month() as usize % 12], d.get_date())
}

/// "owner" / "admin" for those role levels.
pub fn role_label(level: i32) -> Option<&'static str> {
    match level {
        100 => Some("owner"),
        60 => Some("admin"),
        _ => None,
    }
}

/// How a member joined, for the member list.
pub fn join_method(m: &Member) -> &'static str {
    match m.join_source {
        2 => "invitation",
        3 => "search",
        4 => "qr",
        _ => "other",
    }
}

/// "Alice (owner) recalled a message" for a revoked message.
pub fn revoked_text(status: &MessageStatus, name_of: impl Fn(&str) -> String) -> Option<String> {
    let MessageStatus::Revoked {
        by, role, nickname, ..
    } = status
    else {
        return None;
    };
    let name = if nickname.is_empty() {
        name_of(by)
    } else {
        nickname.clone()
    };
    Some(match role_label(*role) {
        Some(role) => format!("{name} ({role}) recalled a message"),
        None => format!("{name} recalled a message"),
    })
}

/// Whether a message is a notification (a tip, not a chat message).
pub fn is_tip(m: &Message) -> bool {
    m.content_type >= 1000 && !matches!(m.status, MessageStatus::Revoked { .. })
}

/// A field of a parsed JSON object (`undefined` when absent or when `v` is not an object).
pub fn field(v: &JsValue, key: &str) -> JsValue {
    if v.is_object() {
        js_sys::Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// A string field of a parsed JSON object ("" when absent or not a string).
pub fn str_field(v: &JsValue, key: &str) -> String {
    field(v, key).as_string().unwrap_or_default()
}

/// Parses JSON text with the browser's parser (`None` when it is not JSON).
pub fn parse_json(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

fn nick(v: &JsValue) -> String {
    let n = str_field(v, "nickname");
    if n.is_empty() {
        field(v, "userID")
            .as_string()
            .unwrap_or_else(|| "someone".to_owned())
    } else {
        n
    }
}

fn nicks(v: &JsValue) -> String {
    if !js_sys::Array::is_array(v) {
        return String::new();
    }
    let mut out = String::new();
    for (i, item) in js_sys::Array::from(v).iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&nick(&item));
    }
    out
}

/// A short text for a group notification (content types 1500 and up).
pub fn tip_text(m: &Message) -> String {
    let raw = match &m.content {
        chorus_core::model::Content::Raw(bytes) => bytes.clone(),
        chorus_core::model::Content::Text(t) => t.clone().into_bytes(),
        _ => Vec::new(),
    };
    let detail = chorus_proto::content::notification_detail(&raw)
        .ok()
        .and_then(|d| parse_json(&d))
        .unwrap_or(JsValue::NULL);
    let detail = |key: &str| field(&detail, key);
    let op = nick(&detail("opUser"));
    match m.content_type {
        1501 => format!("{op} created the group"),
        1502 => format!("{op} changed the group settings"),
        1504 => format!("{} left the group", nick(&detail("quitUser"))),
        1505 => "A join request was accepted".to_owned(),
        1507 => format!("{op} made {} the owner", nick(&detail("newGroupOwner"))),
        1508 => format!("{op} removed {}", nicks(&detail("kickedUserList"))),
        1509 => format!("{op} invited {}", nicks(&detail("invitedUserList"))),
        1510 => {
            let who = &detail("entrantUser");
            let how = match field(who, "joinSource").as_f64() {
                Some(3.0) => " (found it by search)",
                Some(4.0) => " (scanned the QR code)",
                _ => "",
            };
            format!("{} joined the group{how}", nick(who))
        }
        1511 => format!("{op} dismissed the group"),
        1516 => format!("{}'s member info changed", nick(&detail("changedUser"))),
        1517 => format!("{op} made {} an admin", nick(&detail("changedUser"))),
        1518 => format!(
            "{op} made {} an ordinary member",
            nick(&detail("changedUser"))
        ),
        1519 => format!("{op} updated the announcement"),
        1520 => format!(
            "{op} renamed the group to {}",
            str_field(&detail("group"), "groupName")
        ),
        1201 | 1204 => "You are now friends".to_owned(),
        1203 => "Friend request".to_owned(),
        1206 => "Remark changed".to_owned(),
        ct if ct < 1500 => format!("Notification ({ct})"),
        ct => format!("Group update ({ct})"),
    }
}

/// A one-line preview of a message for the conversation list.
pub fn preview(m: &Message, group: bool, name_of: impl Fn(&str) -> String) -> String {
    if let Some(text) = revoked_text(&m.status, &name_of) {
        return text;
    }
    if is_tip(m) {
        return tip_text(m);
    }
    let body = m
        .content
        .text()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("[message type {}]", m.content_type));
    if group {
        // The current name (the member list follows renames); the stored one otherwise.
        let known = name_of(&m.send_id);
        let sender = if known == m.send_id && !m.sender_nickname.is_empty() {
            m.sender_nickname.clone()
        } else {
            known
        };
        format!("{sender}: {body}")
    } else {
        body
    }
}

/// Adds or replaces messages (by clientMsgID) and keeps the list in seq order.
pub fn merge_messages(list: &mut Vec<Message>, new: Vec<Message>) {
    for m in new {
        match list.iter_mut().find(|x| x.client_msg_id == m.client_msg_id) {
            Some(x) => *x = m,
            None => list.push(m),
        }
    }
    // Unstored messages (seq 0) last; the seq's top bit flipped keeps its order as an i64.
    let keys = list
        .iter()
        .map(|m| {
            [
                i64::from(m.seq.0 == 0),
                (m.seq.0 ^ (1 << 63)) as i64,
                m.send_time,
            ]
        })
        .collect();
    sort_by_keys(list, keys);
}

/// Sorts `list` by `keys` (one key per item, compared in order, smallest first), keeping the
/// order of items with equal keys. The sort is the SDK's shared one (`chorus_core::sort`), so
/// the demo's lists add no copy of the standard sort of their own.
pub fn sort_by_keys<T>(list: &mut Vec<T>, keys: Vec<[i64; 3]>) {
    let order = chorus_core::sort::stable_order(keys.len(), &|a, b| keys[a].cmp(&keys[b]));
    chorus_core::sort::reorder(list, order);
}

/// A map from ids to values for the few groups, member lists and names the demo keeps. The
/// ids live in one list of strings, so finding one is the same code for every value type.
#[derive(Debug, Clone)]
pub struct IdMap<V> {
    keys: Vec<String>,
    values: Vec<V>,
}

impl<V> Default for IdMap<V> {
    fn default() -> IdMap<V> {
        IdMap {
            keys: Vec::new(),
            values: Vec::new(),
        }
    }
}

fn position(keys: &[String], key: &str) -> Option<usize> {
    keys.iter().position(|k| k == key)
}

impl<V> IdMap<V> {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        position(&self.keys, key).map(|i| &self.values[i])
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        position(&self.keys, key).is_some()
    }

    /// Sets the value of `key`, replacing the previous one.
    pub fn insert(&mut self, key: String, value: V) {
        match position(&self.keys, &key) {
            Some(i) => self.values[i] = value,
            None => {
                self.keys.push(key);
                self.values.push(value);
            }
        }
    }

    /// Forgets `key`.
    pub fn remove(&mut self, key: &str) {
        if let Some(i) = position(&self.keys, key) {
            self.keys.remove(i);
            self.values.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn sort_by_keys_orders_like_a_stable_sort() {
        // Items are (keys, original position); many equal keys check that ties keep their order.
        let mut seed = 7u64;
        for len in [0usize, 1, 2, 5, 40, 200] {
            let items: Vec<([i64; 3], usize)> = (0..len)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let k = (seed >> 33) as i64;
                    (
                        [
                            k % 3 - 1,
                            (k / 3) % 4,
                            if k % 5 == 0 { i64::MIN } else { i64::MAX },
                        ],
                        i,
                    )
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|x| x.0);
            let mut sorted = items.clone();
            let keys = sorted.iter().map(|x| x.0).collect();
            sort_by_keys(&mut sorted, keys);
            assert_eq!(sorted, expected, "{len} items");
        }
    }

    #[wasm_bindgen_test]
    fn id_map_keeps_one_value_per_id() {
        let mut map = IdMap::default();
        map.insert("a".to_owned(), 1);
        map.insert("b".to_owned(), 2);
        map.insert("a".to_owned(), 3);
        assert_eq!(map.get("a"), Some(&3));
        assert_eq!(map.get("b"), Some(&2));
        assert!(!map.contains_key("c"));
        map.remove("a");
        assert_eq!(map.get("a"), None);
        assert_eq!(map.get("b"), Some(&2));
        assert!(map.contains_key("b"));
        map.remove("c");
        assert_eq!(map.get("b"), Some(&2));
    }
}
