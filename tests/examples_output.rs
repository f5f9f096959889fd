//! The main example writes no carriage-return progress frames when its
//! output is not a terminal (a captured log holds only whole lines), and
//! still prints its results. `cargo test` builds the examples next to the
//! test binaries; this runs the one it built.

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<this test> → target/<profile>/examples/<name>
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target directory")
        .join("examples");
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn encrypted_inference_prints_no_carriage_return_when_piped() {
    let exe = example("encrypted_inference");
    assert!(
        exe.exists(),
        "{} is missing: run the whole suite (`cargo test --workspace`), which builds the examples",
        exe.display()
    );
    // a few images each way keep the suite fast; the defaults run the
    // whole test split
    let out = Command::new(&exe)
        .args(["--images", "4", "--batch-images", "256"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.contains(&b'\r'), "carriage return on stdout");
    assert!(
        !out.stderr.contains(&b'\r'),
        "carriage return on stderr: {:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("agreement with plaintext 4/4"), "{stdout}");
    assert!(
        stdout.contains("agreement with plaintext 256/256"),
        "{stdout}"
    );
}
