//! Printing through the terminal's CUPS server with its own command-line clients: `lp` submits
//! a PDF to a queue and answers the job id (`request id is QUEUE-N (1 file(s))`), `lpstat`
//! lists the queues and the jobs not yet completed. The clients are CUPS's stable interface on
//! every Debian/Ubuntu terminal (package `cups-client`); no library binding is needed for these
//! three calls, and a missing client or server gives a clear error instead of a link failure.
//!
//! Errors are [`PrintError`]s whose text is what the teller is shown (which printer, what
//! CUPS said).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A job CUPS accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The queue (printer) name.
    pub printer: String,
    /// CUPS's job id, `QUEUE-N`.
    pub id: String,
}

/// Where a job stands after [`wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Still in the queue (or printing) when the wait ended.
    Queued,
    /// No longer among the jobs not completed: printed.
    Completed,
}

/// Why a print did not reach the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintError {
    /// No printer name was given (none configured for this terminal).
    NoPrinter,
    /// The CUPS client (`lp`/`lpstat`) is not installed or could not run.
    ClientMissing(String),
    /// CUPS refused the job (unknown printer, server down, queue disabled): its message.
    Refused { printer: String, message: String },
}

impl std::fmt::Display for PrintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrintError::NoPrinter => f.write_str("no printer is configured for this terminal"),
            PrintError::ClientMissing(e) => {
                write!(f, "the CUPS client (lp) could not run: {e}")
            }
            PrintError::Refused { printer, message } => {
                write!(f, "printer {printer}: {message}")
            }
        }
    }
}

impl std::error::Error for PrintError {}

/// A queue name as CUPS accepts it: 1-127 printable characters, no space, `/`, `#` or
/// quote (CUPS Implementation Notes, printer names). Checked before anything runs, so a name
/// can never become an option of `lp`.
pub fn valid_printer_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 127
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | '#' | '\'' | '"' | '\\'))
}

/// Submit `pdf` to `printer` with `title` as the job name (`lp -d PRINTER -t TITLE -`, the
/// document on stdin). Returns the accepted job. Errors: [`PrintError`].
pub fn submit(printer: &str, title: &str, pdf: &[u8]) -> Result<Job, PrintError> {
    let printer = printer.trim();
    if printer.is_empty() {
        return Err(PrintError::NoPrinter);
    }
    if !valid_printer_name(printer) {
        return Err(PrintError::Refused {
            printer: printer.to_string(),
            message: "not a CUPS printer name".into(),
        });
    }
    let title: String = title
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let mut child = Command::new("lp")
        .args(["-d", printer, "-t", &title, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| PrintError::ClientMissing(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A refused job may close stdin early: its message is on stderr below.
        let _ = stdin.write_all(pdf);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| PrintError::ClientMissing(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match (out.status.success(), parse_request_id(&stdout)) {
        (true, Some(id)) => Ok(Job {
            printer: printer.to_string(),
            id,
        }),
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let message = stderr
                .lines()
                .chain(stdout.lines())
                .map(|l| l.trim().trim_start_matches("lp:").trim())
                .find(|l| !l.is_empty())
                .unwrap_or("the job was not accepted")
                .to_string();
            Err(PrintError::Refused {
                printer: printer.to_string(),
                message,
            })
        }
    }
}

/// The job id in `lp`'s answer: `request id is CUPS-PDF-12 (1 file(s))` → `CUPS-PDF-12`.
pub fn parse_request_id(lp_stdout: &str) -> Option<String> {
    let rest = lp_stdout.split("request id is ").nth(1)?;
    let id = rest.split_whitespace().next()?;
    (!id.is_empty()).then(|| id.to_string())
}

/// Wait up to `timeout` for CUPS to report the job among the queue's finished jobs
/// (`lpstat -W completed -o QUEUE`), polling every 200 ms. Completion is confirmed positively:
/// an `lpstat` that fails (server down, queue gone) or a job still held on a stopped queue
/// leaves it `Queued`, never `Completed`. CUPS lists jobs an operator cancelled or that aborted
/// among the finished ones too; `lpstat` does not tell them apart, so a job cancelled at the
/// printer's own panel within the wait is the one case reported `Completed` wrongly.
pub fn wait(job: &Job, timeout: Duration) -> JobState {
    let start = Instant::now();
    loop {
        let finished = Command::new("lpstat")
            .args(["-W", "completed", "-o", &job.printer])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .is_some_and(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some(job.id.as_str()))
            });
        if finished {
            return JobState::Completed;
        }
        if start.elapsed() >= timeout {
            return JobState::Queued;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The queues this terminal's CUPS knows (`lpstat -e`), sorted; empty when CUPS is not
/// reachable.
pub fn printers() -> Vec<String> {
    let mut out: Vec<String> = Command::new("lpstat")
        .arg("-e")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_id_is_read_from_lps_answer() {
        assert_eq!(
            parse_request_id("request id is CUPS-PDF-12 (1 file(s))\n").as_deref(),
            Some("CUPS-PDF-12")
        );
        assert_eq!(
            parse_request_id("lp: The printer or class does not exist."),
            None
        );
        assert_eq!(parse_request_id(""), None);
    }

    #[test]
    fn printer_names_that_could_be_options_or_paths_are_refused() {
        assert!(valid_printer_name("CUPS-PDF"));
        assert!(valid_printer_name("Counter_1"));
        for bad in ["", "-o", "a b", "a/b", "a#b", "x\"", "\u{0}"] {
            assert!(!valid_printer_name(bad), "{bad:?}");
        }
        assert_eq!(
            submit(" ", "t", b"%PDF").unwrap_err(),
            PrintError::NoPrinter
        );
        assert!(matches!(
            submit("-h", "t", b"%PDF").unwrap_err(),
            PrintError::Refused { .. }
        ));
    }
}
