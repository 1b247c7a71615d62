//! `sigmamind calls create-batch`: a CSV contact list, dialled at most once
//! per row (the work is `sigmamind_dialler`; this is its command line).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sigmamind::text::printable;
use sigmamind_dialler::{
    self as batch, Batch, CallingHours, Cancel, Counts, Event, Journal, Options, Rate, Report, ResultsWriter,
};

pub(crate) const AFTER_HELP: &str = "\
The CSV has a header row. The destination number is the `phone` column
(--phone-column to use another); every other column is a dynamic variable
named by its header. Rows are numbered from 1, the header not counted.

Every row is checked before anything is dialled; problems are reported in
the vendor's words (Row 3: missing required variable 'customer_name') and
those rows are not dialled. Before each request, the row is recorded in the
journal (on disk); after, its outcome. Running the same command again
resumes: placed rows are skipped, and rows whose outcome is unknown (sent,
no answer: the call may exist) are not dialled again unless --retry-unknown.

The list is read as a stream (any length, bounded memory): once to check
every row, once to dial. Results are written as rows finish, in that order.

--journal postgres://user@host/db keeps the journal in PostgreSQL instead of a
file: several create-batch processes, on one machine or several, given the
same list, --campaign and database, split it between them, and never dial a
number twice. Journal and results files are readable by their owner only.

Example:
  sigmamind calls create-batch contacts.csv --from +14155552671 \\
      --agent D5D0p7TUs66TTAEAx --require customer_name --concurrency 5 --rate 10/s

Ctrl-C (or SIGTERM) stops at once: no request leaves after it, not even a
retry waiting out a 429; the calls already on the wire are answered (within
--timeout) and recorded. A second one quits without waiting (those calls
would be unknown). Rows not sent are dialled by the next run.

The run also stops sending, leaving the rest for the next run, when the
server rejects the key (401, 403) or asks for a Retry-After longer than it
waits (it says until when).

