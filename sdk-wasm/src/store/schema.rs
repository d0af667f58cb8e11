//! The database schema as a list of numbered migrations.
//!
//! Each [`Migration`] names the object stores and indexes its version introduced. Opening a
//! database declares the union of every migration up to [`SCHEMA_VERSION`]; IndexedDB's upgrade
//! creates what an older database lacks and keeps every record of the stores it already has. A
//! new version appends one entry to [`MIGRATIONS`] and bumps [`SCHEMA_VERSION`]; it never edits an
//! older entry (a store or index declared earlier stays declared, so it is never dropped).

/// The schema version passed to `indexedDB.open`.
pub const SCHEMA_VERSION: u32 = 2;

/// Small named values (login user, settings), stored under explicit string keys.
pub const META: &str = "meta";
/// Messages, keyed `[conversationID, seq]`, or `[conversationID, 0, clientMsgID]` while unsent.
pub const MESSAGES: &str = "messages";
/// Sync states (floor, cursor, known ranges with their gaps), keyed by conversation id.
pub const CURSORS: &str = "cursors";
/// Conversations, keyed by their `id`.
pub const CONVERSATIONS: &str = "conversations";
/// User profiles, keyed by `user_id`.
pub const USERS: &str = "users";
/// Friends, keyed by the friend's user id (`user.user_id`).
pub const FRIENDS: &str = "friends";
/// Groups, keyed by `group_id`.
pub const GROUPS: &str = "groups";
/// Group members, keyed `[group_id, user_id]`.
pub const MEMBERS: &str = "members";
/// Messages waiting for the server's acknowledgement, keyed by `client_msg_id`.
pub const OUTBOX: &str = "outbox";
/// Version markers of entity lists, keyed `[kind, key]`.
pub const VERSIONS: &str = "versions";

/// Index of [`MESSAGES`] on the clientMsgID (unique; messages without one are not indexed).
pub const BY_CLIENT_ID: &str = "clientMsgID";
/// Index of [`MESSAGES`] on `[conversation_id, send_id]`, for rewriting one sender's messages.
pub const BY_SENDER: &str = "sender";
/// [`BY_CLIENT_ID`] as a request names it: `store/index`.
pub(crate) const MESSAGES_BY_CLIENT_ID: &str = "messages/clientMsgID";
/// [`BY_SENDER`] as a request names it: `store/index`.
pub(crate) const MESSAGES_BY_SENDER: &str = "messages/sender";

/// How a store is keyed.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    /// Keys are given with each write.
    OutOfLine,
    /// The key is the value at this (possibly dotted) path.
    Path(&'static str),
    /// The key is the array of the values at these paths.
    Paths(&'static [&'static str]),
}

/// An object store a migration creates.
#[derive(Debug, Clone, Copy)]
pub struct StoreDef {
    /// Its name.
    pub name: &'static str,
    /// Its key.
    pub key: Key,
}

/// An index a migration creates.
#[derive(Debug, Clone, Copy)]
pub struct IndexDef {
    /// The indexed store.
    pub store: &'static str,
    /// The index name.
    pub name: &'static str,
    /// The indexed value (a path or an array of paths).
    pub key: Key,
    /// Whether two records may not share an index key.
    pub unique: bool,
}

/// What one schema version adds.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version that introduced it.
    pub version: u32,
    /// New object stores.
    pub stores: &'static [StoreDef],
    /// New indexes (on stores of this or an earlier version).
    pub indexes: &'static [IndexDef],
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        stores: &[StoreDef {
            name: META,
            key: Key::OutOfLine,
        }],
        indexes: &[],
    },
    Migration {
        version: 2,
        stores: &[
            StoreDef {
                name: MESSAGES,
                key: Key::OutOfLine,
            },
            StoreDef {
                name: CURSORS,
                key: Key::OutOfLine,
            },
            StoreDef {
                name: CONVERSATIONS,
                key: Key::Path("id"),
            },
            StoreDef {
                name: USERS,
                key: Key::Path("user_id"),
            },
            StoreDef {
                name: FRIENDS,
                key: Key::Path("user.user_id"),
            },
            StoreDef {
                name: GROUPS,
                key: Key::Path("group_id"),
            },
            StoreDef {
                name: MEMBERS,
                key: Key::Paths(&["group_id", "user_id"]),
            },
            StoreDef {
                name: OUTBOX,
                key: Key::Path("client_msg_id"),
            },
            StoreDef {
                name: VERSIONS,
                key: Key::OutOfLine,
            },
        ],
        indexes: &[
            IndexDef {
                store: MESSAGES,
                name: BY_CLIENT_ID,
                key: Key::Path("client_msg_id"),
                unique: true,
            },
            IndexDef {
                store: MESSAGES,
                name: BY_SENDER,
                key: Key::Paths(&["conversation_id", "send_id"]),
                unique: false,
            },
        ],
    },
];
