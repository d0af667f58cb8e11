//! Numbered schema migrations. Each entry runs once, in order, inside one transaction, and bumps
//! `PRAGMA user_version` to its number. Never edit a shipped migration: append a new one.

/// `(version, sql)` pairs; versions start at 1 and are contiguous.
pub(crate) const MIGRATIONS: &[(u32, &str)] = &[(1, V1), (2, V2), (3, V3)];

const V1: &str = r#"
CREATE TABLE users (
    user_id             TEXT PRIMARY KEY,
    nickname            TEXT NOT NULL DEFAULT '',
    face_url            TEXT NOT NULL DEFAULT '',
    ex                  TEXT NOT NULL DEFAULT '',
    create_time         INTEGER NOT NULL,
    app_manger_level    INTEGER NOT NULL DEFAULT 0,
    global_recv_msg_opt INTEGER NOT NULL DEFAULT 0
);

-- Issued tokens: a token is valid only while its row exists with state 0 (normal);
-- state 2 marks it kicked (multi-login policy, force logout).
CREATE TABLE tokens (
    token       TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    platform_id INTEGER NOT NULL,
    state       INTEGER NOT NULL DEFAULT 0,
    expire_at   INTEGER NOT NULL
);
CREATE INDEX tokens_by_user ON tokens (user_id, platform_id);

CREATE TABLE groups (
    group_id                 TEXT PRIMARY KEY,
    group_name               TEXT NOT NULL DEFAULT '',
    notification             TEXT NOT NULL DEFAULT '',
    introduction             TEXT NOT NULL DEFAULT '',
    face_url                 TEXT NOT NULL DEFAULT '',
    owner_user_id            TEXT NOT NULL,
    create_time              INTEGER NOT NULL,
    ex                       TEXT NOT NULL DEFAULT '',
    status                   INTEGER NOT NULL DEFAULT 0,
    creator_user_id          TEXT NOT NULL DEFAULT '',
    group_type               INTEGER NOT NULL DEFAULT 2,
    need_verification        INTEGER NOT NULL DEFAULT 0,
    look_member_info         INTEGER NOT NULL DEFAULT 0,
    apply_member_friend      INTEGER NOT NULL DEFAULT 0,
    notification_update_time INTEGER NOT NULL DEFAULT 0,
    notification_user_id     TEXT NOT NULL DEFAULT '',
    -- "history visible to new members" (enableHistoryForNewMembers), on by default.
    history_for_new_members  INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE group_members (
    group_id         TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    role_level       INTEGER NOT NULL DEFAULT 20,
    join_time        INTEGER NOT NULL,
    nickname         TEXT NOT NULL DEFAULT '',
    face_url         TEXT NOT NULL DEFAULT '',
    app_manger_level INTEGER NOT NULL DEFAULT 0,
    join_source      INTEGER NOT NULL DEFAULT 0,
    operator_user_id TEXT NOT NULL DEFAULT '',
    inviter_user_id  TEXT NOT NULL DEFAULT '',
    ex               TEXT NOT NULL DEFAULT '',
    mute_end_time    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

CREATE TABLE group_requests (
    group_id        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    handle_result   INTEGER NOT NULL DEFAULT 0,
    req_msg         TEXT NOT NULL DEFAULT '',
    handle_msg      TEXT NOT NULL DEFAULT '',
    req_time        INTEGER NOT NULL,
    handle_user_id  TEXT NOT NULL DEFAULT '',
    handle_time     INTEGER NOT NULL DEFAULT 0,
    ex              TEXT NOT NULL DEFAULT '',
    join_source     INTEGER NOT NULL DEFAULT 0,
    inviter_user_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE friends (
    owner_user_id    TEXT NOT NULL,
    friend_user_id   TEXT NOT NULL,
    remark           TEXT NOT NULL DEFAULT '',
    create_time      INTEGER NOT NULL,
    add_source       INTEGER NOT NULL DEFAULT 0,
    operator_user_id TEXT NOT NULL DEFAULT '',
    ex               TEXT NOT NULL DEFAULT '',
    is_pinned        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner_user_id, friend_user_id)
);

CREATE TABLE friend_requests (
    from_user_id    TEXT NOT NULL,
    to_user_id      TEXT NOT NULL,
    handle_result   INTEGER NOT NULL DEFAULT 0,
    req_msg         TEXT NOT NULL DEFAULT '',
    create_time     INTEGER NOT NULL,
    handler_user_id TEXT NOT NULL DEFAULT '',
    handle_msg      TEXT NOT NULL DEFAULT '',
    handle_time     INTEGER NOT NULL DEFAULT 0,
    ex              TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (from_user_id, to_user_id)
);

CREATE TABLE blacks (
    owner_user_id    TEXT NOT NULL,
    black_user_id    TEXT NOT NULL,
    create_time      INTEGER NOT NULL,
    add_source       INTEGER NOT NULL DEFAULT 0,
    operator_user_id TEXT NOT NULL DEFAULT '',
    ex               TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (owner_user_id, black_user_id)
);

-- One row per (owner, conversation). min_seq / max_seq are the owner's bounds (spec §4.3):
-- max_seq > 0 freezes the visible window for members who left.
CREATE TABLE conversations (
    owner_user_id            TEXT NOT NULL,
    conversation_id          TEXT NOT NULL,
    conversation_type        INTEGER NOT NULL,
    user_id                  TEXT NOT NULL DEFAULT '',
    group_id                 TEXT NOT NULL DEFAULT '',
    recv_msg_opt             INTEGER NOT NULL DEFAULT 0,
    is_pinned                INTEGER NOT NULL DEFAULT 0,
    attached_info            TEXT NOT NULL DEFAULT '',
    is_private_chat          INTEGER NOT NULL DEFAULT 0,
    group_at_type            INTEGER NOT NULL DEFAULT 0,
    ex                       TEXT NOT NULL DEFAULT '',
    burn_duration            INTEGER NOT NULL DEFAULT 0,
    min_seq                  INTEGER NOT NULL DEFAULT 0,
    max_seq                  INTEGER NOT NULL DEFAULT 0,
    has_read_seq             INTEGER NOT NULL DEFAULT 0,
    msg_destruct_time        INTEGER NOT NULL DEFAULT 604800,
    latest_msg_destruct_time INTEGER NOT NULL DEFAULT 0,
    is_msg_destruct          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner_user_id, conversation_id)
);
CREATE INDEX conversations_by_id ON conversations (conversation_id);

-- The seq counter of each conversation: read diffusion keeps one counter per conversation
-- (shared by all members of a group), advanced in the transaction that stores the message.
CREATE TABLE seqs (
    conversation_id TEXT PRIMARY KEY,
    max_seq         INTEGER NOT NULL DEFAULT 0,
    min_seq         INTEGER NOT NULL DEFAULT 0
);

-- One stored copy per message per conversation. `msg` is the protobuf MsgData as sent,
-- with seq, serverMsgID and sendTime filled. `revoke` holds the revocation record (JSON)
-- that later pulls turn into the 2101 content.
CREATE TABLE messages (
    conversation_id TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    client_msg_id   TEXT NOT NULL,
    server_msg_id   TEXT NOT NULL,
    send_id         TEXT NOT NULL,
    send_time       INTEGER NOT NULL,
    content_type    INTEGER NOT NULL,
    msg             BLOB NOT NULL,
    revoke          TEXT,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_by_client_id ON messages (conversation_id, client_msg_id);

-- Per-user deletions ("delete for me"): the user pulls a placeholder for these seqs.
CREATE TABLE message_deletes (
    conversation_id TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    user_id         TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq, user_id)
);

-- Incremental version sync (spec §5.8): one log per (kind, key), e.g. ('friend', ownerUserID),
-- ('join_group', userID), ('group_member', groupID), ('conversation', ownerUserID).
CREATE TABLE version_logs (
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    version_id TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, key)
);
CREATE TABLE version_changes (
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    version   INTEGER NOT NULL,
    entity_id TEXT NOT NULL,
    op        INTEGER NOT NULL, -- 1 insert, 2 update, 3 delete
    PRIMARY KEY (kind, key, entity_id)
);
CREATE INDEX version_changes_by_version ON version_changes (kind, key, version);
"#;