Numbers: +E.164 (+14155550101) unless --region names the region the list's
numbers are written for (--region US reads (415) 555-0101, 415.555.0101,
'+14155550101, 00 44 20 7946 0958); libphonenumber's data decides what is a
valid number, and the results keep the cell as given beside it.

Calling hours (--calling-hours, default 08:00-21:00, the US federal window;
--days to name days): each row is dialled only when the window is open in
its callee's local time, in every zone its number may ring in
(libphonenumber's map), or in the zone of its `timezone` column
(--timezone-column). A row whose zone cannot be known is not dialled unless
--fallback-zone names one. Rows outside their hours are `deferred`: the run
says when the first opens, and the next run dials them; --wait waits and
dials them as their hours open. See the README: guidance, not legal advice.

--suppress FILE (repeatable) names numbers never to dial: one number a line
(as national do-not-call registries publish them) or a CSV with the phone
column; entries are read like the contacts (--region). A row on a list is
`suppressed`: never sent, and the results name the list.

Outcomes: placed; refused (by the server: not placed); invalid (failed the
checks: never sent); suppressed (on a suppression list: never sent); not_sent (the run stopped first); deferred (outside its
calling hours: never sent); unknown (sent, no answer: the call may exist).

Exit status: 0 every row placed (or suppressed); 1 a row was refused, invalid, deferred or
not sent (or the run stopped); 2 bad arguments, contact list, journal or results
file; 3 a row's outcome is unknown.

The results file is never the contact list or the journal (compared as
files: links count), and an existing one that no earlier run of this
journal wrote is refused unless --overwrite-results. Its CSV cells never
start a formula (OWASP: a leading ').

Without SIGMAMIND_API_KEY nothing is sent, unless --local: then the calls go
to a local SigmaMind server started in-process (nothing is dialled), and the
summary, the results file and the journal say so.";

/// Row errors printed on stderr; a list with more says how many more.
const SHOWN_ROW_ERRORS: usize = 20;

#[derive(clap::Args)]
pub(crate) struct BatchArgs {
    /// The contact list (CSV with a header row).
    contacts: PathBuf,
    /// Caller number in +E.164 format, provisioned in SigmaMind.
    #[arg(long = "from", value_name = "E164")]
    from: String,
    /// Agent that handles every call; default: the caller number's agent.
    #[arg(long = "agent", value_name = "ID")]
    agent: Option<String>,
    /// Variables every row must have, comma-separated.
    #[arg(long = "require", value_name = "NAME,...", value_delimiter = ',')]
    require: Vec<String>,
    /// The column holding the destination number.
    #[arg(long, value_name = "NAME", default_value = "phone")]
    phone_column: String,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000))]
    concurrency: u16,
    /// Calls started per second (10/s), minute (300/min) or hour (5000/h) at most.
    #[arg(long, value_name = "RATE")]
    rate: Option<Rate>,
    /// The journal: a file [default: <CONTACTS>.journal.jsonl], or a
    /// PostgreSQL database (postgres://..., or key=value settings) shared by
    /// several dialers.
    #[arg(long, value_name = "PATH|URL")]
    journal: Option<String>,
    /// The campaign in a PostgreSQL journal: dialers of one campaign share
    /// its list [default: the contact list's file name].
    #[arg(long, value_name = "NAME")]
    campaign: Option<String>,
    /// How long the outcome of a call already sent waits for a PostgreSQL
    /// journal that went away (a failover, a restart) before it is left to
    /// the results file (column journal_error); at most a week. No new row
    /// is claimed once the journal is lost.
    #[arg(long, value_name = "SECONDS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(0..=604_800))]
    journal_outage: u64,
    /// The results file: .jsonl or .json for JSON lines, else CSV
    /// [default: <CONTACTS>.results.csv].
    #[arg(long, value_name = "PATH")]
    results: Option<PathBuf>,
    /// Read numbers as people write them in this region (US, GB, ...):
    /// national forms, spaces, brackets; turned into +E.164 with
    /// libphonenumber's data, which must hold them valid.
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// Dial each row only inside these hours of its callee's local time.
    #[arg(long, value_name = "HH:MM-HH:MM", num_args = 0..=1, default_missing_value = "08:00-21:00")]
    calling_hours: Option<String>,
    /// Calling days (in the callee's zone), e.g. mon-fri or mon-sat
    /// [default: every day]; needs --calling-hours.
    #[arg(long, value_name = "DAYS", requires = "calling_hours")]
    days: Option<String>,
    /// The zone of rows whose zone cannot be known from the number (an IANA
    /// name such as America/Chicago); needs --calling-hours.
    #[arg(long, value_name = "ZONE", requires = "calling_hours")]
    fallback_zone: Option<String>,
    /// The column that gives a row its own time zone (an IANA name).
    #[arg(long, value_name = "NAME", default_value = "timezone")]
    timezone_column: String,
    /// Wait for rows outside their calling hours and dial them when their
    /// hours open (Ctrl-C stops the wait); needs --calling-hours.
    #[arg(long, requires = "calling_hours")]
    wait: bool,
    /// A suppression list (do-not-call, opt-outs): one number a line, or a
    /// CSV with a phone column (--phone-column); read like the contacts
    /// (--region). Rows on it are never dialled. Repeat for several lists.
    #[arg(long, value_name = "FILE")]
    suppress: Vec<PathBuf>,
    /// Check the list and say what would be dialled; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also dial rows whose outcome is unknown. Their calls may exist: this
    /// can call those people twice.
    #[arg(long)]
    retry_unknown: bool,
    /// Resends per row of a request the server did not take in (429,
    /// connection refused).
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_retries: u32,
    /// Rehearse on the built-in local server: nothing is dialled, and every
    /// output says so.
    #[arg(long)]
    local: bool,
    /// Overwrite an existing results file that no earlier run of this
    /// journal wrote.
    #[arg(long)]
    overwrite_results: bool,
    /// Limit on each request, from sending until the whole answer has
    /// arrived (e.g. 30s, 500ms).
    #[arg(long, value_parser = crate::parse_duration, default_value = "30s")]
    timeout: Duration,
}

