//! Friends with remarks, and the signed-in user's profile.

use chorus_core::model::ConversationId;
use leptos::prelude::*;

use crate::dynamic::{self, attr, attr_text, maybe, rows, text, value, Row};
use crate::state::{sdk, AppState, Route};
use crate::util::{self, DemoError};

/// The friend list: remarks can be set, edited and deleted.
#[component]
pub fn FriendsPage(state: AppState) -> impl IntoView {
    view! {
        <section class="friends">
            <h2>"Friends"</h2>
            {maybe(move || state.friends.with(Vec::is_empty).then(|| view! { <p class="muted">"No friends yet."</p> }.into_any()))}
            <ul data-testid="friends">
                {rows(move || state.friends.get().into_iter().map(|f| {
                    let key = dynamic::key(&[f.user_id(), &f.remark, &f.user.nickname]);
                    Row::new(key, move || {
                        let uid = f.user_id().to_owned();
                        let draft = RwSignal::new(f.remark.clone());
                        let editing = RwSignal::new(false);
                        let save = {
                            let uid = uid.clone();
                            move |remark: String| {
                                let uid = uid.clone();
                                state.run(async move {
                                    sdk().set_friend_remark(&[uid], remark.trim()).await?;
                                    editing.set(false);
                                    Ok(())
                                });
                            }
                        };
                        let save2 = save.clone();
                        let me = state.user.get_untracked().unwrap_or_default();
                        let chat = Route::Chat(ConversationId::single(&me, &uid).as_str().to_owned()).hash();
                        let has_remark = !f.remark.is_empty();
                        view! {
                            <li class="friend" data-testid="friend" data-user=uid.clone()>
                                <span class="avatar">{util::initials(f.display_name())}</span>
                                <span class="friend-main">
                                    <strong data-testid="friend-name">{f.display_name().to_owned()}</strong>
                                    {has_remark.then(|| view! { <small data-testid="friend-nickname">{f.user.display_name().to_owned()}</small> }.into_any())}
                                </span>
                                <a {attr_text("href", chat)}>"Message"</a>
                                <button data-testid="remark-edit" on:click=dynamic::toggle(editing)>
                                    {if has_remark { "Edit remark" } else { "Set remark" }}
                                </button>
                                {has_remark.then(|| {
                                    let save = save.clone();
                                    view! { <button data-testid="remark-delete" on:click=dynamic::click(move |_| save(String::new()))>"Delete remark"</button> }.into_any()
                                })}
                                {maybe(move || editing.get().then(|| {
                                    let save = save2.clone();
                                    view! {
                                        <form class="row" on:submit=dynamic::submit(move || { save(draft.get_untracked()); })>
                                            <input {attr("aria-label", "Remark")} data-testid="remark-input" prop:value=value(draft)
                                                on:input=dynamic::input(draft) />
                                            <button {attr("type", "submit")} data-testid="remark-save">"Save"</button>
                                        </form>
                                    }.into_any()
                                }))}
                            </li>
                        }.into_any()
                    })
                }).collect())}
            </ul>
        </section>
    }
}

/// The signed-in user's profile: nickname and sign-out.
#[component]
pub fn ProfilePage(state: AppState) -> impl IntoView {
    let draft = RwSignal::new(
        state
            .me
            .get_untracked()
            .map(|u| u.nickname)
            .unwrap_or_default(),
    );
    let saved = RwSignal::new(false);
    let save = move || {
        let name = draft.get_untracked();
        saved.set(false);
        state.run(async move {
            if name.trim().is_empty() {
                return Err(DemoError::Input("the nickname is empty".to_owned()));
            }
            sdk()
                .set_self_info(Some(name.trim().to_owned()), None)
                .await?;
            if let Some(mut me) = state.me.get_untracked() {
                me.nickname = name.trim().to_owned();
                state.me.set(Some(me));
            }
            saved.set(true);
            Ok(())
        });
    };
    view! {
        <section class="profile" data-testid="profile">
            <h2>"Profile"</h2>
            <p>"User ID " <code data-testid="profile-user-id">{text(move || state.user.get().unwrap_or_default())}</code></p>
            <form class="row" on:submit=dynamic::submit(move || { save(); })>
                <label {attr("for", "nickname")}>"Nickname"</label>
                <input {attr("id", "nickname")} data-testid="nickname-input" prop:value=value(draft)
                    on:input=dynamic::input(draft) />
                <button {attr("type", "submit")} data-testid="nickname-save">"Save"</button>
            </form>
            {maybe(move || saved.get().then(|| view! { <p {attr("role", "status")} data-testid="nickname-saved">"Saved."</p> }.into_any()))}
            <button data-testid="sign-out" on:click=dynamic::click(move |_| state.sign_out())>"Sign out"</button>
        </section>
    }
}
