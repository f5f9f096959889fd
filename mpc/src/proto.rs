//! The gRPC protocol: hand-written prost messages and a hand-written tonic
//! service (no `protoc`, no build script).
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

use std::convert::Infallible;
use std::task::{Context, Poll};

use tonic::codec::ProstCodec;
use tonic::codegen::{http, BoxFuture, Service, StdError};
use tonic::server::NamedService;

/// Fully qualified service name.
pub const SERVICE: &str = "hekit.mpc.Coordinator";
const SUBSCRIBE_PATH: &str = "/hekit.mpc.Coordinator/Subscribe";
const SUBMIT_PATH: &str = "/hekit.mpc.Coordinator/Submit";

/// What a task asks a party to do (and what a submission answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Kind {
    /// Unused default.
    Unspecified = 0,
    /// Session description (task only): `info` is the JSON session
    /// description, `payload` the public session seed.
    Session = 1,
    /// Public-key share (CKKS sessions).
    PkShare = 2,
    /// Shamir dealing: the task carries the directory of end-to-end keys
    /// (`directory`), the submission the sealed dealings.
    Deal = 3,
    /// Delivery of the sealed dealings addressed to a party; the submission
    /// is an empty acknowledgement.
    Dealings = 4,
    /// Relinearization key, round one.
    Relin1 = 5,
    /// Relinearization key, round two (the task carries every round-one share).
    Relin2 = 6,
    /// Galois-key shares (`ids` are the Galois elements).
    Galois = 7,
    /// The collective public key (task; the submission acknowledges).
    Key = 8,
    /// Encrypted update for `round` of `len` values.
    Update = 9,
    /// Decryption share of the request in `payload`.
    Decrypt = 10,
    /// Round result (task only): `info` is a JSON summary.
    Result = 11,
    /// End of session (task only); `info` says why if it failed.
    Done = 12,
    /// Session failed (task only); `info` says why.
    Failed = 13,
    /// Threshold Paillier dealing by the dealer party: `payload` public
    /// parameters, `sealed` the key shares.
    PaillierDeal = 14,
    /// Delivery of the Paillier public parameters and this party's sealed key share.
    PaillierKey = 15,
    /// Every party's signed acknowledgement of the collective key id (task,
    /// `signed`); the party checks them all before it encrypts anything.
    Confirm = 16,
    /// The contributor set of a round (`ids`, with the update digests in
    /// `blobs`): each contributor signs its approval of exactly this set,
    /// once per round.
    Approve = 17,
}

/// First message of a party's stream.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Hello {
    /// The party's X25519 public key for end-to-end encrypted messages.
    #[prost(bytes = "vec", tag = "1")]
    pub e2e_public: Vec<u8>,
    /// Identifier of the collective key the party already holds (empty on
    /// first join); lets a restarted coordinator resume.
    #[prost(bytes = "vec", tag = "2")]
    pub key_id: Vec<u8>,
    /// Free-form software version.
    #[prost(string, tag = "3")]
    pub version: String,
    /// The party's TLS client certificate (DER; the leaf — the session CA is
    /// known to every party).
    #[prost(bytes = "vec", tag = "4")]
    pub cert: Vec<u8>,
    /// ECDSA P-256 signature (ASN.1 DER) of `e2e_public` with the
    /// certificate's key (message: [`crate::e2e::announcement_message`]).
    #[prost(bytes = "vec", tag = "5")]
    pub e2e_signature: Vec<u8>,
}

/// One entry of the directory of end-to-end keys relayed by the
/// coordinator: a party's X25519 key, its certificate and its signature of
/// the key. Every party verifies every entry
/// ([`crate::e2e::verify_announcement`]) before sealing to or opening from it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyAnnouncement {
    /// The party.
    #[prost(uint32, tag = "1")]
    pub party: u32,
    /// Its X25519 public key.
    #[prost(bytes = "vec", tag = "2")]
    pub e2e_public: Vec<u8>,
    /// Its certificate (DER).
    #[prost(bytes = "vec", tag = "3")]
    pub cert: Vec<u8>,
    /// Its signature of the key (bound to the session CA).
    #[prost(bytes = "vec", tag = "4")]
    pub signature: Vec<u8>,
    /// Its signature of the key bound to the session id (statement
    /// `e2e-key`, made when the session is known; empty in the `Session`
    /// task, required from the `Deal` task on).
    #[prost(bytes = "vec", tag = "5")]
    pub session_signature: Vec<u8>,
}

