//! Group views: the pinned announcement, the group panel (permissions, members, profiles,
//! invitations, QR code) and joining by search or by the QR code's link.

use chorus_core::model::{Group, Member};
use chorus_proto::constants::AllowType;
use chorus_sdk_wasm::GroupUpdate;
use leptos::prelude::*;

use crate::dynamic::{self, attr, attr_text, flag, maybe, rows, text, value, Row};
use crate::qr::QrCode;
use crate::state::{sdk, AppState, Route};
use crate::util::{self, DemoError};

fn group_of(state: AppState, group_id: &str) -> Option<Group> {
    state.groups.with(|g| g.get(group_id).cloned())
}

/// The announcement pinned at the top of a group chat, editable by the owner and admins.
#[component]
pub fn AnnouncementBanner(state: AppState, group_id: String) -> impl IntoView {
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let gid = group_id.clone();
    let announcement = Memo::new(move |_| group_of(state, &gid).map(|g| g.announcement));
    let gid = group_id.clone();
    let can_edit = move || state.my_role(&gid) >= 60;
    let gid = group_id.clone();
    let meta = move || {
        announcement.get().map_or_else(String::new, |a| {
            format!(
                "{} · {}",
                state.name_of(&a.editor_user_id, Some(&gid)),
                util::time(a.updated_at)
            )
        })
    };
    let save = move || {
        let text = draft.get_untracked();
        let group_id = group_id.clone();
        state.run(async move {
            sdk()
                .set_group_info(GroupUpdate {
                    group_id,
                    announcement: Some(text),
                    ..GroupUpdate::default()
                })
                .await?;
            editing.set(false);
            Ok(())
        });
    };
    let can_edit2 = can_edit.clone();
    view! {
        <section class="announcement" data-testid="announcement-box" {attr("aria-label", "Announcement")}>
            {maybe(move || {
                let a = announcement.get().filter(|a| !a.text.is_empty());
                match a {
                    Some(a) if !editing.get() => Some(view! {
                        <div>
                            <strong>"Announcement"</strong>
                            <p data-testid="announcement">{a.text.clone()}</p>
                            <small data-testid="announcement-meta">{text(meta.clone())}</small>
                        </div>
                    }.into_any()),
                    None if !editing.get() => Some(view! { <small>"No announcement."</small> }.into_any()),
                    _ => None,
                }
            })}
            {maybe(move || (can_edit() && !editing.get()).then(|| view! {
                <button data-testid="announcement-edit" on:click=dynamic::click(move |_| {
                    draft.set(announcement.get_untracked().map(|a| a.text).unwrap_or_default());
                    editing.set(true);
                })>"Edit"</button>
            }.into_any()))}
            {maybe(move || (can_edit2() && editing.get()).then(|| {
                let save = save.clone();
                view! {
                    <div class="edit">
                        <textarea data-testid="announcement-input" {attr("aria-label", "Announcement text")}
                            prop:value=value(draft)
                            on:input=dynamic::input(draft)></textarea>
                        <button data-testid="announcement-save" on:click=dynamic::click(move |_| save())>"Publish"</button>
                        <button on:click=dynamic::click(move |_| editing.set(false))>"Cancel"</button>
                    </div>
                }.into_any()
            }))}
        </section>
    }
}

