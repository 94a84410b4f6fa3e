//! `escpos-print`: set up and check receipt printers in a shop.
//!
//! ```text
//! escpos-print profiles
//! escpos-print devices
//! escpos-print --to tcp://192.168.1.50:9100 --profile epson-tm-t20 sample
//! escpos-print --to usb:04b8:0e15 --profile epson-tm-t82 status
//! escpos-print --to file:/tmp/receipt.bin --profile generic-58 sample --preview /tmp/receipt.png
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use receipt_printer::driver::{self, Target, Timeouts};
use receipt_printer::{
    LayoutOptions, PrinterProfile, Readiness, encode_receipt, encode_z_report, preview,
    query_status, sample, send_job,
};

#[derive(Debug, Parser)]
#[command(
    name = "escpos-print",
    version,
    about = "Print and check ESC/POS receipt printers"
)]
struct Cli {
    /// Printer address: tcp://HOST:PORT, usb:VID:PID, serial:PATH (or serial:PATH@BAUD) or file:PATH.
    #[arg(long, global = true)]
    to: Option<String>,
    /// Printer profile (see `escpos-print profiles`), or custom:COLUMNS:DOTS.
    #[arg(long, global = true, default_value = "generic-80")]
    profile: String,
    /// Connect timeout in milliseconds.
    #[arg(long, global = true, default_value_t = 3000)]
    connect_timeout_ms: u64,
    /// Timeout for one write in milliseconds (a printer that stops taking data).
    #[arg(long, global = true, default_value_t = 10_000)]
    write_timeout_ms: u64,
    /// Timeout for one status reply in milliseconds.
    #[arg(long, global = true, default_value_t = 500)]
    read_timeout_ms: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the built-in printer profiles.
    Profiles,
    /// Print the sample receipt (Indonesian and European text, QR code, logo).
    Sample {
        /// Print a Z report instead of a receipt.
        #[arg(long)]
        z_report: bool,
        /// Mark it as a copy (reprint).
        #[arg(long)]
        copy: bool,
        /// Also kick the cash drawer.
        #[arg(long)]
        open_drawer: bool,
        /// Also write a PNG preview of the same bytes here.
        #[arg(long)]
        preview: Option<PathBuf>,
    },
    /// Ask the printer for its status and print it in words.
    Status,
    /// List USB printers and serial ports this machine sees, as addresses for --to.
    Devices,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("escpos-print: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let timeouts = Timeouts {
        connect: Duration::from_millis(cli.connect_timeout_ms),
        write: Duration::from_millis(cli.write_timeout_ms),
        read: Duration::from_millis(cli.read_timeout_ms),
    };
    match cli.command {
        Command::Profiles => {
            for p in PrinterProfile::built_in() {
                let pages: Vec<String> = p
                    .code_pages
                    .iter()
                    .map(|s| format!("{}={}", s.page, s.esc_t))
                    .collect();
                println!(
                    "{:<14} {:>2} cols {:>3} dots  cut {:<8} status {:<3}  code pages {}  — {}",
                    p.name,
                    p.columns_font_a,
                    p.width_dots,
                    format!("{:?}", p.cut).to_lowercase(),
                    if p.status.any() { "yes" } else { "no" },
                    pages.join(" "),
                    p.description
                );
            }
            println!("custom:COLUMNS:DOTS   any other width, e.g. custom:42:512");
            Ok(ExitCode::SUCCESS)
        }
        Command::Sample {
            z_report,
            copy,
            open_drawer,
            preview: preview_path,
        } => {
            let profile = PrinterProfile::by_name(&cli.profile)?;
            let target = target(cli.to.as_deref())?;
            let options = LayoutOptions {
                open_drawer,
                ..LayoutOptions::default()
            };
            let bytes = if z_report {
                let mut report = sample::sample_z_report();
                report.is_copy = copy;
                encode_z_report(&report, &profile, &options)?
            } else {
                let mut receipt = sample::sample_receipt();
                receipt.is_copy = copy;
                encode_receipt(&receipt, &profile, &options)?
            };
            if let Some(path) = preview_path {
                let png = preview::render_png(&bytes, &profile)?;
                std::fs::write(&path, png)
                    .with_context(|| format!("writing preview {}", path.display()))?;
            }
            let mut connection = driver::connect(&target, timeouts)?;
            let report = send_job(connection.as_mut(), &profile, &bytes)?;
            println!("sent {} bytes to {target} ({})", bytes.len(), profile.name);
            println!("status after: {}", report.after);
            if let Some(e) = report.after_error {
                println!("status after the job could not be read: {e}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Devices => {
            match driver::list_usb_printers() {
                Ok(printers) if printers.is_empty() => println!("USB printers: none found"),
                Ok(printers) => {
                    println!("USB printers:");
                    for p in printers {
                        let name = [p.manufacturer.as_deref(), p.product.as_deref()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ");
                        println!("  {}  {name}", p.target());
                    }
                }
                Err(receipt_printer::PrinterError::Usb { reason, .. }) => {
                    println!("USB printers: {reason}")
                }
                Err(e) => println!("USB printers: {e}"),
            }
            match driver::list_serial_ports() {
                Ok(ports) if ports.is_empty() => println!("serial ports: none found"),
                Ok(ports) => {
                    println!("serial ports:");
                    for port in ports {
                        println!("  serial:{port}");
                    }
                }
                Err(e) => println!("serial ports: {e}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => {
            let profile = PrinterProfile::by_name(&cli.profile)?;
            let target = target(cli.to.as_deref())?;
            let mut connection = driver::connect(&target, timeouts)?;
            let status = query_status(connection.as_mut(), &profile)?;
            println!("{status}");
            Ok(match status.readiness() {
                Readiness::Ready | Readiness::Unknown => ExitCode::SUCCESS,
                Readiness::Hold => ExitCode::from(1),
            })
        }
    }
}

fn target(to: Option<&str>) -> Result<Target> {
    match to {
        Some(address) => Ok(address.parse()?),
        None => bail!("--to is required: tcp://HOST:PORT, usb:VID:PID, serial:PATH or file:PATH"),
    }
}