/// A party's signed message, relayed by the coordinator to every party:
/// `signature` is the party's ECDSA signature of the statement
/// ([`crate::sign::statement`]) over the digest of `payload` (or over
/// `payload` itself when it is a 32-byte digest, see each kind).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Signed {
    /// The signer.
    #[prost(uint32, tag = "1")]
    pub party: u32,
    /// What it is (the [`Kind`] of the submission it came in).
    #[prost(enumeration = "Kind", tag = "2")]
    pub kind: i32,
    /// The signed content (a share, a digest, a key id).
    #[prost(bytes = "vec", tag = "3")]
    pub payload: Vec<u8>,
    /// The signature (ASN.1 DER, ECDSA P-256).
    #[prost(bytes = "vec", tag = "4")]
    pub signature: Vec<u8>,
    /// Round (updates and approvals).
    #[prost(uint64, tag = "5")]
    pub round: u64,
}

/// A list of byte strings (a party's Galois-key shares, signed as one).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Bundle {
    /// The byte strings.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub blobs: Vec<Vec<u8>>,
}

/// An end-to-end encrypted message between two parties.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sealed {
    /// Sender.
    #[prost(uint32, tag = "1")]
    pub from: u32,
    /// Recipient.
    #[prost(uint32, tag = "2")]
    pub to: u32,
    /// AEAD nonce (12 bytes).
    #[prost(bytes = "vec", tag = "3")]
    pub nonce: Vec<u8>,
    /// ChaCha20-Poly1305 ciphertext and tag.
    #[prost(bytes = "vec", tag = "4")]
    pub ciphertext: Vec<u8>,
}

/// Work for a party.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Task {
    /// What to do.
    #[prost(enumeration = "Kind", tag = "1")]
    pub kind: i32,
    /// Aggregation round.
    #[prost(uint64, tag = "2")]
    pub round: u64,
    /// Decryption attempt within the round (a new committee after a dropout).
    #[prost(uint32, tag = "3")]
    pub attempt: u32,
    /// Main payload.
    #[prost(bytes = "vec", tag = "4")]
    pub payload: Vec<u8>,
    /// Further byte strings (shares, keys).
    #[prost(bytes = "vec", repeated, tag = "5")]
    pub blobs: Vec<Vec<u8>>,
    /// Party ids or Galois elements.
    #[prost(uint32, repeated, tag = "6")]
    pub ids: Vec<u32>,
    /// Sealed messages for this party.
    #[prost(message, repeated, tag = "7")]
    pub sealed: Vec<Sealed>,
    /// Vector length (updates).
    #[prost(uint64, tag = "8")]
    pub len: u64,
    /// Human-readable / JSON information.
    #[prost(string, tag = "9")]
    pub info: String,
    /// Directory of end-to-end keys (session, dealing tasks).
    #[prost(message, repeated, tag = "10")]
    pub directory: Vec<KeyAnnouncement>,
    /// Signed messages of the parties, relayed for verification.
    #[prost(message, repeated, tag = "11")]
    pub signed: Vec<Signed>,
}

/// A party's answer to a task.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Submission {
    /// Which task this answers.
    #[prost(enumeration = "Kind", tag = "1")]
    pub kind: i32,
    /// Round.
    #[prost(uint64, tag = "2")]
    pub round: u64,
    /// Decryption attempt.
    #[prost(uint32, tag = "3")]
    pub attempt: u32,
    /// Main payload.
    #[prost(bytes = "vec", tag = "4")]
    pub payload: Vec<u8>,
    /// Further byte strings.
    #[prost(bytes = "vec", repeated, tag = "5")]
    pub blobs: Vec<Vec<u8>>,
    /// Sealed messages for other parties.
    #[prost(message, repeated, tag = "6")]
    pub sealed: Vec<Sealed>,
    /// The sender's signature of what it submits (see each [`Kind`]).
    #[prost(bytes = "vec", tag = "7")]
    pub signature: Vec<u8>,
    /// Non-empty: the party refuses the task, and says why (a request its
    /// checks or its policy refuse).
    #[prost(string, tag = "8")]
    pub refusal: String,
}

/// The coordinator's answer to a submission.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Ack {
    /// Always true (a refused submission is a gRPC error status).
    #[prost(bool, tag = "1")]
    pub accepted: bool,
}

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

/// gRPC client of the coordinator service.
#[derive(Clone, Debug)]
pub struct CoordinatorClient {
    inner: tonic::client::Grpc<tonic::transport::Channel>,
}