/// `<contacts><suffix>`, beside the contact list.
fn beside(contacts: &Path, suffix: &str) -> PathBuf {
    let mut name = contacts.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn open_contacts(args: &BatchArgs) -> Result<batch::Contacts<std::io::BufReader<std::fs::File>>, String> {
    let file = std::fs::File::open(&args.contacts)
        .map_err(|e| format!("cannot open {}: {e}", args.contacts.display()))?;
    batch::read_contacts(std::io::BufReader::new(file), &args.phone_column)
        .map(|contacts| contacts.timezone_column(&args.timezone_column))
        .map_err(|e| format!("{}: {e}", args.contacts.display()))
}

/// The contact list again, for a run that comes back for deferred rows: a
/// list that can no longer be opened is one error row, which stops it.
fn contacts_again(
    args: &BatchArgs,
) -> Box<dyn Iterator<Item = Result<batch::Contact, batch::BatchError>> + '_> {
    match open_contacts(args) {
        Ok(contacts) => Box::new(contacts),
        Err(message) => Box::new(std::iter::once(Err(batch::BatchError::Contacts { message }))),
    }
}

pub(crate) async fn create_batch(args: BatchArgs) -> ExitCode {
    let batch = match build(&args) {
        Ok(batch) => batch,
        Err(message) => return usage_error(format!("nothing was sent: {message}")),
    };
    // Every row checked before anything is dialled: the list is read once
    // here, as a stream, and again to dial.
    let contacts = match open_contacts(&args) {
        Ok(contacts) => contacts,
        Err(message) => return usage_error(message),
    };
    let mut shown = 0;
    let checked = batch.check(contacts, |error| {
        if shown < SHOWN_ROW_ERRORS {
            eprintln!("{}", printable(&error.to_string()));
        }
        shown += 1;
    });
    let checked = match checked {
        Ok(checked) => checked,
        Err(e) => {
            return usage_error(format!(
                "nothing was sent: {}: {}",
                args.contacts.display(),
                printable(&e.to_string())
            ))
        }
    };
    if checked.errors > SHOWN_ROW_ERRORS {
        eprintln!(
            "... and {} more row errors ({})",
            checked.errors - SHOWN_ROW_ERRORS,
            if args.dry_run {
                "run without --dry-run to list them all in the results file"
            } else {
                "all of them are in the results file"
            }
        );
    }
    if args.dry_run {
        println!(
            "dry run: {} of {} rows would be dialled ({} invalid, {} suppressed); nothing was sent",
            checked.valid, checked.rows, checked.invalid, checked.suppressed,
        );
        return if checked.errors == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }

    let fallback = crate::Fallback::OnlyWhenAsked { asked: args.local };
    let target = match crate::target("the calls", fallback, args.timeout).await {
        Ok(target) => target,
        Err(error) => return usage_error(error),
    };
    let client = &target.client;
    let journal = match open_journal(&args, &batch, &target.name).await {
        Ok(journal) => journal,
        Err(error) => return usage_error(error),
    };
    let recovered = journal.recovered();
    if recovered.runs > 0 {
        eprintln!(
            "resuming: {} holds {} earlier run(s)",
            journal.location(),
            recovered.runs
        );
    }
    if let Some(torn) = recovered
        .file
        .as_ref()
        .map(|file| file.torn_bytes)
        .filter(|&n| n > 0)
    {
        eprintln!(
            "note: the journal ended in an incomplete record ({torn} bytes) left by an interrupted run; \
             it was cut off (its request had not been sent)"
        );
    }
    let results_path = args
        .results
        .clone()
        .unwrap_or_else(|| beside(&args.contacts, ".results.csv"));
    let results_name = match check_results_file(&args, &results_path, &journal) {
        Ok(name) => name,
        Err(message) => return usage_error(format!("nothing was sent: {message}")),
    };
    let dialled_via = match &target.local {
        Some(_) => "the local server (nothing was dialled)".to_owned(),
        None => target.name.clone(),
    };
    let mut results = match ResultsWriter::create(&results_path) {
        Ok(writer) => writer.target(dialled_via),
        Err(e) => return usage_error(format!("cannot write {}: {e}", results_path.display())),
    };
    let contacts = match open_contacts(&args) {
        Ok(contacts) => contacts,
        Err(message) => return usage_error(message),
    };

    let progress = progress_bar(checked.valid);
    let cancel = Cancel::new();
    tokio::spawn({
        let (cancel, progress) = (cancel.clone(), progress.clone());
        async move {
            crate::shutdown_signal().await;
            cancel.cancel();
            progress.suspend(|| {
                eprintln!(
                    "stopping: no new calls; waiting for the calls in flight to be answered \
                     (interrupt again to quit now: those calls would be unknown)"
                )
            });
            crate::shutdown_signal().await;
            std::process::exit(130);
        }
    });
    let mut options = Options::default()
        .cancel(cancel)
        .concurrency(usize::from(args.concurrency))
        .expected_rows(checked.rows)
        .retry_unknown(args.retry_unknown)
        .max_retries(args.max_retries)
        .journal_outage(Duration::from_secs(args.journal_outage))
        .results_file(results_name)
        .on_event({
            let progress = progress.clone();
            move |event| match event {
                Event::RowDone(_) => {
                    progress.set_message("");
                    progress.inc(1);
                }
                Event::Paused { wait, status } => progress.set_message(match status {
                    Some(status) => format!("server answered {status}: all workers wait {wait:.1?}"),
                    None => format!("server unreachable: all workers wait {wait:.1?}"),
                }),
                Event::Waiting { until, rows } => progress.suspend(|| {
                    eprintln!(
                        "waiting until {} for {rows} row(s) outside their calling hours (Ctrl-C stops)",
                        until.format("%Y-%m-%dT%H:%M:%SZ")
                    )
                }),
                _ => {}
            }
        });
    if let Some(rate) = args.rate {
        options = options.rate(rate);
    }
    let mut write_error = None;
    let write = |row: &batch::RowResult| {
        if write_error.is_none() {
            write_error = results.write(row).err();
        }
        // Known only here and in the results: said now, for a person to
        // reconcile, whatever happens to the results file.
        if let Some(error) = &row.journal_error {
            progress.suspend(|| {
                eprintln!(
                    "not in the journal: row {} ({}) {}{}: {}",
                    row.row,
                    row.phone,
                    row.outcome.name(),
                    row.outcome
                        .call_id()
                        .map_or_else(String::new, |id| format!(", call id {}", printable(id))),
                    printable(error)
                )
            });
        }
    };
    let report = if args.wait {
        drop(contacts);
        batch::run_waiting(
            client,
            &batch,
            || contacts_again(&args),
            &journal,
            &options,
            write,
        )
        .await
    } else {
        batch::run(client, &batch, contacts, &journal, &options, write).await
    };
    progress.finish_and_clear();
    crate::create::report_drift(client);
    if let Some(e) = write_error.or_else(|| results.flush().err()) {
        eprintln!("error: cannot write {}: {e}", results_path.display());
    }
    print_summary(
        &report,
        &results_path,
        &journal.location(),
        target.local.is_some(),
    );
    exit_code(&report)
}