/// Former group members' window on the group's notification conversation `n_<groupID>`.
///
/// `notification_max_seq` lives on the member's `sg_<groupID>` row: NULL while the window is
/// open (a member), otherwise the last `n_<groupID>` seq the former member may read (0: none).
/// Rows of users who had already left get the newest `n_` seq sent no later than the newest
/// message of their frozen `sg_` window, the closest record of when they left.
const V2: &str = r#"
ALTER TABLE conversations ADD COLUMN notification_max_seq INTEGER;

UPDATE conversations
SET notification_max_seq = COALESCE((
    SELECT max(n.seq) FROM messages n
    WHERE n.conversation_id = 'n_' || conversations.group_id
      AND n.send_time <= (
          SELECT max(m.send_time) FROM messages m
          WHERE m.conversation_id = conversations.conversation_id
            AND m.seq <= conversations.max_seq)
), 0)
WHERE conversation_type = 3
  AND group_id <> ''
  AND conversation_id = 'sg_' || group_id
  AND NOT EXISTS (
      SELECT 1 FROM group_members gm
      WHERE gm.group_id = conversations.group_id AND gm.user_id = conversations.owner_user_id);
"#;

/// Token rows are purged once expired (see `auth::purge_expired_tokens`): found by expiry.
const V3: &str = r#"
CREATE INDEX tokens_by_expiry ON tokens (expire_at);
"#;
