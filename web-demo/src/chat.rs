//! The conversation list and the chat view.

use chorus_core::model::{ConversationId, Message, MessageStatus};
use chorus_core::outbox::Recipient;
use chorus_sdk_wasm::{HistoryPage, SdkError};
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::dynamic::{self, attr, attr_text, flag, maybe, rows, text, value, Row};
use crate::group::{AnnouncementBanner, GroupPanel};
use crate::state::{sdk, AppState, Route};
use crate::util::{self, DemoError};

/// Messages per history page.
const PAGE: usize = 30;

/// The conversations, newest first, with unread badges.
#[component]
pub fn ConversationList(state: AppState) -> impl IntoView {
    view! {
        <ul class="conversations" data-testid="conversations">
            {rows(move || state.conversations.get().into_iter().map(|c| {
                let id = c.id.as_str().to_owned();
                Row::new(id.clone(), move || {
                    let key = id.clone();
                    let conv = Memo::new(move |_| {
                        state.conversations.with(|l| l.iter().find(|x| x.id.as_str() == key).cloned())
                    });
                    let title = move || conv.get().map(|c| title_of(state, &c.group_id, &c.user_id)).unwrap_or_default();
                    let last = move || {
                        conv.get().and_then(|c| {
                            let group = (!c.group_id.is_empty()).then_some(c.group_id.clone());
                            c.latest_message.map(|m| {
                                let p = util::preview(&m, group.is_some(), |u| state.name_of(u, group.as_deref()));
                                (p, util::time(m.send_time))
                            })
                        })
                    };
                    let unread = move || conv.get().map_or(0, |c| c.unread_count());
                    let open_id = id.clone();
                    let active = flag(move || state.route.get() == Route::Chat(open_id.clone()));
                    let href = Route::Chat(id.clone()).hash();
                    view! {
                        <li>
                            <a class="conversation" {attr_text("href", href)} class:active=active data-testid="conversation" data-id=id.clone()>
                                <span class="avatar">{text(move || util::initials(&title()))}</span>
                                <span class="conv-main">
                                    <span class="conv-top">
                                        <strong class="conv-title" data-testid="conversation-title">{text(title)}</strong>
                                        <small class="conv-time">{text(move || last().map(|l| l.1).unwrap_or_default())}</small>
                                    </span>
                                    <span class="conv-bottom">
                                        <span class="conv-last" data-testid="conversation-last">{text(move || last().map(|l| l.0).unwrap_or_default())}</span>
                                        {maybe(move || (unread() > 0).then(|| view! {
                                            <span class="badge" data-testid="unread">{unread().to_string()}</span>
                                        }.into_any()))}
                                    </span>
                                </span>
                            </a>
                        </li>
                    }.into_any()
                })
            }).collect())}
        </ul>
    }
}

/// A conversation's title: the group name, or the peer's name.
pub fn title_of(state: AppState, group_id: &str, user_id: &str) -> String {
    if !group_id.is_empty() {
        state
            .groups
            .with(|g| g.get(group_id).map(|g| g.name.clone()))
            .unwrap_or_else(|| group_id.to_owned())
    } else {
        state.name_of(user_id, None)
    }
}