/// The results file may be written: it is not the contact list nor the
/// journal (compared as files, so that a link or another spelling of the
/// path counts), it is not a link itself, and an existing one was written
/// by an earlier run of this journal (or the user said to overwrite it).
/// Returns the name the journal records it under.
fn check_results_file(args: &BatchArgs, results: &Path, journal: &Journal) -> Result<String, String> {
    let shown = results.display();
    if std::fs::symlink_metadata(results).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "--results {shown} is a symbolic link: name the file itself (a link could point at any file of yours)"
        ));
    }
    let Ok(meta) = std::fs::metadata(results) else {
        // Absent: created new. Recorded by its absolute name.
        let name = std::path::absolute(results).unwrap_or_else(|_| results.to_owned());
        return Ok(name.display().to_string());
    };
    if !meta.is_file() {
        return Err(format!("--results {shown} is not a regular file"));
    }
    let mut owned = vec![("the contact list", args.contacts.clone())];
    if !is_database(&journal.location()) {
        owned.push(("the journal", PathBuf::from(journal.location())));
    }
    for (what, path) in owned {
        if same_file(results, &meta, &path) {
            return Err(format!(
                "--results {shown} is {what} ({}): writing results there would destroy it",
                path.display()
            ));
        }
    }
    let name = std::fs::canonicalize(results)
        .map_err(|e| format!("--results {shown}: {e}"))?
        .display()
        .to_string();
    let ours = journal
        .results_files()
        .iter()
        .any(|written| written == &name || same_file(results, &meta, Path::new(written)));
    if meta.len() > 0 && !ours && !args.overwrite_results {
        return Err(format!(
            "--results {shown} exists and no earlier run of this journal wrote it: name another \
             file, or pass --overwrite-results to replace it"
        ));
    }
    Ok(name)
}

