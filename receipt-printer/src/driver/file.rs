//! Files and device nodes (e.g. `/dev/usb/lp0`): write only.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Connection, write_counting};
use crate::error::PrinterError;

/// A file the job is written to.
#[derive(Debug)]
pub struct FileConnection {
    file: File,
    path: PathBuf,
}

impl FileConnection {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<FileConnection, PrinterError> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|source| PrinterError::Connect {
                target: format!("file:{}", path.display()),
                source,
            })?;
        Ok(FileConnection {
            file,
            path: path.to_owned(),
        })
    }

    /// The path written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Connection for FileConnection {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        write_counting(bytes, |chunk| self.file.write(chunk))?;
        self.file.flush().map_err(|source| PrinterError::Write {
            written: bytes.len(),
            total: bytes.len(),
            source,
        })
    }

    fn read(&mut self, _buf: &mut [u8]) -> Result<usize, PrinterError> {
        Err(PrinterError::ReadUnsupported)
    }

    fn can_read(&self) -> bool {
        false
    }

    fn discard_input(&mut self) -> Result<(), PrinterError> {
        Ok(())
    }
}
