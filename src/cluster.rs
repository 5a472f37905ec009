//! Running as one node of several on a shared PostgreSQL database
//! (`[database] url`): the node's name, and the scheduler of `mentions run`
//! on PostgreSQL (see `schedule_loop`).

/// The variable that names this node instead of `HOST-PID`.
pub const NODE_VAR: &str = "MENTIONS_NODE";

/// This process's node name: `MENTIONS_NODE` when set, else the host
/// name and the process id (`newsroom-1-4242`), so two daemons on one
/// machine are two nodes.
pub fn node_name() -> String {
    if let Ok(name) = std::env::var(NODE_VAR) {
        let name = name.trim();
        if !name.is_empty() {
            return name.to_owned();
        }
    }
    format!("{}-{}", hostname(), std::process::id())
}

/// The machine's name, as the kernel has it (`localhost` when unknown).
fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_owned())
}
