//! The committed C header must be exactly what the pinned cbindgen generates from `src/ffi`
//! now, so the header never drifts from the ABI. `WSM_BLESS=1` rewrites it instead.

use std::path::Path;

#[test]
fn committed_header_matches_cbindgen_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        // Only the C ABI: the engine's own public constants are not part of it.
        .with_src(root.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).expect("header is UTF-8");
    let path = root.join("include/wsmachine.h");
    if std::env::var_os("WSM_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/wsmachine.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let first = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(fresh.lines().count()));
        panic!(
            "include/wsmachine.h is stale (first difference at line {}): regenerate it with \
             `WSM_BLESS=1 cargo test --test header_fresh` and commit it",
            first + 1
        );
    }
    // The header declares every entry point the library exports.
    let exported = [
        "wsm_conn_poll_event",
        "wsm_conn_next_event",
        "wsm_result_str",
        "wsm_version",
    ];
    for name in exported {
        assert!(fresh.contains(&format!("{name}(")), "{name} missing");
    }
}
