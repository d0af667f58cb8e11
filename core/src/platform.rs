//! The one place where core differs between native targets and `wasm32-unknown-unknown`.
//!
//! Native drivers run the engine on multi-threaded executors, so the futures returned by the
//! storage traits must be `Send` there. In the browser everything runs on one thread and the
//! IndexedDB handles are not `Send`, so the same bound must vanish. [`MaybeSend`] and
//! [`MaybeSync`] are `Send`/`Sync` natively and blanket-implemented for every type on wasm32.
//!
//! This module performs no I/O and holds no state; it is the only module of core that mentions
//! `target_arch`.

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    /// `Send` on native targets; implemented by every type on wasm32.
    pub trait MaybeSend: Send {}
    impl<T: Send + ?Sized> MaybeSend for T {}

    /// `Sync` on native targets; implemented by every type on wasm32.
    pub trait MaybeSync: Sync {}
    impl<T: Sync + ?Sized> MaybeSync for T {}
}

#[cfg(target_arch = "wasm32")]
mod imp {
    /// `Send` on native targets; implemented by every type on wasm32.
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}

    /// `Sync` on native targets; implemented by every type on wasm32.
    pub trait MaybeSync {}
    impl<T: ?Sized> MaybeSync for T {}
}

pub use imp::{MaybeSend, MaybeSync};