/// One conversation: history, composer, and the group panel for groups.
#[component]
pub fn ChatView(state: AppState, id: String) -> impl IntoView {
    let Ok(conv_id) = ConversationId::parse(id.clone()) else {
        return view! { <p class="error" data-testid="error">"Not a conversation: " {id}</p> }
            .into_any();
    };
    let group_id = conv_id.group_id().map(str::to_owned);
    let peer = if group_id.is_none() {
        let me = state.user.get_untracked().unwrap_or_default();
        let known = state.conversations.with_untracked(|l| {
            l.iter()
                .find(|c| c.id == conv_id && !c.user_id.is_empty())
                .map(|c| c.user_id.clone())
        });
        // Otherwise the id is `si_<a>_<b>` with the two ids sorted: strip our own.
        known.unwrap_or_else(|| {
            let rest = conv_id.rest();
            rest.strip_prefix(&format!("{me}_"))
                .or_else(|| rest.strip_suffix(&format!("_{me}")))
                .unwrap_or(rest)
                .to_owned()
        })
    } else {
        String::new()
    };
    let loading = RwSignal::new(false);
    let at_start = RwSignal::new(false);
    let panel_open = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let list_ref = NodeRef::<Div>::new();

    state.open.set(Some(conv_id.clone()));
    state.messages.set(Vec::new());
    {
        let conv_id = conv_id.clone();
        spawn_local(async move {
            loading.set(true);
            let result = sdk().history(&conv_id, None, PAGE).await;
            loading.set(false);
            match result {
                Ok(page) => {
                    at_start.set(page.is_end);
                    state.messages.set(page.messages);
                    state.scroll_to_end();
                    let _ = sdk().mark_read(&conv_id).await;
                }
                Err(e) => state.fail(&e),
            }
        });
    }
    on_cleanup(move || {
        state.open.set(None);
    });

    // Scroll to the end when asked (first page; new messages while the end is in view).
    let stick = StoredValue::new(true);
    Effect::new(move |_| {
        state.scroll_end.track();
        request_animation_frame(move || {
            if let Some(el) = list_ref.get_untracked() {
                if stick.get_value() {
                    el.set_scroll_top(el.scroll_height());
                }
            }
        });
    });

    let load_older = {
        let conv_id = conv_id.clone();
        move || {
            if loading.get_untracked() || at_start.get_untracked() {
                return;
            }
            let Some((oldest, oldest_seq)) = state.messages.with_untracked(|l| {
                l.iter()
                    .find(|m| m.seq.0 > 0)
                    .map(|m| (m.client_msg_id.clone(), m.seq.0))
            }) else {
                return;
            };
            let conv_id = conv_id.clone();
            loading.set(true);
            spawn_local(async move {
                let before = list_ref
                    .get_untracked()
                    .map(|el| (el.scroll_height(), el.scroll_top()));
                let result = load_page(&conv_id, &oldest, oldest_seq).await;
                match result {
                    Ok(page) => {
                        at_start.set(page.is_end || page.messages.is_empty());
                        state.add_messages(page.messages);
                        request_animation_frame(move || {
                            if let (Some(el), Some((h, top))) = (list_ref.get_untracked(), before) {
                                el.set_scroll_top(el.scroll_height() - h + top);
                            }
                            loading.set(false);
                        });
                    }
                    Err(e) => {
                        loading.set(false);
                        state.fail(&e);
                    }
                }
            });
        }
    };
    let on_scroll = {
        let load_older = load_older.clone();
        move |_| {
            if let Some(el) = list_ref.get_untracked() {
                stick.set_value(el.scroll_height() - el.scroll_top() - el.client_height() < 120);
                if el.scroll_top() < 80 {
                    load_older();
                }
            }
        }
    };

    let send = {
        let group_id = group_id.clone();
        let peer = peer.clone();
        move || {
            let text = draft.get_untracked();
            if text.trim().is_empty() {
                return;
            }
            draft.set(String::new());
            let recipient = match &group_id {
                Some(g) => Recipient::Group(g.clone()),
                None => Recipient::User(peer.clone()),
            };
            state.run(async move {
                let sent = sdk().send_text(recipient, &text).await?;
                state.add_messages(vec![sent]);
                stick.set_value(true);
                state.scroll_to_end();
                Ok(())
            });
        }
    };
    let send_key = send.clone();

    let title = {
        let group_id = group_id.clone().unwrap_or_default();
        let peer = peer.clone();
        move || title_of(state, &group_id, &peer)
    };
    let gid_for_msgs = group_id.clone();
    let conv_for_msgs = conv_id.clone();
    let is_group = group_id.is_some();

    view! {
        <div class="chat" class:with-panel=flag(move || panel_open.get())>
            <div class="chat-main">
                <div class="chat-head">
                    <a class="back" {attr("href", "#/chats")} {attr("aria-label", "Back to chats")}>"‹"</a>
                    <h2 data-testid="chat-title">{text(title)}</h2>
                    {is_group.then(|| view! {
                        <button data-testid="toggle-panel" aria-expanded=move || panel_open.get().to_string()
                            on:click=dynamic::toggle(panel_open)>
                            {text(move || if panel_open.get() { "Hide group info" } else { "Group info" }.to_owned())}
                        </button>
                    }.into_any())}
                </div>
                {group_id.clone().map(|g| view! { <AnnouncementBanner state=state group_id=g /> }.into_any())}
                <div class="messages" data-testid="messages" node_ref=list_ref on:scroll=dynamic::change(on_scroll) {attr("tabindex", "0")}>
                    {maybe(move || at_start.get().then(|| view! {
                        <p class="history-start" data-testid="history-start">"Start of the conversation"</p>
                    }.into_any()))}
                    {maybe(move || (loading.get() && !at_start.get()).then(|| view! {
                        <p class="history-loading" data-testid="history-loading">"Loading…"</p>
                    }.into_any()))}
                    {maybe(move || (!at_start.get() && !loading.get()).then(|| {
                        let load_older = load_older.clone();
                        view! { <button class="older" data-testid="load-older" on:click=dynamic::click(move |_| load_older())>"Load earlier messages"</button> }.into_any()
                    }))}
                    {rows(move || state.messages.get().into_iter().map(|m| {
                        let key = dynamic::key(&[
                            &m.client_msg_id,
                            &m.seq.0.to_string(),
                            &m.sender_nickname,
                            &status_key(&m.status).to_string(),
                        ]);
                        let gid = gid_for_msgs.clone();
                        let conv = conv_for_msgs.clone();
                        Row::new(key, move || view! { <MessageRow state=state m=m group_id=gid conv=conv /> }.into_any())
                    }).collect())}
                </div>
                <form class="composer" on:submit=dynamic::submit(move || { send(); })>
                    <input data-testid="composer" {attr("aria-label", "Message")} {attr("placeholder", "Write a message, Enter to send")}
                        prop:value=value(draft)
                        on:input=dynamic::input(draft)
                        on:keydown=dynamic::keydown(move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Enter" && !ev.shift_key() { ev.prevent_default(); send_key(); }
                        }) />
                    <button {attr("type", "submit")} data-testid="send">"Send"</button>
                </form>
            </div>
            {group_id.map(|g| maybe(move || panel_open.get().then(|| view! {
                <GroupPanel state=state group_id=g.clone() />
            }.into_any())).into_any())}
        </div>
    }
    .into_any()
}

