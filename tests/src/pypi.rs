//! Test servers from PyPI (moto for S3, aiosmtpd for SMTP): each in its own virtualenv under
//! the cargo target directory, installed on first use and again when its pinned requirement
//! changes. A machine without python3-venv or without PyPI fails the test, saying what to
//! install.

use std::path::PathBuf;
use std::process::Command;

use crate::processes::bin_dir;

/// `<target>/<venv>/bin/<program>` with `requirement` installed in that virtualenv.
pub fn venv_program(venv: &str, requirement: &str, program: &str) -> PathBuf {
    let target = bin_dir().parent().expect("target directory").to_path_buf();
    let venv = target.join(venv);
    let stamp = venv.join("requirement.txt");
    let bin = venv.join("bin").join(program);
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(&format!("{requirement}\n"))
        && bin.exists()
    {
        return bin;
    }
    let made = Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv)
        .output()
        .unwrap_or_else(|e| panic!("python3 not found ({e}): apt-get install -y python3"));
    assert!(
        made.status.success(),
        "python3 cannot make a virtualenv: apt-get install -y python3-venv ({})",
        String::from_utf8_lossy(&made.stderr)
    );
    let pip = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ])
        .output()
        .expect("the virtualenv's pip");
    assert!(
        pip.status.success(),
        "pip could not install {requirement} into {} (is PyPI reachable? else install it there \
         by hand): {}",
        venv.display(),
        String::from_utf8_lossy(&pip.stderr)
    );
    std::fs::write(&stamp, format!("{requirement}\n")).expect("the virtualenv's stamp");
    bin
}
