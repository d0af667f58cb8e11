//! Channels between the driver and the code that commands it: [`oneshot`] carries one value
//! (a reply) and [`unbounded`] a queue of values (commands), each to one receiver.
//!
//! A receiver that finds nothing stores its task's waker; a send wakes it, and so does the
//! last sender going away, after which the receiver sees the channel closed (`None`). Values
//! arrive in the order they were sent. Receiving is cancel-safe: a value leaves the channel only
//! in the poll that returns it. Once the receiver is dropped, the values still queued are
//! dropped and later sends fail (an unbounded send gives its value back; a oneshot value is
//! dropped).
//!
//! The ends share their state through `platform::Shared`: thread-safe natively (the native
//! tests run the driver on multi-threaded tokio), one `Rc` on wasm32. Everything but the values
//! — the waker and who is still there — is kept in `Ends`, whose code is the same for every
//! payload type.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::platform::Shared;

/// What the ends of a channel know of each other, apart from the values.
struct Ends {
    /// The receiver's waker while it waits for a value.
    waker: Option<Waker>,
    /// Live senders; when none is left, the channel is closed.
    senders: usize,
    /// The receiver was dropped.
    deaf: bool,
}

/// A channel's state: [`Ends`] and the values not received yet.
struct State<Q> {
    ends: Ends,
    values: Q,
}

impl<Q> State<Q> {
    fn new(values: Q) -> Shared<State<Q>> {
        Shared::new(State {
            ends: Ends {
                waker: None,
                senders: 1,
                deaf: false,
            },
            values,
        })
    }
}

impl Ends {
    /// With no value to receive: ready once every sender is gone, else the waker is kept.
    fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.senders == 0 {
            return Poll::Ready(());
        }
        match &mut self.waker {
            Some(waker) => waker.clone_from(cx.waker()),
            none => *none = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// A sender went away; the waker to wake when that closed the channel.
    fn sender_left(&mut self) -> Option<Waker> {
        self.senders -= 1;
        if self.senders == 0 {
            self.waker.take()
        } else {
            None
        }
    }
}

/// Wakes a receiver (called with the shared state released).
fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// A channel for one value.
pub fn oneshot<T>() -> (OneshotSender<T>, OneshotReceiver<T>) {
    let state = State::new(None);
    (OneshotSender(state.clone()), OneshotReceiver(state))
}

/// Sends the one value of a [`oneshot`] channel; dropping it unsent cancels the channel.
pub struct OneshotSender<T>(Shared<State<Option<T>>>);

/// Resolves to the value of a [`oneshot`] channel, or to `None` when the sender was dropped
/// without sending.
pub struct OneshotReceiver<T>(Shared<State<Option<T>>>);

impl<T> OneshotSender<T> {
    /// Sends `value` and wakes the receiver. When the receiver is gone, the value is dropped.
    pub fn send(self, value: T) {
        self.0.lock().values = Some(value);
        // Dropping `self` wakes the receiver.
    }
}

impl<T> Drop for OneshotSender<T> {
    fn drop(&mut self) {
        let waker = self.0.lock().ends.sender_left();
        wake(waker);
    }
}

impl<T> Future for OneshotReceiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.0.lock();
        if let Some(value) = state.values.take() {
            return Poll::Ready(Some(value));
        }
        state.ends.poll_closed(cx).map(|()| None)
    }
}

/// A channel for a queue of values, as long as the receiver takes them.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let state = State::new(Vec::new());
    (Sender(state.clone()), Receiver(state))
}

/// Sends to an [`unbounded`] channel; clones send to the same receiver.
pub struct Sender<T>(Shared<State<Vec<T>>>);

/// Receives what the [`Sender`]s of an [`unbounded`] channel send.
pub struct Receiver<T>(Shared<State<Vec<T>>>);

impl<T> Sender<T> {
    /// Queues `value` and wakes the receiver; gives the value back when the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), T> {
        let mut state = self.0.lock();
        if state.ends.deaf {
            return Err(value);
        }
        state.values.push(value);
        let waker = state.ends.waker.take();
        drop(state);
        wake(waker);
        Ok(())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.0.lock().ends.senders += 1;
        Sender(self.0.clone())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = self.0.lock().ends.sender_left();
        wake(waker);
    }
}

impl<T> Receiver<T> {
    /// The next value; `None` once it is drained and every sender is gone. Cancel-safe.
    pub fn recv(&mut self) -> impl Future<Output = Option<T>> + '_ {
        std::future::poll_fn(|cx| self.poll_recv(cx))
    }

    /// Polls for the next value (see [`Receiver::recv`]).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.0.lock();
        if !state.values.is_empty() {
            // Queues stay short (commands wait for one turn of the driver), so taking the
            // front of a vector costs less than a ring buffer's code.
            return Poll::Ready(Some(state.values.remove(0)));
        }
        state.ends.poll_closed(cx).map(|()| None)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let queued = {
            let mut state = self.0.lock();
            state.ends.deaf = true;
            std::mem::take(&mut state.values)
        };
        // Dropped with the state released: a value may hold the sender of another channel.
        drop(queued);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sender")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receiver")
    }
}

impl<T> fmt::Debug for OneshotSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneshotSender")
    }
}

