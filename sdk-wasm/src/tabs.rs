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

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::{mpsc, oneshot};
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BroadcastChannel, MessageEvent};

/// Where the lock and channel names start.
const PREFIX: &str = "chorus:";

/// A held or awaited Web Lock.
#[derive(Debug)]
pub struct Leadership {
    /// Resolves the promise the lock callback returned, which releases the lock.
    release: Rc<RefCell<Option<Function>>>,
    granted: Option<oneshot::Receiver<()>>,
    _callback: Option<Closure<dyn FnMut(JsValue) -> Promise>>,
}

impl Leadership {
    /// Queues for the lock of `user_id`. [`Leadership::granted`] resolves once this tab holds it.
    pub fn request(user_id: &str) -> Leadership {
        let release: Rc<RefCell<Option<Function>>> = Rc::default();
        let (tx, granted) = oneshot::channel();
        let Some((locks, request)) = lock_manager().and_then(|locks| {
            let request = Reflect::get(&locks, &JsValue::from_str("request"))
                .ok()?
                .dyn_into::<Function>()
                .ok()?;
            Some((locks, request))
        }) else {
            let _ = tx.send(());
            return Leadership {
                release,
                granted: Some(granted),
                _callback: None,
            };
        };
        let tx = RefCell::new(Some(tx));
        let held = Rc::clone(&release);
        let callback = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |_lock: JsValue| {
            let promise = Promise::new(&mut |resolve, _reject| {
                *held.borrow_mut() = Some(resolve);
            });
            let unwanted = match tx.borrow_mut().take() {
                Some(tx) => tx.send(()).is_err(),
                None => true,
            };
            // Nobody waits any more (the session ended while queued): release at once.
            if unwanted {
                if let Some(resolve) = held.borrow_mut().take() {
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            }
            promise
        });
        let name = JsValue::from_str(&format!("{PREFIX}{user_id}"));
        // The returned promise settles when the lock is released; nothing waits on it.
        let _ = request.call2(&locks, &name, callback.as_ref());
        Leadership {
            release,
            granted: Some(granted),
            _callback: Some(callback),
        }
    }

    /// Resolves when this tab holds the lock (an error if the request was dropped). Only the
    /// first call waits for the grant; later ones resolve at once.
    pub fn take_granted(&mut self) -> oneshot::Receiver<()> {
        match self.granted.take() {
            Some(granted) => granted,
            None => {
                let (tx, rx) = oneshot::channel();
                let _ = tx.send(());
                rx
            }
        }
    }

    /// Releases the lock (or leaves the queue: the grant then releases it at once).
    pub fn release(&self) {
        if let Some(resolve) = self.release.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        self.release();
        if let Some(callback) = self._callback.take() {
            // The lock manager may still call it (a queued request); keep it alive, and let the
            // grant return an already resolved promise.
            callback.forget();
        }
    }
}

/// `navigator.locks`, when this browser has it.
fn lock_manager() -> Option<Object> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    locks.dyn_into::<Object>().ok()
}

/// Whether this browser can elect a leader tab.
pub fn has_web_locks() -> bool {
    lock_manager().is_some()
}

/// A `BroadcastChannel` of one user's tabs, carrying JSON text.
#[derive(Debug)]
pub struct TabChannel {
    channel: Option<BroadcastChannel>,
    _on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
}

impl TabChannel {
    /// Joins the channel of `user_id`; messages from other tabs go to the returned receiver.
    pub fn open(user_id: &str) -> (TabChannel, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded();
        let Ok(channel) = BroadcastChannel::new(&format!("{PREFIX}{user_id}")) else {
            return (
                TabChannel {
                    channel: None,
                    _on_message: None,
                },
                rx,
            );
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                let _ = tx.unbounded_send(text);
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        (
            TabChannel {
                channel: Some(channel),
                _on_message: Some(on_message),
            },
            rx,
        )
    }

    /// Posts to every other tab of the user (not to this one).
    pub fn post(&self, text: &str) {
        if let Some(channel) = &self.channel {
            let _ = channel.post_message(&JsValue::from_str(text));
        }
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        if let Some(channel) = &self.channel {
            channel.set_onmessage(None);
            channel.close();
        }
    }
}
