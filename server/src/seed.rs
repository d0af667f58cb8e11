//! `--seed-demo`: demo users, friendships with remarks, a work group with a few days of history,
//! and a single chat, so that the web demo has something to show on first start.
//!
//! Everything goes through the real service paths: the REST routes, called in-process with
//! tokens issued for the seeded users (registration, friend requests and answers, remarks, group
//! creation, roles, announcement, invitation, joins by search and by QR code), and
//! [`crate::msg::send`] for the messages. The stored rows, seqs and tips are therefore exactly
//! what clients produce. The tokens used for seeding are invalidated when it ends.
//!
//! The services stamp the wall clock, but the demo needs a story spread over the past days.
//! Seeding therefore runs as a sequence of steps, each in its own millisecond window with a
//! story time; a final pass moves every timestamp that a step wrote into the seeded rows (users,
//! friends, the group, its members, stored messages and the times inside tip details) to that
//! step's story time. Messages are sent with their past `sendTime` from the start.
//!
//! Idempotent: when the demo group exists, seeding does nothing (and refuses to go on when an
//! earlier seeding was interrupted, which needs a fresh data directory). This module never
//! runs without `--seed-demo` and never changes rows outside the seeded users, group and chats.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use chorus_proto::constants::{JoinSource, PlatformId};
use chorus_proto::content::TextElem;
use chorus_proto::pb::sdkws::MsgData;
use chorus_proto::pb::Message as _;
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use tower::ServiceExt as _;

use crate::auth::ADMIN_PLATFORM_ID;
use crate::msg::{self, ids};
use crate::store::StoreError;
use crate::{now_ms, AppState};

/// A seeded account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoUser {
    pub user_id: &'static str,
    pub nickname: &'static str,
    /// One line for the sign-in screen.
    pub about: &'static str,
}

/// The seeded accounts, in the order the sign-in screen lists them.
pub const USERS: &[DemoUser] = &[
    DemoUser {
        user_id: "alice",
        nickname: "Alice",
        about: "owner of Chorus team",
    },
    DemoUser {
        user_id: "bob",
        nickname: "Bob",
        about: "admin of Chorus team, wrote its announcement",
    },
    DemoUser {
        user_id: "carol",
        nickname: "Carol",
        about: "member, invited by Alice",
    },
    DemoUser {
        user_id: "dave",
        nickname: "Dave",
        about: "not in Chorus team yet: invite him and he sees its whole history",
    },
    DemoUser {
        user_id: "erin",
        nickname: "Erin",
        about: "member, joined by search",
    },
    DemoUser {
        user_id: "frank",
        nickname: "Frank",
        about: "member, joined by QR code",
    },
];

/// The work group's ID and name.
pub const GROUP_ID: &str = "chorus-team";
pub const GROUP_NAME: &str = "Chorus team";
/// The announcement Bob (admin) publishes.
pub const ANNOUNCEMENT: &str = "Welcome to Chorus team! Stand-up is at 09:30 every weekday. \
     Release notes go here; questions about the protocol go to Alice.";
/// User messages in the group's history.
pub const HISTORY_MESSAGES: usize = 300;
/// Text messages in the Alice–Bob single chat.
const SINGLE_CHAT: &[(&str, &str)] = &[
    (
        "alice",
        "Bob, do you have five minutes for the release checklist?",
    ),
    ("bob", "Sure. Did the QR code join flow make it in?"),
    ("alice", "It did, and the member list shows who joined how."),
    ("bob", "Great, I'll update the announcement once it ships."),
];

/// Whether `user_id` is one of the seeded accounts.
pub fn is_demo_user(user_id: &str) -> bool {
    USERS.iter().any(|u| u.user_id == user_id)
}

/// What [`seed_demo`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    /// The data directory was seeded now.
    Created,
    /// It was seeded before; nothing changed.
    AlreadySeeded,
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Platform of the seeding tokens (invalidated at the end).
const SEED_PLATFORM: i32 = PlatformId::Linux.as_i32();
/// Platform the seeded messages claim to come from.
const WEB: i32 = PlatformId::Web.as_i32();