impl<T> fmt::Debug for OneshotReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneshotReceiver")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Counter {
        fn count(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn poll<F: Future + Unpin>(future: &mut F, counter: &Arc<Counter>) -> Poll<F::Output> {
        let waker = Waker::from(Arc::clone(counter));
        Pin::new(future).poll(&mut Context::from_waker(&waker))
    }

    #[test]
    fn oneshot_value_sent_before_the_receiver_waits() {
        let (tx, mut rx) = oneshot();
        tx.send(7);
        let counter = Arc::default();
        assert_eq!(poll(&mut rx, &counter), Poll::Ready(Some(7)));
        assert_eq!(counter.count(), 0);
    }

    #[test]
    fn oneshot_send_wakes_the_waiting_receiver() {
        let (tx, mut rx) = oneshot::<String>();
        let counter = Arc::default();
        assert_eq!(poll(&mut rx, &counter), Poll::Pending);
        assert_eq!(poll(&mut rx, &counter), Poll::Pending);
        assert_eq!(counter.count(), 0);
        tx.send("hi".to_owned());
        assert_eq!(counter.count(), 1);
        assert_eq!(poll(&mut rx, &counter), Poll::Ready(Some("hi".to_owned())));
    }

    #[test]
    fn oneshot_dropped_sender_cancels_and_wakes() {
        let (tx, mut rx) = oneshot::<u8>();
        let counter = Arc::default();
        assert_eq!(poll(&mut rx, &counter), Poll::Pending);
        drop(tx);
        assert_eq!(counter.count(), 1);
        assert_eq!(poll(&mut rx, &counter), Poll::Ready(None));
    }

    #[test]
    fn oneshot_value_for_a_dropped_receiver_is_dropped() {
        let value = Arc::new(());
        let (tx, rx) = oneshot();
        drop(rx);
        tx.send(Arc::clone(&value));
        assert_eq!(Arc::strong_count(&value), 1);
    }

    #[test]
    fn oneshot_wakes_the_latest_waker() {
        let (tx, mut rx) = oneshot::<u8>();
        let first = Arc::default();
        let second = Arc::default();
        assert_eq!(poll(&mut rx, &first), Poll::Pending);
        assert_eq!(poll(&mut rx, &second), Poll::Pending);
        tx.send(1);
        assert_eq!((first.count(), second.count()), (0, 1));
    }

    fn recv<T>(rx: &mut Receiver<T>, counter: &Arc<Counter>) -> Poll<Option<T>> {
        let waker = Waker::from(Arc::clone(counter));
        rx.poll_recv(&mut Context::from_waker(&waker))
    }

    #[test]
    fn unbounded_values_arrive_in_order_and_each_send_wakes() {
        let (tx, mut rx) = unbounded();
        let counter = Arc::default();
        assert_eq!(recv(&mut rx, &counter), Poll::Pending);
        tx.send(1).unwrap();
        assert_eq!(counter.count(), 1);
        tx.send(2).unwrap();
        tx.send(3).unwrap();
        assert_eq!(recv(&mut rx, &counter), Poll::Ready(Some(1)));
        assert_eq!(recv(&mut rx, &counter), Poll::Ready(Some(2)));
        assert_eq!(recv(&mut rx, &counter), Poll::Ready(Some(3)));
        assert_eq!(recv(&mut rx, &counter), Poll::Pending);
        tx.send(4).unwrap();
        assert_eq!(counter.count(), 2);
        assert_eq!(recv(&mut rx, &counter), Poll::Ready(Some(4)));
    }

    #[test]
    fn unbounded_closes_when_the_last_sender_goes_after_the_queue_drains() {
        let (tx, mut rx) = unbounded();
        let other = tx.clone();
        let counter = Arc::default();
        tx.send("a").unwrap();
        drop(tx);
        assert_eq!(recv(&mut rx, &counter), Poll::Ready(Some("a")));
        assert_eq!(recv(&mut rx, &counter), Poll::Pending);
        other.send("b").unwrap();
        assert_eq!(counter.count(), 1);
        assert_eq!(recv(&mut rx, &counter), Poll::Ready(Some("b")));
        assert_eq!(recv(&mut rx, &counter), Poll::Pending);
        drop(other);
        assert_eq!(counter.count(), 2, "woken by the last sender leaving");
        assert_eq!(recv(&mut rx, &counter), Poll::Ready(None));
        assert_eq!(recv(&mut rx, &counter), Poll::Ready(None));
    }

    #[test]
    fn unbounded_dropped_receiver_fails_sends_and_drops_the_queue() {
        let (tx, rx) = unbounded();
        let (reply, answer) = oneshot::<u8>();
        tx.send(reply).unwrap();
        drop(rx);
        // The queued reply sender is dropped with the receiver: its receiver sees that.
        assert_eq!(futures::executor::block_on(answer), None);
        let (reply, _answer) = oneshot::<u8>();
        assert!(tx.send(reply).is_err());
    }

    #[test]
    fn unbounded_recv_is_cancel_safe() {
        let (tx, mut rx) = unbounded();
        let counter = Arc::default();
        {
            let mut next = Box::pin(rx.recv());
            assert_eq!(poll(&mut next, &counter), Poll::Pending);
        }
        tx.send(5).unwrap();
        assert_eq!(counter.count(), 1);
        assert_eq!(futures::executor::block_on(rx.recv()), Some(5));
    }

    // Threads: natively, where the ends may be on different threads.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn unbounded_across_threads() {
        let (tx, mut rx) = unbounded();
        let thread = std::thread::spawn(move || {
            for i in 0..1000 {
                tx.send(i).unwrap();
            }
        });
        let received: Vec<i32> = futures::executor::block_on(async {
            let mut all = Vec::new();
            while let Some(i) = rx.recv().await {
                all.push(i);
            }
            all
        });
        assert_eq!(received, (0..1000).collect::<Vec<_>>());
        thread.join().unwrap();
    }

    // Threads: natively, where the ends may be on different threads.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn oneshot_across_threads() {
        let (tx, rx) = oneshot();
        let thread = std::thread::spawn(move || tx.send(vec![1, 2, 3]));
        assert_eq!(futures::executor::block_on(rx), Some(vec![1, 2, 3]));
        thread.join().unwrap();
    }
}
