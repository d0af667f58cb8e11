//! The Chorus demo client, a Leptos client-side-rendered app.
//!
//! For now [`App`] is a placeholder page: the chat views arrive together with the server they
//! talk to. This crate never touches the network or storage directly; that is the SDK's job.

use leptos::prelude::*;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <main data-testid="app">
            <h1 data-testid="title">"Chorus demo"</h1>
            <p data-testid="status">"Coming with the server."</p>
        </main>
    }
}