/// The page before the message `oldest` (seq `oldest_seq`). A page that does not reach down
/// from just below it (messages still being stored) is read again a few times before it is
/// shown; its end-of-history flag counts only when it does.
async fn load_page(
    conv_id: &ConversationId,
    oldest: &str,
    oldest_seq: u64,
) -> Result<HistoryPage, SdkError> {
    let mut attempt = 0;
    loop {
        let mut page = sdk().history(conv_id, Some(oldest), PAGE).await?;
        let top = page.messages.iter().map(|m| m.seq.0).max().unwrap_or(0);
        web_sys::console::debug_1(
            &format!(
                "history below seq {oldest_seq}: {} messages, seqs {}..={top}, end {}",
                page.messages.len(),
                page.messages.first().map_or(0, |m| m.seq.0),
                page.is_end
            )
            .into(),
        );
        let adjoins = top + 1 == oldest_seq;
        if adjoins || page.messages.is_empty() && page.is_end || attempt >= 5 {
            page.is_end &= adjoins || page.messages.is_empty();
            return Ok(page);
        }
        attempt += 1;
        sleep(400 * attempt).await;
    }
}

/// Waits `ms` milliseconds.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn status_key(s: &MessageStatus) -> u8 {
    match s {
        MessageStatus::Sending => 0,
        MessageStatus::Sent => 1,
        MessageStatus::Failed { .. } => 2,
        MessageStatus::Revoked { .. } => 3,
        _ => 4,
    }
}

