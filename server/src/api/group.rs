//! `/group/*` routes (spec §5.4); the handlers live in [`crate::group`].

use axum::Router;

use super::authed;
use crate::group;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/group/create_group", authed(group::create_group))
        .route("/group/set_group_info_ex", authed(group::set_group_info_ex))
        .route("/group/set_group_info", authed(group::set_group_info))
        .route("/group/get_groups_info", authed(group::get_groups_info))
        .route(
            "/group/get_group_member_list",
            authed(group::get_group_member_list),
        )
        .route(
            "/group/get_group_members_info",
            authed(group::get_group_members_info),
        )
        .route(
            "/group/invite_user_to_group",
            authed(group::invite_user_to_group),
        )
        .route("/group/join_group", authed(group::join_group))
        .route(
            "/group/group_application_response",
            authed(group::group_application_response),
        )
        .route(
            "/group/get_recv_group_applicationList",
            authed(group::get_recv_group_application_list),
        )
        .route(
            "/group/get_user_req_group_applicationList",
            authed(group::get_user_req_group_application_list),
        )
        .route(
            "/group/get_group_application_unhandled_count",
            authed(group::get_group_application_unhandled_count),
        )
        .route("/group/kick_group", authed(group::kick_group))
        .route("/group/quit_group", authed(group::quit_group))
        .route("/group/dismiss_group", authed(group::dismiss_group))
        .route("/group/transfer_group", authed(group::transfer_group))
        .route(
            "/group/set_group_member_info",
            authed(group::set_group_member_info),
        )
        .route("/group/mute_group_member", authed(group::mute_group_member))
        .route(
            "/group/cancel_mute_group_member",
            authed(group::cancel_mute_group_member),
        )
        .route("/group/mute_group", authed(group::mute_group))
        .route("/group/cancel_mute_group", authed(group::cancel_mute_group))
        .route(
            "/group/get_joined_group_list",
            authed(group::get_joined_group_list),
        )
        .route(
            "/group/get_incremental_join_groups",
            authed(group::get_incremental_join_groups),
        )
        .route(
            "/group/get_incremental_group_members_batch",
            authed(group::get_incremental_group_members_batch),
        )
        .route(
            "/group/get_full_join_group_ids",
            authed(group::get_full_join_group_ids),
        )
        .route(
            "/group/get_full_group_member_user_ids",
            authed(group::get_full_group_member_user_ids),
        )
}
