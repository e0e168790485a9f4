//! README.md stays true: its quick start is `examples/quick_start.rs` verbatim (which
//! `cargo test` compiles), and its first lines give the commands that run the echo server
//! and all the tests.

const README: &str = include_str!("../README.md");
const QUICK_START: &str = include_str!("../examples/quick_start.rs");

#[test]
fn quick_start_is_the_compiled_example() {
    let block = format!("```rust\n{QUICK_START}```");
    assert!(
        README.contains(&block),
        "README.md's ```rust block must be examples/quick_start.rs verbatim"
    );
}

#[test]
fn first_lines_give_the_main_commands() {
    let head: String = README.lines().take(10).collect::<Vec<_>>().join("\n");
    assert!(head.contains("cargo run --release --example echo_server -- 127.0.0.1:9001"));
    assert!(head.contains("./.ci/run"));
    assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/test")
        .exists());
}
