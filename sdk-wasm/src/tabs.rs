//! Several tabs, one user: the browser primitives behind leader election.
//!
//! * [`Leadership`] — an exclusive Web Lock per user. The tab holding it runs the engine and the
//!   only WebSocket; the others queue for it. The browser releases the lock when the holding tab
//!   closes or crashes, and grants it to the next waiting tab, which then loads the engine from
//!   the shared IndexedDB and connects.
//! * [`TabChannel`] — a `BroadcastChannel` per user: the leader posts events, followers post
//!   commands (send, load history, mark read) and the leader answers.
//!
//! Where Web Locks are missing (very old browsers, insecure origins) every tab leads by itself,
//! as the official SDK does.
//!
//! The lock request and the channel are handled by `browser.js` (see [`crate::net`]); messages
//! from other tabs are queued there and pulled one at a time by [`TabInbox::next`].

use js_sys::Promise;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;

use crate::net::Queue;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// A Web Lock request of `browser.js`.
    #[derive(Debug)]
    type Lock;
    fn lock(name: &str) -> Lock;
    #[wasm_bindgen(method, getter)]
    fn granted(this: &Lock) -> Promise;
    #[wasm_bindgen(method)]
    fn release(this: &Lock);

    /// A BroadcastChannel of `browser.js`; its queue holds the texts other tabs posted.
    #[wasm_bindgen(extends = Queue)]
    #[derive(Debug, Clone)]
    type Channel;
    fn channel(name: &str) -> Channel;
    #[wasm_bindgen(method)]
    fn post(this: &Channel, text: &str);
    #[wasm_bindgen(method)]
    fn close(this: &Channel);
}

/// Where the lock and channel names start.
const PREFIX: &str = "chorus:";

/// A held or awaited Web Lock.
#[derive(Debug)]
pub struct Leadership {
    lock: Lock,
}

impl Leadership {
    /// Queues for the lock of `user_id`. [`Leadership::granted`] resolves once this tab holds it.
    pub fn request(user_id: &str) -> Leadership {
        Leadership {
            lock: lock(&format!("{PREFIX}{user_id}")),
        }
    }

    /// Resolves (to `Ok`) when this tab holds the lock, or was granted it after
    /// [`Leadership::release`].
    pub fn granted(&self) -> JsFuture {
        JsFuture::from(self.lock.granted())
    }

    /// Releases the lock (or leaves the queue: the grant then releases it at once).
    pub fn release(&self) {
        self.lock.release();
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.release();
    }
}

/// A `BroadcastChannel` of one user's tabs, carrying JSON text.
#[derive(Debug)]
pub struct TabChannel {
    channel: Channel,
}

/// The messages other tabs post to a [`TabChannel`].
#[derive(Debug)]
pub struct TabInbox {
    channel: Channel,
}

impl TabChannel {
    /// Joins the channel of `user_id`; messages from other tabs come from the returned inbox.
    pub fn open(user_id: &str) -> (TabChannel, TabInbox) {
        let channel = channel(&format!("{PREFIX}{user_id}"));
        (
            TabChannel {
                channel: channel.clone(),
            },
            TabInbox { channel },
        )
    }

    /// Posts to every other tab of the user (not to this one).
    pub fn post(&self, text: &str) {
        self.channel.post(text);
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.close();
    }
}

impl TabInbox {
    /// The next message, or `None` once the channel is closed (or could not be joined).
    pub async fn next(&mut self) -> Option<String> {
        JsFuture::from(self.channel.next()).await.ok()?.as_string()
    }
}
