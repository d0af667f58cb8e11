//! Command-line configuration of the server process.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What the server was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Directory holding the SQLite database.
    pub data_dir: PathBuf,
    /// REST address (two-port mode).
    pub api_addr: SocketAddr,
    /// WebSocket gateway address (two-port mode).
    pub ws_addr: SocketAddr,
    /// Single-port mode: REST, `/msg_gateway` and static files on one address.
    pub single_addr: Option<SocketAddr>,
    /// Static files served in single-port mode (the demo).
    pub static_dir: Option<PathBuf>,
    /// Shared secret for admin tokens and token signatures.
    pub secret: String,
    /// App administrators (may act for any user).
    pub admin_user_ids: Vec<String>,
    /// Create demo users and a work group with history on start.
    pub seed_demo: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("chorus-data"),
            api_addr: SocketAddr::from(([127, 0, 0, 1], 10002)),
            ws_addr: SocketAddr::from(([127, 0, 0, 1], 10001)),
            single_addr: None,
            static_dir: None,
            secret: "openIM123".to_owned(),
            admin_user_ids: vec!["imAdmin".to_owned()],
            seed_demo: false,
        }
    }
}

pub const USAGE: &str = "\
usage: chorus-server [options]

  --data DIR        database directory (default ./chorus-data)
  --api ADDR        REST address (default 127.0.0.1:10002)
  --ws ADDR         WebSocket gateway address (default 127.0.0.1:10001)
  --single ADDR     serve REST, the gateway (/msg_gateway) and static files on one address
  --static DIR      static files for --single (the web demo)
  --secret S        admin secret and token signing key (default openIM123)
  --admin ID        app administrator user ID (repeatable; default imAdmin)
  --seed-demo       create demo users and a work group with history
  -h, --help        this text";

/// Parses `args` (without the program name).
pub fn parse_args(args: &[String]) -> Result<Config, String> {
    let mut cfg = Config::default();
    let mut admins: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let addr = |s: String, name: &str| {
            s.parse::<SocketAddr>()
                .map_err(|e| format!("{name} {s:?}: {e}"))
        };
        match flag.as_str() {
            "--data" => cfg.data_dir = PathBuf::from(value("--data")?),
            "--api" => cfg.api_addr = addr(value("--api")?, "--api")?,
            "--ws" => cfg.ws_addr = addr(value("--ws")?, "--ws")?,
            "--single" => cfg.single_addr = Some(addr(value("--single")?, "--single")?),
            "--static" => cfg.static_dir = Some(PathBuf::from(value("--static")?)),
            "--secret" => {
                cfg.secret = value("--secret")?;
                if cfg.secret.is_empty() {
                    return Err("--secret must not be empty".into());
                }
            }
            "--admin" => admins.push(value("--admin")?),
            "--seed-demo" => cfg.seed_demo = true,
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if !admins.is_empty() {
        cfg.admin_user_ids = admins;
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn defaults_match_openim_ports() {
        let c = parse_args(&[]).unwrap();
        assert_eq!(c.api_addr.port(), 10002);
        assert_eq!(c.ws_addr.port(), 10001);
        assert_eq!(c.data_dir, PathBuf::from("chorus-data"));
    }

    #[test]
    fn flags_and_errors() {
        let c = parse_args(&args(
            "--data /tmp/x --single 127.0.0.1:0 --secret s --admin a --admin b --seed-demo",
        ))
        .unwrap();
        assert_eq!(c.single_addr, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(c.admin_user_ids, vec!["a", "b"]);
        assert!(c.seed_demo);
        assert!(parse_args(&args("--api nonsense")).is_err());
        assert!(parse_args(&args("--data")).is_err());
        assert!(parse_args(&args("--bogus")).is_err());
        assert!(parse_args(&args("--secret")).is_err());
    }
}
