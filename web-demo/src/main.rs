//! Browser entry point: installs the panic hook and mounts [`chorus_web_demo::App`]. Nothing else.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(chorus_web_demo::App);
}
