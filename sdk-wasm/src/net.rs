//! The browser's I/O behind core's driver traits: [`BrowserTransport`] (the `WebSocket` API),
//! [`FetchHttp`] (`fetch`) and [`BrowserClock`] (`Date.now` and timers); and [`within`], which
//! waits for a future at most so many milliseconds.
//!
//! The browser objects themselves are handled by `browser.js`, a small hand-written module:
//! it opens the socket and queues its frames, which [`Connection::recv`] pulls one promise at a
//! time; it builds and sends the `fetch` request and reads the response; it runs the timers.
//!
//! Heartbeats in background tabs: browsers slow down timers of hidden pages (Chromium runs them
//! at most once a minute after a few minutes), which would delay the client's 25 s ping. Two
//! things keep the connection alive anyway: the server's WebSocket ping control frames are
//! answered by the browser itself, whatever the page's timers do; and [`BrowserClock`] runs its
//! timers in a small dedicated worker (one per page, started with the first timer) when the page
//! allows one (workers are not throttled like hidden pages), falling back to `setTimeout` when a
//! Content-Security-Policy forbids `blob:` workers.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use chorus_core::conn::Instant;
use chorus_core::driver::{Clock, Connection, Frame, Http, IoError, Transport};
use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::thrown_text;

#[wasm_bindgen(module = "/src/browser.js")]
extern "C" {
    /// Values queued by `browser.js` (a socket's frames, a channel's messages).
    #[derive(Debug, Clone)]
    pub(crate) type Queue;
    /// The next value, or null once the source closed.
    #[wasm_bindgen(method)]
    pub(crate) fn next(this: &Queue) -> Promise;

    /// An open socket of `browser.js`; its queue holds strings and `Uint8Array`s.
    #[wasm_bindgen(extends = Queue)]
    #[derive(Debug)]
    type Socket;
    #[wasm_bindgen(js_name = openSocket)]
    fn open_socket(url: &str) -> Promise;
    /// Sends; the error text, or undefined.
    #[wasm_bindgen(method, js_name = send)]
    fn send_text(this: &Socket, text: &str) -> JsValue;
    #[wasm_bindgen(method, js_name = send)]
    fn send_bytes(this: &Socket, bytes: &[u8]) -> JsValue;
    #[wasm_bindgen(method)]
    fn close(this: &Socket, code: Option<u16>);
    #[wasm_bindgen(js_name = dropSockets)]
    fn drop_sockets() -> usize;

    fn post(url: &str, headers: &str, body: &str) -> Promise;

    fn sleep(ms: u32, in_worker: bool) -> Promise;
    #[wasm_bindgen(js_name = hasTimerWorker)]
    fn has_timer_worker() -> bool;
}

#[wasm_bindgen]
extern "C" {
    /// `Uint8Array.prototype.set.call(into, from)`: copies `from` into the start of `into`, which
    /// must be at least as long (else it throws).
    #[wasm_bindgen(js_namespace = Uint8Array, js_name = "prototype.set.call")]
    fn copy_bytes(into: &mut [u8], from: &Uint8Array);
}

/// The bytes of `array`, copied out of JavaScript.
fn bytes_of(array: &Uint8Array) -> Vec<u8> {
    let mut bytes = vec![0; array.length() as usize];
    copy_bytes(&mut bytes, array);
    bytes
}

/// Closes every open gateway socket of this page, as a network failure would (close code 4000):
/// the engine notices, reconnects with back-off and syncs what it missed. Returns how many
/// sockets were closed.
pub fn drop_open_sockets() -> usize {
    drop_sockets()
}

/// Opens browser WebSockets.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserTransport;

/// An open browser WebSocket. Frames are queued as they arrive, and a pending pull of the next
/// one is kept across calls, so [`Connection::recv`] is cancel-safe.
#[derive(Debug)]
pub struct BrowserConnection {
    socket: Socket,
    next: Option<JsFuture>,
}

impl Transport for BrowserTransport {
    type Connection = BrowserConnection;

    async fn open(&self, url: String) -> Result<BrowserConnection, IoError> {
        let socket = JsFuture::from(open_socket(&url))
            .await
            .map_err(|e| IoError(thrown_text(e)))?;
        Ok(BrowserConnection {
            socket: socket.unchecked_into(),
            next: None,
        })
    }
}

impl Connection for BrowserConnection {
    async fn send(&mut self, frame: Frame) -> Result<(), IoError> {
        let failed = match frame {
            Frame::Text(text) => self.socket.send_text(&text),
            Frame::Binary(bytes) => self.socket.send_bytes(&bytes),
        };
        if failed.is_undefined() {
            Ok(())
        } else {
            Err(IoError(format!("send: {}", thrown_text(failed))))
        }
    }