/// Seeds the demo data unless the demo group already exists. Call before serving.
pub async fn seed_demo(state: &AppState) -> Result<Seeded> {
    let single = ids::single("alice", "bob");
    let (group, finished) = state
        .store
        .call(move |c| {
            let group = crate::group::db::group_id_taken(c, GROUP_ID)?;
            // The single chat's messages are the last step: their presence marks a full run.
            let finished: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?1 AND content_type = 101)",
                [single],
                |r| r.get(0),
            )?;
            Ok((group, finished))
        })
        .await?;
    if group {
        if !finished {
            bail!(
                "the demo data in {} is incomplete (an earlier seeding was interrupted); \
                 remove that directory (or run `cargo xtask demo --fresh`)",
                state.config.data_dir.display()
            );
        }
        tracing::info!(
            group = GROUP_ID,
            "demo data already present; nothing seeded"
        );
        return Ok(Seeded::AlreadySeeded);
    }
    let started = std::time::Instant::now();
    let mut seeder = Seeder::new(state).await?;
    let result = seeder.story().await;
    // The seeding tokens never outlive seeding, whatever happened.
    seeder.revoke_tokens().await;
    result?;
    seeder.backdate().await?;
    tracing::info!(
        users = USERS.len(),
        group = GROUP_ID,
        messages = HISTORY_MESSAGES,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo data seeded"
    );
    Ok(Seeded::Created)
}

/// One step of the story: from `real_start` on (until the next step), the services' clock
/// readings stand for `story`.
#[derive(Debug, Clone, Copy)]
struct Step {
    real_start: i64,
    story: i64,
}

/// Maps the wall-clock readings of the seeding run to story times.
#[derive(Debug, Default)]
struct Timeline {
    steps: Vec<Step>,
    real_end: i64,
}

impl Timeline {
    /// The story time of a wall-clock reading taken during seeding, if it is one.
    fn story(&self, real: i64) -> Option<i64> {
        let first = self.steps.first()?;
        if real < first.real_start || real > self.real_end {
            return None;
        }
        self.steps
            .iter()
            .rev()
            .find(|s| s.real_start <= real)
            .map(|s| s.story)
    }
}

/// Replaces every run of ASCII digits in `text` that `map` recognises (tip details are JSON,
/// whose numbers are plain digit runs; the replacements keep the JSON valid).
fn map_digit_runs(text: &str, map: impl Fn(i64) -> Option<i64>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let digits = &rest[start..];
        let len = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let run = &digits[..len];
        match run.parse::<i64>().ok().and_then(&map) {
            Some(v) => out.push_str(&v.to_string()),
            None => out.push_str(run),
        }
        rest = &digits[len..];
    }
    out.push_str(rest);
    out
}

struct Seeder {
    state: AppState,
    router: Router,
    tokens: HashMap<String, String>,
    admin: String,
    timeline: Timeline,
    /// The story's first day, 09:00-ish: five days before the current hour.
    day_one: i64,
    calls: u64,
}

impl Seeder {
    async fn new(state: &AppState) -> Result<Seeder> {
        let admin = state
            .config
            .admin_user_ids
            .first()
            .cloned()
            .context("seeding the demo needs an app administrator (--admin)")?;
        let mut tokens = HashMap::new();
        tokens.insert(
            admin.clone(),
            state.issue_token(&admin, ADMIN_PLATFORM_ID).await?,
        );
        let now = now_ms();
        Ok(Seeder {
            state: state.clone(),
            router: crate::api::router().with_state(state.clone()),
            tokens,
            admin,
            timeline: Timeline::default(),
            day_one: now - now.rem_euclid(HOUR) - 5 * DAY,
            calls: 0,
        })
    }

