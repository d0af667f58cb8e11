//! The browser's I/O behind core's driver traits: [`BrowserTransport`] (the `WebSocket` API),
//! [`FetchHttp`] (`fetch`) and [`BrowserClock`] (`Date.now` and timers).
//!
//! Heartbeats in background tabs: browsers slow down timers of hidden pages (Chromium runs them
//! at most once a minute after a few minutes), which would delay the client's 25 s ping. Two
//! things keep the connection alive anyway: the server's WebSocket ping control frames are
//! answered by the browser itself, whatever the page's timers do; and [`BrowserClock`] runs its
//! timers in a small dedicated worker when the page allows one (workers are not throttled like
//! hidden pages), falling back to `setTimeout` when a Content-Security-Policy forbids `blob:`
//! workers.

use std::cell::RefCell;
use std::rc::Rc;

use chorus_core::conn::Instant;
use chorus_core::driver::{Clock, Connection, Frame, Http, IoError, Transport};
use chorus_core::VecMap;
use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

thread_local! {
    /// Every socket this page opened and has not closed, for [`drop_open_sockets`].
    static OPEN: RefCell<Vec<WebSocket>> = const { RefCell::new(Vec::new()) };
}

/// Closes every open gateway socket of this page, as a network failure would (close code 4000):
/// the engine notices, reconnects with back-off and syncs what it missed. Returns how many
/// sockets were closed.
pub fn drop_open_sockets() -> usize {
    let open: Vec<WebSocket> = OPEN.with(|o| o.borrow_mut().drain(..).collect());
    for ws in &open {
        let _ = ws.close_with_code_and_reason(4000, "dropped");
    }
    open.len()
}

fn forget_socket(ws: &WebSocket) {
    OPEN.with(|o| o.borrow_mut().retain(|w| w != ws));
}

/// Opens browser WebSockets.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserTransport;

/// An open browser WebSocket. Frames are queued by the socket's `onmessage` handler, so
/// [`Connection::recv`] is cancel-safe.
#[derive(Debug)]
pub struct BrowserConnection {
    ws: WebSocket,
    frames: mpsc::UnboundedReceiver<Option<Frame>>,
    _handlers: Handlers,
}

/// The event handlers of a socket; dropping them detaches them first.
struct Handlers {
    ws: WebSocket,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handlers")
    }
}

impl Drop for Handlers {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        self.ws.set_onopen(None);
    }
}

fn js_text(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    crate::js_read::describe(value)
}

impl Transport for BrowserTransport {
    type Connection = BrowserConnection;

    async fn open(&self, url: String) -> Result<BrowserConnection, IoError> {
        let ws =
            WebSocket::new(&url).map_err(|e| IoError(format!("WebSocket: {}", js_text(&e))))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let (tx, frames) = mpsc::unbounded::<Option<Frame>>();
        let (opened_tx, opened) = oneshot::channel::<Result<(), String>>();
        let opened_tx = Rc::new(RefCell::new(Some(opened_tx)));

        let on_message = {
            let tx = tx.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data();
                let frame = if let Some(text) = data.as_string() {
                    Frame::Text(text)
                } else {
                    Frame::Binary(Uint8Array::new(&data).to_vec())
                };
                let _ = tx.unbounded_send(Some(frame));
            })
        };
        let on_close = {
            let tx = tx.clone();
            let opened_tx = Rc::clone(&opened_tx);
            Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
                if let Some(pending) = opened_tx.borrow_mut().take() {
                    let _ = pending.send(Err(format!(
                        "closed before opening (code {}{})",
                        event.code(),
                        if event.reason().is_empty() {
                            String::new()
                        } else {
                            format!(": {}", event.reason())
                        }
                    )));
                }
                let _ = tx.unbounded_send(None);
            })
        };
        let on_error = {
            let opened_tx = Rc::clone(&opened_tx);
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
                if let Some(pending) = opened_tx.borrow_mut().take() {
                    let _ = pending.send(Err("connection failed".to_owned()));
                }
            })
        };
        let on_open = {
            let opened_tx = Rc::clone(&opened_tx);
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
                if let Some(pending) = opened_tx.borrow_mut().take() {
                    let _ = pending.send(Ok(()));
                }
            })
        };
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let handlers = Handlers {
            ws: ws.clone(),
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
            _on_open: on_open,
        };
        match opened.await {
            Ok(Ok(())) => {
                OPEN.with(|o| o.borrow_mut().push(ws.clone()));
                Ok(BrowserConnection {
                    ws,
                    frames,
                    _handlers: handlers,
                })
            }
            Ok(Err(reason)) => {
                let _ = ws.close();
                Err(IoError(format!("{url}: {reason}")))
            }
            Err(_) => Err(IoError(format!("{url}: socket dropped"))),
        }
    }
}

impl Connection for BrowserConnection {
    async fn send(&mut self, frame: Frame) -> Result<(), IoError> {
        if self.ws.ready_state() != WebSocket::OPEN {
            return Err(IoError("send: the socket is not open".to_owned()));
        }
        let sent = match frame {
            Frame::Text(text) => self.ws.send_with_str(&text),
            Frame::Binary(bytes) => self.ws.send_with_u8_array(&bytes),
        };
        sent.map_err(|e| IoError(format!("send: {}", js_text(&e))))
    }

    async fn recv(&mut self) -> Option<Frame> {
        let frame = self.frames.next().await.flatten();
        if frame.is_none() {
            forget_socket(&self.ws);
        }
        frame
    }

    async fn close(&mut self) {
        forget_socket(&self.ws);
        let _ = self.ws.close_with_code(1000);
    }
}