/// Group settings, members, invitations and the QR code.
#[component]
pub fn GroupPanel(state: AppState, group_id: String) -> impl IntoView {
    let gid = group_id.clone();
    let group = Memo::new(move |_| group_of(state, &gid));
    let gid = group_id.clone();
    let manager = dynamic::memo_flag(move || state.my_role(&gid) >= 60);
    let filter = RwSignal::new("all".to_owned());
    let profile = RwSignal::new(None::<String>);
    let hidden_note = RwSignal::new(false);
    let show_qr = RwSignal::new(false);
    let inviting = RwSignal::new(false);

    let set = {
        let group_id = group_id.clone();
        move |update: GroupUpdate| {
            let update = GroupUpdate {
                group_id: group_id.clone(),
                ..update
            };
            state.run(async move { sdk().set_group_info(update).await.map_err(DemoError::from) });
        }
    };
    let switch = move |label: &'static str,
                       testid: &'static str,
                       on: Box<dyn Fn(&Group) -> bool + Send + Sync>,
                       make: fn(bool) -> GroupUpdate| {
        let set = set.clone();
        let checked = move || group.get().as_ref().is_some_and(&on);
        view! {
            <label class="switch">
                <input {attr("type", "checkbox")} data-testid=testid prop:checked=checked
                    disabled=flag(move || !manager.get())
                    on:change=dynamic::change(move |ev| set(make(event_target_checked(&ev)))) />
                {label}
            </label>
        }
    };

    let gid = group_id.clone();
    let members = Memo::new(move |_| {
        let f = filter.get();
        state.members.with(|m| {
            let mut list: Vec<Member> = m
                .get(&gid)
                .map(|l| {
                    l.iter()
                        .filter(|x| f == "all" || util::join_method(x) == f)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let keys = list
                .iter()
                .map(|x| [-i64::from(x.role_level), x.join_time, 0])
                .collect();
            util::sort_by_keys(&mut list, keys);
            list
        })
    });
    let gid_rows = group_id.clone();
    let gid_profile = group_id.clone();
    let gid_qr = group_id.clone();
    let gid_invite = group_id.clone();
    let gid_quit = group_id.clone();

    view! {
        <aside class="panel" data-testid="group-panel" {attr("aria-label", "Group info")}>
            <h3 data-testid="group-name">{text(move || group.get().map(|g| g.name).unwrap_or_default())}</h3>
            <p class="muted">
                "ID " <code data-testid="group-id">{group_id.clone()}</code>
                " · " {text(move || group.get().map(|g| g.member_count).unwrap_or_default().to_string())} " members"
            </p>
            <fieldset class="perms">
                <legend>"Permissions"</legend>
                {switch("Members may add each other as friends", "perm-friend",
                    Box::new(|g: &Group| g.apply_member_friend == AllowType::Allowed),
                    |on| GroupUpdate { apply_member_friend: Some(if on { 0 } else { 1 }), ..GroupUpdate::default() })}
                {switch("Members may view member profiles", "perm-look",
                    Box::new(|g: &Group| g.look_member_info == AllowType::Allowed),
                    |on| GroupUpdate { look_member_info: Some(if on { 0 } else { 1 }), ..GroupUpdate::default() })}
                {switch("New members see earlier messages", "perm-history",
                    Box::new(|g: &Group| g.history_for_new_members.unwrap_or(true)),
                    |on| GroupUpdate { history_for_new_members: Some(on), ..GroupUpdate::default() })}
                {maybe(move || (!manager.get()).then(|| view! { <small>"Only the owner and admins change these."</small> }.into_any()))}
            </fieldset>
            <div class="actions">
                <button data-testid="invite-open" on:click=dynamic::toggle(inviting)>"Invite…"</button>
                <button data-testid="show-qr" on:click=dynamic::toggle(show_qr)>"QR code"</button>
                <button data-testid="quit-group" on:click=dynamic::click(move |_| {
                    let g = gid_quit.clone();
                    state.run(async move {
                        sdk().quit_group(&g).await?;
                        state.go(Route::Chats);
                        Ok(())
                    });
                })>"Leave"</button>
            </div>
            {maybe(move || inviting.get().then(|| view! { <InviteDialog state=state group_id=gid_invite.clone() open=inviting /> }.into_any()))}
            {maybe(move || show_qr.get().then(|| view! { <JoinQr group_id=gid_qr.clone() /> }.into_any()))}
            <div class="members-head">
                <h4>"Members"</h4>
                <label>
                    "Joined by "
                    <select data-testid="member-filter" on:change=dynamic::input(filter)>
                        <option {attr("value", "all")}>"any way"</option>
                        <option {attr("value", "invitation")}>"invitation"</option>
                        <option {attr("value", "search")}>"search"</option>
                        <option {attr("value", "qr")}>"QR code"</option>
                        <option {attr("value", "other")}>"other"</option>
                    </select>
                </label>
            </div>
            {maybe(move || hidden_note.get().then(|| view! {
                <p class="note" data-testid="profile-hidden" {attr("role", "status")}>
                    "Member profiles are hidden in this group: only the owner and admins can open them."
                </p>
            }.into_any()))}
            <ul class="members" data-testid="members">
                {rows(move || members.get().into_iter().map(|m| {
                    let key = dynamic::key(&[&m.user_id, &m.nickname, &m.role_level.to_string()]);
                    let gid = gid_rows.clone();
                    Row::new(key, move || {
                        let uid = m.user_id.clone();
                        let joined = joined_text(state, &m, &gid);
                        let role = util::role_label(m.role_level);
                        let name = if m.nickname.is_empty() { state.name_of(&m.user_id, Some(&gid)) } else { m.nickname.clone() };
                        view! {
                            <li class="member" data-testid="member" data-user=m.user_id.clone() data-join=util::join_method(&m)>
                                <span class="avatar small">{util::initials(&name)}</span>
                                <span class="member-main">
                                    <button class="link" data-testid="member-name" on:click=dynamic::click(move |_| {
                                        let me = state.user.get_untracked().unwrap_or_default();
                                        let allowed = uid == me
                                            || manager.get_untracked()
                                            || group.get_untracked().is_some_and(|g| g.look_member_info == AllowType::Allowed);
                                        hidden_note.set(!allowed);
                                        profile.set(allowed.then(|| uid.clone()));
                                    })>{name.clone()}</button>
                                    {role.map(|r| view! { <span {attr_text("class", format!("role {r}"))} data-testid="role">{r}</span> }.into_any())}
                                    <small data-testid="member-joined">{joined}</small>
                                </span>
                            </li>
                        }.into_any()
                    })
                }).collect())}
            </ul>
            {maybe(move || profile.get().map(|uid| view! {
                <MemberProfile state=state group_id=gid_profile.clone() user_id=uid profile=profile />
            }.into_any()))}
        </aside>
    }
}

/// "invited by Alice · Nov 21", "joined by search · Nov 22", …
fn joined_text(state: AppState, m: &Member, group_id: &str) -> String {
    let self_added = m.inviter_user_id.is_empty() || m.inviter_user_id == m.user_id;
    let how = match m.join_source {
        _ if m.role_level == 100 && self_added => "created the group".to_owned(),
        2 => {
            let by = if m.inviter_user_id.is_empty() {
                &m.operator_user_id
            } else {
                &m.inviter_user_id
            };
            if by.is_empty() || *by == m.user_id {
                "invited".to_owned()
            } else {
                format!("invited by {}", state.name_of(by, Some(group_id)))
            }
        }
        3 => "joined by search".to_owned(),
        4 => "joined by QR code".to_owned(),
        _ => "added".to_owned(),
    };
    format!("{how} · {}", util::date(m.join_time))
}

/// A member's profile, with the add-friend action where the group allows it.
#[component]
fn MemberProfile(
    state: AppState,
    group_id: String,
    user_id: String,
    profile: RwSignal<Option<String>>,
) -> impl IntoView {
    let result = RwSignal::new(None::<String>);
    let gid = group_id.clone();
    let uid = user_id.clone();
    let member = Memo::new(move |_| {
        state.members.with(|m| {
            m.get(&gid)
                .and_then(|l| l.iter().find(|x| x.user_id == uid).cloned())
        })
    });
    let me = state.user.get_untracked().unwrap_or_default();
    let is_friend = state
        .friends
        .with_untracked(|f| f.iter().any(|f| f.user_id() == user_id));
    let gid = group_id.clone();
    let friending_allowed = dynamic::memo_flag(move || {
        state.my_role(&gid) >= 60
            || group_of(state, &gid).is_some_and(|g| g.apply_member_friend == AllowType::Allowed)
    });
    let show_add = user_id != me && !is_friend;
    let uid = user_id.clone();
    let add = move |_| {
        let uid = uid.clone();
        state.run(async move {
            match sdk()
                .add_friend(&uid, "Hi! We are in the same group.")
                .await
            {
                Ok(()) => result.set(Some("Friend request sent.".to_owned())),
                Err(e) => result.set(Some(format!("Refused: {e}"))),
            }
            Ok(())
        });
    };
    let gid = group_id.clone();
    let gid_manage = group_id.clone();
    let me_manage = me.clone();
    view! {
        <div class="profile-card" data-testid="member-profile" {attr("role", "dialog")} {attr("aria-label", "Member profile")}>
            {maybe(move || member.get().map(|m| {
                let name = if m.nickname.is_empty() { m.user_id.clone() } else { m.nickname.clone() };
                view! {
                    <span class="avatar">{util::initials(&name)}</span>
                    <h4 data-testid="profile-name">{name}</h4>
                    <p>"User ID " <code>{m.user_id.clone()}</code></p>
                    <p>{util::role_label(m.role_level).unwrap_or("member")} " · " {joined_text(state, &m, &gid)}</p>
                }.into_any()
            }))}
            {is_friend.then(|| view! { <p data-testid="already-friend">"Already your friend."</p> }.into_any())}
            {maybe(move || (show_add && friending_allowed.get()).then(|| view! {
                <button data-testid="add-friend" on:click=dynamic::click(add.clone())>"Add friend"</button>
            }.into_any()))}
            {maybe(move || (show_add && !friending_allowed.get()).then(|| view! {
                <p class="muted" data-testid="friending-forbidden">"This group does not let members add each other as friends."</p>
            }.into_any()))}
            {maybe(move || result.get().map(|r| view! { <p data-testid="add-friend-result" {attr("role", "status")}>{r}</p> }.into_any()))}
            {maybe(move || {
                let m = member.get()?;
                let mine = state.my_role(&gid_manage);
                (m.user_id != me_manage && mine > m.role_level).then(|| {
                    let (g1, u1, g2, u2) = (gid_manage.clone(), m.user_id.clone(), gid_manage.clone(), m.user_id.clone());
                    let promote = m.role_level != 60;
                    view! {
                        <div class="row">
                            {(mine == 100).then(|| view! {
                                <button data-testid="set-role" on:click=dynamic::click(move |_| {
                                    let (g, u) = (g1.clone(), u1.clone());
                                    state.run(async move {
                                        sdk().set_member_role(&g, &u, if promote { 60 } else { 20 }).await.map_err(DemoError::from)
                                    });
                                })>{if promote { "Make admin" } else { "Make ordinary member" }}</button>
                            }.into_any())}
                            <button data-testid="kick" on:click=dynamic::click(move |_| {
                                let (g, u) = (g2.clone(), u2.clone());
                                state.run(async move {
                                    sdk().kick(&g, std::slice::from_ref(&u), "").await?;
                                    profile.set(None);
                                    Ok(())
                                });
                            })>"Remove from group"</button>
                        </div>
                    }.into_any()
                })
            })}
            <button data-testid="profile-close" on:click=dynamic::click(move |_| profile.set(None))>"Close"</button>
        </div>
    }
}

/// Invite seeded users (or any user ID) into the group.
#[component]
fn InviteDialog(state: AppState, group_id: String, open: RwSignal<bool>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let gid = group_id.clone();
    let candidates = move || {
        let members: Vec<String> = state.members.with(|m| {
            m.get(&gid)
                .map(|l| l.iter().map(|x| x.user_id.clone()).collect())
                .unwrap_or_default()
        });
        state
            .demo_users
            .get()
            .into_iter()
            .filter(|u| !members.contains(&u.user_id))
            .collect::<Vec<_>>()
    };
    let invite = move |user_id: String| {
        let g = group_id.clone();
        state.run(async move {
            if user_id.trim().is_empty() {
                return Err(DemoError::Input("enter a user ID to invite".to_owned()));
            }
            sdk().invite(&g, &[user_id.trim().to_owned()], "").await?;
            open.set(false);
            Ok(())
        });
    };
    let invite2 = invite.clone();
    view! {
        <div class="dialog" data-testid="invite-dialog" {attr("role", "dialog")} {attr("aria-label", "Invite")}>
            <h4>"Invite to the group"</h4>
            <ul>
                {maybe(move || Some(candidates().into_iter().map(|u| {
                    let invite = invite.clone();
                    let id = u.user_id.clone();
                    view! {
                        <li>
                            <button data-testid=format!("invite-{}", u.user_id) on:click=dynamic::click(move |_| invite(id.clone()))>
                                "Invite " {u.nickname.clone()}
                            </button>
                        </li>
                    }
                }).collect_view().into_any()))}
            </ul>
            <form class="row" on:submit=dynamic::submit(move || { invite2(typed.get_untracked()); })>
                <input {attr("aria-label", "User ID to invite")} {attr("placeholder", "User ID")} data-testid="invite-id"
                    prop:value=value(typed) on:input=dynamic::input(typed) />
                <button {attr("type", "submit")}>"Invite"</button>
            </form>
        </div>
    }
}

/// The join link of a group.
fn join_link(group_id: &str) -> String {
    let location = web_sys::window().map(|w| w.location());
    let origin = location
        .as_ref()
        .and_then(|l| l.origin().ok())
        .unwrap_or_default();
    let path = location
        .as_ref()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_else(|| "/".to_owned());
    format!(
        "{origin}{path}{}",
        Route::Join {
            group_id: group_id.to_owned(),
            via_qr: true
        }
        .hash()
    )
}

/// The QR code of the group's join link, as SVG.
#[component]
fn JoinQr(group_id: String) -> impl IntoView {
    let link = join_link(&group_id);
    match QrCode::encode(link.as_bytes()) {
        Ok(qr) => {
            let side = qr.size() + 8;
            view! {
                <figure class="qr" data-testid="qr">
                    <svg viewBox=format!("0 0 {side} {side}") width="200" height="200" {attr("role", "img")}
                        {attr("aria-label", "QR code of the join link")} shape-rendering="crispEdges">
                        <rect width=side height=side fill="#fff"></rect>
                        <path d=qr.svg_path(4) fill="#000"></path>
                    </svg>
                    <figcaption><a {attr_text("href", link.clone())} data-testid="join-link">{link.clone()}</a></figcaption>
                </figure>
            }
            .into_any()
        }
        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
    }
}

/// Looks a group up by ID and joins it (join source 3, search).
#[component]
pub fn JoinBySearch(state: AppState) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let found = RwSignal::new(None::<Group>);
    let search = move || {
        let id = typed.get_untracked().trim().to_owned();
        state.run(async move {
            if id.is_empty() {
                return Err(DemoError::Input("enter a group ID".to_owned()));
            }
            let mut groups = sdk().groups_info(std::slice::from_ref(&id)).await?;
            match groups.pop() {
                Some(g) => found.set(Some(g)),
                None => return Err(DemoError::Input(format!("no group has the ID {id}"))),
            }
            Ok(())
        });
    };
    view! {
        <section class="join-search">
            <form class="row" on:submit=dynamic::submit(move || { search(); })>
                <input {attr("aria-label", "Group ID")} {attr("placeholder", "Find a group by ID")} data-testid="join-search-input"
                    prop:value=value(typed) on:input=dynamic::input(typed) />
                <button {attr("type", "submit")} data-testid="join-search">"Find"</button>
            </form>
            {maybe(move || found.get().map(|g| {
                let joined = state.groups.with(|all| all.contains_key(&g.group_id));
                let gid = g.group_id.clone();
                view! {
                    <div class="found" data-testid="join-search-result">
                        <strong>{g.name.clone()}</strong> " · " {g.member_count.to_string()} " members"
                        {if joined {
                            view! { <a {attr_text("href", Route::Chat(format!("sg_{}", g.group_id)).hash())}>"Open"</a> }.into_any()
                        } else {
                            view! {
                                <button data-testid="join-search-confirm" on:click=dynamic::click(move |_| {
                                    let gid = gid.clone();
                                    state.run(async move {
                                        sdk().join_group(&gid, "", 3).await?;
                                        found.set(None);
                                        state.go(Route::Chat(format!("sg_{gid}")));
                                        Ok(())
                                    });
                                })>"Join"</button>
                            }.into_any()
                        }}
                    </div>
                }.into_any()
            }))}
        </section>
    }
}

/// The page a join link opens: the group and a button that joins it.
#[component]
pub fn JoinPage(state: AppState, group_id: String, via_qr: bool) -> impl IntoView {
    let found = RwSignal::new(None::<Group>);
    {
        let id = group_id.clone();
        state.run(async move {
            let mut groups = sdk().groups_info(std::slice::from_ref(&id)).await?;
            match groups.pop() {
                Some(g) => found.set(Some(g)),
                None => return Err(DemoError::Input(format!("no group has the ID {id}"))),
            }
            Ok(())
        });
    }
    let source = if via_qr { 4 } else { 3 };
    let gid = group_id.clone();
    let join = move |_| {
        let gid = gid.clone();
        state.run(async move {
            if !state.groups.with_untracked(|g| g.contains_key(&gid)) {
                sdk().join_group(&gid, "", source).await?;
            }
            state.go(Route::Chat(format!("sg_{gid}")));
            Ok(())
        });
    };
    view! {
        <section class="join-page" data-testid="join-page">
            <h2>"Join a group"</h2>
            <p>{text(move || found.get().map(|g| format!("{} · {} members", g.name, g.member_count)).unwrap_or_else(|| group_id.clone()))}</p>
            <p class="muted">{if via_qr { "Opened from the group's QR code." } else { "Opened from a join link." }}</p>
            <button data-testid="join-confirm" on:click=dynamic::click(join)>"Join"</button>
        </section>
    }
}
