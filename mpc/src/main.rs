//! `hekit-mpc`: coordinator and party processes of a networked HE-MPC
//! session (see the crate docs and `mpc/README.md`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use hekit_mpc::coordinator::{self, CoordinatorMisbehave, CoordinatorOptions};
use hekit_mpc::input::InputSource;
use hekit_mpc::party::{self, parse_misbehave, PartyOptions};
use hekit_mpc::session::{Policy, Scheme, SessionConfig};

#[derive(Parser)]
#[command(
    name = "hekit-mpc",
    version,
    about = "Networked HE-MPC aggregation over gRPC with mutual TLS"
)]
struct Cli {
    /// Log level (error, warn, info, debug, trace).
    #[arg(long, global = true, default_value = "info")]
    log_level: tracing::Level,
    /// Logs as JSON lines.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Writes a session CA, the coordinator's certificate and one client
    /// certificate per party.
    GenCerts(GenCerts),
    /// Runs the coordinator of a session.
    Coordinator(Box<CoordinatorArgs>),
    /// Runs one party.
    Party(Box<PartyArgs>),
}

#[derive(Args)]
struct GenCerts {
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Number of parties.
    #[arg(long)]
    parties: u32,
    /// Names the coordinator is reached at (DNS names or IP addresses),
    /// comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "localhost,127.0.0.1")]
    hosts: Vec<String>,
}

#[derive(Args)]
struct TlsArgs {
    /// Session CA certificate (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// This process's certificate (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// This process's private key (PEM).
    #[arg(long)]
    key: PathBuf,
}

#[derive(Args)]
struct CoordinatorArgs {
    /// Address to listen on (port 0: a free port, see --port-file).
    #[arg(long, default_value = "0.0.0.0:50051")]
    listen: SocketAddr,
    #[command(flatten)]
    tls: TlsArgs,
    /// State directory (accepted updates and keys survive a restart).
    #[arg(long)]
    state_dir: PathBuf,
    /// Scheme.
    #[arg(long, value_enum, default_value = "ckks")]
    scheme: Scheme,
    /// Number of parties n.
    #[arg(long)]
    parties: usize,
    /// Decryption threshold t.
    #[arg(long)]
    threshold: usize,
    /// Aggregation rounds.
    #[arg(long, default_value_t = 1)]
    rounds: u64,
    /// Floats per update.
    #[arg(long)]
    len: usize,
    /// Bound on every coordinate.
    #[arg(long, default_value_t = 16.0)]
    max_abs: f64,
    /// Statistical security of the smudging noise (CKKS; at least 40, or
    /// --insecure-weak-smudging).
    #[arg(long, default_value_t = 40)]
    lambda: u32,
    /// Allow smudging λ below 40 (INSECURE; every party must opt in too).
    #[arg(long)]
    insecure_weak_smudging: bool,
    /// Minimum contributors per decrypted sum.
    #[arg(long, default_value_t = 2)]
    min_contributors: usize,
    /// CKKS ring degree (8192 or 16384).
    #[arg(long, default_value_t = 8192)]
    degree: usize,
    /// Also generate a collective relinearization key (CKKS).
    #[arg(long)]
    relin: bool,
    /// Rotation steps to generate collective Galois keys for (CKKS), e.g. 1,2,4.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    galois: Vec<i64>,
    /// Paillier modulus bits (2048 or 3072).
    #[arg(long, default_value_t = 2048)]
    paillier_bits: u32,
    /// Paillier on the published 512-bit test primes: INSECURE, tests only.
    #[arg(long)]
    paillier_insecure_test_primes: bool,
    /// Fixed-point fractional bits (Paillier).
    #[arg(long, default_value_t = 24)]
    frac_bits: u32,
    /// The party that deals the threshold Paillier key.
    #[arg(long, default_value_t = 1)]
    dealer: u32,
    /// Public session seed (64 hex digits; random by default, kept in the state directory).
    #[arg(long)]
    seed: Option<String>,
    /// Seconds for each round's updates and each decryption attempt.
    #[arg(long, default_value_t = 60.0)]
    round_timeout: f64,
    /// Seconds for each key-generation step.
    #[arg(long, default_value_t = 120.0)]
    phase_timeout: f64,
    /// Seconds to wait for the parties to join.
    #[arg(long, default_value_t = 120.0)]
    join_timeout: f64,
    /// Write the bound address to this file.
    #[arg(long)]
    port_file: Option<PathBuf>,
    /// Append a JSON summary line per round to this file.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Test only: misbehave (substitute-e2e-key, substitute-key,
    /// drop-key-share, forge-contributor, repeat-decryption).
    #[arg(long, hide = true)]
    misbehave_coordinator: Option<CoordinatorMisbehave>,
}

