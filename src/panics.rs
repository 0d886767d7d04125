//! Where panics are reported: the binary's hook keeps the last one's message (with its place in
//! the code) for the error that the command boundary prints, instead of a backtrace on stderr.

use std::sync::Mutex;

static LAST: Mutex<Option<String>> = Mutex::new(None);

/// Installs the hook: a panic's message is kept, not printed. Set `RUST_BACKTRACE=1` to
/// get Rust's own report as well.
pub fn install_quiet_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let place = info.location().map_or_else(String::new, |l| {
            // A dependency's path is long: keep the crate and the file.
            let file = l.file();
            let file = file
                .split_once("/registry/src/")
                .and_then(|(_, rest)| rest.split_once('/'))
                .map_or(file, |(_, krate)| krate);
            format!(" at {file}:{}", l.line())
        });
        let message = panic_message(info.payload());
        let text = format!("internal failure{place}: {}", message.replace('\n', " "));
        *LAST.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            default(info);
        }
    }));
}

/// The message of the last panic, if one was kept since the last call.
pub fn take_last() -> Option<String> {
    LAST.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// Runs `work`, turning a panic into its message (with its place in the code when the quiet
/// hook kept it): the one panic boundary of the commands and of `engine::guarded`.
pub fn catch<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .map_err(|p| take_last().unwrap_or_else(|| panic_message(p.as_ref())))
}

/// The message of a caught panic (its payload is a `&str` or a `String` in practice).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
