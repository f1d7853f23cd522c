//! `custos-verify --public-key <base64 or file> <bundle.json>`: exit 0 and a report
//! when the bundle verifies, exit 2 and the reason otherwise.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match custos_verify::run(&args) {
        Ok(report) => {
            let _ = std::io::stdout().write_all(report.as_bytes());
            ExitCode::SUCCESS
        }
        Err(failure) => {
            let _ = writeln!(std::io::stderr(), "custos-verify: {failure}");
            ExitCode::from(2)
        }
    }
}