    async fn recv(&mut self) -> Option<Frame> {
        let socket = &self.socket;
        let next = self
            .next
            .get_or_insert_with(|| JsFuture::from(socket.next()));
        let value = next.await;
        self.next = None;
        let value = value.ok()?;
        if let Some(text) = value.as_string() {
            Some(Frame::Text(text))
        } else if value.is_null() {
            None
        } else {
            Some(Frame::Binary(bytes_of(value.unchecked_ref())))
        }
    }

    async fn close(&mut self) {
        self.socket.close(Some(1000));
    }
}

impl Drop for BrowserConnection {
    fn drop(&mut self) {
        self.socket.close(None);
    }
}

/// REST calls with `fetch` to an API base address such as `http://127.0.0.1:10002`.
#[derive(Debug, Clone)]
pub struct FetchHttp {
    base: String,
}

impl FetchHttp {
    /// Calls go to `base` + path (a trailing `/` of `base` is ignored).
    pub fn new(base: &str) -> FetchHttp {
        FetchHttp {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// The base address.
    pub fn base(&self) -> &str {
        &self.base
    }
}

impl Http for FetchHttp {
    async fn post(
        &self,
        path: String,
        headers: Vec<(String, String)>,
        body: String,
    ) -> Result<String, IoError> {
        let url = format!("{}{}", self.base, path);
        // Names and values, one a line: neither can contain a line break.
        let mut lines = String::new();
        for (name, value) in &headers {
            lines.push_str(name);
            lines.push('\n');
            lines.push_str(value);
            lines.push('\n');
        }
        match JsFuture::from(post(&url, &lines, &body)).await {
            Ok(text) => Ok(text.as_string().unwrap_or_default()),
            Err(e) => Err(IoError(format!("{path}: {}", thrown_text(e)))),
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    js_sys::Date::now() as u64
}

/// The wall clock, with timers in the page's timer worker when one can be started.
#[derive(Debug, Clone, Default)]
pub struct BrowserClock {
    /// Whether this clock has set a timer.
    started: Rc<Cell<bool>>,
}

impl BrowserClock {
    /// A clock; the page's timer worker starts with the first timer.
    pub fn new() -> BrowserClock {
        BrowserClock::default()
    }

    /// Whether timers run in a worker (false until the first timer, or when none can start).
    pub fn uses_worker(&self) -> bool {
        self.started.get() && has_timer_worker()
    }
}

/// Resolves after `ms` milliseconds with `setTimeout`.
pub async fn sleep_ms(ms: u32) {
    let _ = JsFuture::from(sleep(ms, false)).await;
}

/// The output of `future`, or `None` when `ms` milliseconds pass first (`setTimeout`).
pub async fn within<F: Future>(ms: u32, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut timer = pin!(sleep_ms(ms));
    poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => timer.as_mut().poll(cx).map(|()| None),
    })
    .await
}

impl Clock for BrowserClock {
    fn now(&self) -> Instant {
        Instant::from_millis(now_millis())
    }

    async fn sleep_until(&self, deadline: Instant) {
        let wait = deadline.as_millis().saturating_sub(now_millis());
        let ms = u32::try_from(wait).unwrap_or(u32::MAX).saturating_add(1);
        self.started.set(true);
        let _ = JsFuture::from(sleep(ms, true)).await;
    }
}

#[cfg(test)]
mod tests {
    use chorus_core::chan::{oneshot, unbounded};
    use wasm_bindgen_test::*;

    use super::*;

    /// core's channels on the page's executor: sends from another task wake the receiver, and
    /// the last sender leaving closes the channel.
    #[wasm_bindgen_test]
    async fn channels_wake_their_receiver_across_tasks() {
        let (tx, mut rx) = unbounded();
        let (reply, answer) = oneshot();
        wasm_bindgen_futures::spawn_local(async move {
            sleep_ms(5).await;
            tx.send(1).unwrap();
            sleep_ms(5).await;
            tx.send(2).unwrap();
            sleep_ms(5).await;
            reply.send("done");
        });
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(answer.await, Some("done"));
    }

    #[wasm_bindgen_test]
    async fn within_gives_the_output_when_it_comes_first() {
        let (tx, rx) = oneshot();
        tx.send(7);
        assert_eq!(within(10_000, rx).await, Some(Some(7)));
    }

    #[wasm_bindgen_test]
    async fn within_gives_none_once_the_time_is_up() {
        let (_tx, rx) = oneshot::<u8>();
        let start = now_millis();
        assert_eq!(within(30, rx).await, None);
        assert!(now_millis() >= start + 25, "waited the time out");
    }

    #[wasm_bindgen_test]
    async fn within_sees_a_dropped_sender() {
        let (tx, rx) = oneshot::<u8>();
        drop(tx);
        assert_eq!(within(10_000, rx).await, Some(None));
    }
}
