//! The one place where core differs between native targets and `wasm32-unknown-unknown`.
//!
//! Native drivers run the engine on multi-threaded executors, so the futures returned by the
//! storage traits must be `Send` there. In the browser everything runs on one thread and the
//! IndexedDB handles are not `Send`, so the same bound must vanish. [`MaybeSend`] and
//! [`MaybeSync`] are `Send`/`Sync` natively and blanket-implemented for every type on wasm32.
//!
//! `Shared` is the state that several handles own together (the two ends of a
//! [`crate::chan`] channel): an `Arc<Mutex<T>>` natively, where the ends may live on different
//! threads, and an `Rc<RefCell<T>>` on wasm32, where there is one thread. The code above it is
//! the same on both.
//!
//! This module performs no I/O and holds no state; it is the only module of core that mentions
//! `target_arch` (besides the tests of [`crate::chan`] that need threads).

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

    /// `Send` on native targets; implemented by every type on wasm32.
    pub trait MaybeSend: Send {}
    impl<T: Send + ?Sized> MaybeSend for T {}

    /// `Sync` on native targets; implemented by every type on wasm32.
    pub trait MaybeSync: Sync {}
    impl<T: Sync + ?Sized> MaybeSync for T {}

    /// A value owned by several handles, which take turns to change it.
    pub(crate) struct Shared<T>(Arc<Mutex<T>>);

    /// Access to a [`Shared`] value, until dropped.
    pub(crate) type Guard<'a, T> = MutexGuard<'a, T>;

    impl<T> Shared<T> {
        pub(crate) fn new(value: T) -> Shared<T> {
            Shared(Arc::new(Mutex::new(value)))
        }

        /// The value, for this handle alone until the guard is dropped. A panic while another
        /// handle held it does not stop the others (the channels' state stays consistent).
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    impl<T> Clone for Shared<T> {
        fn clone(&self) -> Shared<T> {
            Shared(Arc::clone(&self.0))
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use std::cell::{RefCell, RefMut};
    use std::rc::Rc;

    /// `Send` on native targets; implemented by every type on wasm32.
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}

    /// `Sync` on native targets; implemented by every type on wasm32.
    pub trait MaybeSync {}
    impl<T: ?Sized> MaybeSync for T {}

    /// A value owned by several handles, which take turns to change it.
    pub(crate) struct Shared<T>(Rc<RefCell<T>>);

    /// Access to a [`Shared`] value, until dropped.
    pub(crate) type Guard<'a, T> = RefMut<'a, T>;

    impl<T> Shared<T> {
        pub(crate) fn new(value: T) -> Shared<T> {
            Shared(Rc::new(RefCell::new(value)))
        }

        /// The value, for this handle alone until the guard is dropped (no handle keeps it
        /// across a call that could reach another handle).
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            self.0.borrow_mut()
        }
    }

    impl<T> Clone for Shared<T> {
        fn clone(&self) -> Shared<T> {
            Shared(Rc::clone(&self.0))
        }
    }
}

pub(crate) use imp::Shared;
pub use imp::{MaybeSend, MaybeSync};