/// Whether the signed-in user may recall this message (as the server allows it).
fn can_recall(state: AppState, m: &Message, group_id: Option<&str>) -> bool {
    if m.seq.0 == 0 || m.status != MessageStatus::Sent || m.content_type >= 1000 {
        return false;
    }
    let me = state.user.get().unwrap_or_default();
    if m.send_id == me {
        return true;
    }
    let Some(g) = group_id else {
        return false;
    };
    match state.my_role(g) {
        100 => true,
        60 => state.role_of(g, &m.send_id) == 20,
        _ => false,
    }
}

/// One message, tip or recalled message.
#[component]
fn MessageRow(
    state: AppState,
    m: Message,
    group_id: Option<String>,
    conv: ConversationId,
) -> impl IntoView {
    let g = group_id.clone();
    let name_of = move |u: &str| state.name_of(u, g.as_deref());
    if m.content_type == 2101 && !matches!(m.status, MessageStatus::Revoked { .. }) {
        return ().into_any();
    }
    if let Some(text) = util::revoked_text(&m.status, name_of) {
        return view! {
            <div class="tip revoked" data-testid="revoked" data-msgid=m.client_msg_id.clone()>{text}</div>
        }
        .into_any();
    }
    if util::is_tip(&m) {
        return view! {
            <div class="tip" data-testid="tip" data-seq=m.seq.0.to_string()>
                {util::tip_text(&m)} " · " {util::time(m.send_time)}
            </div>
        }
        .into_any();
    }
    let me = state.user.get_untracked().unwrap_or_default();
    let mine = m.send_id == me;
    let sender = {
        let m = m.clone();
        let g = group_id.clone();
        move || {
            if m.send_id == state.user.get().unwrap_or_default() {
                return "You".to_owned();
            }
            // A group nickname (set by the member list) wins over the stored one.
            let from_members = g.as_deref().and_then(|g| {
                state.members.with(|ms| {
                    ms.get(g)
                        .and_then(|l| l.iter().find(|x| x.user_id == m.send_id))
                        .map(|x| x.nickname.clone())
                })
            });
            from_members
                .filter(|n| !n.is_empty())
                .or_else(|| (!m.sender_nickname.is_empty()).then(|| m.sender_nickname.clone()))
                .unwrap_or_else(|| state.name_of(&m.send_id, g.as_deref()))
        }
    };
    let recall = {
        let m = m.clone();
        let g = group_id.clone();
        move || can_recall(state, &m, g.as_deref())
    };
    let id = m.client_msg_id.clone();
    let body = m
        .content
        .text()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("[message type {}]", m.content_type));
    let pending = match &m.status {
        MessageStatus::Sending => Some("sending…".to_owned()),
        MessageStatus::Failed { code } => Some(format!("not sent ({code})")),
        _ => None,
    };
    view! {
        <div class="msg" class:mine=mine data-testid="message" data-seq=m.seq.0.to_string() data-msgid=m.client_msg_id.clone() data-sender=m.send_id.clone()>
            <div class="msg-head">
                <span class="sender" data-testid="sender">{text(sender)}</span>
                <small class="time">{util::time(m.send_time)}</small>
                {pending.map(|p| view! { <small class="pending">{p}</small> }.into_any())}
            </div>
            <div class="text" data-testid="text">{body}</div>
            {maybe(move || recall().then(|| {
                let id = id.clone();
                let conv = conv.clone();
                view! {
                    <button class="recall" data-testid="recall" on:click=dynamic::click(move |_| {
                        let id = id.clone();
                        let conv = conv.clone();
                        state.run(async move {
                            sdk().revoke(&conv, &id).await.map_err(DemoError::from)
                        });
                    })>"Recall"</button>
                }.into_any()
            }))}
        </div>
    }
    .into_any()
}
