//! `skillmap serve`: the HTTP service over one shared engine, on a multi-threaded runtime.

use std::sync::Arc;
use std::time::Duration;

use crate::app::cli::{LogFormatArg, ServeArgs};
use crate::app::{Outcome, open_engine};
use crate::error::Error;
use crate::search::MAX_LIMIT;
use crate::serve::{self, LogFormat, ServeConfig};

pub fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    let engine = Arc::new(open_engine(&args.dir.index)?);
    let config = config(args);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Start {
            what: "async runtime",
            cause: e.to_string(),
        })?
        .block_on(serve::serve(engine, config))?;
    Ok(Outcome::Found)
}

/// The service's configuration of the command line's arguments (clap has checked the ranges).
fn config(args: ServeArgs) -> ServeConfig {
    ServeConfig {
        addr: args.addr,
        max_body: args.max_body,
        max_query_chars: args.max_query_chars,
        // A search never returns more than the library's limit, whatever the operator allows.
        max_limit: args.max_limit.min(MAX_LIMIT),
        max_inflight: args.max_inflight.max(1),
        timeout: Duration::from_secs(args.timeout.max(1)),
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        max_connections: args.max_connections,
        max_batch_lines: args.max_batch_lines,
        api_keys: args.api_keys,
        log_format: match args.log_format {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        },
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::app::cli::{Cli, Command};
    use crate::serve::ServeConfig;

    /// `skillmap serve` with no flags configures the service exactly as `ServeConfig::default`
    /// (the defaults live in one place, which both read).
    #[test]
    fn the_flags_defaults_are_the_configs_defaults() {
        let Command::Serve(args) = Cli::try_parse_from(["skillmap", "serve"]).unwrap().command
        else {
            panic!("not serve");
        };
        let from_flags = format!("{:?}", super::config(args));
        assert_eq!(from_flags, format!("{:?}", ServeConfig::default()));
    }
}
