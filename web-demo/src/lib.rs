//! The Chorus demo client, a Leptos client-side-rendered app over the browser SDK's Rust API
//! ([`chorus_sdk_wasm::Sdk`]).
//!
//! Screens: sign-in with the seeded demo accounts, the conversation list, a chat view with the
//! group panel (announcement, members, permissions, invitations, QR code), friends with remarks,
//! and the profile page. Every piece of network text is rendered as a text node.

mod chat;
mod dynamic;
mod group;
mod people;
pub mod qr;
mod state;
mod util;

use leptos::prelude::*;

use crate::dynamic::attr;

pub use state::{AppState, Route};

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    state.install();
    let signed_in = dynamic::memo_flag(move || state.user.get().is_some());
    view! {
        <div class="app" data-testid="app">
            {dynamic::maybe(move || Some(if signed_in.get() {
                view! { <Shell state=state /> }.into_any()
            } else {
                view! { <state::SignIn state=state /> }.into_any()
            }))}
        </div>
    }
}

/// The signed-in layout: navigation, status bar, conversation list and the current page.
#[component]
fn Shell(state: AppState) -> impl IntoView {
    let on_list = dynamic::flag(move || matches!(state.route.get(), Route::Chats));
    let tab = move |r: Route| {
        let same = std::mem::discriminant(&r);
        dynamic::flag(move || std::mem::discriminant(&state.route.get()) == same)
    };
    view! {
        <div class="shell" class:on-list=on_list>
            <header class="topbar">
                <span class="brand">"Chorus"</span>
                <nav>
                    <a {attr("href", "#/chats")} class:active=tab(Route::Chats) data-testid="nav-chats">"Chats"</a>
                    <a {attr("href", "#/friends")} class:active=tab(Route::Friends) data-testid="nav-friends">"Friends"</a>
                    <a {attr("href", "#/profile")} class:active=tab(Route::Profile) data-testid="nav-profile">
                        {dynamic::text(move || state.me.get().map(|u| u.display_name().to_owned()).unwrap_or_default())}
                    </a>
                </nav>
            </header>
            <state::StatusBar state=state />
            <state::ErrorBar state=state />
            <div class="columns">
                <aside class="sidebar">
                    <chat::ConversationList state=state />
                    <group::JoinBySearch state=state />
                </aside>
                <main class="content">
                    {dynamic::maybe(move || Some(match state.route.get() {
                        Route::Chat(id) => view! { <chat::ChatView state=state id=id /> }.into_any(),
                        Route::Friends => view! { <people::FriendsPage state=state /> }.into_any(),
                        Route::Profile => view! { <people::ProfilePage state=state /> }.into_any(),
                        Route::Join { group_id, via_qr } => {
                            view! { <group::JoinPage state=state group_id=group_id via_qr=via_qr /> }.into_any()
                        }
                        Route::Chats => view! {
                            <p class="placeholder">"Pick a conversation."</p>
                        }.into_any(),
                    }))}
                </main>
            </div>
        </div>
    }
}