impl Drop for BrowserConnection {
    fn drop(&mut self) {
        forget_socket(&self.ws);
        let state = self.ws.ready_state();
        if state == WebSocket::OPEN || state == WebSocket::CONNECTING {
            let _ = self.ws.close();
        }
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
        let fail = |what: &str, e: JsValue| IoError(format!("{path}: {what}: {}", js_text(&e)));
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&body));
        let h = web_sys::Headers::new().map_err(|e| fail("headers", e))?;
        h.set("Content-Type", "application/json")
            .map_err(|e| fail("headers", e))?;
        for (name, value) in &headers {
            h.set(name, value).map_err(|e| fail("headers", e))?;
        }
        init.set_headers(&h);
        let request =
            web_sys::Request::new_with_str_and_init(&url, &init).map_err(|e| fail("request", e))?;
        let promise = fetch(&request);
        let response = JsFuture::from(promise)
            .await
            .map_err(|e| fail("network", e))?;
        let response: web_sys::Response =
            response.dyn_into().map_err(|e| fail("not a response", e))?;
        let text = JsFuture::from(response.text().map_err(|e| fail("body", e))?)
            .await
            .map_err(|e| fail("body", e))?;
        let text = text.as_string().unwrap_or_default();
        if response.status() == 200 {
            Ok(text)
        } else {
            Err(IoError(format!("{path}: HTTP {}", response.status())))
        }
    }
}

/// `fetch` on the global object (a window or a worker).
fn fetch(request: &web_sys::Request) -> Promise {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<web_sys::Window>() {
        return window.fetch_with_request(request);
    }
    if let Some(worker) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        return worker.fetch_with_request(request);
    }
    Promise::reject(&JsValue::from_str("fetch is not available here"))
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    js_sys::Date::now() as u64
}

/// The wall clock, with timers in a dedicated worker when one can be started.
#[derive(Debug, Clone, Default)]
pub struct BrowserClock {
    timers: Rc<RefCell<Option<WorkerTimers>>>,
    tried_worker: Rc<RefCell<bool>>,
}

/// Timers run by a worker: the page posts `[id, ms]`, the worker answers `id` after `ms`.
struct WorkerTimers {
    worker: web_sys::Worker,
    next_id: u32,
    pending: Rc<RefCell<VecMap<u32, oneshot::Sender<()>>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl std::fmt::Debug for WorkerTimers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerTimers")
            .field("next_id", &self.next_id)
            .finish_non_exhaustive()
    }
}

impl Drop for WorkerTimers {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

const TIMER_WORKER: &str =
    "onmessage=function(e){var d=e.data;setTimeout(function(){postMessage(d[0])},d[1])}";

impl WorkerTimers {
    fn start() -> Option<WorkerTimers> {
        let parts = Array::of1(&JsValue::from_str(TIMER_WORKER));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/javascript");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
        let worker = web_sys::Worker::new(&url);
        let _ = web_sys::Url::revoke_object_url(&url);
        let worker = worker.ok()?;
        let pending: Rc<RefCell<VecMap<u32, oneshot::Sender<()>>>> = Rc::default();
        let on_message = {
            let pending = Rc::clone(&pending);
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if let Some(id) = event.data().as_f64() {
                    if let Some(done) = pending.borrow_mut().remove(&(id as u32)) {
                        let _ = done.send(());
                    }
                }
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(WorkerTimers {
            worker,
            next_id: 0,
            pending,
            _on_message: on_message,
        })
    }

    fn sleep(&mut self, ms: u32) -> Option<oneshot::Receiver<()>> {
        self.next_id = self.next_id.wrapping_add(1);
        let id = self.next_id;
        let (tx, rx) = oneshot::channel();
        self.pending.borrow_mut().insert(id, tx);
        let message = Array::of2(&JsValue::from(id), &JsValue::from(ms));
        match self.worker.post_message(&message) {
            Ok(()) => Some(rx),
            Err(_) => {
                self.pending.borrow_mut().remove(&id);
                None
            }
        }
    }
}

impl BrowserClock {
    /// A clock; its worker starts with the first timer.
    pub fn new() -> BrowserClock {
        BrowserClock::default()
    }

    /// Whether timers run in a worker (false until the first timer, or when none can start).
    pub fn uses_worker(&self) -> bool {
        self.timers.borrow().is_some()
    }

    fn worker_sleep(&self, ms: u32) -> Option<oneshot::Receiver<()>> {
        if !*self.tried_worker.borrow() {
            *self.tried_worker.borrow_mut() = true;
            *self.timers.borrow_mut() = WorkerTimers::start();
        }
        self.timers.borrow_mut().as_mut()?.sleep(ms)
    }
}

/// Resolves after `ms` milliseconds with `setTimeout` on the global object.
pub async fn sleep_ms(ms: u32) {
    let promise = Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &JsValue::from_str("setTimeout"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
        match set_timeout {
            Some(f) => {
                let _ = f.call2(&global, &resolve, &JsValue::from(ms));
            }
            None => {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        }
    });
    let _ = JsFuture::from(promise).await;
}

impl Clock for BrowserClock {
    fn now(&self) -> Instant {
        Instant::from_millis(now_millis())
    }

    async fn sleep_until(&self, deadline: Instant) {
        let wait = deadline.as_millis().saturating_sub(now_millis());
        let ms = u32::try_from(wait).unwrap_or(u32::MAX).saturating_add(1);
        match self.worker_sleep(ms) {
            Some(done) => {
                let _ = done.await;
            }
            None => sleep_ms(ms).await,
        }
    }
}
