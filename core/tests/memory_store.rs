//! The store conformance suite against [`MemoryStore`], run with a minimal executor.

use chorus_core::memory_store::MemoryStore;

chorus_core::store_conformance_tests!(
    sync: #[test],
    block_on = futures::executor::block_on,
    store = MemoryStore::new(),
);

/// The form browser stores use (`#[wasm_bindgen_test]` on `async fn`), expanded here only to
/// prove that it compiles against a real store; the tests above run the same cases.
mod async_form {
    use super::MemoryStore;

    async fn fresh_store() -> MemoryStore {
        MemoryStore::new()
    }

    chorus_core::store_conformance_tests!(
        async: #[allow(dead_code)],
        store = fresh_store().await,
    );
}