#[derive(Args)]
struct PartyArgs {
    /// This party's id (1..=n; must match its certificate).
    #[arg(long)]
    id: u32,
    /// Coordinator URL, e.g. https://coord.example.org:50051.
    #[arg(long)]
    coordinator: String,
    /// TLS name of the coordinator (default: the URL's host).
    #[arg(long)]
    tls_domain: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
    /// This party's updates: a .npy file (float64/float32, 2-D rounds × len,
    /// row r = round r; a 1-D array is round 0 only), a .csv file (one row
    /// per round, optional header line) or a directory of round-<r>.npy /
    /// round-<r>.csv files. Without it, deterministic demonstration vectors.
    #[arg(long, conflicts_with_all = ["input_seed", "input_scale"])]
    input: Option<PathBuf>,
    /// Seed of the deterministic demonstration inputs (without --input).
    #[arg(long, default_value_t = 0)]
    input_seed: u64,
    /// Demonstration inputs uniform in ±scale (without --input).
    #[arg(long, default_value_t = 1.0)]
    input_scale: f64,
    /// Refuse a session of another number of parties.
    #[arg(long)]
    expect_parties: Option<usize>,
    /// Refuse a session of another threshold.
    #[arg(long)]
    expect_threshold: Option<usize>,
    /// Refuse to approve or decrypt sums of fewer updates.
    #[arg(long, default_value_t = 2)]
    min_contributors: usize,
    /// Refuse sessions whose smudging λ is smaller (never below 40 without
    /// --insecure-accept-weak-session).
    #[arg(long, default_value_t = 40)]
    min_lambda: u32,
    /// Refuse sessions whose threshold is smaller (default: a strict
    /// majority of the session's parties).
    #[arg(long)]
    min_threshold: Option<usize>,
    /// Accept λ < 40 and thresholds below the minimum (INSECURE: tests and
    /// experiments only).
    #[arg(long)]
    insecure_accept_weak_session: bool,
    /// Accept Paillier sessions on the published test primes (INSECURE).
    #[arg(long)]
    allow_insecure_test_primes: bool,
    /// Seconds to keep reconnecting to an unreachable coordinator.
    #[arg(long, default_value_t = 120.0)]
    reconnect_timeout: f64,
    /// Write each round's sum here: party-<id>-round-<r>.npy (float64, 1-D)
    /// or .csv with --input in that format, .json otherwise.
    #[arg(long)]
    output_dir: Option<PathBuf>,
    /// Milliseconds to wait before submitting each update.
    #[arg(long, default_value_t = 0)]
    submit_delay_ms: u64,
    /// Test only: misbehave (garbage, replay, wrong-key, impersonate,
    /// duplicate, bad-share, impersonate-keygen, forge-e2e-key,
    /// no-approve, oversize, key-recovery, shift-share), optionally
    /// in one round:
    /// `garbage@1,replay@2`.
    #[arg(long, hide = true, default_value = "")]
    misbehave: String,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.001))
}

fn init_logs(cli: &Cli) {
    let b = tracing_subscriber::fmt()
        .with_max_level(cli.log_level)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    if cli.log_json {
        b.json().init();
    } else {
        b.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(&cli);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hekit-mpc: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let r = match cli.cmd {
        Cmd::GenCerts(g) => hekit_mpc::certs::generate(&g.out, g.parties, &g.hosts).map(|_| {
            println!(
                "wrote ca.pem, ca.key, coordinator.pem/.key and party-1..{}.pem/.key to {}",
                g.parties,
                g.out.display()
            );
        }),
        Cmd::Coordinator(a) => {
            let seed = a.seed.clone().unwrap_or_default();
            let config = SessionConfig {
                scheme: a.scheme,
                parties: a.parties,
                threshold: a.threshold,
                rounds: a.rounds,
                len: a.len,
                max_abs: a.max_abs,
                lambda: a.lambda,
                min_contributors: a.min_contributors,
                degree: a.degree,
                relin: a.relin,
                galois: a.galois.clone(),
                paillier_bits: a.paillier_bits,
                paillier_insecure_test_primes: a.paillier_insecure_test_primes,
                frac_bits: a.frac_bits,
                dealer: a.dealer,
                seed,
                insecure_weak_smudging: a.insecure_weak_smudging,
            };
            let opts = CoordinatorOptions {
                listen: a.listen,
                cert: a.tls.cert,
                key: a.tls.key,
                ca: a.tls.ca,
                state_dir: a.state_dir,
                config,
                round_timeout: secs(a.round_timeout),
                phase_timeout: secs(a.phase_timeout),
                join_timeout: secs(a.join_timeout),
                port_file: a.port_file,
                summary_file: a.summary,
                misbehave: a.misbehave_coordinator,
            };
            rt.block_on(coordinator::run(opts))
        }
        Cmd::Party(a) => {
            let opts = PartyOptions {
                id: a.id,
                coordinator: a.coordinator,
                domain: a.tls_domain,
                ca: a.tls.ca,
                cert: a.tls.cert,
                key: a.tls.key,
                input: match a.input {
                    Some(p) => InputSource::Path(p),
                    None => InputSource::Demo {
                        seed: a.input_seed,
                        scale: a.input_scale,
                    },
                },
                expect_parties: a.expect_parties,
                expect_threshold: a.expect_threshold,
                policy: Policy {
                    min_lambda: a.min_lambda,
                    min_threshold: a.min_threshold,
                    min_contributors: a.min_contributors,
                    insecure_accept_weak_session: a.insecure_accept_weak_session,
                },
                allow_insecure: a.allow_insecure_test_primes,
                reconnect_timeout: secs(a.reconnect_timeout),
                output_dir: a.output_dir,
                submit_delay: Duration::from_millis(a.submit_delay_ms),
                misbehave: Vec::new(),
            };
            match parse_misbehave(&a.misbehave) {
                Ok(m) => rt.block_on(party::run(PartyOptions {
                    misbehave: m,
                    ..opts
                })),
                Err(e) => Err(hekit_mpc::Error::Config(e)),
            }
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "hekit-mpc failed");
            eprintln!("hekit-mpc: error: {e}");
            ExitCode::FAILURE
        }
    }
}
