//! Conversation IDs (spec §4.1) and server-generated message IDs.
//!
//! Pure string functions: no storage, no clock.

/// `si_<a>_<b>` with the two user IDs sorted ascending.
pub fn single(a: &str, b: &str) -> String {
    pair("si_", a, b)
}

/// `sg_<groupID>`.
pub fn group(group_id: &str) -> String {
    format!("sg_{group_id}")
}

/// `sn_<a>_<b>` sorted: chats with notification accounts (session type 4).
pub fn notification_chat(a: &str, b: &str) -> String {
    pair("sn_", a, b)
}

fn pair(prefix: &str, a: &str, b: &str) -> String {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    format!("{prefix}{x}_{y}")
}

/// The chat conversation of a message: session 1 → `si_`, 3 → `sg_`, 4 → `sn_`.
pub fn chat(session_type: i32, send_id: &str, recv_id: &str, group_id: &str) -> Option<String> {
    match session_type {
        1 => Some(single(send_id, recv_id)),
        3 => Some(group(group_id)),
        4 => Some(notification_chat(send_id, recv_id)),
        _ => None,
    }
}

/// The hidden notification conversation of a notification: `n_<groupID>` for groups,
/// `n_<a>_<b>` sorted otherwise.
pub fn notification(session_type: i32, send_id: &str, recv_id: &str, group_id: &str) -> String {
    if session_type == 3 {
        format!("n_{group_id}")
    } else {
        pair("n_", send_id, recv_id)
    }
}

/// The `n_` twin of a chat conversation (`si_a_b` → `n_a_b`, `sg_g` → `n_g`).
pub fn twin(conversation_id: &str) -> Option<String> {
    ["si_", "sg_", "sn_"]
        .iter()
        .find_map(|p| conversation_id.strip_prefix(p))
        .map(|rest| format!("n_{rest}"))
}

/// Whether the conversation is a hidden notification conversation.
pub fn is_notification(conversation_id: &str) -> bool {
    conversation_id.starts_with("n_")
}

/// If `rest` (the part after a prefix such as `si_`) is the sorted pair of `user` and someone,
/// returns that someone. User IDs may contain `_`, so both splits are tried.
pub fn peer_in_pair(rest: &str, user: &str) -> Option<String> {
    if let Some(other) = rest
        .strip_prefix(user)
        .and_then(|r| r.strip_prefix('_'))
        .filter(|other| user <= *other)
    {
        return Some(other.to_owned());
    }
    rest.strip_suffix(user)
        .and_then(|r| r.strip_suffix('_'))
        .filter(|other| *other <= user)
        .map(str::to_owned)
}

/// 32 random lowercase hex digits (the shape of OpenIM's MD5-based IDs).
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    // A failed draw is practically impossible; mixing in the clock keeps IDs distinct anyway.
    if getrandom::fill(&mut b).is_err() {
        let t = crate::now_ms().to_le_bytes();
        b[..8].copy_from_slice(&t);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sorted_and_twinned() {
        assert_eq!(single("u2", "u1"), "si_u1_u2");
        assert_eq!(chat(3, "u1", "", "g1").as_deref(), Some("sg_g1"));
        assert_eq!(chat(2, "u1", "u2", ""), None);
        assert_eq!(notification(1, "u2", "u1", ""), "n_u1_u2");
        assert_eq!(notification(3, "u2", "g", "g"), "n_g");
        assert_eq!(twin("si_a_b").as_deref(), Some("n_a_b"));
        assert_eq!(twin("n_a_b"), None);
    }

    #[test]
    fn pairs_with_underscores() {
        assert_eq!(peer_in_pair("a_b_c", "a").as_deref(), Some("b_c"));
        assert_eq!(peer_in_pair("a_b_c", "b_c").as_deref(), Some("a"));
        assert_eq!(peer_in_pair("u1_u1", "u1").as_deref(), Some("u1"));
        assert_eq!(peer_in_pair("u1_u2", "u3"), None);
        // Not sorted: not a pair this user belongs to.
        assert_eq!(peer_in_pair("z_a", "z"), None);
        assert_eq!(random_id().len(), 32);
        assert_eq!(like_escape("a_%\\"), "a\\_\\%\\\\");
    }
}
