//! Generates the gRPC messages and the `Coordinator` service (client and
//! server) from `proto/hekit_mpc.proto`: protox compiles the file in pure
//! Rust (no system `protoc`), tonic-build writes the code to `OUT_DIR`,
//! where `src/proto.rs` includes it.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("proto");
    let file = dir.join("hekit_mpc.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [&dir])?;
    tonic_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