/// Whether `path` is the file `file` (whose metadata is `meta`) under
/// another name: the same device and inode on Unix (hard and symbolic
/// links count), the same canonical path elsewhere.
fn same_file(file: &Path, meta: &std::fs::Metadata, path: &Path) -> bool {
    let Ok(other) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = file;
        meta.dev() == other.dev() && meta.ino() == other.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (meta, other);
        std::fs::canonicalize(file).ok() == std::fs::canonicalize(path).ok()
    }
}

/// The journal the arguments name: a PostgreSQL database, or a file.
async fn open_journal(args: &BatchArgs, batch: &Batch, target: &str) -> Result<Journal, String> {
    match args.journal.as_deref() {
        Some(url) if is_database(url) => {
            let campaign = args.campaign.clone().unwrap_or_else(|| {
                args.contacts
                    .file_name()
                    .map_or("contacts".to_owned(), |n| n.to_string_lossy().into_owned())
            });
            Journal::postgres(url, &campaign, batch, target)
                .await
                .map_err(|e| e.to_string())
        }
        other => {
            if args.campaign.is_some() {
                return Err(
                    "--campaign names a campaign in a PostgreSQL journal (--journal postgres://...)".into(),
                );
            }
            let path = other.map_or_else(|| beside(&args.contacts, ".journal.jsonl"), PathBuf::from);
            Journal::open(&path, batch, target).map_err(|e| e.to_string())
        }
    }
}

/// A PostgreSQL connection string: a URL or `key=value` settings.
fn is_database(journal: &str) -> bool {
    journal.starts_with("postgres://") || journal.starts_with("postgresql://") || journal.contains("host=")
}

fn build(args: &BatchArgs) -> Result<Batch, String> {
    let mut batch = Batch::new(&args.from).map_err(crate::create::flagged)?;
    if let Some(agent) = &args.agent {
        batch = batch.agent(agent).map_err(crate::create::flagged)?;
    }
    if let Some(region) = &args.region {
        batch = batch.region(region).map_err(crate::create::flagged)?;
    }
    if !args.suppress.is_empty() {
        let mut lists = match &args.region {
            Some(region) => batch::Suppression::in_region(region).map_err(crate::create::flagged)?,
            None => batch::Suppression::new(),
        };
        for path in &args.suppress {
            let file =
                std::fs::File::open(path).map_err(|e| format!("--suppress {}: {e}", path.display()))?;
            // A pipe or a device would block or never end: a list is a file.
            if !file.metadata().is_ok_and(|m| m.is_file()) {
                return Err(format!("--suppress {}: not a regular file", path.display()));
            }
            let name = path.display().to_string();
            let read = lists
                .read_list(&name, file, &args.phone_column)
                .map_err(|e| format!("--suppress: {}", printable(&e.to_string())))?;
            eprintln!("suppression list {name}: {} numbers", read.numbers);
        }
        batch = batch.suppress(std::sync::Arc::new(lists));
    }
    if let Some(window) = &args.calling_hours {
        let mut hours: CallingHours = window.parse().map_err(crate::create::flagged)?;
        if let Some(days) = &args.days {
            hours = batch::parse_days(days)
                .and_then(|days| hours.days(days))
                .map_err(crate::create::flagged)?;
        }
        if let Some(zone) = &args.fallback_zone {
            let zone = zone.parse::<batch::Tz>().map_err(|_| {
                format!("--fallback-zone {zone:?} is not an IANA time zone (such as America/Chicago)")
            })?;
            hours = hours.fallback_zone(zone);
        }
        batch = batch.calling_hours(hours);
    }
    Ok(batch.require(args.require.iter().filter(|name| !name.is_empty()).cloned()))
}

