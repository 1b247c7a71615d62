//! `sigmamind mock serve`: the local SigmaMind server as a process.

use std::process::ExitCode;

use sigmamind_mock::{MockOptions, MockServer, RequestLog};

use crate::parse_duration;

#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 4010)]
    port: u16,
    /// Address to listen on. Anything but loopback needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Listen on a non-loopback --host: other machines can then reach the server.
    #[arg(long)]
    allow_remote: bool,
    /// The API key clients must send (X-API-Key); random when absent.
    #[arg(long, env = "SIGMAMIND_MOCK_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Delay before every answer, e.g. 50ms or 1s.
    #[arg(long, value_parser = parse_duration, default_value = "0ms")]
    latency: std::time::Duration,
    /// Seed for call ids: the same seed gives the same ids.
    #[arg(long)]
    seed: Option<u64>,
    /// One line per request on stderr: method, path, status, latency.
    #[arg(long)]
    verbose: bool,
    /// Answer every N-th request `429 Too Many Requests` (a server under
    /// load), to test a client's rate-limit handling.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    rate_limit_every: Option<u64>,
    /// The `Retry-After` those 429s carry: seconds, or an HTTP date.
    #[arg(
        long,
        value_name = "VALUE",
        default_value = "1",
        requires = "rate_limit_every"
    )]
    retry_after: String,
    /// Answer every success with this status instead of the documented one
    /// (200: as earlier versions of the vendor's Create Phone Call page say).
    #[arg(long, value_name = "STATUS", value_parser = clap::value_parser!(u16).range(200..=299))]
    success_status: Option<u16>,
    /// Answer successes with the field types the vendor's other pages show
    /// (a call's phoneNumber as the string "Object", a phone number as a
    /// bare number, duration as a string).
    #[arg(long)]
    mistyped_fields: bool,
    /// Serve this effective spec (JSON, as `cargo xtask update-spec` writes
    /// openapi/sigmamind.json) instead of the one this sigmamind was built
    /// from: a vendor release can be served before the crate is regenerated.
    #[arg(long, value_name = "FILE")]
    spec: Option<std::path::PathBuf>,
}

pub(crate) async fn serve(args: ServeArgs) -> ExitCode {
    if !args.host.is_loopback() && !args.allow_remote {
        eprintln!(
            "error: --host {} is not a loopback address; pass --allow-remote to let other machines reach the server",
            args.host
        );
        return ExitCode::from(2);
    }
    // Nothing can read recordings from another process: only counters are kept,
    // so memory stays flat however long it serves.
    let mut options = MockOptions::default()
        .listen(args.host, args.port)
        .latency(args.latency)
        .record_requests(false)
        .mistyped_fields(args.mistyped_fields);
    if let Some(status) = args.success_status {
        options = options.success_status(status);
    }
    if let Some(path) = &args.spec {
        let spec = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}")));
        match spec {
            Ok(spec) => options = options.spec(spec),
            Err(error) => {
                eprintln!("error: --spec {}: {error}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    if let Some(key) = args.api_key {
        options = options.api_key(key);
    }
    if let Some(seed) = args.seed {
        options = options.seed(seed);
    }
    if let Some(every) = args.rate_limit_every {
        options = options.rate_limit_every(every, args.retry_after);
    }
    if args.verbose {
        options = options.on_request(|entry: &RequestLog| eprintln!("{entry}"));
    }
    let server = match MockServer::try_start_with(options).await {
        Ok(server) => server,
        Err(error) if error.kind() == std::io::ErrorKind::Unsupported => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("error: cannot listen on {}:{}: {error}", args.host, args.port);
            return ExitCode::FAILURE;
        }
    };
    println!(
        "SigmaMind local server at {} with API key {}",
        server.base_url(),
        server.api_key()
    );
    let _ = std::io::Write::flush(&mut std::io::stdout());
    crate::shutdown_signal().await;
    drop(server);
    eprintln!("stopped");
    ExitCode::SUCCESS
}