    /// Starts a step whose clock readings stand for `story`: waits until the wall clock has
    /// moved past every reading of the previous step.
    async fn at(&mut self, story: i64) {
        let last = now_ms();
        while now_ms() <= last {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        self.timeline.steps.push(Step {
            real_start: now_ms(),
            story,
        });
    }

    /// POSTs `body` to the REST route `path` as `user`; returns the envelope's `data`.
    async fn call(&mut self, user: &str, path: &str, body: Value) -> Result<Value> {
        self.calls += 1;
        let token = self
            .tokens
            .get(user)
            .with_context(|| format!("no seeding token for {user}"))?;
        let request = Request::post(path)
            .header("content-type", "application/json")
            .header("operationID", format!("seed-demo-{}", self.calls))
            .header("token", token)
            .body(Body::from(body.to_string()))?;
        let response = match self.router.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let bytes = axum::body::to_bytes(response.into_body(), 16 << 20).await?;
        let envelope: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{path}: the answer is not JSON"))?;
        if envelope["errCode"] != 0 {
            bail!(
                "{path} as {user}: error {} {}",
                envelope["errCode"],
                envelope["errMsg"]
            );
        }
        Ok(envelope["data"].clone())
    }

    /// Sends a text message with a past `sendTime` through the message service.
    async fn say(&self, from: &str, to: Chat, text: &str, at: i64) -> Result<()> {
        let nickname = USERS
            .iter()
            .find(|u| u.user_id == from)
            .map_or(from, |u| u.nickname);
        let (session_type, recv_id, group_id) = match to {
            Chat::Group => (3, String::new(), GROUP_ID.to_owned()),
            Chat::Single(peer) => (1, peer.to_owned(), String::new()),
        };
        let msg = MsgData {
            send_id: from.to_owned(),
            recv_id,
            group_id,
            client_msg_id: ids::random_id(),
            sender_platform_id: WEB,
            sender_nickname: nickname.to_owned(),
            session_type,
            msg_from: 100,
            content_type: 101,
            content: TextElem::new(text).to_content()?,
            send_time: at,
            create_time: at,
            ..MsgData::default()
        };
        msg::send(&self.state, from, WEB, msg)
            .await
            .with_context(|| format!("sending as {from}"))?;
        Ok(())
    }

    /// The whole story, in order.
    async fn story(&mut self) -> Result<()> {
        let day_one = self.day_one;
        let admin = self.admin.clone();

        // A month ago: the accounts.
        self.at(day_one - 30 * DAY).await;
        let users: Vec<Value> = USERS
            .iter()
            .map(|u| json!({"userID": u.user_id, "nickname": u.nickname, "faceURL": ""}))
            .collect();
        self.call(&admin, "/user/user_register", json!({ "users": users }))
            .await?;
        for u in USERS {
            let token = self.state.issue_token(u.user_id, SEED_PLATFORM).await?;
            self.tokens.insert(u.user_id.to_owned(), token);
        }

        // Three weeks ago: friendships (request, then acceptance), then remarks.
        let friendships = [
            ("alice", "bob", "Hi Bob, it's Alice from the protocol team."),
            (
                "alice",
                "carol",
                "Hi Carol! Adding you for the Chorus work.",
            ),
            ("bob", "erin", "Hey Erin, Bob here (design)."),
            ("carol", "dave", "Hi Dave, Carol from engineering."),
        ];
        for (i, (from, to, hello)) in friendships.into_iter().enumerate() {
            let t = day_one - 21 * DAY + i as i64 * 3 * HOUR;
            self.at(t).await;
            self.call(
                from,
                "/friend/add_friend",
                json!({"fromUserID": from, "toUserID": to, "reqMsg": hello}),
            )
            .await?;
            self.at(t + 20 * MINUTE).await;
            self.call(
                to,
                "/friend/add_friend_response",
                json!({"fromUserID": from, "toUserID": to, "handleResult": 1, "handleMsg": "Welcome!"}),
            )
            .await?;
        }
        let remarks = [
            ("alice", "bob", "Bob (design lead)"),
            ("bob", "alice", "Alice · protocol"),
            ("carol", "dave", "Dave from sales"),
        ];
        for (i, (owner, friend, remark)) in remarks.into_iter().enumerate() {
            self.at(day_one - 20 * DAY + i as i64 * HOUR).await;
            self.call(
                owner,
                "/friend/set_friend_remark",
                json!({"ownerUserID": owner, "friendUserID": friend, "remark": remark}),
            )
            .await?;
        }

        // Day one: Alice creates the group with Bob, makes him admin; Bob writes the
        // announcement. Anyone may join directly (needVerification 2), so joins by search
        // and by QR code need no approval.
        self.at(day_one).await;
        self.call(
            "alice",
            "/group/create_group",
            json!({
                "memberUserIDs": ["bob"],
                "adminUserIDs": [],
                "ownerUserID": "alice",
                "groupInfo": {
                    "groupID": GROUP_ID,
                    "groupName": GROUP_NAME,
                    "introduction": "Where the people building Chorus coordinate.",
                    "groupType": 2,
                    "needVerification": 2,
                    "lookMemberInfo": 0,
                    "applyMemberFriend": 0,
                },
            }),
        )
        .await?;
        self.at(day_one + 2 * MINUTE).await;
        self.call(
            "alice",
            "/group/set_group_member_info",
            json!({"members": [{"groupID": GROUP_ID, "userID": "bob", "roleLevel": 60}]}),
        )
        .await?;
        self.at(day_one + 5 * MINUTE).await;
        self.call(
            "bob",
            "/group/set_group_info_ex",
            json!({"groupID": GROUP_ID, "notification": ANNOUNCEMENT}),
        )
        .await?;

        // Five days of history; a new member arrives each morning, in a different way.
        let per_day = [40, 60, 70, 70, 60];
        debug_assert_eq!(per_day.iter().sum::<usize>(), HISTORY_MESSAGES);
        let mut members = vec!["alice", "bob"];
        let mut n = 0;
        for (day, count) in per_day.into_iter().enumerate() {
            let start = day_one + day as i64 * DAY;
            match day {
                1 => {
                    self.at(start).await;
                    self.call(
                        "alice",
                        "/group/invite_user_to_group",
                        json!({"groupID": GROUP_ID, "invitedUserIDs": ["carol"], "reason": "Join us!"}),
                    )
                    .await?;
                    members.push("carol");
                }
                2 => {
                    self.at(start).await;
                    self.join("erin", JoinSource::BySearch).await?;
                    members.push("erin");
                }
                3 => {
                    self.at(start).await;
                    self.join("frank", JoinSource::ByQrCode).await?;
                    members.push("frank");
                }
                _ => {}
            }
            // From 09:10 to about 17:00, evenly.
            let gap = 8 * HOUR / count as i64;
            for k in 0..count {
                let sender = members[(n * 7 + n / 5) % members.len()];
                let at = start + 10 * MINUTE + k as i64 * gap;
                self.say(sender, Chat::Group, &history_line(n), at).await?;
                n += 1;
            }
        }

        // The last step (its presence marks a complete seeding): a short single chat.
        let now = now_ms();
        for (i, (from, text)) in SINGLE_CHAT.iter().enumerate() {
            let peer = if *from == "alice" { "bob" } else { "alice" };
            let at = now - 3 * HOUR + i as i64 * 20 * MINUTE;
            self.say(from, Chat::Single(peer), text, at).await?;
        }
        Ok(())
    }

    async fn join(&mut self, user: &str, source: JoinSource) -> Result<()> {
        self.call(
            user,
            "/group/join_group",
            json!({
                "groupID": GROUP_ID,
                "reqMessage": "",
                "joinSource": source.as_i32(),
                "inviterUserID": user,
            }),
        )
        .await?;
        Ok(())
    }

    /// Marks every seeding token kicked.
    async fn revoke_tokens(&self) {
        for user in self.tokens.keys() {
            let platform = if *user == self.admin {
                ADMIN_PLATFORM_ID
            } else {
                SEED_PLATFORM
            };
            if let Err(e) = self.state.kick_platform(user, platform).await {
                tracing::warn!(user, error = %e, "seeding token not revoked");
            }
        }
    }

    /// Moves the clock readings of the seeding steps to their story times (see the module
    /// documentation), in one transaction, touching only the seeded rows.
    async fn backdate(&mut self) -> Result<()> {
        self.timeline.real_end = now_ms();
        let timeline = std::mem::take(&mut self.timeline);
        self.state
            .store
            .call(move |c| {
                let tx = c.transaction()?;
                backdate_rows(&tx, &timeline)?;
                tx.commit()?;
                Ok(())
            })
            .await?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Chat {
    Group,
    Single(&'static str),
}

fn backdate_rows(c: &Connection, timeline: &Timeline) -> Result<(), StoreError> {
    let map = |t: i64| timeline.story(t);
    let users: Vec<&str> = USERS.iter().map(|u| u.user_id).collect();
    let user_list = users
        .iter()
        .map(|u| format!("'{u}'"))
        .collect::<Vec<_>>()
        .join(",");
    // (table, column, scope); the scopes only name seeded rows.
    let group_scope = format!("group_id = '{GROUP_ID}'");
    let columns = [
        ("users", "create_time", format!("user_id IN ({user_list})")),
        ("groups", "create_time", group_scope.clone()),
        ("groups", "notification_update_time", group_scope.clone()),
        ("group_members", "join_time", group_scope.clone()),
        ("group_requests", "req_time", group_scope.clone()),
        ("group_requests", "handle_time", group_scope),
        (
            "friends",
            "create_time",
            format!("owner_user_id IN ({user_list})"),
        ),
        (
            "friend_requests",
            "create_time",
            format!("from_user_id IN ({user_list})"),
        ),
        (
            "friend_requests",
            "handle_time",
            format!("from_user_id IN ({user_list})"),
        ),
    ];
    for (table, column, scope) in &columns {
        let rows: Vec<(i64, i64)> = {
            let mut st = c.prepare(&format!(
                "SELECT rowid, {column} FROM {table} WHERE {scope}"
            ))?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (rowid, t) in rows {
            if let Some(story) = map(t) {
                c.execute(
                    &format!("UPDATE {table} SET {column} = ?2 WHERE rowid = ?1"),
                    params![rowid, story],
                )?;
            }
        }
    }
    // Stored messages of the seeded conversations: the group's chat and notification
    // conversations, and those between any two seeded users.
    let mut conversations = vec![ids::group(GROUP_ID), format!("n_{GROUP_ID}")];
    for a in &users {
        for b in &users {
            if a <= b {
                conversations.push(ids::single(a, b));
                conversations.push(ids::notification(1, a, b, ""));
            }
        }
    }
    let mut st = c.prepare("SELECT rowid, msg FROM messages WHERE conversation_id = ?1")?;
    for conversation in &conversations {
        let rows: Vec<(i64, Vec<u8>)> = st
            .query_map([conversation], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (rowid, blob) in rows {
            // Only this server wrote these rows; an undecodable one is left as it is.
            let Ok(mut m) = MsgData::decode(blob.as_slice()) else {
                continue;
            };
            let Some(story) = map(m.send_time) else {
                continue;
            };
            m.send_time = story;
            if let Some(t) = map(m.create_time) {
                m.create_time = t;
            }
            if (1000..=5000).contains(&m.content_type) {
                if let Ok(text) = std::str::from_utf8(&m.content) {
                    m.content = map_digit_runs(text, map).into_bytes();
                }
            }
            c.execute(
                "UPDATE messages SET send_time = ?2, msg = ?3 WHERE rowid = ?1",
                params![rowid, m.send_time, m.encode_to_vec()],
            )?;
        }
    }
    Ok(())
}

/// The `n`th message of the group's history: the first one greets, the others combine a
/// sentence and a topic so that no two are alike.
fn history_line(n: usize) -> String {
    const SENTENCES: [&str; 20] = [
        "Morning! Picking up {} today.",
        "Pushed a fix for {}; reviews welcome.",
        "Who owns {} this sprint?",
        "I can take {}.",
        "Found a bug in {}, writing it up now.",
        "Checked {} on my phone: looks good.",
        "Can we pair on {} after lunch?",
        "Updated the docs for {}.",
        "Tests for {} are green again.",
        "Any objections to shipping {} tomorrow?",
        "Nice work on {}!",
        "Still seeing a flaky test around {}.",
        "Benchmarks for {} are in the sheet.",
        "Let's demo {} on Friday.",
        "Reverted my change to {}: it broke the build.",
        "Design review for {} is at 3 pm.",
        "Closing the ticket for {}.",
        "Question about {}: do we keep the old behaviour?",
        "Left comments on the pull request for {}.",
        "Merged {}.",
    ];
    const TOPICS: [&str; 15] = [
        "the login screen",
        "the release notes",
        "seq gap repair",
        "the IndexedDB cache",
        "the announcement banner",
        "push fan-out",
        "the member list",
        "read receipts",
        "the recall button",
        "offline sync",
        "the gob decoder",
        "QR code joins",
        "the profile page",
        "unread badges",
        "the CI pipeline",
    ];
    if n == 0 {
        return "Welcome, everyone! This group is where the Chorus team coordinates.".to_owned();
    }
    // Sentence n % 20 with topic (n / 20 + 3 · sentence) % 15: a bijection on 0..300.
    let s = n % SENTENCES.len();
    let t = (n / SENTENCES.len() + 3 * s) % TOPICS.len();
    let line = SENTENCES[s].replace("{}", TOPICS[t]);
    if n < SENTENCES.len() * TOPICS.len() {
        line
    } else {
        format!("{line} (#{n})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lines_are_distinct() {
        let lines: std::collections::HashSet<String> =
            (0..HISTORY_MESSAGES + 50).map(history_line).collect();
        assert_eq!(lines.len(), HISTORY_MESSAGES + 50);
    }

    #[test]
    fn timeline_maps_only_readings_inside_the_run() {
        let t = Timeline {
            steps: vec![
                Step {
                    real_start: 1_000,
                    story: 10,
                },
                Step {
                    real_start: 1_005,
                    story: 20,
                },
            ],
            real_end: 1_009,
        };
        assert_eq!(t.story(999), None);
        assert_eq!(t.story(1_000), Some(10));
        assert_eq!(t.story(1_004), Some(10));
        assert_eq!(t.story(1_005), Some(20));
        assert_eq!(t.story(1_009), Some(20));
        assert_eq!(t.story(1_010), None);
        assert_eq!(Timeline::default().story(5), None);
    }

    #[test]
    fn digit_runs_are_mapped_in_place() {
        let map = |v: i64| (v == 1_700_000_000_123).then_some(1_600_000_000_000);
        assert_eq!(
            map_digit_runs(
                r#"{"detail":"{\"operationTime\":1700000000123,\"seq\":12}"}"#,
                map
            ),
            r#"{"detail":"{\"operationTime\":1600000000000,\"seq\":12}"}"#
        );
        assert_eq!(map_digit_runs("", map), "");
        assert_eq!(
            map_digit_runs("x99999999999999999999y", map),
            "x99999999999999999999y"
        );
    }
}