/// On stderr, drawn only when it is a terminal.
fn progress_bar(rows: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(rows as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} calls · {rate} · ETA {eta} {msg}",
        )
        .expect("the progress template is valid")
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{:.1}/s", state.per_sec());
            },
        ),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn print_summary(report: &Report, results: &Path, journal: &str, local: bool) {
    let counts = report.counts();
    let Counts {
        placed,
        placed_earlier,
        refused,
        invalid,
        not_sent,
        unknown,
        elsewhere,
        deferred,
        suppressed,
        ..
    } = counts;
    if local {
        println!("on the local server: nothing was dialled");
    }
    println!("{:<26} {:>6}", "outcome", "rows");
    let mut lines = vec![
        ("placed", placed),
        ("placed by an earlier run", placed_earlier),
        ("refused", refused),
        ("invalid", invalid),
        ("not_sent", not_sent),
        ("unknown", unknown),
    ];
    if deferred > 0 {
        lines.push(("deferred", deferred));
    }
    if suppressed > 0 {
        lines.push(("suppressed", suppressed));
    }
    if elsewhere > 0 {
        lines.push(("held by another dialer", elsewhere));
    }
    for (name, count) in lines {
        println!("{name:<26} {count:>6}");
    }
    println!("{:<26} {:>6}", "total", counts.total());
    println!(
        "{:<26} {:>6.1}s{}",
        "time",
        report.elapsed.as_secs_f64(),
        if report.rate_limited > 0 {
            format!(" ({} rate-limited answers)", report.rate_limited)
        } else {
            String::new()
        }
    );
    eprintln!("results: {}", results.display());
    eprintln!("journal: {journal}");
    if let Some(reason) = &report.stopped {
        eprintln!("error: the run stopped early: {}", printable(reason));
    }
    if report.unrecorded > 0 {
        eprintln!(
            "error: the journal could not record {} outcome(s) (listed above, and in {} with a \
             journal_error): the journal holds those rows as unknown; reconcile them with these \
             results before a run that retries unknown outcomes",
            report.unrecorded,
            results.display()
        );
    }
    if not_sent > 0 {
        eprintln!("note: {not_sent} row(s) were not sent; running again dials them");
    }
    if deferred > 0 {
        let opens = report.next_window.map_or_else(
            || "none of them opens within eight days (see the results file)".to_owned(),
            |at| format!("the first opens at {}", at.format("%Y-%m-%dT%H:%M:%SZ")),
        );
        eprintln!(
            "note: {deferred} row(s) were outside their calling hours and not sent; {opens}; \
             running again then dials them (--wait waits for them)"
        );
    }
    if unknown > 0 {
        eprintln!(
            "warning: {unknown} row(s) have an unknown outcome: the request was sent and no answer \
             came, so the call may exist. Running again will not dial them; --retry-unknown would \
             (possibly calling those people twice)."
        );
    }
}

fn exit_code(report: &Report) -> ExitCode {
    let counts = report.counts();
    if counts.unknown > 0 || report.unrecorded > 0 {
        ExitCode::from(crate::create::UNKNOWN)
    } else if counts.refused > 0
        || counts.invalid > 0
        || counts.not_sent > 0
        || counts.deferred > 0
        || report.stopped.is_some()
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
