//! Ending on a signal: SIGINT, SIGTERM or SIGHUP while a file is being
//! written removes its temporary file, then the process ends as that signal
//! ends it (a shell reports it killed by the signal). A signal the process
//! was started ignoring (as `nohup` ignores SIGHUP) stays ignored.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Starts the thread that waits for the signals. Without it (should the
/// thread fail to start) the signals end the process as before.
pub fn install() {
    let caught: Vec<i32> = [SIGINT, SIGTERM, SIGHUP].into_iter().filter(|&s| !ignored(s)).collect();
    let Ok(mut signals) = Signals::new(&caught) else {
        return;
    };
    let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            reproducible::checkpoint::remove_unfinished();
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    });
}

/// Whether `signal` is ignored, as Linux's `/proc/self/status` says (read
/// before any handler is set, this is how the process was started); elsewhere
/// none is taken to be.
fn ignored(signal: i32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| (mask >> (signal - 1)) & 1 == 1)
}