impl CoordinatorClient {
    /// A client on `channel`.
    pub fn new(channel: tonic::transport::Channel) -> Self {
        let inner = tonic::client::Grpc::new(channel)
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE);
        Self { inner }
    }

    /// Opens the task stream.
    pub async fn subscribe(
        &mut self,
        hello: Hello,
    ) -> Result<tonic::Response<tonic::codec::Streaming<Task>>, tonic::Status> {
        self.inner
            .ready()
            .await
            .map_err(|e| tonic::Status::unavailable(format!("service not ready: {e}")))?;
        let codec = ProstCodec::<Hello, Task>::default();
        let path = http::uri::PathAndQuery::from_static(SUBSCRIBE_PATH);
        self.inner
            .server_streaming(tonic::Request::new(hello), path, codec)
            .await
    }

    /// Submits a result.
    pub async fn submit(&mut self, s: Submission) -> Result<tonic::Response<Ack>, tonic::Status> {
        self.inner
            .ready()
            .await
            .map_err(|e| tonic::Status::unavailable(format!("service not ready: {e}")))?;
        let codec = ProstCodec::<Submission, Ack>::default();
        let path = http::uri::PathAndQuery::from_static(SUBMIT_PATH);
        self.inner.unary(tonic::Request::new(s), path, codec).await
    }
}

// ---------------------------------------------------------------- server

/// Stream of tasks returned by [`Coordinator::subscribe`].
pub type TaskStream = tokio_stream::wrappers::ReceiverStream<Result<Task, tonic::Status>>;

/// What the coordinator implements.
#[tonic::async_trait]
pub trait Coordinator: Send + Sync + 'static {
    /// A party joins and receives its tasks.
    async fn subscribe(
        &self,
        request: tonic::Request<Hello>,
    ) -> Result<tonic::Response<TaskStream>, tonic::Status>;
    /// A party submits a result.
    async fn submit(
        &self,
        request: tonic::Request<Submission>,
    ) -> Result<tonic::Response<Ack>, tonic::Status>;
}

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

/// The tonic service wrapping a [`Coordinator`].
#[derive(Debug)]
pub struct CoordinatorServer<T> {
    inner: std::sync::Arc<T>,
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
        Self { inner, gate: None }
    }

    /// Wraps `inner`; submissions pass `gate` before their body is read.
    pub fn with_gate(inner: std::sync::Arc<T>, gate: std::sync::Arc<Gate>) -> Self {
        Self {
            inner,
            gate: Some(gate),
        }
    }
}

impl<T> NamedService for CoordinatorServer<T> {
    const NAME: &'static str = SERVICE;
}

struct SubscribeSvc<T>(std::sync::Arc<T>);

impl<T: Coordinator> tonic::server::ServerStreamingService<Hello> for SubscribeSvc<T> {
    type Response = Task;
    type ResponseStream = TaskStream;
    type Future = BoxFuture<tonic::Response<Self::ResponseStream>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<Hello>) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move { inner.subscribe(request).await })
    }
}

struct SubmitSvc<T>(std::sync::Arc<T>);

impl<T: Coordinator> tonic::server::UnaryService<Submission> for SubmitSvc<T> {
    type Response = Ack;
    type Future = BoxFuture<tonic::Response<Ack>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<Submission>) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move { inner.submit(request).await })
    }
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

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        match req.uri().path() {
            SUBSCRIBE_PATH => Box::pin(async move {
                let codec = ProstCodec::<Task, Hello>::default();
                let mut grpc = tonic::server::Grpc::new(codec)
                    .max_decoding_message_size(MAX_MESSAGE)
                    .max_encoding_message_size(MAX_MESSAGE);
                Ok(grpc.server_streaming(SubscribeSvc(inner), req).await)
            }),
            SUBMIT_PATH => {
                #[allow(clippy::result_large_err)]
                let slot = match self.gate.as_ref().map(|g| g.admit(&req)).transpose() {
                    Ok(slot) => slot,
                    Err(status) => return Box::pin(async move { Ok(status.into_http()) }),
                };
                Box::pin(async move {
                    let _slot = slot;
                    let codec = ProstCodec::<Ack, Submission>::default();
                    let mut grpc = tonic::server::Grpc::new(codec)
                        .max_decoding_message_size(MAX_MESSAGE)
                        .max_encoding_message_size(MAX_MESSAGE);
                    Ok(grpc.unary(SubmitSvc(inner), req).await)
                })
            }
            _ => Box::pin(async move {
                let mut response = http::Response::new(tonic::body::Body::default());
                let headers = response.headers_mut();
                headers.insert(
                    tonic::Status::GRPC_STATUS,
                    (tonic::Code::Unimplemented as i32).into(),
                );
                headers.insert(
                    http::header::CONTENT_TYPE,
                    tonic::metadata::GRPC_CONTENT_TYPE,
                );
                Ok(response)
            }),
        }
    }
}
