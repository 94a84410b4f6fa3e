//! USB printers through `nusb`, a pure-Rust USB stack: no libusb or udev
//! development packages are needed. On Linux the kernel's `usblp` driver is
//! detached from the interface while we hold it; the user needs write access
//! to the device node (a udev rule in the installer grants it).

use std::time::Duration;

use nusb::MaybeFuture;
use nusb::descriptors::TransferType;
use nusb::transfer::{Buffer, Bulk, Direction, In, Out, TransferError};
use nusb::{Device, Endpoint, Interface};

use super::{Connection, Timeouts};
use crate::error::PrinterError;

/// USB interface class of printers.
const PRINTER_CLASS: u8 = 7;
/// Bytes per bulk transfer.
const CHUNK: usize = 4096;

/// A claimed USB printer interface.
pub struct UsbConnection {
    target: String,
    out: Endpoint<Bulk, Out>,
    input: Option<Endpoint<Bulk, In>>,
    timeouts: Timeouts,
    _interface: Interface,
    _device: Device,
}

impl std::fmt::Debug for UsbConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbConnection")
            .field("target", &self.target)
            .field("can_read", &self.input.is_some())
            .finish()
    }
}

/// A USB device that looks like a printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbPrinterInfo {
    /// Vendor id.
    pub vendor_id: u16,
    /// Product id.
    pub product_id: u16,
    /// Manufacturer string, if the device reports one.
    pub manufacturer: Option<String>,
    /// Product string, if the device reports one.
    pub product: Option<String>,
}

impl UsbPrinterInfo {
    /// The `usb:VID:PID` address of the device.
    pub fn target(&self) -> String {
        format!("usb:{:04x}:{:04x}", self.vendor_id, self.product_id)
    }
}

/// USB devices with a printer-class interface (class 7), for set-up.
pub fn list_usb_printers() -> Result<Vec<UsbPrinterInfo>, PrinterError> {
    let devices = nusb::list_devices().wait().map_err(|e| PrinterError::Usb {
        target: "usb".into(),
        reason: format!("cannot list USB devices: {e}"),
    })?;
    Ok(devices
        .filter(|d| {
            d.class() == PRINTER_CLASS || d.interfaces().any(|i| i.class() == PRINTER_CLASS)
        })
        .map(|d| UsbPrinterInfo {
            vendor_id: d.vendor_id(),
            product_id: d.product_id(),
            manufacturer: d.manufacturer_string().map(str::to_owned),
            product: d.product_string().map(str::to_owned),
        })
        .collect())
}

struct Chosen {
    interface: u8,
    out: u8,
    input: Option<u8>,
}

impl UsbConnection {
    /// Opens the first device with `vendor_id:product_id` and claims its
    /// printer interface (or the first interface with a bulk OUT endpoint).
    pub fn open(
        vendor_id: u16,
        product_id: u16,
        timeouts: Timeouts,
    ) -> Result<UsbConnection, PrinterError> {
        let target = format!("usb:{vendor_id:04x}:{product_id:04x}");
        let fail = |reason: String| PrinterError::Usb {
            target: target.clone(),
            reason,
        };
        let info = nusb::list_devices()
            .wait()
            .map_err(|e| fail(format!("cannot list USB devices: {e}")))?
            .find(|d| d.vendor_id() == vendor_id && d.product_id() == product_id)
            .ok_or_else(|| fail("no such device is plugged in".into()))?;
        let device = info
            .open()
            .wait()
            .map_err(|e| fail(format!("cannot open: {e}")))?;
        let chosen = choose_interface(&device).map_err(&fail)?;
        let interface = device
            .detach_and_claim_interface(chosen.interface)
            .wait()
            .map_err(|e| fail(format!("cannot claim interface {}: {e}", chosen.interface)))?;
        let out = interface
            .endpoint::<Bulk, Out>(chosen.out)
            .map_err(|e| fail(format!("bulk OUT endpoint: {e}")))?;
        let input = match chosen.input {
            Some(address) => Some(
                interface
                    .endpoint::<Bulk, In>(address)
                    .map_err(|e| fail(format!("bulk IN endpoint: {e}")))?,
            ),
            None => None,
        };
        Ok(UsbConnection {
            target,
            out,
            input,
            timeouts,
            _interface: interface,
            _device: device,
        })
    }
}

fn choose_interface(device: &Device) -> Result<Chosen, String> {
    let config = device
        .active_configuration()
        .map_err(|e| format!("no active configuration: {e}"))?;
    let mut best: Option<(bool, Chosen)> = None;
    for group in config.interfaces() {
        let alt = group.first_alt_setting();
        let bulk = |dir: Direction| {
            alt.endpoints()
                .find(|e| e.transfer_type() == TransferType::Bulk && e.direction() == dir)
                .map(|e| e.address())
        };
        let Some(out) = bulk(Direction::Out) else {
            continue;
        };
        let is_printer = alt.class() == PRINTER_CLASS;
        let candidate = Chosen {
            interface: group.interface_number(),
            out,
            input: bulk(Direction::In),
        };
        if best
            .as_ref()
            .is_none_or(|(printer, _)| is_printer && !printer)
        {
            best = Some((is_printer, candidate));
        }
    }
    best.map(|(_, c)| c)
        .ok_or_else(|| "no interface with a bulk OUT endpoint".into())
}

fn io_error(e: TransferError) -> std::io::Error {
    std::io::Error::from(e)
}

impl Connection for UsbConnection {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        let mut written = 0;
        for chunk in bytes.chunks(CHUNK) {
            let mut buffer = Buffer::new(chunk.len());
            buffer.extend_from_slice(chunk);
            let completion = self.out.transfer_blocking(buffer, self.timeouts.write);
            written += completion.actual_len;
            if let Err(e) = completion.status {
                let source = match e {
                    TransferError::Cancelled => std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("the printer took no data for {:?}", self.timeouts.write),
                    ),
                    other => io_error(other),
                };
                return Err(PrinterError::Write {
                    written,
                    total: bytes.len(),
                    source,
                });
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<usize, PrinterError> {
        let timeout: Duration = self.timeouts.read;
        let Some(input) = self.input.as_mut() else {
            return Err(PrinterError::ReadUnsupported);
        };
        let packet = input.max_packet_size().max(1);
        let completion = input.transfer_blocking(Buffer::new(packet), timeout);
        match completion.status {
            Ok(()) => {
                let n = completion
                    .actual_len
                    .min(buf.len())
                    .min(completion.buffer.len());
                buf[..n].copy_from_slice(&completion.buffer[..n]);
                Ok(n)
            }
            Err(TransferError::Cancelled) => Err(PrinterError::ReadTimeout(timeout)),
            Err(e) => Err(PrinterError::Read(io_error(e))),
        }
    }

    fn can_read(&self) -> bool {
        self.input.is_some()
    }

    fn discard_input(&mut self) -> Result<(), PrinterError> {
        Ok(())
    }
}
