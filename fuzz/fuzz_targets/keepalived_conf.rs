//! Arbitrary keepalived.conf files, as lvsd reads them: the reading must end, in bounded
//! memory, without a panic, whatever the bytes. The file may include others by glob; they
//! are read with the same bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("keepalived-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        dir.join("keepalived.conf")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = file();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let options = keepalived::Options {
        config_id: Some("fuzz".into()),
        unicode_blanks: true,
        interfaces: Some(vec!["lo".into(), "eth0".into()]),
        all_config: data.first().is_some_and(|b| b & 1 == 1),
    };
    let reading = keepalived::read(path, &options);
    let _ = keepalived::print::effective(&reading.config);
    // The checker's machine, made as the daemon makes it, and the table it starts with.
    let _ = checker::rules(&reading.config);
    let _ = reading.exit_status();
});
