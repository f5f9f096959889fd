//! The gRPC protocol, generated at build time from
//! `mpc/proto/hekit_mpc.proto` (shipped in the crate) by `build.rs`: protox
//! compiles the file in pure Rust (no system `protoc`), tonic-build writes
//! the prost messages, the client and the service.
//!
//! ```text
//! service hekit.mpc.Coordinator {
//!   rpc Subscribe(Hello) returns (stream Task);   // coordinator → party work
//!   rpc Submit(Submission) returns (Ack);         // party → coordinator results
//! }
//! ```
//!
//! A party opens one `Subscribe` stream for the session; the coordinator
//! pushes [`Task`]s on it and the party answers each with a `Submit`. The
//! stream closing is how the coordinator sees a party drop out. Payloads are
//! the byte messages of `ml_he::aggregation` / `threshold::wire`; Shamir
//! dealings and Paillier key shares travel as [`Sealed`] boxes (end-to-end
//! encrypted between parties, opaque to the coordinator).
//!
//! What is written by hand here: the message size limit ([`MAX_MESSAGE`],
//! set on both ends by [`client`] and [`CoordinatorServer`]), and the
//! admission [`Gate`] that [`CoordinatorServer`] runs on every `Submit`
//! before the generated service reads its body.

use std::convert::Infallible;
use std::task::{Context, Poll};

use tonic::codegen::{http, BoxFuture, Service, StdError};
use tonic::server::NamedService;

#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    rustdoc::broken_intra_doc_links
)]
mod generated {
    tonic::include_proto!("hekit.mpc");
}

pub use generated::coordinator_server::Coordinator;
pub use generated::{Ack, Bundle, Hello, KeyAnnouncement, Kind, Sealed, Signed, Submission, Task};

/// Fully qualified service name.
pub const SERVICE: &str = "hekit.mpc.Coordinator";
const SUBMIT_PATH: &str = "/hekit.mpc.Coordinator/Submit";

impl Task {
    /// A task of `kind` with everything else empty.
    pub fn new(kind: Kind) -> Self {
        Self {
            kind: kind as i32,
            ..Default::default()
        }
    }

    /// Approximate encoded size in bytes.
    pub fn size(&self) -> usize {
        prost::Message::encoded_len(self)
    }
}

impl Submission {
    /// Approximate encoded size in bytes.
    pub fn size(&self) -> usize {
        prost::Message::encoded_len(self)
    }
}

/// Largest gRPC message accepted either way: an update of 10^6 floats is
/// 2.6 MB (100,000 floats; 64 MB allows about 2.6 million), a relinearization
/// round-two task carries `n` round-one shares (≈ 0.8 MB each at N = 8192).
pub const MAX_MESSAGE: usize = 64 << 20;

// ---------------------------------------------------------------- client

/// gRPC client of the coordinator service (generated).
pub type CoordinatorClient =
    generated::coordinator_client::CoordinatorClient<tonic::transport::Channel>;

/// A client on `channel` that sends and accepts messages of up to
/// [`MAX_MESSAGE`] bytes.
pub fn client(channel: tonic::transport::Channel) -> CoordinatorClient {
    CoordinatorClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE)
}

// ---------------------------------------------------------------- server

/// Stream of tasks a [`Coordinator`] returns from `subscribe`.
pub type TaskStream = tokio_stream::wrappers::ReceiverStream<Result<Task, tonic::Status>>;

/// Admission of a request **before its body is read**: the TLS client
/// certificate must name a party of the session, and each party has at most
/// `max_in_flight` submissions being received or handled at once (more is
/// `RESOURCE_EXHAUSTED`). Without it, any connection could make the
/// coordinator decode messages of up to [`MAX_MESSAGE`] bytes before the
/// sender is known.
#[derive(Debug)]
pub struct Gate {
    parties: u32,
    max_in_flight: usize,
    in_flight: std::sync::Mutex<std::collections::BTreeMap<u32, usize>>,
}

/// Releases a party's in-flight slot when dropped.
struct Slot {
    gate: std::sync::Arc<Gate>,
    party: u32,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.gate.in_flight.lock() {
            if let Some(c) = m.get_mut(&self.party) {
                *c = c.saturating_sub(1);
            }
        }
    }
}

impl Gate {
    /// A gate for parties `1..=parties`.
    pub fn new(parties: u32, max_in_flight: usize) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            parties,
            max_in_flight: max_in_flight.max(1),
            in_flight: Default::default(),
        })
    }

    #[allow(clippy::result_large_err)] // tonic's own error type
    fn admit<B>(
        self: &std::sync::Arc<Self>,
        req: &http::Request<B>,
    ) -> Result<Slot, tonic::Status> {
        use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
        let certs = req
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(|i| i.peer_certs())
            .ok_or_else(|| tonic::Status::unauthenticated("no client certificate"))?;
        let cert = certs
            .first()
            .ok_or_else(|| tonic::Status::unauthenticated("no client certificate"))?;
        let party = crate::certs::party_id(cert, self.parties)
            .map_err(|e| tonic::Status::unauthenticated(format!("unknown party: {e}")))?;
        let mut m = self
            .in_flight
            .lock()
            .map_err(|_| tonic::Status::internal("admission lock"))?;
        let c = m.entry(party).or_insert(0);
        if *c >= self.max_in_flight {
            return Err(tonic::Status::resource_exhausted(format!(
                "party {party} has {} submissions in flight (at most {})",
                *c, self.max_in_flight
            )));
        }
        *c += 1;
        Ok(Slot {
            gate: self.clone(),
            party,
        })
    }
}

/// The generated tonic service wrapping a [`Coordinator`], with the
/// [`MAX_MESSAGE`] limit and, optionally, an admission [`Gate`] that every
/// `Submit` passes before its body is read.
#[derive(Debug)]
pub struct CoordinatorServer<T> {
    inner: generated::coordinator_server::CoordinatorServer<T>,
    gate: Option<std::sync::Arc<Gate>>,
}

impl<T> Clone for CoordinatorServer<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            gate: self.gate.clone(),
        }
    }
}

impl<T: Coordinator> CoordinatorServer<T> {
    /// Wraps `inner` (no admission gate).
    pub fn new(inner: std::sync::Arc<T>) -> Self {
        Self {
            inner: generated::coordinator_server::CoordinatorServer::from_arc(inner)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
            gate: None,
        }
    }

    /// Wraps `inner`; submissions pass `gate` before their body is read.
    pub fn with_gate(inner: std::sync::Arc<T>, gate: std::sync::Arc<Gate>) -> Self {
        Self {
            gate: Some(gate),
            ..Self::new(inner)
        }
    }
}

impl<T> NamedService for CoordinatorServer<T> {
    const NAME: &'static str = SERVICE;
}

impl<T, B> Service<http::Request<B>> for CoordinatorServer<T>
where
    T: Coordinator,
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<http::Request<B>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // Admission before the generated service reads the body: the slot
        // is held until the submission has been handled.
        #[allow(clippy::result_large_err)]
        let slot = if req.uri().path() == SUBMIT_PATH {
            match self.gate.as_ref().map(|g| g.admit(&req)).transpose() {
                Ok(slot) => slot,
                Err(status) => return Box::pin(async move { Ok(status.into_http()) }),
            }
        } else {
            None
        };
        let fut = self.inner.call(req);
        Box::pin(async move {
            let _slot = slot;
            fut.await
        })
    }
}
